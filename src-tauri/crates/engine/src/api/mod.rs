//! The operations layer (issue 13): what the window and the command line ask of the engine, one file
//! per feature.

pub mod balance_statement;
pub mod balance_watch;
