//! Per-sender accounting: who a request or a connection counts against, how many requests a second
//! each sender and all senders together may make, and how many sockets each may hold.
//!
//! Why per sender: a global limit alone lets one address spend all of it, and the honest providers'
//! callbacks queue behind the attacker's. Every table here is bounded — by the socket cap, or by
//! [`MAX_TRACKED_SENDERS`] — so a sender cannot grow our memory by being many senders.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

use super::refusals::Reason;

/// Distinct senders whose request rate is tracked within one second; beyond that, new senders share
/// one bucket (the global limit still holds).
pub const MAX_TRACKED_SENDERS: usize = 4096;

/// The address a limit counts against: an IPv4 address, or the /64 of an IPv6 address (one
/// subscriber usually holds a whole /64, so counting single IPv6 addresses would be no limit).
pub fn sender_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The sender of a request from `peer`: for a trusted proxy, the address it put last in
/// `X-Forwarded-For` (the one it saw; anything left of it the client may have written), else
/// `X-Real-IP`, else the proxy itself.
pub fn sender_of(peer: IpAddr, trusted: &[IpAddr], headers: &hyper::HeaderMap) -> IpAddr {
    let peer = sender_key(peer);
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .or_else(|| headers.get("x-real-ip").and_then(|v| v.to_str().ok()));
    forwarded.and_then(|v| v.trim().parse::<IpAddr>().ok()).map(sender_key).unwrap_or(peer)
}

/// Requests a second, per sender and in all, counted in one-second windows.
pub struct RateLimits {
    global: u32,
    per_sender: u32,
    window: Mutex<Window>,
}

struct Window {
    start: Instant,
    total: u32,
    senders: HashMap<IpAddr, u32>,
}

impl RateLimits {
    pub fn new(global: u32, per_sender: u32) -> RateLimits {
        RateLimits {
            global: global.max(1),
            per_sender: per_sender.max(1),
            window: Mutex::new(Window { start: Instant::now(), total: 0, senders: HashMap::new() }),
        }
    }

    /// Whether `sender` may make one more request now. A request refused for its sender does not
    /// count against the global budget: one sender over its limit cannot spend the others' share.
    pub fn admit(&self, sender: IpAddr) -> bool {
        let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
        if w.start.elapsed() >= Duration::from_secs(1) {
            w.start = Instant::now();
            w.total = 0;
            w.senders.clear();
        }
        let key = if w.senders.len() >= MAX_TRACKED_SENDERS && !w.senders.contains_key(&sender) {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            sender
        };
        let total = w.total;
        let n = w.senders.entry(key).or_insert(0);
        if *n >= self.per_sender || total >= self.global {
            return false;
        }
        *n += 1;
        w.total += 1;
        true
    }
}

/// One open connection, as its task and the admission see it.
pub struct ConnState {
    /// A verified callback is being stored: the connection is not idle, eviction and stop wait.
    busy: AtomicBool,
    /// When a request last started or ended (ms since the table's epoch).
    last_active: AtomicU64,
    /// Told when the connection must close now (evicted).
    pub close: Notify,
    epoch: Instant,
}

impl ConnState {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn touch(&self) {
        self.last_active.store(self.now_ms(), Ordering::Relaxed);
    }

    pub fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Acquire)
    }

    /// How long since a request last started or ended.
    pub fn idle_for(&self) -> Duration {
        Duration::from_millis(self.now_ms().saturating_sub(self.last_active.load(Ordering::Relaxed)))
    }

    /// Marks the connection busy until the guard is dropped.
    pub fn busy(&self) -> Busy<'_> {
        self.busy.store(true, Ordering::Release);
        self.touch();
        Busy(self)
    }
}

pub struct Busy<'a>(&'a ConnState);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.store(false, Ordering::Release);
    }
}

/// The open connections: the socket cap, the per-sender cap, and who gives way when they are full.
pub struct Table {
    max_total: usize,
    max_per_sender: usize,
    epoch: Instant,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    conns: HashMap<u64, Entry>,
    per_sender: HashMap<IpAddr, usize>,
}

struct Entry {
    /// The sender it counts against; `None` for a trusted proxy (exempt from the per-sender cap).
    sender: Option<IpAddr>,
    state: Arc<ConnState>,
}

/// A connection's place in the [`Table`]; dropping it frees the place.
pub struct Slot {
    table: Arc<Table>,
    id: u64,
    pub state: Arc<ConnState>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.table.lock().remove(self.id);
    }
}

impl Inner {
    fn remove(&mut self, id: u64) -> Option<Entry> {
        let entry = self.conns.remove(&id)?;
        if let Some(sender) = entry.sender {
            if let Some(n) = self.per_sender.get_mut(&sender) {
                *n -= 1;
                if *n == 0 {
                    self.per_sender.remove(&sender);
                }
            }
        }
        Some(entry)
    }

    /// Closes the connection idle longest among those `eligible` and not busy; false if none.
    fn evict(&mut self, eligible: impl Fn(&Entry) -> bool) -> bool {
        let victim = self
            .conns
            .iter()
            .filter(|(_, e)| eligible(e) && !e.state.is_busy())
            .max_by_key(|(id, e)| (e.state.idle_for(), std::cmp::Reverse(**id)))
            .map(|(id, _)| *id);
        match victim.and_then(|id| self.remove(id)) {
            Some(entry) => {
                entry.state.close.notify_one();
                true
            }
            None => false,
        }
    }
}

impl Table {
    pub fn new(max_total: usize, max_per_sender: usize) -> Arc<Table> {
        Arc::new(Table {
            max_total: max_total.max(1),
            max_per_sender: max_per_sender.max(1),
            epoch: Instant::now(),
            inner: Mutex::new(Inner::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Open connections now.
    pub fn open(&self) -> usize {
        self.lock().conns.len()
    }

    /// Closes the connection idle longest (none busy storing a callback); false if there is none.
    pub fn evict_idlest(&self) -> bool {
        self.lock().evict(|_| true)
    }

    /// Admits a new connection from `sender` (`None`: a trusted proxy). When the sender or the whole
    /// table is full, the connection idle longest (of that sender, or of all) is closed to make room;
    /// `evicted` counts those. Refused only when every connection in the way is busy storing a
    /// callback.
    pub fn admit(self: &Arc<Self>, sender: Option<IpAddr>, evicted: &mut u32) -> Result<Slot, Reason> {
        let mut inner = self.lock();
        if let Some(s) = sender {
            if inner.per_sender.get(&s).copied().unwrap_or(0) >= self.max_per_sender {
                if !inner.evict(|e| e.sender == Some(s)) {
                    return Err(Reason::SenderConnections);
                }
                *evicted += 1;
            }
        }
        if inner.conns.len() >= self.max_total {
            if !inner.evict(|_| true) {
                return Err(Reason::TooManyConnections);
            }
            *evicted += 1;
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let state = Arc::new(ConnState {
            busy: AtomicBool::new(false),
            last_active: AtomicU64::new(0),
            close: Notify::new(),
            epoch: self.epoch,
        });
        state.touch();
        inner.conns.insert(id, Entry { sender, state: state.clone() });
        if let Some(s) = sender {
            *inner.per_sender.entry(s).or_insert(0) += 1;
        }
        Ok(Slot { table: self.clone(), id, state })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_senders_count_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(sender_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(sender_key(ip("::ffff:203.0.113.7")), ip("203.0.113.7"));
    }

    #[test]
    fn only_a_trusted_proxy_names_the_sender_and_only_its_own_entry_counts() {
        let trusted = [ip("127.0.0.1")];
        let mut h = hyper::HeaderMap::new();
        h.insert("x-forwarded-for", "198.51.100.1, 203.0.113.7".parse().unwrap());
        assert_eq!(sender_of(ip("127.0.0.1"), &trusted, &h), ip("203.0.113.7"));
        assert_eq!(sender_of(ip("192.0.2.9"), &trusted, &h), ip("192.0.2.9"));
        h.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(sender_of(ip("127.0.0.1"), &trusted, &h), ip("127.0.0.1"));
    }

    #[test]
    fn one_sender_over_its_rate_does_not_spend_the_others_share() {
        let limits = RateLimits::new(10, 3);
        let a = ip("192.0.2.1");
        let admitted = (0..100).filter(|_| limits.admit(a)).count();
        assert_eq!(admitted, 3);
        let others = (0..7).filter(|i| limits.admit(ip(&format!("192.0.2.{}", 10 + i)))).count();
        assert_eq!(others, 7, "the global budget is still there for everyone else");
        assert!(!limits.admit(ip("192.0.2.99")), "and then it is spent");
    }

    #[test]
    fn a_full_table_makes_room_by_closing_the_connection_idle_longest() {
        let table = Table::new(2, 10);
        let mut evicted = 0;
        let first = table.admit(Some(ip("192.0.2.1")), &mut evicted).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        let second = table.admit(Some(ip("192.0.2.2")), &mut evicted).unwrap();
        let _third = table.admit(Some(ip("192.0.2.3")), &mut evicted).unwrap();
        assert_eq!((evicted, table.open()), (1, 2));
        // The first was told to close; dropping its slot later frees nothing twice.
        drop(first);
        assert_eq!(table.open(), 2);
        // A busy connection is never closed to make room.
        let _busy = second.state.busy();
        let _fourth = table.admit(Some(ip("192.0.2.4")), &mut evicted).unwrap();
        assert_eq!(evicted, 2);
        let _b2 = _fourth.state.busy();
        assert!(matches!(table.admit(None, &mut evicted), Err(Reason::TooManyConnections)));
    }

    #[test]
    fn one_sender_holds_at_most_its_cap() {
        let table = Table::new(100, 2);
        let mut evicted = 0;
        let a = ip("192.0.2.1");
        let slots: Vec<Slot> = (0..5).map(|_| table.admit(Some(a), &mut evicted).unwrap()).collect();
        assert_eq!((table.open(), evicted), (2, 3));
        let _busy: Vec<Busy<'_>> = slots[3..].iter().map(|s| s.state.busy()).collect();
        assert!(matches!(table.admit(Some(a), &mut evicted), Err(Reason::SenderConnections)));
        // Trusted proxies are exempt from the per-sender cap.
        assert!(table.admit(None, &mut evicted).is_ok());
    }
}
