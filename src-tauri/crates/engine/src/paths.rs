//! Where the app keeps its data: the order book, logs and exports.
//!
//! Order of precedence: an explicit `--data-dir`, then `TOPUP_DESK_DATA_DIR`, then the OS app-data
//! directory (`~/.local/share/topup-desk` on Linux). Tests always pass their own directory, so they never
//! touch a reseller's real order book.

use std::path::{Path, PathBuf};

pub const DATA_DIR_ENV: &str = "TOPUP_DESK_DATA_DIR";

/// The data directory to use.
pub fn data_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_owned();
    }
    if let Some(p) = std::env::var_os(DATA_DIR_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("topup-desk")
}

pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join(crate::book::DB_FILE_NAME)
}

pub fn log_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("logs")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_dir_wins() {
        assert_eq!(data_dir(Some(Path::new("/tmp/x"))), PathBuf::from("/tmp/x"));
        assert_eq!(db_path(Path::new("/d")), PathBuf::from("/d/orders.sqlite3"));
    }
}
