//! dingyin client (being written).
