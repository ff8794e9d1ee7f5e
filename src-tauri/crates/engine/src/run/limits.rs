//! Per-provider request limits: a concurrency cap and a paced rate limit.
//!
//! Why pacing rather than a bursty bucket: providers count requests per second and answer a burst with
//! rate-limit codes. Handing out evenly spaced send times keeps every one-second window under the
//! limit, so a batch finishes in about `n / rate` seconds with no rejection. Two guards make that hold
//! on a busy machine, where timers fire late and several late sends could leave together:
//! * the pace is 2 % under the configured rate (10,000 orders at 200/s take 51 s, not 50 s);
//! * a send never leaves while `rate` sends (less 1 % from 100/s up) already left in the trailing
//!   second — counted when the request really leaves ([`Limits::before_send`]), not when its slot is
//!   handed out: a submit writes its intent in between, and that write's time varies.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Pace at 98 % of the configured rate.
const PACE_PERMILLE: u64 = 980;

pub struct Limits {
    concurrency: std::sync::Arc<Semaphore>,
    interval: Option<Duration>,
    per_second: usize,
    next_slot: Mutex<Instant>,
    /// When the last `per_second` sends left.
    recent: Mutex<VecDeque<Instant>>,
}

impl Limits {
    /// `concurrency` requests in flight at most; `per_second` requests a second (0: no rate limit).
    pub fn new(concurrency: u32, per_second: u32) -> Limits {
        let interval = (per_second > 0)
            .then(|| Duration::from_nanos(1_000_000_000_000 / (u64::from(per_second) * PACE_PERMILLE)));
        Limits {
            concurrency: std::sync::Arc::new(Semaphore::new(concurrency.max(1) as usize)),
            interval,
            // The guard keeps a 1 % margin (2 at 200/s; none below 100/s) for what happens between the
            // guard and the provider counting the request's arrival; the pace (98 %) stays under it.
            per_second: (per_second - per_second / 100).max(1) as usize,
            next_slot: Mutex::new(Instant::now()),
            recent: Mutex::new(VecDeque::with_capacity(per_second as usize)),
        }
    }

    /// Waits for a free slot and for this request's turn; hold the permit until the reply is in.
    /// (`None` only if the semaphore were closed, which this type never does.)
    pub async fn acquire(&self) -> Option<OwnedSemaphorePermit> {
        let permit = self.acquire_paced().await;
        self.before_send().await;
        permit
    }

    /// [`Limits::acquire`] without its last step: call [`Limits::before_send`] right before the
    /// request leaves. For a submit, whose intent is written in between: the write's time varies (a
    /// group commit), and the trailing-second count must see when requests really leave.
    pub async fn acquire_paced(&self) -> Option<OwnedSemaphorePermit> {
        let permit = self.concurrency.clone().acquire_owned().await.ok();
        self.pace().await;
        permit
    }

    /// [`Limits::acquire`] for a call that sends `requests` requests one after the other under one
    /// slot (juhe's number lookup: telcheck, then telquery): each is paced and counted.
    pub async fn acquire_many(&self, requests: u32) -> Option<OwnedSemaphorePermit> {
        let permit = self.acquire().await;
        for _ in 1..requests {
            self.pace().await;
            self.before_send().await;
        }
        permit
    }

    /// Waits for this request's evenly spaced send time.
    async fn pace(&self) {
        if let Some(interval) = self.interval {
            let slot = {
                let mut next = self.next_slot.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let slot = if *next > now { *next } else { now };
                *next = slot + interval;
                slot
            };
            tokio::time::sleep_until(slot).await;
        }
    }

    /// The trailing-second guard, just before a request leaves.
    pub async fn before_send(&self) {
        if self.interval.is_some() {
            self.trailing_second_guard().await;
        }
    }

    /// Waits until fewer than `per_second` sends left in the last second, then records this one.
    async fn trailing_second_guard(&self) {
        loop {
            let wait_until = {
                let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                while recent.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
                    recent.pop_front();
                }
                if recent.len() < self.per_second {
                    recent.push_back(now);
                    return;
                }
                recent.front().map(|t| *t + Duration::from_secs(1))
            };
            if let Some(t) = wait_until {
                tokio::time::sleep_until(t).await;
            }
        }
    }

    /// Moves the next send time back (after a rate-limit answer, everyone waits).
    pub fn back_off(&self, by: Duration) {
        let mut next = self.next_slot.lock().unwrap_or_else(|p| p.into_inner());
        let later = Instant::now() + by;
        if *next < later {
            *next = later;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn paces_requests_evenly_just_under_the_limit() {
        let limits = Limits::new(100, 10);
        let start = Instant::now();
        for _ in 0..21 {
            let _p = limits.acquire().await;
        }
        // 21 requests at 98 % of 10/s: the last one goes out after 20 intervals of 1/9.8 s.
        let interval = Duration::from_nanos(1_000_000_000_000 / (10 * PACE_PERMILLE));
        // (Paused time has millisecond resolution.)
        assert!(
            start.elapsed() >= interval * 20 && start.elapsed() <= interval * 20 + Duration::from_millis(1)
        );
        assert!(start.elapsed() > Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn late_timers_never_put_more_than_the_limit_in_one_second() {
        let limits = Arc::new(Limits::new(1000, 20));
        // Slots are handed out, then the "machine" stalls for 3 s before any timer fires: every
        // overdue send would leave at once without the trailing-second guard.
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let l = limits.clone();
            tasks.push(tokio::spawn(async move {
                let _p = l.acquire().await;
                Instant::now()
            }));
        }
        // Let every task take its slot before the stall.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        tokio::time::advance(Duration::from_secs(3)).await;
        let mut sent = Vec::new();
        for t in tasks {
            sent.push(t.await.unwrap());
        }
        sent.sort();
        for (i, t) in sent.iter().enumerate() {
            let in_window =
                sent[i..].iter().take_while(|u| u.duration_since(*t) < Duration::from_secs(1)).count();
            assert!(in_window <= 20, "{in_window} sends within one second starting at send {i}");
        }
    }

    #[tokio::test]
    async fn caps_concurrency() {
        let limits = Arc::new(Limits::new(2, 0));
        let a = limits.acquire().await;
        let _b = limits.acquire().await;
        let l = limits.clone();
        let third = tokio::spawn(async move { l.acquire().await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!third.is_finished(), "a third request must wait for a free slot");
        drop(a);
        tokio::time::timeout(Duration::from_secs(1), third).await.expect("released").expect("joined");
    }
}
