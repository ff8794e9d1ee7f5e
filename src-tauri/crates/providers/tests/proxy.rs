//! Proxies from the environment are used only when a provider's `use_env_proxy` setting says so.
//!
//! Its own test binary: the proxy variables are process-wide, so no other test may run beside it.

use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use topup_core::{ProviderId, Sensitive};
use topup_providers::build;

/// A stand-in proxy on 127.0.0.1: records each request line and answers 200 with a juhe-shaped body.
fn proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_owned();
            record.lock().expect("lock").push(line);
            let body = r#"{"reason":"ok","result":{"money":"1.000"},"error_code":0}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, seen)
}

#[tokio::test]
async fn the_environment_proxy_is_used_only_when_the_setting_says_so() {
    let (proxy_url, seen) = proxy();
    for name in ["NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "REQUEST_METHOD"] {
        std::env::remove_var(name);
    }
    for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"] {
        std::env::set_var(name, &proxy_url);
    }
    // A host that never resolves: only a proxy can answer for it.
    let settings = json!({"base_url": "http://juhe-through-proxy.invalid", "openid": "JH1"});
    let key = || Sensitive::new("proxy-test-appkey-123".to_owned());

    let direct = build(ProviderId::Juhe, &settings, key()).expect("juhe");
    let (result, _) = direct.balance().await;
    assert!(result.is_err(), "without a proxy the host cannot be reached: {result:?}");
    assert!(seen.lock().expect("lock").is_empty(), "HTTP_PROXY was used without the setting: {seen:?}");

    let mut with_proxy = settings.clone();
    with_proxy["use_env_proxy"] = json!(true);
    let proxied = build(ProviderId::Juhe, &with_proxy, key()).expect("juhe");
    let (result, exchanges) = proxied.balance().await;
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1, "one request through the proxy: {seen:?} ({result:?}, {exchanges:?})");
    assert!(seen[0].starts_with("GET http://juhe-through-proxy.invalid/ofpay/mobile/yue?"), "{seen:?}");
}
