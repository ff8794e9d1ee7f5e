//! The local zone (Beijing here) as the app reads it from a multi-threaded process, in its own test
//! binary because it sets `TZ` for the whole process.

#[test]
fn the_local_offset_is_read_in_a_multi_threaded_process() {
    // The test harness already runs this on a second thread; one more makes the point explicit.
    let helper = std::thread::spawn(|| std::thread::sleep(std::time::Duration::from_millis(50)));
    // Only test in this binary: nothing else reads the environment while it is set.
    std::env::set_var("TZ", "Asia/Shanghai");
    let eight_hours = time::UtcOffset::from_hms(8, 0, 0).unwrap();
    assert_eq!(topup_core::local_time::offset_now(), eight_hours);
    // 2026-12-04 00:00 in Beijing is 2026-12-03 16:00 UTC.
    let utc_ms = 1_764_777_600_000; // 2025-12-03T16:00:00Z
    let local = topup_core::local_time::at(utc_ms).unwrap();
    assert_eq!((local.hour(), local.day()), (0, 4));
    assert_eq!(topup_core::local_time::text(utc_ms), "2025-12-04 00:00:00");
    // A statement's wall time "2025-12-04 00:00:00" read back to the real instant.
    let wall_ms = utc_ms + 8 * 3_600_000;
    assert_eq!(topup_core::local_time::wall_to_utc_ms(wall_ms), utc_ms);
    helper.join().unwrap();
}
