//! Logging with `tracing` to daily files in the data directory, every line redacted and escaped, the
//! files capped in age *and* in size.
//!
//! Why a writer of our own: the callback listener can be reached by strangers, and whatever they make
//! us log must neither forge lines nor fill the disk. So the file writer
//! * passes each formatted event through [`crate::redact::text`] (redaction does not depend on every
//!   call site remembering it);
//! * escapes newlines and other control characters inside the event
//!   ([`topup_core::untrusted::escape`]): one event is one line, whatever a field holds;
//! * cuts an event longer than [`MAX_LINE_BYTES`];
//! * writes `logs/topup-desk.log.YYYY-MM-DD` (UTC days); a day's file that reaches
//!   [`LogCaps::max_file_bytes`] continues in `….YYYY-MM-DD.1`, `.2`, …; files older than
//!   [`LogCaps::keep_days`] are removed, and the oldest are removed first while all files together
//!   would exceed [`LogCaps::max_total_bytes`].

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// The log files' name before `.YYYY-MM-DD`.
pub const FILE_PREFIX: &str = "topup-desk.log";

/// An event longer than this (after escaping) is cut.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// How much log the data directory keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogCaps {
    /// Files of days older than this are removed (today counts as one).
    pub keep_days: u32,
    /// One file grows to at most this; the day goes on in the next numbered file.
    pub max_file_bytes: u64,
    /// All log files together stay under this: the oldest go first.
    pub max_total_bytes: u64,
}

impl Default for LogCaps {
    /// 14 days, 32 MiB a file, 256 MiB in all (about 2.5 million lines of 100 bytes).
    fn default() -> Self {
        LogCaps { keep_days: 14, max_file_bytes: 32 * 1024 * 1024, max_total_bytes: 256 * 1024 * 1024 }
    }
}

/// Keeps the background log writer alive; drop it last.
pub struct LogGuard(#[allow(dead_code)] WorkerGuard);

/// Installs the global subscriber: redacted, escaped lines to `logs/topup-desk.log.YYYY-MM-DD` within
/// [`LogCaps::default`], and to stderr when `also_stderr`. Returns `None` if a subscriber was already
/// installed.
pub fn init(data_dir: &Path, also_stderr: bool) -> io::Result<Option<LogGuard>> {
    let dir = crate::paths::log_dir(data_dir);
    let files = CappedFiles::open(&dir, LogCaps::default(), utc_today)?;
    let (file, guard) = tracing_appender::non_blocking(files);
    let filter = EnvFilter::try_from_env("TOPUP_DESK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let writer = Redacting { inner: file, stderr: also_stderr };
    let installed =
        tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_writer(writer).try_init();
    Ok(installed.ok().map(|()| LogGuard(guard)))
}

fn utc_today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// Wraps a writer: each event is redacted, escaped and cut before it reaches `inner`.
#[derive(Clone)]
pub struct Redacting<W> {
    pub inner: W,
    pub stderr: bool,
}

pub struct Line<W: Write> {
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
        let line = one_line(&self.buf);
        let _ = self.inner.write_all(line.as_bytes());
        if self.stderr {
            let _ = io::stderr().write_all(line.as_bytes());
        }
    }
}

/// One formatted event as exactly one redacted, escaped line of at most [`MAX_LINE_BYTES`] (plus the
/// cut marker), ending in a newline.
fn one_line(event: &[u8]) -> String {
    let text = String::from_utf8_lossy(event);
    let body = text.strip_suffix('\n').unwrap_or(&text);
    let red = crate::redact::text(body);
    let mut line = topup_core::untrusted::escape(&red).into_owned();
    if line.len() > MAX_LINE_BYTES {
        let mut cut = MAX_LINE_BYTES;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        let left_out = line.len() - cut;
        line.truncate(cut);
        line.push_str(&format!("…(+{left_out} bytes)"));
    }
    line.push('\n');
    line
}

/// Daily log files, capped in age and size (see the module doc).
pub struct CappedFiles {
    dir: PathBuf,
    caps: LogCaps,
    today: fn() -> time::Date,
    current: Option<Current>,
}

struct Current {
    day: time::Date,
    index: u32,
    file: File,
    size: u64,
}

/// A log file of ours: its day, its number within the day, its size.
struct Found {
    day: time::Date,
    index: u32,
    size: u64,
    path: PathBuf,
}

impl CappedFiles {
    /// Creates `dir` if needed and removes what is over the caps already. `today` gives the current
    /// (UTC) day.
    pub fn open(dir: &Path, caps: LogCaps, today: fn() -> time::Date) -> io::Result<CappedFiles> {
        std::fs::create_dir_all(dir)?;
        let mut files = CappedFiles { dir: dir.to_owned(), caps, today, current: None };
        files.prune(today())?;
        Ok(files)
    }

    fn file_name(day: time::Date, index: u32) -> String {
        let date = format!("{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day());
        match index {
            0 => format!("{FILE_PREFIX}.{date}"),
            n => format!("{FILE_PREFIX}.{date}.{n}"),
        }
    }

    fn parse_name(name: &str) -> Option<(time::Date, u32)> {
        let rest = name.strip_prefix(FILE_PREFIX)?.strip_prefix('.')?;
        let (date, index) = match rest.split_once('.') {
            Some((d, n)) => (d, n.parse().ok()?),
            None => (rest, 0),
        };
        let mut parts = date.split('-').map(str::parse::<u32>);
        let (Some(Ok(y)), Some(Ok(m)), Some(Ok(d)), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
        let day =
            time::Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()?;
        Some((day, index))
    }

    /// Our log files in `dir`, oldest first.
    fn list(&self) -> io::Result<Vec<Found>> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let Some((day, index)) = entry.file_name().to_str().and_then(Self::parse_name) else {
                continue;
            };
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            found.push(Found { day, index, size, path: entry.path() });
        }
        found.sort_by_key(|f| (f.day, f.index));
        Ok(found)
    }

    /// Removes files past the age cap, then the oldest while the others and a full current file
    /// would exceed the total cap. The current file is never removed.
    fn prune(&mut self, today: time::Date) -> io::Result<()> {
        let oldest_kept = today - time::Duration::days(i64::from(self.caps.keep_days.max(1)) - 1);
        let current = self.current.as_ref().map(|c| (c.day, c.index));
        let mut kept = Vec::new();
        for f in self.list()? {
            if f.day < oldest_kept && current != Some((f.day, f.index)) {
                let _ = std::fs::remove_file(&f.path);
            } else {
                kept.push(f);
            }
        }
        let others = |k: &[Found]| -> u64 {
            k.iter().filter(|f| current != Some((f.day, f.index))).map(|f| f.size).sum()
        };
        let budget = self.caps.max_total_bytes.saturating_sub(self.caps.max_file_bytes);
        let mut total = others(&kept);
        for f in &kept {
            if total <= budget {
                break;
            }
            if current == Some((f.day, f.index)) {
                continue;
            }
            let _ = std::fs::remove_file(&f.path);
            total = total.saturating_sub(f.size);
        }
        Ok(())
    }

    /// Opens the file to write `len` more bytes into, rotating (and pruning) when the day changed or
    /// the current file is full.
    fn file_for(&mut self, len: u64) -> io::Result<&mut Current> {
        let today = (self.today)();
        let next = match &self.current {
            Some(c) if c.day == today && (c.size == 0 || c.size + len <= self.caps.max_file_bytes) => None,
            Some(c) if c.day == today => Some(c.index + 1),
            _ => {
                // A new day, or the first write: continue the day's last file.
                let last = self.list()?.into_iter().filter(|f| f.day == today).map(|f| f.index).max();
                Some(last.unwrap_or(0))
            }
        };
        if let Some(index) = next {
            let path = self.dir.join(Self::file_name(today, index));
            let file = OpenOptions::new().create(true).append(true).open(&path)?;
            let size = file.metadata()?.len();
            self.current = Some(Current { day: today, index, file, size });
            if size > 0 && size + len > self.caps.max_file_bytes {
                return self.file_for(len);
            }
            self.prune(today)?;
        }
        self.current.as_mut().ok_or_else(|| io::Error::other("no log file"))
    }
}

impl Write for CappedFiles {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
        let current = self.file_for(len)?;
        current.file.write_all(data)?;
        current.size += len;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.current {
            Some(c) => c.file.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn day(d: u8) -> time::Date {
        time::Date::from_calendar_date(2026, time::Month::March, d).unwrap()
    }

    fn dir_bytes(dir: &Path) -> (u64, usize) {
        std::fs::read_dir(dir)
            .unwrap()
            .fold((0, 0), |(b, n), e| (b + e.unwrap().metadata().unwrap().len(), n + 1))
    }

    #[test]
    fn a_flood_of_lines_stays_under_the_size_cap_and_keeps_the_newest() {
        let tmp = tempfile::tempdir().unwrap();
        let caps = LogCaps { keep_days: 14, max_file_bytes: 1000, max_total_bytes: 4000 };
        let mut files = CappedFiles::open(tmp.path(), caps, || day(20)).unwrap();
        for i in 0..2000 {
            writeln!(files, "{i:06} callback refused: {}", "x".repeat(70)).unwrap();
        }
        files.flush().unwrap();
        let (bytes, count) = dir_bytes(tmp.path());
        assert!(bytes <= 4000, "{bytes} bytes in {count} files");
        assert!(count <= 4, "{count} files");
        let newest = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .any(|t| t.contains("001999 callback refused"));
        assert!(newest, "the last line is kept");
        let names: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| n.starts_with("topup-desk.log.2026-03-20")), "{names:?}");
    }

    #[test]
    fn files_past_the_age_cap_are_removed_and_others_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        for name in [
            "topup-desk.log.2026-03-01",
            "topup-desk.log.2026-03-06",
            "topup-desk.log.2026-03-06.1",
            "topup-desk.log.2026-03-07",
            "topup-desk.log.2026-03-19",
            "notes.txt",
        ] {
            std::fs::write(tmp.path().join(name), "line\n").unwrap();
        }
        let caps = LogCaps { keep_days: 14, ..LogCaps::default() };
        let mut files = CappedFiles::open(tmp.path(), caps, || day(20)).unwrap();
        writeln!(files, "today").unwrap();
        let mut names: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "notes.txt",
                "topup-desk.log.2026-03-07",
                "topup-desk.log.2026-03-19",
                "topup-desk.log.2026-03-20"
            ]
        );
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_event_is_one_escaped_bounded_line_whatever_its_fields_hold() {
        let out = Captured::default();
        let sink = out.clone();
        let writer = Redacting { inner: move || sink.clone(), stderr: false };
        let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(writer).finish();
        tracing::subscriber::with_default(subscriber, || {
            let forged = "x\n2026-03-20T00:00:00.000000Z ERROR topup_engine: forged\r\u{202e}";
            tracing::warn!(reason = %forged, "callback refused");
            tracing::warn!(reason = %"y".repeat(100_000), "callback refused");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].contains("reason=x\\n2026-03-20T00:00:00.000000Z ERROR"), "{}", lines[0]);
        assert!(lines[0].contains("\\r\\u{202e}"), "{}", lines[0]);
        assert!(lines[1].len() < MAX_LINE_BYTES + 64, "{} bytes", lines[1].len());
        assert!(lines[1].ends_with("bytes)"), "cut marker");
    }
}
