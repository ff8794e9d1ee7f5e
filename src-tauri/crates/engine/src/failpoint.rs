//! Named fault points for the crash suite.
//!
//! With the `failpoints` feature, reaching the point named in `TOPUP_DESK_FAILPOINT` prints
//! `FAILPOINT <name>` on stderr and stops the thread, so that the test can kill the process with
//! SIGKILL exactly there. Without the feature the macro is empty: release builds carry no kill switch.

#[cfg(feature = "failpoints")]
#[macro_export]
macro_rules! failpoint {
    ($name:literal) => {
        $crate::failpoint::hit($name)
    };
}

#[cfg(not(feature = "failpoints"))]
#[macro_export]
macro_rules! failpoint {
    ($name:literal) => {};
}

#[cfg(feature = "failpoints")]
pub fn hit(name: &str) {
    use std::io::Write;
    static ARMED: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let armed = ARMED.get_or_init(|| std::env::var("TOPUP_DESK_FAILPOINT").ok());
    if armed.as_deref() == Some(name) {
        let mut err = std::io::stderr();
        let _ = writeln!(err, "FAILPOINT {name}");
        let _ = err.flush();
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}
