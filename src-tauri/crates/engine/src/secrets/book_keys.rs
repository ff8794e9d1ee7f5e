//! The keyring accounts of one order book.
//!
//! Why per book: two data directories on one computer are two order books, often two shops, each with
//! its own provider accounts. Keyed by provider name alone, saving juhe's key in one overwrote the
//! other's, and removing juhe in one removed it from both. Each book gets a random id, stored in its
//! own `app_settings` table the first time it is needed, and its keys live under
//! `book/<id>/provider/<name>`.
//!
//! Why a random id kept in the book, not a hash of the data directory's path: the id travels with the
//! book file. Moving or renaming the data directory, or restoring `orders.sqlite3` from a backup on the
//! same computer and user account, finds the same keys. A backup never holds the keys (they are only
//! in the keyring): restored on another computer or account, the keys are entered again, as before. A
//! *copy* of a data directory is the same book as far as keys go, so a second shop starts from an
//! empty data directory, not from a copy.
//!
//! Books written before per-book keys used `provider/<name>` ("legacy" entries). The first time this
//! version opens such a book (it has provider settings but no id yet) it gets its id and every
//! provider it had configured is marked pending; on this and every later open, a pending provider's
//! legacy entry is copied to the book's own account (unless that already holds a key) until that
//! worked — the keyring may be locked the first time. The legacy entry is never deleted: another
//! book on this computer may still rely on it, and no book knows the others. It stays only in the
//! keyring and can be removed by hand once every data directory has been opened by this version
//! (`secret-tool clear service topup-desk username provider/juhe`). A book created by this version
//! never reads legacy entries, so a new shop cannot inherit another shop's key.
//!
//! The same one-time step cleans what older versions stored: secret-looking fields left in the
//! provider settings (`provider set` took out only the first of `secret`/`key`/`md5key`/`appkey`)
//! are dropped, and juhe's old default `http://op.juhe.cn` becomes https
//! ([`topup_providers::juhe::upgrade_old_default`]).

use super::fields::public_view;
use super::SecretStore;
use crate::book::{Book, BookError, Tx};
use rand::Rng;
use topup_core::ProviderId;

/// The `app_settings` key of the book's id.
pub const BOOK_ID_KEY: &str = "book_id";
/// The `app_settings` key of the providers whose legacy keyring entry still has to be copied
/// (comma-separated names; absent when none).
pub const LEGACY_PENDING_KEY: &str = "keyring_legacy_pending";

/// The keyring account of `provider` in books written before per-book keys.
pub fn legacy_account(provider: ProviderId) -> String {
    format!("provider/{}", provider.as_str())
}

/// The keyring accounts of one order book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookKeys {
    book_id: String,
}

impl BookKeys {
    /// The book's accounts: gives the book its id the first time (cleaning a book written by an older
    /// version, see the module docs) and copies pending legacy keys. Keyring failures while copying
    /// are logged and retried at the next open; only order book errors are returned.
    pub fn open(book: &Book, store: &SecretStore) -> Result<BookKeys, BookError> {
        let (book_id, pending) = match book.app_setting(BOOK_ID_KEY)? {
            Some(id) => (id, book.app_setting(LEGACY_PENDING_KEY)?),
            None => book.write(adopt)?,
        };
        let keys = BookKeys { book_id };
        if let Some(pending) = pending.filter(|p| !p.is_empty()) {
            keys.copy_legacy(book, store, &pending)?;
        }
        Ok(keys)
    }

    pub fn book_id(&self) -> &str {
        &self.book_id
    }

    /// The keyring account under which this book keeps `provider`'s key.
    pub fn account(&self, provider: ProviderId) -> String {
        format!("book/{}/provider/{}", self.book_id, provider.as_str())
    }

    fn copy_legacy(&self, book: &Book, store: &SecretStore, pending: &str) -> Result<(), BookError> {
        let mut left = Vec::new();
        for name in pending.split(',') {
            let Ok(id) = name.parse::<ProviderId>() else { continue };
            // A provider removed since needs no key (and must not get one back).
            if book.provider_settings(id)?.is_none() {
                continue;
            }
            let own = self.account(id);
            let copied = match store.get(&own) {
                Ok(Some(_)) => Ok(()),
                Ok(None) => match store.get(&legacy_account(id)) {
                    Ok(Some(secret)) => store.set(&own, &secret),
                    Ok(None) => Ok(()),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
            match copied {
                Ok(()) => {
                    tracing::info!(provider = %id, "keyring entry of a book from an older version adopted")
                }
                Err(e) => {
                    tracing::warn!(provider = %id, error = %e, "legacy keyring entry not copied yet; retried at next open");
                    left.push(id.as_str());
                }
            }
        }
        let left = left.join(",");
        if left != pending {
            book.write(|tx| set_pending(tx, &left))?;
        }
        Ok(())
    }
}

fn set_pending(tx: &mut Tx<'_>, pending: &str) -> Result<(), BookError> {
    if pending.is_empty() {
        tx.delete_app_setting(LEGACY_PENDING_KEY)
    } else {
        tx.put_app_setting(LEGACY_PENDING_KEY, pending)
    }
}

/// Gives the book its id, inside the write (two processes opening one book agree on one id). A book
/// that already has provider settings was written by an older version: its providers are marked
/// pending and their stored settings cleaned.
fn adopt(tx: &mut Tx<'_>) -> Result<(String, Option<String>), BookError> {
    let read = |tx: &Tx<'_>, key: &str| tx.app_setting(key);
    if let Some(id) = read(tx, BOOK_ID_KEY)? {
        return Ok((id, read(tx, LEGACY_PENDING_KEY)?));
    }
    let mut configured = Vec::new();
    for id in ProviderId::ALL {
        let text = tx.provider_settings_text(id)?;
        let Some(text) = text else { continue };
        configured.push(id.as_str());
        let Ok(stored) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        let mut cleaned = public_view(&stored);
        if id == ProviderId::Juhe && topup_providers::juhe::upgrade_old_default(&mut cleaned) {
            tracing::info!("juhe's old default address http://op.juhe.cn upgraded to https");
        }
        if cleaned != stored {
            tx.put_provider_settings(id, &cleaned)?;
        }
    }
    let book_id = hex_id();
    tx.put_app_setting(BOOK_ID_KEY, &book_id)?;
    let pending = configured.join(",");
    set_pending(tx, &pending)?;
    Ok((book_id, Some(pending)))
}

/// 128 random bits as 32 hex digits.
fn hex_id() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
