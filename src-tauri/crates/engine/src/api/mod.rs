//! Operations the window and the command line share, one file per feature (issue 13 moves the rest
//! of `console.rs` here).

pub mod stuck;
