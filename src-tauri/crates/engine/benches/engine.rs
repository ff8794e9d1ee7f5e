//! Engine benchmark (issue 5, Performance), against the provider simulator on loopback.
//!
//! ```text
//! cargo build --release -p topup-sim          # the simulator runs as its own process
//! cargo bench -p topup-engine --bench engine [-- --orders N --rate R --callbacks-per-sec C
//!     --callback-secs S --callback-start S --book-dir DIR]
//! ```
//! (both with the same `CARGO_TARGET_DIR`; or point `TOPUP_SIM_BIN` at a `topup-sim` binary).
//!
//! Three processes, so that the engine's CPU and memory are its own: this one (the engine on its
//! tokio runtime, threads `engine-rt`, its order book and its callback listener), the simulator
//! (`topup-sim`, which records every request it gets) and the callback load generator (this binary
//! again, `--load-gen`). One run measures, on 10,000 dingyin orders limited to 200 requests/s at both
//! ends (the simulator answers dingyin's busy code 5013 above 200 requests in a second; the engine's
//! provider setting `requests_per_second` is 200). dingyin because its callback signature covers the
//! result, so a callback settles an order without a confirming query (juhe's does not: every juhe
//! callback costs a query from the same 200/s budget):
//! * (a) the time from the first to the last submit the simulator received, and the rate-limit
//!   rejections (submits beyond one per order, and 5013 answers in the order book);
//! * (b) engine CPU per order: utime+stime of this process (`/proc/self/stat`) minus its sampler
//!   thread (`load-rss`), over the run and outside the callback-load window;
//! * (c) the callback listener: from 10 s into the batch, the load generator sends valid, signed
//!   dingyin callbacks for orders that already succeeded, 2,000 a second for 10 s, over 32 keep-alive
//!   connections, and records each request's latency (write to full response);
//! * (d) VmRSS of this process (the engine) sampled every second, and of the simulator for reference.
//!
//! Polling is set out of the way (first query after 10 minutes), so the 200 requests a second are the
//! submits: callbacks settle the orders, as they would with a reachable listener.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::watch;
use topup_engine::book::{Book, NewOrder, OrderState};
use topup_engine::config::{EngineSettings, ProviderEntry, Registry};
use topup_engine::run::Engine;
use topup_engine::{Li, ProductKind, ProviderId, Sensitive};
use topup_sim::{RecordedRequest, SimOrder};

/// Clock ticks per second of `/proc/*/stat` (USER_HZ; 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

struct Opts {
    orders: usize,
    rate: u32,
    callbacks_per_sec: u32,
    callback_secs: u64,
    callback_start_secs: u64,
    /// Where the order book lives (default: a temporary directory under $TMPDIR, on disk).
    book_dir: Option<std::path::PathBuf>,
}

fn opts() -> Opts {
    let mut o = Opts {
        orders: 10_000,
        rate: 200,
        callbacks_per_sec: 2_000,
        callback_secs: 10,
        callback_start_secs: 10,
        book_dir: None,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let mut num = || it.next().and_then(|v| v.parse::<u64>().ok()).expect("a number after the flag");
        match a.as_str() {
            "--orders" => o.orders = usize::try_from(num()).unwrap_or(10_000),
            "--rate" => o.rate = u32::try_from(num()).unwrap_or(200),
            "--callbacks-per-sec" => o.callbacks_per_sec = u32::try_from(num()).unwrap_or(2_000),
            "--callback-secs" => o.callback_secs = num(),
            "--callback-start" => o.callback_start_secs = num(),
            "--book-dir" => o.book_dir = it.next().map(std::path::PathBuf::from),
            _ => {} // cargo bench passes --bench
        }
    }
    o
}

/// CPU seconds of this process: (engine = all but the sampler thread `load-rss`, sampler, all).
fn cpu() -> (f64, f64, f64) {
    let total = std::fs::read_to_string("/proc/self/stat").map(|s| ticks(&s)).unwrap_or(0.0);
    let mut sampler = 0.0;
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for task in dir.flatten() {
            let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
            let comm =
                stat.split_once('(').and_then(|(_, r)| r.rsplit_once(')')).map(|(c, _)| c).unwrap_or("");
            if comm.starts_with("load") {
                sampler += ticks(&stat);
            }
        }
    }
    (total - sampler, sampler, total)
}

/// CPU seconds of another process (the simulator), 0 when it is gone.
fn cpu_of(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map(|s| ticks(&s)).unwrap_or(0.0)
}

/// utime + stime of one `stat` line, in seconds.
fn ticks(stat: &str) -> f64 {
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // After the comm: state is field 3 of the line, utime 14, stime 15 → indexes 11 and 12 here.
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (n(11) + n(12)) / TICKS_PER_SEC
}

fn rss_kib(pid: &str) -> u64 {
    status_field(pid, "VmRSS:")
}

/// A numeric field of `/proc/PID/status` (`VmRSS:` in KiB, `Threads:`), 0 when unreadable.
fn status_field(pid: &str, name: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// The `topup-sim` binary: `TOPUP_SIM_BIN`, else next to this bench's directory in the target dir
/// (`…/release/deps/engine-…` → `…/release/topup-sim`). Exits with instructions when missing.
fn simulator_binary() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("TOPUP_SIM_BIN") {
        let p = std::path::PathBuf::from(p);
        if p.is_file() {
            return p;
        }
        eprintln!("TOPUP_SIM_BIN={} is not a file", p.display());
        std::process::exit(2);
    }
    let exe = std::env::current_exe().expect("current exe");
    let guess = exe.parent().and_then(|deps| deps.parent()).map(|dir| dir.join("topup-sim"));
    match guess {
        Some(p) if p.is_file() => p,
        _ => {
            eprintln!(
                "the engine bench runs the simulator as its own process, and found no topup-sim binary{}.\n\
                 Build it first with the same CARGO_TARGET_DIR:  cargo build --release -p topup-sim\n\
                 or set TOPUP_SIM_BIN=/path/to/topup-sim",
                guess.map(|p| format!(" at {}", p.display())).unwrap_or_default()
            );
            std::process::exit(2);
        }
    }
}

/// A running `topup-sim`, killed when dropped.
struct SimProcess {
    child: Child,
    base_url: String,
    query_base_url: String,
}

impl SimProcess {
    fn start(rate: u32) -> SimProcess {
        let bin = simulator_binary();
        let mut child = Command::new(&bin)
            .args(["--port", "0", "--settle-ms", "1000", "--rate-limit", &rate.to_string()])
            .args(["--initial-balance-li", "1000000000000"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", bin.display()));
        let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let (mut base_url, mut query_base_url) = (String::new(), String::new());
        for line in lines.by_ref() {
            let line = line.expect("simulator output");
            if let Some(u) = line.trim().strip_prefix("base URL:") {
                base_url = u.trim().to_owned();
            } else if let Some(u) = line.trim().strip_prefix("dingyin query URL:") {
                query_base_url = u.trim().to_owned();
            }
            if !base_url.is_empty() && !query_base_url.is_empty() {
                break;
            }
        }
        assert!(!base_url.is_empty(), "{} printed no base URL", bin.display());
        // Keep draining its output so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        SimProcess { child, base_url, query_base_url }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// GET a control endpoint (`/_sim/requests`, `/_sim/orders`) and parse its JSON.
    fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let host = self.base_url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(host).expect("connect to the simulator");
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").expect("request");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("response");
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("HTTP response") + 4;
        serde_json::from_slice(&raw[split..]).expect("JSON from the simulator")
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// One keep-alive HTTP/1.1 connection sending form POSTs; returns latencies (ms) and failures.
async fn callback_connection(
    addr: std::net::SocketAddr,
    bodies: Vec<Vec<u8>>,
    start: tokio::time::Instant,
    interval: Duration,
) -> (Vec<f64>, usize, Duration) {
    let mut lat = Vec::with_capacity(bodies.len());
    let mut failures = 0;
    let mut worst_lag = Duration::ZERO;
    let Ok(stream) = tokio::net::TcpStream::connect(addr).await else {
        return (lat, bodies.len(), worst_lag);
    };
    let _ = stream.set_nodelay(true);
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    for (i, body) in bodies.iter().enumerate() {
        let at = start + interval * u32::try_from(i).unwrap_or(u32::MAX);
        tokio::time::sleep_until(at).await;
        worst_lag = worst_lag.max(tokio::time::Instant::now().saturating_duration_since(at));
        let head = format!(
            "POST /callback/dingyin HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let t0 = Instant::now();
        if w.write_all(head.as_bytes()).await.is_err() || w.write_all(body).await.is_err() {
            failures += bodies.len() - i;
            break;
        }
        // Status line, headers, body (Content-Length).
        let mut status = String::new();
        if r.read_line(&mut status).await.unwrap_or(0) == 0 {
            failures += bodies.len() - i;
            break;
        }
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                break;
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut resp = vec![0u8; len];
        if r.read_exact(&mut resp).await.is_err() {
            failures += bodies.len() - i;
            break;
        }
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
        if !status.contains(" 200 ") || resp != b"ok" {
            failures += 1;
        }
    }
    (lat, failures, worst_lag)
}

/// The callback load generator, as its own process: `--load-gen ADDR PER_SEC SECS CONNS`, reading one
/// `sporderid orderid` pair per line on stdin (orders that already succeeded) and printing one JSON
/// line: `{"lat": [ms, …], "failures": n, "worst_lag_ms": x}`.
fn load_gen_main(args: &[String]) {
    let arg = |i: usize| args.get(i).unwrap_or_else(|| panic!("--load-gen ADDR PER_SEC SECS CONNS"));
    let addr: std::net::SocketAddr = arg(0).parse().expect("address");
    let per_sec: u32 = arg(1).parse().expect("per second");
    let secs: usize = arg(2).parse().expect("seconds");
    let conns: usize = arg(3).parse().expect("connections");
    let done: Vec<(String, String)> = std::io::stdin()
        .lock()
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| l.split_once(' ').map(|(a, b)| (a.to_owned(), b.to_owned())))
        .collect();
    let total = (per_sec as usize) * secs;
    let interval = Duration::from_secs_f64(conns as f64 / f64::from(per_sec.max(1)));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("load-rt")
        .enable_all()
        .build()
        .expect("load runtime");
    let (lat, failures, lag) = if done.is_empty() {
        (Vec::new(), total, Duration::ZERO)
    } else {
        rt.block_on(async {
            let start = tokio::time::Instant::now() + Duration::from_millis(50);
            let mut set = tokio::task::JoinSet::new();
            for c in 0..conns {
                let bodies: Vec<Vec<u8>> = (0..total / conns)
                    .map(|k| {
                        let (sporderid, orderid) = &done[(c + k * conns) % done.len()];
                        let userid = topup_sim::SANDBOX_DINGYIN_USERID;
                        let fields = format!(
                            "userid={userid}&orderid={orderid}&sporderid={sporderid}\
                             &merchantsubmittime=20260101120000&resultno=1"
                        );
                        let sign = topup_providers::sign::md5_upper(
                            format!("{fields}&key={}", topup_sim::SANDBOX_DINGYIN_KEY).as_bytes(),
                        );
                        format!("{fields}&sign={sign}").into_bytes()
                    })
                    .collect();
                // Connections start staggered across one interval, so the load is even.
                let offset = interval.mul_f64(c as f64 / conns as f64);
                set.spawn(callback_connection(addr, bodies, start + offset, interval));
            }
            let mut lat = Vec::new();
            let mut fail = 0;
            let mut lag = Duration::ZERO;
            while let Some(r) = set.join_next().await {
                let (l, f, g) = r.expect("connection task");
                lat.extend(l);
                fail += f;
                lag = lag.max(g);
            }
            (lat, fail, lag)
        })
    };
    let out =
        serde_json::json!({"lat": lat, "failures": failures, "worst_lag_ms": lag.as_secs_f64() * 1000.0});
    println!("{out}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--load-gen") {
        load_gen_main(&args[i + 1..]);
        return;
    }
    let o = opts();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("engine-rt")
        .enable_all()
        .build()
        .expect("engine runtime");

    let sim = SimProcess::start(o.rate);
    println!("simulator {} (pid {})", sim.base_url, sim.pid());
    let dir = match &o.book_dir {
        Some(d) => tempfile::tempdir_in(d),
        None => tempfile::tempdir(),
    }
    .expect("temp dir");
    println!("order book in {}", dir.path().display());
    let book = Arc::new(Book::open(&dir.path().join("orders.sqlite3")).expect("book"));

    let settings_json = serde_json::json!({"base_url": sim.base_url, "query_base_url": sim.query_base_url,
        "userid": topup_sim::SANDBOX_DINGYIN_USERID, "concurrency": 64, "requests_per_second": o.rate});
    let client = topup_providers::build(
        ProviderId::Dingyin,
        &settings_json,
        Sensitive::new(topup_sim::SANDBOX_DINGYIN_KEY.into()),
    )
    .expect("dingyin client");
    let mut providers = BTreeMap::new();
    providers
        .insert(ProviderId::Dingyin, ProviderEntry { client, concurrency: 64, requests_per_second: o.rate });
    let registry = Registry { sandbox: false, providers, unavailable: BTreeMap::new() };

    let mut settings = EngineSettings {
        query_delays_ms: vec![600_000],
        manual_review_after_ms: 3_600_000,
        ..EngineSettings::default()
    };
    settings.callback.max_requests_per_second = 100_000;
    // The load generator is one sender on loopback.
    settings.callback.max_requests_per_second_per_ip = 100_000;

    // The batch, stored before the engine starts (one transaction).
    let ids: Vec<String> = (0..o.orders).map(|_| topup_engine::ids::new_merchant_order_id()).collect();
    book.write(|tx| {
        for (i, id) in ids.iter().enumerate() {
            tx.insert_order(&NewOrder {
                merchant_order_id: id.clone(),
                provider: ProviderId::Dingyin,
                kind: ProductKind::Phone,
                product_id: None,
                account: format!("139{:08}", i),
                details: serde_json::json!({}),
                face: Li::from_yuan(10),
                batch_id: None,
                resubmit_of: None,
                fallback_of: None,
            })?;
        }
        Ok(())
    })
    .expect("insert batch");
    drop(ids);

    let (stop, stop_rx) = watch::channel(false);
    let (engine, listener) = rt.block_on(async {
        let engine = Engine::new(book.clone(), registry, settings.clone());
        let listener = topup_engine::callbacks::serve(engine.clone(), &settings.callback, stop_rx.clone())
            .await
            .expect("listener");
        let mut s = settings.clone();
        s.callback.public_url = Some(format!("http://{}", listener.addr));
        engine.set_settings(s);
        (engine, listener)
    });

    // (d) memory sampler: this process (the engine) and, for reference, the simulator.
    type Samples = Vec<(f64, u64, u64, i64, u64)>;
    let rss: Arc<Mutex<Samples>> = Arc::new(Mutex::new(Vec::new()));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let rss = rss.clone();
        let sampling = sampling.clone();
        let sim_pid = sim.pid().to_string();
        let book = book.clone();
        std::thread::Builder::new()
            .name("load-rss".into())
            .spawn(move || {
                let t0 = Instant::now();
                while sampling.load(Ordering::Relaxed) {
                    let settled = book.state_counts().map(|c| c.succeeded + c.failed).unwrap_or(-1);
                    rss.lock().unwrap_or_else(|p| p.into_inner()).push((
                        t0.elapsed().as_secs_f64(),
                        rss_kib("self"),
                        rss_kib(&sim_pid),
                        settled,
                        status_field("self", "Threads:"),
                    ));
                    std::thread::sleep(Duration::from_secs(1));
                }
            })
            .expect("sampler")
    };

    let cpu0 = cpu();
    let sim_cpu0 = cpu_of(sim.pid());
    let wall0 = Instant::now();
    let runner = {
        let e = engine.clone();
        rt.spawn(async move { e.run(stop_rx).await })
    };

    // (c) callback load from `callback_start_secs`, for orders already succeeded, from its own process.
    std::thread::sleep(Duration::from_secs(o.callback_start_secs));
    for _ in 0..300 {
        if book.state_counts().map(|c| c.succeeded).unwrap_or(0) >= 100 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let done: Vec<(String, String)> = book
        .orders_in_state(OrderState::Succeeded)
        .expect("read")
        .into_iter()
        .filter_map(|o| o.provider_order_id.map(|p| (o.merchant_order_id, p)))
        .collect();
    let total_cb = (o.callbacks_per_sec as usize) * (o.callback_secs as usize);
    let conns = 32usize;
    let cpu_cb0 = cpu();
    let cb_wall0 = Instant::now();
    let (latencies, cb_failures, worst_lag_ms) = if total_cb == 0 {
        (Vec::new(), 0, 0.0)
    } else {
        let mut child = Command::new(std::env::current_exe().expect("current exe"))
            .args(["--load-gen", &listener.addr.to_string()])
            .args([o.callbacks_per_sec.to_string(), o.callback_secs.to_string(), conns.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("load generator");
        {
            let mut stdin = std::io::BufWriter::new(child.stdin.take().expect("stdin"));
            for (sporderid, orderid) in &done {
                writeln!(stdin, "{sporderid} {orderid}").expect("write pairs");
            }
        }
        drop(done);
        let out = child.wait_with_output().expect("load generator output");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("load generator JSON");
        let lat: Vec<f64> =
            v["lat"].as_array().map(|a| a.iter().filter_map(|x| x.as_f64()).collect()).unwrap_or_default();
        (lat, v["failures"].as_u64().unwrap_or(0) as usize, v["worst_lag_ms"].as_f64().unwrap_or(0.0))
    };
    let cb_wall = cb_wall0.elapsed();
    let cpu_cb1 = cpu();

    // Wait (bounded) until every order is final.
    let mut finished = false;
    for _ in 0..1800 {
        if !book.has_pending().unwrap_or(true) {
            finished = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let wall = wall0.elapsed();
    let cpu1 = cpu();
    let sim_cpu1 = cpu_of(sim.pid());
    let _ = stop.send(true);
    rt.block_on(async {
        let _ = runner.await;
        let _ = listener.task.await;
    });
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.join();

    // (a) submit window and rate-limit rejections, from the simulator's record.
    let requests: Vec<RecordedRequest> = sim.get("/_sim/requests");
    let sim_orders: Vec<SimOrder> = sim.get("/_sim/orders");
    let submits: Vec<_> = requests.iter().filter(|r| r.endpoint == "/gameonlinepay.do").collect();
    let first = submits.iter().map(|r| r.at_unix_ms).min().unwrap_or(0);
    let last = submits.iter().map(|r| r.at_unix_ms).max().unwrap_or(0);
    let distinct: HashSet<&str> = submits.iter().filter_map(|r| r.merchant_order_id.as_deref()).collect();
    let queries = requests.iter().filter(|r| r.endpoint == "/searchpay.do").count();
    // A raw read of the history (the bench measures; the engine has no need for this question).
    let rate_limited = rusqlite::Connection::open(book.path())
        .and_then(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM order_events WHERE kind = 'exchange' AND detail LIKE '%<resultno>5013</resultno>%'",
                [],
                |r| r.get::<_, i64>(0),
            )
        })
        .unwrap_or(-1);
    // Busiest one-second window of submits at the simulator (sliding, by arrival ms).
    let mut times: Vec<u64> = submits.iter().map(|r| r.at_unix_ms).collect();
    times.sort_unstable();
    let mut busiest = 0usize;
    let mut j = 0usize;
    for i in 0..times.len() {
        while times[i] - times[j] >= 1000 {
            j += 1;
        }
        busiest = busiest.max(i - j + 1);
    }
    let counts = book.state_counts().expect("counts");
    let charged: usize = sim_orders.len();

    let (e0, _, _) = cpu0;
    let (e1, _, t1) = cpu1;
    let engine_cpu = e1 - e0;
    let (ecb0, _, _) = cpu_cb0;
    let (ecb1, _, _) = cpu_cb1;
    let cb_engine_cpu = ecb1 - ecb0;
    let mut lat = latencies;
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let samples = rss.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let rss_vals: Vec<u64> = samples.iter().map(|s| s.1).collect();
    let third = rss_vals.len() / 3;

    println!("== Topup Desk engine benchmark ==");
    println!("orders {}  rate limit {} req/s (simulator and provider setting)", o.orders, o.rate);
    println!(
        "finished: {finished} in {:.1} s; book: succeeded {} failed {} manual {} pending {}",
        wall.as_secs_f64(),
        counts.succeeded,
        counts.failed,
        counts.manual_review,
        counts.new + counts.submitting + counts.accepted + counts.unknown
    );
    println!(
        "(a) submits: {} requests for {} orders ({} distinct); first→last {:.2} s (ideal {:.2} s, {:+.1}%)",
        submits.len(),
        o.orders,
        distinct.len(),
        (last - first) as f64 / 1000.0,
        (o.orders as f64 - 1.0) / f64::from(o.rate),
        ((last - first) as f64 / 1000.0 / ((o.orders as f64 - 1.0) / f64::from(o.rate)) - 1.0) * 100.0
    );
    println!("    rate-limit rejections (5013 answers in the book): {rate_limited}; resends {}; busiest 1 s window {busiest}; queries {queries}; simulator orders {charged}",
        submits.len() - distinct.len());
    println!("(b) engine CPU {:.2} s over the run = {:.3} ms/order (incl. callback load); without the callback window {:.3} ms/order; simulator process {:.2} s; bench process total {:.2} s",
        engine_cpu, engine_cpu * 1000.0 / o.orders as f64,
        (engine_cpu - cb_engine_cpu) * 1000.0 / o.orders as f64, sim_cpu1 - sim_cpu0, t1);
    println!("(c) callbacks: {} answered of {} in {:.2} s ({:.0}/s), failures {}, worst send lag {:.1} ms; latency ms p50 {:.2} p99 {:.2} p99.9 {:.2} max {:.2}; engine CPU during load {:.2} s ({:.3} ms/callback)",
        lat.len(), total_cb, cb_wall.as_secs_f64(), lat.len() as f64 / cb_wall.as_secs_f64(), cb_failures,
        worst_lag_ms, percentile(&lat, 0.5), percentile(&lat, 0.99), percentile(&lat, 0.999),
        lat.last().copied().unwrap_or(0.0), cb_engine_cpu, cb_engine_cpu * 1000.0 / lat.len().max(1) as f64);
    println!(
        "(d) engine VmRSS KiB: first {} min {} max {} last {}; mean of first third {} / last third {} ({} samples)",
        rss_vals.first().copied().unwrap_or(0),
        rss_vals.iter().min().copied().unwrap_or(0),
        rss_vals.iter().max().copied().unwrap_or(0),
        rss_vals.last().copied().unwrap_or(0),
        mean(&rss_vals[..third.max(1).min(rss_vals.len())]),
        mean(&rss_vals[rss_vals.len().saturating_sub(third.max(1))..]),
        rss_vals.len()
    );
    println!(
        "    simulator VmRSS KiB (its own process, records every request): first {} last {}",
        samples.first().map(|s| s.2).unwrap_or(0),
        samples.last().map(|s| s.2).unwrap_or(0)
    );
    println!(
        "    samples (s: engine KiB / orders settled / threads): {}",
        samples
            .iter()
            .step_by(5)
            .map(|(t, k, _, n, th)| format!("{t:.0}:{k}/{n}/{th}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
}

fn mean(v: &[u64]) -> u64 {
    if v.is_empty() {
        0
    } else {
        v.iter().sum::<u64>() / v.len() as u64
    }
}
