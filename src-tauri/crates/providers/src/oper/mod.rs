//! oper client (being written).
