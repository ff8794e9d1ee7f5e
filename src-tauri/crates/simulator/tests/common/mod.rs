//! Helpers shared by the integration tests: a simulator with a short settle time, a plain HTTP client,
//! request builders written independently of the simulator's own code, and a callback receiver.
#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use md5::{Digest, Md5};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use topup_sim::{SimConfig, Simulator};

pub const DY_USERID: &str = topup_sim::SANDBOX_DINGYIN_USERID;
pub const DY_KEY: &str = topup_sim::SANDBOX_DINGYIN_KEY;
pub const OPER_UID: &str = topup_sim::SANDBOX_OPER_UID;
pub const OPER_KEY: &str = topup_sim::SANDBOX_OPER_MD5KEY;
pub const JH_OPENID: &str = topup_sim::SANDBOX_JUHE_OPENID;
pub const JH_KEY: &str = topup_sim::SANDBOX_JUHE_APPKEY;

pub fn config() -> SimConfig {
    let mut c = SimConfig::sandbox();
    c.settle_after = Duration::from_millis(200);
    c.callback_retry_delay = Duration::from_millis(100);
    c
}

pub async fn start() -> Simulator {
    Simulator::start(config()).await.expect("simulator starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(5)).build().expect("client")
}

pub fn md5_lower(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

pub fn md5_upper(bytes: &[u8]) -> String {
    md5_lower(bytes).to_ascii_uppercase()
}

pub fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

/// Percent-encode every byte that is not unreserved.
pub fn pct(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (*b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A form body where each value is encoded with `enc` (GBK or UTF-8 bytes of the text).
pub fn form_with(pairs: &[(&str, &str)], enc: fn(&str) -> Vec<u8>) -> Vec<u8> {
    pairs.iter().map(|(k, v)| format!("{k}={}", pct(&enc(v)))).collect::<Vec<_>>().join("&").into_bytes()
}

pub fn utf8(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

/// Decode a GBK form (for callbacks) into pairs.
pub fn parse_gbk_form(body: &[u8]) -> Vec<(String, String)> {
    parse_form(body, |b| encoding_rs::GBK.decode_without_bom_handling(b).0.into_owned())
}

pub fn parse_utf8_form(body: &[u8]) -> Vec<(String, String)> {
    parse_form(body, |b| String::from_utf8_lossy(b).into_owned())
}

fn parse_form(body: &[u8], dec: fn(&[u8]) -> String) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut it = p.splitn(2, |b| *b == b'=');
            let k = unpct(it.next().unwrap_or_default());
            let v = unpct(it.next().unwrap_or_default());
            (dec(&k), dec(&v))
        })
        .collect()
}

fn unpct(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            let h = std::str::from_utf8(&s[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(h) = h {
                out.push(h);
                i += 3;
                continue;
            }
        }
        out.push(if s[i] == b'+' { b' ' } else { s[i] });
        i += 1;
    }
    out
}

pub fn get<'a>(pairs: &'a [(String, String)], k: &str) -> &'a str {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("")
}

/// Text of an XML element in a (decoded) reply.
pub fn xml_field(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let s = xml.find(&open)? + open.len();
    let e = xml[s..].find(&close)? + s;
    Some(xml[s..e].to_string())
}

type Bodies = Arc<Mutex<Vec<Vec<u8>>>>;
type ReceiverState = (Bodies, Arc<Vec<&'static str>>);

/// A local receiver for callbacks: answers with `replies` in turn (the last one repeats).
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub bodies: Arc<Mutex<Vec<Vec<u8>>>>,
}

pub async fn receiver(replies: Vec<&'static str>) -> Receiver {
    let bodies: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let state = (bodies.clone(), Arc::new(replies));
    let app = Router::new()
        .route(
            "/cb",
            post(|State((bodies, replies)): State<ReceiverState>, body: Bytes| async move {
                let mut b = bodies.lock().expect("lock");
                b.push(body.to_vec());
                let n = b.len();
                replies.get(n - 1).or(replies.last()).copied().unwrap_or("ok")
            }),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Receiver { url: format!("http://{addr}/cb"), bodies }
}

impl Receiver {
    pub fn count(&self) -> usize {
        self.bodies.lock().expect("lock").len()
    }
    pub fn body(&self, i: usize) -> Vec<u8> {
        self.bodies.lock().expect("lock")[i].clone()
    }
}

/// Wait until `f` holds (up to 5 s).
pub async fn eventually(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}
