//! What the listener refused, counted per reason, and logged without letting a sender write the log.
//!
//! Why counted rather than logged: a log line per refused request is a disk a stranger fills at our
//! expense (60 GB a day at the global rate limit). So every refusal is an atomic counter; the first
//! few of each summary period are also logged one by one (with the sender and an escaped, cut
//! excerpt of why), and one summary line per period says how many of each there were.

use serde::Serialize;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use topup_core::ProviderId;

/// Why a request or a connection was refused. What each answers: `docs/security.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// 429: over the per-sender or the global request rate.
    RateLimited,
    /// 404: not `/callback/<provider>`.
    NotFound,
    /// 404: a provider that is not configured here.
    NoProvider,
    /// 413 (body) or 431 (head): over the size limit.
    TooLarge,
    /// 408: the body did not arrive within the request timeout.
    BodyTimeout,
    /// Closed: no complete request head within the header timeout.
    HeaderTimeout,
    /// Closed: nothing happened on the connection for the idle timeout.
    IdleTimeout,
    /// 400 (or closed): not HTTP/1.1 we can read, or the body broke off.
    BadRequest,
    /// 400: the callback's signature is wrong.
    BadSign,
    /// 400: fields missing or unreadable.
    Malformed,
    /// 400: signed, but for an order that is not in the book (or not this provider's).
    UnknownOrder,
    /// 400: refused for another reason (another merchant account, amount mismatch…).
    Refused,
    /// 503 and closed: the socket cap was reached and no connection was idle.
    TooManyConnections,
    /// 503 and closed: the sender's connection cap was reached and none of its connections was idle.
    SenderConnections,
    /// Closed: an idle connection closed to make room for a new one.
    Evicted,
    /// 500: verified but could not be stored (no acknowledgement: the provider retries).
    NotStored,
    /// `accept` failed (e.g. the process is out of file descriptors).
    AcceptFailed,
}

impl Reason {
    pub const ALL: [Reason; 17] = [
        Reason::RateLimited,
        Reason::NotFound,
        Reason::NoProvider,
        Reason::TooLarge,
        Reason::BodyTimeout,
        Reason::HeaderTimeout,
        Reason::IdleTimeout,
        Reason::BadRequest,
        Reason::BadSign,
        Reason::Malformed,
        Reason::UnknownOrder,
        Reason::Refused,
        Reason::TooManyConnections,
        Reason::SenderConnections,
        Reason::Evicted,
        Reason::NotStored,
        Reason::AcceptFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::RateLimited => "rate_limited",
            Reason::NotFound => "not_found",
            Reason::NoProvider => "no_provider",
            Reason::TooLarge => "too_large",
            Reason::BodyTimeout => "body_timeout",
            Reason::HeaderTimeout => "header_timeout",
            Reason::IdleTimeout => "idle_timeout",
            Reason::BadRequest => "bad_request",
            Reason::BadSign => "bad_sign",
            Reason::Malformed => "malformed",
            Reason::UnknownOrder => "unknown_order",
            Reason::Refused => "refused",
            Reason::TooManyConnections => "too_many_connections",
            Reason::SenderConnections => "sender_connections",
            Reason::Evicted => "evicted",
            Reason::NotStored => "not_stored",
            Reason::AcceptFailed => "accept_failed",
        }
    }

    /// Sorts a callback the engine refused by its message (the engine gives text, not a kind).
    /// The prefixes are those of `topup_providers::CallbackError` and of `Engine::callback_write`;
    /// the listener tests pin each.
    pub fn of_refused_callback(why: &str) -> Reason {
        if why == topup_providers::CallbackError::BadSign.to_string() {
            Reason::BadSign
        } else if why.starts_with("回调缺少字段") || why.starts_with("回调无法解析") {
            Reason::Malformed
        } else if why.starts_with("未知订单") || why.contains("不属于") {
            Reason::UnknownOrder
        } else {
            Reason::Refused
        }
    }
}

/// Who and what one refusal was about, for its log line.
#[derive(Default)]
pub struct Detail<'a> {
    pub peer: Option<IpAddr>,
    /// The sender the limits counted (the peer, or the address a trusted proxy named).
    pub sender: Option<IpAddr>,
    pub provider: Option<ProviderId>,
    /// Sender-influenced text: logged escaped and cut.
    pub why: Option<&'a str>,
}

/// The counters. Shared by the listener's tasks; read with [`Refusals::snapshot`].
pub struct Refusals {
    counts: [AtomicU64; Reason::ALL.len()],
    /// Refusals logged one by one in the current summary period.
    logged: AtomicU32,
    log_first: u32,
    /// The counts at the last summary.
    at_last_summary: Mutex<[u64; Reason::ALL.len()]>,
}

/// How much of a sender's text goes into a log line.
const WHY_CHARS: usize = 200;

impl Refusals {
    /// Logs the first `log_first` refusals of each summary period one by one.
    pub fn new(log_first: u32) -> Refusals {
        Refusals {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            logged: AtomicU32::new(0),
            log_first,
            at_last_summary: Mutex::new([0; Reason::ALL.len()]),
        }
    }

    fn index(reason: Reason) -> usize {
        Reason::ALL.iter().position(|r| *r == reason).unwrap_or(0)
    }

    /// Counts one refusal; logs it if the period's budget of single lines is not spent. Returns
    /// whether it was logged.
    pub fn record(&self, reason: Reason, detail: &Detail<'_>) -> bool {
        self.counts[Self::index(reason)].fetch_add(1, Ordering::Relaxed);
        if self.logged.fetch_add(1, Ordering::Relaxed) >= self.log_first {
            return false;
        }
        let why = detail.why.map(|w| topup_core::untrusted::excerpt(w, WHY_CHARS));
        let why = why.as_deref().unwrap_or("");
        let provider = detail.provider.map(|p| p.as_str()).unwrap_or("");
        let peer = detail.peer.map(|p| p.to_string()).unwrap_or_default();
        let sender = detail.sender.map(|p| p.to_string()).unwrap_or_default();
        if reason == Reason::NotStored {
            tracing::error!(
                reason = reason.as_str(),
                provider,
                peer,
                sender,
                why,
                "callback could not be stored"
            );
        } else {
            tracing::warn!(reason = reason.as_str(), provider, peer, sender, why, "callback refused");
        }
        true
    }

    /// How many of `reason` so far.
    pub fn get(&self, reason: Reason) -> u64 {
        self.counts[Self::index(reason)].load(Ordering::Relaxed)
    }

    /// Every reason with its count so far.
    pub fn snapshot(&self) -> Vec<(Reason, u64)> {
        Reason::ALL.iter().map(|r| (*r, self.get(*r))).collect()
    }

    /// Ends a summary period: the counts since the last summary as one line (`None` when there were
    /// none), and a fresh budget of single lines.
    pub fn summary(&self) -> Option<String> {
        let mut last = self.at_last_summary.lock().unwrap_or_else(|p| p.into_inner());
        let mut parts = Vec::new();
        for (i, reason) in Reason::ALL.iter().enumerate() {
            let now = self.counts[i].load(Ordering::Relaxed);
            let delta = now.saturating_sub(last[i]);
            last[i] = now;
            if delta > 0 {
                parts.push(format!("{}={delta}", reason.as_str()));
            }
        }
        let logged = self.logged.swap(0, Ordering::Relaxed).min(self.log_first);
        (!parts.is_empty()).then(|| format!("{} ({logged} logged one by one)", parts.join(" ")))
    }

    /// Logs [`Refusals::summary`], if any.
    pub fn log_summary(&self, period_secs: u64) {
        if let Some(text) = self.summary() {
            tracing::warn!(period_secs, counts = %text, "callback refusals");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_few_are_logged_then_only_counted_and_summarised() {
        let r = Refusals::new(3);
        let d = Detail { why: Some("a\nb"), ..Detail::default() };
        let logged: Vec<bool> = (0..10).map(|_| r.record(Reason::BadSign, &d)).collect();
        assert_eq!(logged, [true, true, true, false, false, false, false, false, false, false]);
        r.record(Reason::RateLimited, &d);
        assert_eq!(r.get(Reason::BadSign), 10);
        assert_eq!(r.summary().as_deref(), Some("rate_limited=1 bad_sign=10 (3 logged one by one)"));
        // A new period: a new budget, and nothing to summarise until something happens.
        assert_eq!(r.summary(), None);
        assert!(r.record(Reason::NotFound, &d));
        assert_eq!(r.summary().as_deref(), Some("not_found=1 (1 logged one by one)"));
    }

    #[test]
    fn refused_callbacks_are_sorted_by_the_engine_s_message() {
        use topup_providers::CallbackError;
        assert_eq!(Reason::of_refused_callback(&CallbackError::BadSign.to_string()), Reason::BadSign);
        assert_eq!(
            Reason::of_refused_callback(&CallbackError::MissingField("sign").to_string()),
            Reason::Malformed
        );
        assert_eq!(
            Reason::of_refused_callback(&CallbackError::Malformed("x".into()).to_string()),
            Reason::Malformed
        );
        assert_eq!(Reason::of_refused_callback(&CallbackError::WrongAccount.to_string()), Reason::Refused);
    }
}
