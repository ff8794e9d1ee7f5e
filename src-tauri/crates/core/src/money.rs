//! Money as an integer count of 厘 (li, 1/1000 yuan).
//!
//! Why li and not fen: juhe quotes costs with three decimals (`ordercash` "1.060", `uordercash`), so fen
//! would round real prices. Why not f64: a reseller reconciles to the last 厘 and f64 cannot hold 0.1.
//! All parsing from provider text goes through [`Li::parse_yuan`], which is exact or an error.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of money in 厘 (0.001 yuan). Signed, so that balances can go negative on credit.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize, ts_rs::TS,
)]
#[ts(export, type = "number")]
#[serde(transparent)]
pub struct Li(pub i64);

/// Why a text could not be read as an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("金额为空 / empty amount")]
    Empty,
    #[error("金额“{0}”不是数字 / amount “{0}” is not a number")]
    NotANumber(String),
    #[error("金额“{0}”超过三位小数 / amount “{0}” has more than three decimals")]
    TooPrecise(String),
    #[error("金额“{0}”太大 / amount “{0}” is too large")]
    Overflow(String),
    #[error("金额 {0} 厘不是整分 / amount {0} li is not a whole number of fen")]
    NotWholeFen(i64),
}

impl Li {
    pub const ZERO: Li = Li(0);

    pub const fn from_yuan(yuan: i64) -> Li {
        Li(yuan * 1000)
    }

    pub const fn from_fen(fen: i64) -> Li {
        Li(fen * 10)
    }

    pub const fn li(self) -> i64 {
        self.0
    }

    /// Exact fen, or an error when the amount has a 厘 part.
    pub fn to_fen(self) -> Result<i64, MoneyError> {
        if self.0 % 10 == 0 {
            Ok(self.0 / 10)
        } else {
            Err(MoneyError::NotWholeFen(self.0))
        }
    }

    /// Whole yuan, if the amount is a whole number of yuan.
    pub fn whole_yuan(self) -> Option<i64> {
        (self.0 % 1000 == 0).then_some(self.0 / 1000)
    }

    pub fn checked_add(self, other: Li) -> Option<Li> {
        self.0.checked_add(other.0).map(Li)
    }

    pub fn checked_sub(self, other: Li) -> Option<Li> {
        self.0.checked_sub(other.0).map(Li)
    }

    pub fn checked_mul(self, n: i64) -> Option<Li> {
        self.0.checked_mul(n).map(Li)
    }

    /// Parses a decimal yuan amount such as `98.5`, `1.060`, `-3`, `+10.00`.
    ///
    /// Trailing zeros beyond three decimals are accepted (`1.0600`); any other digit beyond the third
    /// decimal is an error, never rounded. Surrounding ASCII white space is ignored.
    pub fn parse_yuan(text: &str) -> Result<Li, MoneyError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(MoneyError::Empty);
        }
        let bad = || MoneyError::NotANumber(t.to_owned());
        let (negative, digits) = match t.as_bytes()[0] {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let (int_part, frac_part) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(bad());
        }
        if !int_part.bytes().all(|b| b.is_ascii_digit()) || !frac_part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if digits.contains('.') && frac_part.is_empty() && int_part.is_empty() {
            return Err(bad());
        }
        let (kept, rest) = frac_part.split_at(frac_part.len().min(3));
        if rest.bytes().any(|b| b != b'0') {
            return Err(MoneyError::TooPrecise(t.to_owned()));
        }
        let overflow = || MoneyError::Overflow(t.to_owned());
        let mut value: i64 = 0;
        for b in int_part.bytes() {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(b - b'0')))
                .ok_or_else(overflow)?;
        }
        value = value.checked_mul(1000).ok_or_else(overflow)?;
        let mut frac: i64 = 0;
        for (i, b) in kept.bytes().enumerate() {
            frac += i64::from(b - b'0') * [100, 10, 1][i];
        }
        value = value.checked_add(frac).ok_or_else(overflow)?;
        Ok(Li(if negative { -value } else { value }))
    }

    /// Yuan with two decimals, or three when the amount has a 厘 part: `98.50`, `1.065`.
    pub fn yuan_string(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Li {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (yuan, li) = (abs / 1000, abs % 1000);
        if li % 10 == 0 {
            write!(f, "{sign}{yuan}.{:02}", li / 10)
        } else {
            write!(f, "{sign}{yuan}.{li:03}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_provider_amounts_exactly() {
        assert_eq!(Li::parse_yuan("98.5"), Ok(Li(98_500)));
        assert_eq!(Li::parse_yuan("1.060"), Ok(Li(1_060)));
        assert_eq!(Li::parse_yuan("1.0600"), Ok(Li(1_060)));
        assert_eq!(Li::parse_yuan(" 10 "), Ok(Li(10_000)));
        assert_eq!(Li::parse_yuan("-0.5"), Ok(Li(-500)));
        assert_eq!(Li::parse_yuan(".5"), Ok(Li(500)));
        assert_eq!(Li::parse_yuan("5."), Ok(Li(5_000)));
    }

    #[test]
    fn refuses_what_is_not_exact_money() {
        assert_eq!(Li::parse_yuan(""), Err(MoneyError::Empty));
        assert!(matches!(Li::parse_yuan("1.0605"), Err(MoneyError::TooPrecise(_))));
        assert!(matches!(Li::parse_yuan("1e3"), Err(MoneyError::NotANumber(_))));
        assert!(matches!(Li::parse_yuan("."), Err(MoneyError::NotANumber(_))));
        assert!(matches!(Li::parse_yuan("1.2.3"), Err(MoneyError::NotANumber(_))));
        assert!(matches!(Li::parse_yuan("99999999999999999999"), Err(MoneyError::Overflow(_))));
    }

    #[test]
    fn fen_conversion_is_exact_or_an_error() {
        assert_eq!(Li::from_yuan(1).to_fen(), Ok(100));
        assert_eq!(Li::from_fen(1234), Li(12_340));
        assert_eq!(Li(1_065).to_fen(), Err(MoneyError::NotWholeFen(1_065)));
    }

    #[test]
    fn displays_as_yuan() {
        assert_eq!(Li(98_500).to_string(), "98.50");
        assert_eq!(Li(1_065).to_string(), "1.065");
        assert_eq!(Li(-500).to_string(), "-0.50");
        assert_eq!(Li(0).to_string(), "0.00");
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(v in -1_000_000_000_000i64..1_000_000_000_000i64) {
            prop_assert_eq!(Li::parse_yuan(&Li(v).to_string()), Ok(Li(v)));
        }

        #[test]
        fn parse_never_panics(s in ".{0,40}") {
            let _ = Li::parse_yuan(&s);
        }
    }
}
