//! Merchant order ids: created once per order, stored before the first request, never reused.
//!
//! Shape: `TD` + local time `yyMMddHHmmss` + 8 random upper-case letters/digits = 22 characters, which
//! fits every provider (juhe wants 8–32 of `[A-Za-z0-9_-]`; dingyin and oper take any string) and sorts
//! by time. Uniqueness is guaranteed by the order book's UNIQUE constraint, not by chance: a collision
//! fails the insert and a new id is drawn.

use rand::Rng;

const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A fresh merchant order id for an order created now.
pub fn new_merchant_order_id() -> String {
    let now = time::OffsetDateTime::now_local().unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let stamp = format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}",
        now.year() % 100,
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let mut rng = rand::rng();
    let tail: String = (0..8).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect();
    format!("TD{stamp}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_fit_every_provider_and_differ() {
        let a = new_merchant_order_id();
        let b = new_merchant_order_id();
        assert_eq!(a.len(), 22);
        assert!(a.starts_with("TD") && a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
    }
}
