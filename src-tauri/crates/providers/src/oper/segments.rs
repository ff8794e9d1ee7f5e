//! Mobile number segments → carrier, for oper's `mobile_type` when the order names no carrier.
//!
//! **Approximate**: number portability (携号转网, since 2019) means a number may have moved to another
//! carrier; this table only reflects the segment's original owner (as of 2024). A wrong guess is a
//! definite rejection by oper at worst (the order is refused, not charged); the user can pick the
//! carrier explicitly. Longest prefix wins (e.g. 170x virtual-operator blocks).
//!
//! The 7-digit table in [`crate::phone_segments`] (phone.dat, April 2020) agrees with this list on every
//! prefix both know (a test checks all of them), so this short list stays the carrier source here; it
//! also knows the segments opened since (190, 193, 196, 197), which the table does not.

use crate::Carrier;

/// (prefix, carrier). 192 (广电) and unknown segments have no entry.
pub const SEGMENTS: &[(&str, Carrier)] = &[
    // 中国移动
    ("134", Carrier::Mobile),
    ("135", Carrier::Mobile),
    ("136", Carrier::Mobile),
    ("137", Carrier::Mobile),
    ("138", Carrier::Mobile),
    ("139", Carrier::Mobile),
    ("147", Carrier::Mobile),
    ("148", Carrier::Mobile),
    ("150", Carrier::Mobile),
    ("151", Carrier::Mobile),
    ("152", Carrier::Mobile),
    ("157", Carrier::Mobile),
    ("158", Carrier::Mobile),
    ("159", Carrier::Mobile),
    ("165", Carrier::Mobile),
    ("172", Carrier::Mobile),
    ("178", Carrier::Mobile),
    ("182", Carrier::Mobile),
    ("183", Carrier::Mobile),
    ("184", Carrier::Mobile),
    ("187", Carrier::Mobile),
    ("188", Carrier::Mobile),
    ("195", Carrier::Mobile),
    ("197", Carrier::Mobile),
    ("198", Carrier::Mobile),
    ("1703", Carrier::Mobile),
    ("1705", Carrier::Mobile),
    ("1706", Carrier::Mobile),
    // 中国联通
    ("130", Carrier::Unicom),
    ("131", Carrier::Unicom),
    ("132", Carrier::Unicom),
    ("145", Carrier::Unicom),
    ("146", Carrier::Unicom),
    ("155", Carrier::Unicom),
    ("156", Carrier::Unicom),
    ("166", Carrier::Unicom),
    ("167", Carrier::Unicom),
    ("171", Carrier::Unicom),
    ("175", Carrier::Unicom),
    ("176", Carrier::Unicom),
    ("185", Carrier::Unicom),
    ("186", Carrier::Unicom),
    ("196", Carrier::Unicom),
    ("1704", Carrier::Unicom),
    ("1707", Carrier::Unicom),
    ("1708", Carrier::Unicom),
    ("1709", Carrier::Unicom),
    // 中国电信
    ("133", Carrier::Telecom),
    ("1349", Carrier::Telecom),
    ("149", Carrier::Telecom),
    ("153", Carrier::Telecom),
    ("162", Carrier::Telecom),
    ("173", Carrier::Telecom),
    ("174", Carrier::Telecom),
    ("177", Carrier::Telecom),
    ("180", Carrier::Telecom),
    ("181", Carrier::Telecom),
    ("189", Carrier::Telecom),
    ("190", Carrier::Telecom),
    ("191", Carrier::Telecom),
    ("193", Carrier::Telecom),
    ("199", Carrier::Telecom),
    ("1700", Carrier::Telecom),
    ("1701", Carrier::Telecom),
    ("1702", Carrier::Telecom),
];

/// The original carrier of an 11-digit mainland mobile number, if its segment is known.
pub fn carrier_of(phone: &str) -> Option<Carrier> {
    if !crate::rules::phone::is_mobile(phone) {
        return None;
    }
    SEGMENTS.iter().filter(|(p, _)| phone.starts_with(p)).max_by_key(|(p, _)| p.len()).map(|(_, c)| *c)
}

/// oper's `mobile_type`: 1 移动, 2 联通, 3 电信.
pub fn mobile_type(carrier: Carrier) -> &'static str {
    match carrier {
        Carrier::Mobile => "1",
        Carrier::Unicom => "2",
        Carrier::Telecom => "3",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        assert_eq!(carrier_of("13999999999"), Some(Carrier::Mobile));
        assert_eq!(carrier_of("18612345678"), Some(Carrier::Unicom));
        assert_eq!(carrier_of("18912345678"), Some(Carrier::Telecom));
        assert_eq!(carrier_of("13491234567"), Some(Carrier::Telecom));
        assert_eq!(carrier_of("13481234567"), Some(Carrier::Mobile));
        assert_eq!(carrier_of("17001234567"), Some(Carrier::Telecom));
        assert_eq!(carrier_of("17031234567"), Some(Carrier::Mobile));
        assert_eq!(carrier_of("17041234567"), Some(Carrier::Unicom));
        assert_eq!(carrier_of("19212345678"), None);
        assert_eq!(carrier_of("1391234567"), None);
        assert_eq!(carrier_of("1391234567a"), None);
        let prefixes: Vec<&str> = SEGMENTS.iter().map(|(p, _)| *p).collect();
        let mut dedup = prefixes.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(dedup.len(), prefixes.len(), "a prefix is listed twice");
    }

    /// Every 7-digit block of the phone.dat table (virtual operators counted as their host network)
    /// has the carrier this list gives, wherever the list knows the segment.
    #[test]
    fn agrees_with_the_seven_digit_table() {
        let table = crate::phone_segments::table().expect("the embedded table parses");
        let (mut checked, mut unknown) = (0, Vec::new());
        for prefix in 1_300_000..2_000_000u32 {
            let Some(segment) = table.by_prefix(prefix) else { continue };
            match carrier_of(&format!("{prefix}0000")) {
                Some(carrier) => {
                    assert_eq!(carrier, segment.carrier, "{prefix}: {segment:?}");
                    checked += 1;
                }
                None => unknown.push(prefix / 10_000),
            }
        }
        unknown.dedup();
        // 447,893 prefixes in phone.dat; only 141 (电信 IoT / virtual operators) is not listed here.
        assert!(checked > 400_000, "{checked}");
        assert_eq!(unknown, [141]);
    }
}
