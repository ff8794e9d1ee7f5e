//! What the audit trail keeps of a reply, over real HTTP: a key the provider echoes back is redacted
//! before the reply is cut to `MAX_LOGGED_RESPONSE` bytes, wherever the cut falls.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use topup_core::Sensitive;
use topup_providers::form::Charset;
use topup_providers::http::{Http, HttpSettings, Prepared, MASK, MAX_LOGGED_RESPONSE};

const KEY: &str = "ECHOED-appkey-0123456789abcdef";

/// Serves `body` once per connection, after reading the request head.
async fn serve(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/ofpay/mobile/ordersta", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    url
}

#[tokio::test]
async fn a_key_echoed_across_the_cut_is_not_kept_in_part() {
    let http =
        Http::new(&HttpSettings::default(), Sensitive::new(KEY.to_owned()), Charset::Utf8).expect("client");
    // The key starts anywhere from well before the cut to just after it; a 3-byte character sits
    // right before it so that the cut also has to respect UTF-8.
    for start in MAX_LOGGED_RESPONSE - KEY.len() - 8..=MAX_LOGGED_RESPONSE + 2 {
        let prefix = format!("{}聚", "x".repeat(start - "聚".len()));
        let body = format!("{prefix}{KEY}{}", "y".repeat(200));
        let url = serve(body).await;
        let request = Prepared {
            method: reqwest::Method::GET,
            url: url.clone(),
            shown_url: url,
            form_body: None,
            shown_request: String::new(),
        };
        let (_, exchange) = http.send(request).await;
        let kept = exchange.response.expect("a response");
        assert!(kept.contains("truncated"), "{start}: the reply is longer than the limit");
        // No 6-byte piece of the key survives (a piece is how a cut key would show).
        for piece in KEY.as_bytes().windows(6) {
            let piece = std::str::from_utf8(piece).expect("ascii key");
            assert!(
                !kept.contains(piece),
                "key start {start}: “{piece}” of the key was kept: …{}",
                tail(&kept)
            );
        }
        // Whatever is kept is whole: whole masks only, and the part before the marker is within the limit.
        let before = kept.split('…').next().unwrap_or_default();
        assert!(before.len() <= MAX_LOGGED_RESPONSE, "{start}");
        assert!(!before.replace(MASK, "").contains('<'), "{start}: a mask cut in half: …{}", tail(&kept));
    }
}

fn tail(s: &str) -> &str {
    let mut at = s.len().saturating_sub(80);
    while !s.is_char_boundary(at) {
        at += 1;
    }
    &s[at..]
}
