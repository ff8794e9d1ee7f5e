//! The one HTTP client setup every provider uses, and the mapping of transport results to verdicts.
//!
//! Why it matters for money: a submit that failed to *connect* never left this machine, so it is
//! definitely not charged (`Failed`, `retry_later`); anything after that point (timeout, reset after
//! the request was written, a body that could not be read, HTTP 5xx or 429) may have placed the order
//! and is `Unknown`. Hence: explicit connect and total timeouts, no redirects (a redirect could turn a
//! POST into a GET or send the order elsewhere), and no automatic retries (a retry is a second order
//! unless the engine decides to resend the same id). Each request becomes a redacted [`Exchange`].
//!
//! Transport privacy: proxies from the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`) are
//! ignored unless the provider's `use_env_proxy` setting is on — a proxy variable left over in a shell
//! must not route requests that carry keys and money through a machine nobody chose. A reply is
//! redacted whole and only then cut to [`MAX_LOGGED_RESPONSE`] bytes: cut first, a key echoed across
//! the cut would survive in part, which no redaction can recognise.

use crate::form::{decode_lossy, Charset};
use crate::{Exchange, ProviderError, Reply, Verdict};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use topup_core::Sensitive;

/// How much of a response body is kept in the audit trail.
pub const MAX_LOGGED_RESPONSE: usize = 4096;
/// Responses larger than this are not read further (a provider reply is a few hundred bytes).
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Connection settings shared by every provider (flattened into each provider's settings JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    /// TCP (and TLS) connect timeout. Default 5000.
    pub connect_timeout_ms: u64,
    /// Whole request timeout, connect to last body byte. Default 30000.
    pub timeout_ms: u64,
    /// Requests in flight at once to this provider. Default 4.
    pub concurrency: u32,
    /// Requests started per second at most; 0 means no limit. Default 10.
    pub requests_per_second: u32,
    /// Send requests through the proxy named by `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY` (and
    /// `NO_PROXY`). Default false: those variables are ignored.
    pub use_env_proxy: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout_ms: 5_000,
            timeout_ms: 30_000,
            concurrency: 4,
            requests_per_second: 10,
            use_env_proxy: false,
        }
    }
}

impl HttpSettings {
    pub fn validate(&self) -> Result<(), ProviderError> {
        if self.connect_timeout_ms == 0 || self.timeout_ms == 0 {
            return Err(ProviderError::Config("超时必须大于 0 / timeouts must be positive".into()));
        }
        if self.concurrency == 0 {
            return Err(ProviderError::Config("并发数必须大于 0 / concurrency must be positive".into()));
        }
        Ok(())
    }
}

/// A request ready to send, with its redacted form for the audit trail.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub method: reqwest::Method,
    /// The URL actually requested (may carry the key in its query string).
    pub url: String,
    /// The URL as recorded (secrets replaced by `<redacted>`).
    pub shown_url: String,
    /// `application/x-www-form-urlencoded` body, when any.
    pub form_body: Option<String>,
    /// The body or query as recorded (secrets replaced by `<redacted>`).
    pub shown_request: String,
}

/// What came back at the transport level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A complete response (any status).
    Response { status: u16, body: Vec<u8> },
    /// The connection could not be made: the request never left this machine.
    NotSent(String),
    /// Anything after the connection was made: the provider may have acted on the request.
    Lost(String),
}

/// One provider's HTTP client with its concurrency and rate limits.
pub struct Http {
    client: reqwest::Client,
    permits: Semaphore,
    interval: Option<Duration>,
    next_start: Mutex<Instant>,
    secret: Sensitive<String>,
    charset: Charset,
}

impl Http {
    pub fn new(
        settings: &HttpSettings,
        secret: Sensitive<String>,
        charset: Charset,
    ) -> Result<Http, ProviderError> {
        settings.validate()?;
        let mut builder = reqwest::Client::builder();
        if !settings.use_env_proxy {
            builder = builder.no_proxy();
        }
        let client = builder
            .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
            .timeout(Duration::from_millis(settings.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .pool_idle_timeout(Duration::from_secs(20))
            .user_agent(concat!("topup-desk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Config(format!("HTTP 客户端 / HTTP client: {e}")))?;
        let interval =
            (settings.requests_per_second > 0).then(|| Duration::from_secs(1) / settings.requests_per_second);
        Ok(Http {
            client,
            permits: Semaphore::new(settings.concurrency as usize),
            interval,
            next_start: Mutex::new(Instant::now()),
            secret,
            charset,
        })
    }

    /// Replaces every occurrence of the secret in `text` (belt and braces: callers already build
    /// redacted forms, this catches a key echoed back by a provider).
    pub fn redact(&self, text: &str) -> String {
        redact(text, self.secret.expose())
    }

    async fn pace(&self) {
        let Some(interval) = self.interval else { return };
        let wait = {
            let mut next = self.next_start.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let at = (*next).max(now);
            *next = at + interval;
            at - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends once. Never retries, never follows redirects.
    pub async fn send(&self, request: Prepared) -> (Transport, Exchange) {
        let _permit = self.permits.acquire().await;
        self.pace().await;
        let started = Instant::now();
        let mut builder = self.client.request(request.method.clone(), &request.url);
        if let Some(body) = &request.form_body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body.clone());
        }
        let transport = match builder.send().await {
            Err(e) => transport_error(&e),
            Ok(mut response) => {
                let status = response.status().as_u16();
                let mut body = Vec::new();
                let mut failure = None;
                loop {
                    match response.chunk().await {
                        Ok(Some(chunk)) => {
                            body.extend_from_slice(&chunk);
                            if body.len() > MAX_RESPONSE_BYTES {
                                failure = Some("回复过大 / response too large".to_owned());
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            failure = Some(format!(
                                "读取回复失败 / reading the response failed: {}",
                                error_chain(&e)
                            ));
                            break;
                        }
                    }
                }
                match failure {
                    Some(reason) => Transport::Lost(reason),
                    None => Transport::Response { status, body },
                }
            }
        };
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (status, response, error) = match &transport {
            Transport::Response { status, body } => {
                (Some(*status), Some(truncate(&self.redact(&decode_lossy(body, self.charset)))), None)
            }
            Transport::NotSent(e) | Transport::Lost(e) => (None, None, Some(self.redact(e))),
        };
        let exchange = Exchange {
            method: request.method.to_string(),
            url: self.redact(&request.shown_url),
            request: self.redact(&request.shown_request),
            status,
            response,
            error,
            elapsed_ms,
        };
        (transport, exchange)
    }
}

fn transport_error(e: &reqwest::Error) -> Transport {
    let text = error_chain(e);
    if e.is_connect() {
        Transport::NotSent(format!("连接失败 / connect failed: {text}"))
    } else if e.is_timeout() {
        Transport::Lost(format!("超时 / timed out: {text}"))
    } else {
        Transport::Lost(text)
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// What a redacted secret is replaced with.
pub const MASK: &str = "<redacted>";

/// Replaces `secret` in `text` by [`MASK`] (only secrets of 4+ characters, so that a short test
/// key does not blank out ordinary text).
pub fn redact(text: &str, secret: &str) -> String {
    if secret.len() >= 4 && text.contains(secret) {
        text.replace(secret, MASK)
    } else {
        text.to_owned()
    }
}

/// Cuts already redacted `text` to at most [`MAX_LOGGED_RESPONSE`] bytes, never inside a UTF-8
/// character and never inside a [`MASK`] (a marker cut in half would read as text, not as a mask).
pub fn truncate(text: &str) -> String {
    if text.len() <= MAX_LOGGED_RESPONSE {
        return text.to_owned();
    }
    let mut end = MAX_LOGGED_RESPONSE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // The last mask ending within MASK.len() - 1 bytes after the cut is the only one that can span it.
    let mut upper = (end + MASK.len() - 1).min(text.len());
    while !text.is_char_boundary(upper) {
        upper += 1;
    }
    if let Some(start) = text[..upper].rfind(MASK) {
        if start < end && start + MASK.len() > end {
            end = start;
        }
    }
    format!("{}…(截断 / truncated, {} bytes)", &text[..end], text.len())
}

/// Whether `url` sends in clear text over the network: `http://` to a host that is not this machine
/// (loopback is never on the wire). Anything that does not parse is not judged here
/// ([`check_base_url`] refuses it).
pub fn is_plain_http(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url.trim()) else { return false };
    if u.scheme() != "http" {
        return false;
    }
    let host = u.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    !host.is_empty() && !loopback
}

/// What a submit's transport result means before the body is read. `Ok(body)` for a 2xx response.
pub fn submit_transport(transport: Transport) -> Result<Vec<u8>, Box<Reply>> {
    match transport {
        Transport::NotSent(e) => Err(Box::new(Reply {
            verdict: Verdict::Failed,
            retry_later: true,
            reason: format!("未发出，可用同一单号重发 / not sent, may resend the same id: {e}"),
            ..Reply::unknown("")
        })),
        other => query_transport(other),
    }
}

/// What a query's transport result means: everything but a 2xx body is unknown (a query that did
/// not happen says nothing about the order).
pub fn query_transport(transport: Transport) -> Result<Vec<u8>, Box<Reply>> {
    match transport {
        Transport::Response { status, body } if (200..300).contains(&status) => Ok(body),
        Transport::Response { status, .. } => Err(Box::new(Reply::unknown(format!(
            "HTTP {status}，结果未知，需查询 / HTTP {status}, outcome unknown, must query"
        )))),
        Transport::NotSent(e) => Err(Box::new(Reply::unknown(format!("查询未发出 / query not sent: {e}")))),
        Transport::Lost(e) => {
            Err(Box::new(Reply::unknown(format!("结果未知，需查询 / outcome unknown, must query: {e}"))))
        }
    }
}

/// The body of a 2xx response for balance and lookups, or an error.
pub fn plain_transport(transport: Transport) -> Result<Vec<u8>, ProviderError> {
    match transport {
        Transport::Response { status, body } if (200..300).contains(&status) => Ok(body),
        Transport::Response { status, .. } => Err(ProviderError::Network(format!("HTTP {status}"))),
        Transport::NotSent(e) | Transport::Lost(e) => Err(ProviderError::Network(e)),
    }
}

/// Joins a base URL and a path without doubling or dropping the slash.
pub fn join(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

/// Checks a base URL setting.
pub fn check_base_url(name: &str, url: &str) -> Result<(), ProviderError> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(ProviderError::Config(format!(
            "{name} 不是有效的 http(s) 地址 / {name} is not an http(s) URL: “{url}”"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_char_boundaries() {
        let long = "鼎".repeat(3000);
        let t = truncate(&long);
        assert!(t.len() < 4200 && t.contains("truncated"));
        assert_eq!(truncate("ok"), "ok");
    }

    #[test]
    fn truncation_never_splits_a_mask() {
        // Every position of a mask around the cut: the result holds whole masks or none.
        for before in MAX_LOGGED_RESPONSE - MASK.len()..=MAX_LOGGED_RESPONSE {
            let text = format!("{}{MASK}{}", "x".repeat(before), "y".repeat(100));
            let cut = truncate(&text);
            let kept = cut.split('…').next().unwrap_or_default();
            assert!(kept.len() <= MAX_LOGGED_RESPONSE, "{before}");
            assert!(
                !kept.replace(MASK, "").contains('<'),
                "{before}: a mask cut in half: …{}",
                &kept[kept.len() - 12..]
            );
        }
    }

    #[test]
    fn plain_http_is_only_clear_text_to_another_machine() {
        for url in
            ["http://op.juhe.cn", "http://1.2.3.4:9086", "HTTP://Example.com/x", "http://[2001:db8::1]:80/"]
        {
            assert!(is_plain_http(url), "{url}");
        }
        for url in [
            "https://op.juhe.cn",
            "http://127.0.0.1:9086",
            "http://localhost:1",
            "http://[::1]:8/",
            "",
            "op.juhe.cn",
        ] {
            assert!(!is_plain_http(url), "{url}");
        }
    }

    #[test]
    fn redaction_and_join() {
        assert_eq!(redact("key=abcd1234&x=1", "abcd1234"), "key=<redacted>&x=1");
        assert_eq!(join("http://h:1/", "/a.do"), "http://h:1/a.do");
        assert!(check_base_url("base_url", "ftp://x").is_err());
        assert!(check_base_url("base_url", "http://127.0.0.1:9086").is_ok());
    }

    #[test]
    fn transport_mapping() {
        let r = submit_transport(Transport::NotSent("refused".into())).unwrap_err();
        assert_eq!((r.verdict, r.retry_later), (Verdict::Failed, true));
        for t in [
            Transport::Lost("reset".into()),
            Transport::Response { status: 500, body: vec![] },
            Transport::Response { status: 429, body: vec![] },
            Transport::Response { status: 302, body: vec![] },
        ] {
            assert_eq!(submit_transport(t.clone()).unwrap_err().verdict, Verdict::Unknown);
            assert_eq!(query_transport(t).unwrap_err().verdict, Verdict::Unknown);
        }
        assert_eq!(query_transport(Transport::NotSent("x".into())).unwrap_err().verdict, Verdict::Unknown);
    }
}
