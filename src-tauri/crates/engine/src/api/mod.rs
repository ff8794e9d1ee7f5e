//! The operations layer: one function per thing a person can do, shared by the window and the
//! command line.

pub mod reconcile;
