//! Operations for every front end (window, command line), one file per feature.

pub mod report;
