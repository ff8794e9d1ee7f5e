//! Signing helpers (being written).
