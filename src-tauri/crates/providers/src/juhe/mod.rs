//! juhe client (being written).
