//! Engine benchmark (issue 5, Performance), against the provider simulator on loopback.
//!
//! `cargo bench -p topup-engine --bench engine` (optionally `-- --orders N --rate R --callbacks-per-sec C
//! --callback-secs S`). One run measures, on 10,000 dingyin orders limited to 200 requests/s at both
//! ends (the simulator answers dingyin's busy code 5013 above 200 requests in a second; the engine's
//! provider setting `requests_per_second` is 200). dingyin because its callback signature covers the
//! result, so a callback settles an order without a confirming query (juhe's does not: every juhe
//! callback costs a query from the same 200/s budget):
//! * (a) the time from the first to the last submit the simulator received, and the rate-limit
//!   rejections (submits beyond one per order, and 5013 answers in the order book);
//! * (b) engine CPU per order: utime+stime of this process (`/proc/self/task/*/stat`) minus the threads
//!   of the simulator's and the load generator's own runtimes (their threads are named `sim…` and
//!   `load…`; the engine's runtime threads are named `engine…`);
//! * (c) the callback listener: from 10 s into the batch, a load generator on loopback sends valid,
//!   signed dingyin callbacks for orders that already succeeded, 2,000 a second for 10 s, over 32
//!   keep-alive connections, and records each request's latency (write to full response);
//! * (d) VmRSS, sampled every second.
//!
//! Polling is set out of the way (first query after 10 minutes), so the 200 requests a second are the
//! submits: callbacks settle the orders, as they would with a reachable listener.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::watch;
use topup_engine::book::{Book, NewOrder, OrderState};
use topup_engine::config::{EngineSettings, ProviderEntry, Registry};
use topup_engine::run::Engine;
use topup_engine::{Li, ProductKind, ProviderId, Sensitive};
use topup_sim::{SimConfig, Simulator};

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

/// CPU seconds of this process's live threads, split by thread-name prefix: (engine, sim, load, all).
fn cpu() -> (f64, f64, f64, f64) {
    let total = std::fs::read_to_string("/proc/self/stat").map(|s| ticks(&s)).unwrap_or(0.0);
    let (mut sim, mut load) = (0.0, 0.0);
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for task in dir.flatten() {
            let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
            let comm =
                stat.split_once('(').and_then(|(_, r)| r.rsplit_once(')')).map(|(c, _)| c).unwrap_or("");
            if comm.starts_with("sim") {
                sim += ticks(&stat);
            } else if comm.starts_with("load") {
                load += ticks(&stat);
            }
        }
    }
    (total - sim - load, sim, load, total)
}

/// utime + stime of one `stat` line, in seconds.
fn ticks(stat: &str) -> f64 {
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // After the comm: state is field 3 of the line, utime 14, stime 15 → indexes 11 and 12 here.
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (n(11) + n(12)) / TICKS_PER_SEC
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
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

fn main() {
    let o = opts();
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("sim-rt")
        .thread_keep_alive(Duration::from_secs(3600))
        .enable_all()
        .build()
        .expect("sim runtime");
    let load_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("load-rt")
        .enable_all()
        .build()
        .expect("load runtime");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("engine-rt")
        .enable_all()
        .build()
        .expect("engine runtime");

    let sim = sim_rt
        .block_on(Simulator::start(SimConfig {
            settle_after: Duration::from_secs(1),
            rate_limit_per_sec: Some(o.rate),
            initial_balance_li: 1_000_000_000_000,
            ..SimConfig::sandbox()
        }))
        .expect("simulator");
    let dir = match &o.book_dir {
        Some(d) => tempfile::tempdir_in(d),
        None => tempfile::tempdir(),
    }
    .expect("temp dir");
    println!("order book in {}", dir.path().display());
    let book = Arc::new(Book::open(&dir.path().join("orders.sqlite3")).expect("book"));

    let settings_json = serde_json::json!({"base_url": sim.base_url(), "query_base_url": sim.dingyin_query_base_url(),
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

    // (d) memory sampler.
    let rss: Arc<Mutex<Vec<(f64, u64)>>> = Arc::new(Mutex::new(Vec::new()));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let rss = rss.clone();
        let sampling = sampling.clone();
        std::thread::Builder::new()
            .name("load-rss".into())
            .spawn(move || {
                let t0 = Instant::now();
                while sampling.load(Ordering::Relaxed) {
                    rss.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((t0.elapsed().as_secs_f64(), rss_kib()));
                    std::thread::sleep(Duration::from_secs(1));
                }
            })
            .expect("sampler")
    };

    let cpu0 = cpu();
    let wall0 = Instant::now();
    let runner = {
        let e = engine.clone();
        rt.spawn(async move { e.run(stop_rx).await })
    };

    // (c) callback load from `callback_start_secs`, for orders already succeeded.
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
    let interval = Duration::from_secs_f64(conns as f64 / f64::from(o.callbacks_per_sec.max(1)));
    let cpu_cb0 = cpu();
    let cb_wall0 = Instant::now();
    let (latencies, cb_failures, worst_lag) = if done.is_empty() {
        (Vec::new(), total_cb, Duration::ZERO)
    } else {
        load_rt.block_on(async {
            let start = tokio::time::Instant::now() + Duration::from_millis(50);
            let mut set = tokio::task::JoinSet::new();
            for c in 0..conns {
                let bodies: Vec<Vec<u8>> = (0..total_cb / conns)
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
                set.spawn(callback_connection(listener.addr, bodies, start + offset, interval));
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
    let cb_wall = cb_wall0.elapsed();
    let cpu_cb1 = cpu();

    // Wait (bounded) until every order is final.
    let mut finished = false;
    for _ in 0..1800 {
        if book.pending_count().unwrap_or(1) == 0 {
            finished = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let wall = wall0.elapsed();
    let cpu1 = cpu();
    let _ = stop.send(true);
    rt.block_on(async {
        let _ = runner.await;
        let _ = listener.task.await;
    });
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.join();

    // (a) submit window and rate-limit rejections, from the simulator's record.
    let requests = sim.requests();
    let submits: Vec<_> = requests.iter().filter(|r| r.endpoint == "/gameonlinepay.do").collect();
    let first = submits.iter().map(|r| r.at_unix_ms).min().unwrap_or(0);
    let last = submits.iter().map(|r| r.at_unix_ms).max().unwrap_or(0);
    let distinct: HashSet<&str> = submits.iter().filter_map(|r| r.merchant_order_id.as_deref()).collect();
    let queries = requests.iter().filter(|r| r.endpoint == "/searchpay.do").count();
    let rate_limited = book
        .read(|c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM order_events WHERE kind = 'exchange' AND detail LIKE '%<resultno>5013</resultno>%'",
                [],
                |r| r.get::<_, i64>(0),
            )?)
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
    let sim_record_kib: usize = requests
        .iter()
        .map(|r| {
            r.body.len()
                + r.query.len()
                + r.headers.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
                + 128
        })
        .sum::<usize>()
        / 1024;
    let charged: usize = sim.orders().len();

    let (e0, s0, l0, _) = cpu0;
    let (e1, s1, l1, t1) = cpu1;
    let engine_cpu = e1 - e0;
    let (ecb0, _, _, _) = cpu_cb0;
    let (ecb1, _, _, _) = cpu_cb1;
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
    println!("(b) engine CPU {:.2} s over the run = {:.3} ms/order (incl. callback load); without the callback window {:.3} ms/order; simulator {:.2} s, load generator {:.2} s, process total {:.2} s",
        engine_cpu, engine_cpu * 1000.0 / o.orders as f64,
        (engine_cpu - cb_engine_cpu) * 1000.0 / o.orders as f64, s1 - s0, l1 - l0, t1);
    println!("(c) callbacks: {} answered of {} in {:.2} s ({:.0}/s), failures {}, worst send lag {:.1} ms; latency ms p50 {:.2} p99 {:.2} p99.9 {:.2} max {:.2}; engine CPU during load {:.2} s ({:.3} ms/callback)",
        lat.len(), total_cb, cb_wall.as_secs_f64(), lat.len() as f64 / cb_wall.as_secs_f64(), cb_failures,
        worst_lag.as_secs_f64() * 1000.0, percentile(&lat, 0.5), percentile(&lat, 0.99), percentile(&lat, 0.999),
        lat.last().copied().unwrap_or(0.0), cb_engine_cpu, cb_engine_cpu * 1000.0 / lat.len().max(1) as f64);
    println!(
        "(d) VmRSS KiB: first {} min {} max {} last {}; mean of first third {} / last third {} ({} samples)",
        rss_vals.first().copied().unwrap_or(0),
        rss_vals.iter().min().copied().unwrap_or(0),
        rss_vals.iter().max().copied().unwrap_or(0),
        rss_vals.last().copied().unwrap_or(0),
        mean(&rss_vals[..third.max(1).min(rss_vals.len())]),
        mean(&rss_vals[rss_vals.len().saturating_sub(third.max(1))..]),
        rss_vals.len()
    );
    println!(
        "    the in-process simulator's request record alone holds about {sim_record_kib} KiB ({} requests)",
        requests.len()
    );
    println!(
        "    samples (s, KiB): {}",
        samples.iter().step_by(5).map(|(t, k)| format!("{t:.0}:{k}")).collect::<Vec<_>>().join(" ")
    );
    sim_rt.block_on(sim.shutdown());
}

fn mean(v: &[u64]) -> u64 {
    if v.is_empty() {
        0
    } else {
        v.iter().sum::<u64>() / v.len() as u64
    }
}
