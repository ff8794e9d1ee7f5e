//! The resident ID card number (居民身份证号码), as Southern Grid (南网) electricity orders carry it.
//!
//! The rule, for every front end: 18 characters — 17 digits and a GB 11643 check digit (`0`–`9` or
//! `X`, lower-case `x` read as `X`) that must match — or the 15 digits of a first-generation card.
//! Why the check digit is an error, not a warning: the number goes to the grid with the payment; a
//! mistyped one pays a bill the customer did not mean, or is refused after the money left. Why 15
//! digits are still taken: accounts opened before 2004 are registered under the old number, and that
//! number has no check digit to test. (Before this module the order form took any 15 or 18
//! characters, the window any 18, and the import warned about a wrong check digit only.)

/// Why an ID card number is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdCardError {
    /// Neither 17 digits and a check character nor 15 digits.
    Shape,
    /// 18 characters whose check digit does not match.
    CheckDigit,
}

/// Checks a normalised ID card number (ASCII, no spaces); returns it upper-cased.
pub fn check(id: &str) -> Result<String, IdCardError> {
    let id = id.to_ascii_uppercase();
    let b = id.as_bytes();
    let shape_18 =
        b.len() == 18 && b[..17].iter().all(u8::is_ascii_digit) && (b[17].is_ascii_digit() || b[17] == b'X');
    let shape_15 = b.len() == 15 && b.iter().all(u8::is_ascii_digit);
    if shape_15 {
        return Ok(id);
    }
    if !shape_18 {
        return Err(IdCardError::Shape);
    }
    if check_digit(&b[..17]) != b[17] {
        return Err(IdCardError::CheckDigit);
    }
    Ok(id)
}

/// GB 11643's check character of the first 17 digits.
fn check_digit(first17: &[u8]) -> u8 {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17.iter().zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK[(sum % 11) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(check("11010519491231002X"), Ok("11010519491231002X".into()));
        assert_eq!(check("11010519491231002x"), Ok("11010519491231002X".into()));
        assert_eq!(check("110105194912310021"), Err(IdCardError::CheckDigit));
        assert_eq!(check("440106900101123"), Ok("440106900101123".into()));
        for bad in [
            "",
            "4401011990",
            "44010619900101123",
            "1101051949123100XX",
            "44010690010112X",
            "4401069001011234",
        ] {
            assert_eq!(check(bad), Err(IdCardError::Shape), "{bad}");
        }
    }

    proptest! {
        /// Exactly one check character makes 17 digits a valid number; any other is refused.
        #[test]
        fn exactly_one_check_character(first in "[0-9]{17}", last in "[0-9X]") {
            let right = char::from(check_digit(first.as_bytes()));
            let id = format!("{first}{last}");
            prop_assert_eq!(check(&id).is_ok(), last.starts_with(right));
        }

        /// Changing one digit of a valid number is always caught.
        #[test]
        fn one_mistyped_digit_is_caught(first in "[0-9]{17}", at in 0usize..17, by in 1u8..10) {
            let id = format!("{first}{}", char::from(check_digit(first.as_bytes())));
            let mut typo = id.clone().into_bytes();
            typo[at] = b'0' + (typo[at] - b'0' + by) % 10;
            prop_assert_eq!(check(&String::from_utf8(typo).unwrap()), Err(IdCardError::CheckDigit));
        }
    }
}
