//! The local time zone: one place decides the local offset, and everything that shows, reads or
//! sends a local time asks here (today's midnight on the Balances screen, export and statement
//! times, the order time sent to a provider, the simulator's statement).
//!
//! Why one place: the same fallback (UTC when the system cannot tell) and the same reading of a
//! statement's wall-clock time were written five times, and the SQLite reports read the zone with
//! `localtime` — both end in the C library's `localtime_r`, so they agree as long as nobody
//! re-implements the rule elsewhere.

use time::{OffsetDateTime, UtcOffset};

/// The local offset from UTC at `ms` (milliseconds since the epoch); UTC if the zone cannot be read.
pub fn offset_at(ms: i64) -> UtcOffset {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| UtcOffset::local_offset_at(t).ok())
        .unwrap_or(UtcOffset::UTC)
}

/// The local offset now.
pub fn offset_now() -> UtcOffset {
    offset_at(now_ms())
}

/// `ms` (milliseconds since the epoch) as a local date and time; `None` when out of range.
pub fn at(ms: i64) -> Option<OffsetDateTime> {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    Some(t.to_offset(offset_at(ms)))
}

/// `ms` as local `yyyy-MM-dd HH:mm:ss` (the way exports and statements show a time); empty when out
/// of range.
pub fn text(ms: i64) -> String {
    let Some(t) = at(ms) else { return String::new() };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Now, as a local date and time.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc().to_offset(offset_now())
}

/// A local wall-clock time (milliseconds since the epoch, read as if the wall clock were UTC) to
/// real milliseconds since the epoch: what a statement's "2026-12-04 10:00:00" means here.
pub fn wall_to_utc_ms(wall_ms: i64) -> i64 {
    let guess = wall_ms - i64::from(offset_at(wall_ms).whole_seconds()) * 1000;
    wall_ms - i64::from(offset_at(guess).whole_seconds()) * 1000
}

/// Today's local midnight, in milliseconds since the epoch.
pub fn day_start_ms() -> i64 {
    let midnight = now().replace_time(time::Time::MIDNIGHT);
    midnight.unix_timestamp() * 1000
}

fn now_ms() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}
