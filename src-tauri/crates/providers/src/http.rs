//! HTTP client setup (being written).
