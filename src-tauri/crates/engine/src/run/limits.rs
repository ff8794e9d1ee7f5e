//! Per-provider request limits: a concurrency cap and a paced rate limit.
//!
//! Why pacing rather than a bursty bucket: providers count requests per second and answer a burst with
//! rate-limit codes. Handing out evenly spaced send times (one every `1/rate` seconds) keeps every
//! one-second window at or under the limit, so a batch finishes in `n / rate` seconds with no rejection.

use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

pub struct Limits {
    concurrency: std::sync::Arc<Semaphore>,
    interval: Option<Duration>,
    next_slot: Mutex<Instant>,
}

impl Limits {
    /// `concurrency` requests in flight at most; `per_second` requests a second (0: no rate limit).
    pub fn new(concurrency: u32, per_second: u32) -> Limits {
        let interval = (per_second > 0).then(|| Duration::from_nanos(1_000_000_000 / u64::from(per_second)));
        Limits {
            concurrency: std::sync::Arc::new(Semaphore::new(concurrency.max(1) as usize)),
            interval,
            next_slot: Mutex::new(Instant::now()),
        }
    }

    /// Waits for a free slot and for this request's turn; hold the permit until the reply is in.
    /// (`None` only if the semaphore were closed, which this type never does.)
    pub async fn acquire(&self) -> Option<OwnedSemaphorePermit> {
        let permit = self.concurrency.clone().acquire_owned().await.ok();
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
        permit
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

    #[tokio::test(start_paused = true)]
    async fn paces_requests_evenly() {
        let limits = Limits::new(100, 10);
        let start = Instant::now();
        for _ in 0..21 {
            let _p = limits.acquire().await;
        }
        // 21 requests at 10/s: the last one goes out at 2.0 s, not before.
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test]
    async fn caps_concurrency() {
        let limits = std::sync::Arc::new(Limits::new(2, 0));
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
