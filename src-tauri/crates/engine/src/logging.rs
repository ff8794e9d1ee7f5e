//! Logging with `tracing` to a daily-rotated file in the data directory, every line redacted.
//!
//! The file writer passes each formatted line through [`crate::redact::text`], so redaction does not
//! depend on every call site remembering it.

use std::io::{self, Write};
use std::path::Path;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// Keeps the background log writer alive; drop it last.
pub struct LogGuard(#[allow(dead_code)] WorkerGuard);

/// Installs the global subscriber: redacted lines to `logs/topup-desk.log.YYYY-MM-DD` (14 files kept),
/// and to stderr when `also_stderr`. Returns `None` if a subscriber was already installed.
pub fn init(data_dir: &Path, also_stderr: bool) -> io::Result<Option<LogGuard>> {
    let dir = crate::paths::log_dir(data_dir);
    std::fs::create_dir_all(&dir)?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("topup-desk.log")
        .max_log_files(14)
        .build(&dir)
        .map_err(io::Error::other)?;
    let (file, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_env("TOPUP_DESK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let writer = Redacting { inner: file, stderr: also_stderr };
    let installed =
        tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_writer(writer).try_init();
    Ok(installed.ok().map(|()| LogGuard(guard)))
}

#[derive(Clone)]
struct Redacting<W> {
    inner: W,
    stderr: bool,
}

struct Line<W: Write> {
    inner: W,
    stderr: bool,
    buf: Vec<u8>,
}

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for Redacting<W> {
    type Writer = Line<W::Writer>;
    fn make_writer(&'a self) -> Self::Writer {
        Line { inner: self.inner.make_writer(), stderr: self.stderr, buf: Vec::new() }
    }
}

impl<W: Write> Write for Line<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for Line<W> {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buf);
        let red = crate::redact::text(&text);
        let _ = self.inner.write_all(red.as_bytes());
        if self.stderr {
            let _ = io::stderr().write_all(red.as_bytes());
        }
    }
}
