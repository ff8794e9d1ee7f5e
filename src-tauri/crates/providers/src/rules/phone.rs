//! A mainland mobile number: `1` and ten more ASCII digits, nothing else.
//!
//! Why so narrow: the number is where the money goes. Cleaning what a person typed (spaces,
//! full-width digits, a dash) happens before, in the engine's order check, which reports what it
//! changed; by the time a number reaches this rule (or a provider), it is exactly the digits sent.

/// Whether `s` is exactly a mainland mobile number (no spaces, no `+86`).
pub fn is_mobile(s: &str) -> bool {
    s.len() == 11 && s.starts_with('1') && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert!(is_mobile("13812345678"));
        for bad in
            ["", "1381234567", "138123456789", "23812345678", "1381234567x", " 13812345678", "１３８12345678"]
        {
            assert!(!is_mobile(bad), "{bad:?}");
        }
    }

    proptest! {
        /// Any text: a mobile number exactly when it is `1` and ten ASCII digits.
        #[test]
        fn exactly_one_and_ten_digits(s in "\\PC{0,13}|1[0-9]{10}|[0-9]{10,12}") {
            let digits = s.chars().count() == 11 && s.chars().all(|c| c.is_ascii_digit());
            prop_assert_eq!(is_mobile(&s), digits && s.starts_with('1'));
        }
    }
}
