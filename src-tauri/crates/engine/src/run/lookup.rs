//! juhe's number lookup (telcheck, then telquery), cached per number and face, under juhe's limits.
//!
//! Why: order entry asks about a number as it is typed, again in the preflight and again at the
//! confirmation. Each ask was a telcheck and a telquery — up to six requests per order, none of them
//! counted by the send limits, so a person typing (or a stuck key) could make the app hammer juhe and
//! earn its rate-limit codes for the real orders. Now one (number, face) is asked about once per
//! [`LOOKUP_TTL`]: callers at the same time share the one lookup, later ones get the stored answer.
//! Each lookup takes juhe's concurrency slot and is paced and counted as two requests, like a submit.
//! Only answers are kept: a failed lookup (network, rate limit) is asked again next time. At most
//! [`MAX_LOOKUPS`] answers are kept; the oldest go first.

use super::limits::Limits;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::time::Instant;
use topup_core::Li;
use topup_providers::{PhoneProduct, Provider, ProviderError};

/// How long an answer about a number is used again (a number's carrier and juhe's price change
/// rarely; the confirmation comes within minutes of typing).
pub const LOOKUP_TTL: Duration = Duration::from_secs(5 * 60);

/// Answers kept at most.
pub const MAX_LOOKUPS: usize = 1000;

/// Requests one lookup sends: telcheck, then telquery.
const REQUESTS_PER_LOOKUP: u32 = 2;

type Answer = Result<PhoneProduct, ProviderError>;

struct Entry {
    at: Instant,
    answer: Arc<OnceCell<Answer>>,
}

/// The cache. One per engine.
#[derive(Default)]
pub struct Lookups {
    entries: Mutex<HashMap<(String, Li), Entry>>,
}

impl Lookups {
    /// The answer for (`number`, `face`): stored, shared with a lookup under way, or asked of `client`
    /// within `limits`.
    pub async fn get(&self, client: &dyn Provider, limits: &Limits, number: &str, face: Li) -> Answer {
        let key = (number.to_owned(), face);
        let cell = {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            entries.retain(|_, e| now.duration_since(e.at) < LOOKUP_TTL);
            if !entries.contains_key(&key) && entries.len() >= MAX_LOOKUPS {
                if let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.at).map(|(k, _)| k.clone()) {
                    entries.remove(&oldest);
                }
            }
            entries
                .entry(key.clone())
                .or_insert_with(|| Entry { at: now, answer: Arc::default() })
                .answer
                .clone()
        };
        let answer = cell
            .get_or_init(|| async {
                let _permit = limits.acquire_many(REQUESTS_PER_LOOKUP).await;
                client.phone_product(number, face).await.0
            })
            .await
            .clone();
        if answer.is_err() {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if entries.get(&key).is_some_and(|e| Arc::ptr_eq(&e.answer, &cell)) {
                entries.remove(&key);
            }
        }
        answer
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use topup_core::ProviderId;
    use topup_providers::{
        Balance, CallbackError, CallbackRequest, CallbackUpdate, Exchange, Outcome, QueryRequest, Reply,
        SubmitRequest,
    };

    /// A juhe that counts lookups, holds each until released, and fails numbers ending in 0.
    struct Fake {
        asked: AtomicUsize,
        in_flight: AtomicUsize,
        most_in_flight: AtomicUsize,
        release: tokio::sync::Semaphore,
    }

    impl Default for Fake {
        fn default() -> Fake {
            Fake {
                asked: AtomicUsize::new(0),
                in_flight: AtomicUsize::new(0),
                most_in_flight: AtomicUsize::new(0),
                release: tokio::sync::Semaphore::new(0),
            }
        }
    }

    #[async_trait]
    impl Provider for Fake {
        fn id(&self) -> ProviderId {
            ProviderId::Juhe
        }
        async fn submit(&self, _: &SubmitRequest) -> Outcome {
            Outcome { reply: Reply::unknown(""), exchanges: Vec::new() }
        }
        async fn query(&self, _: &QueryRequest) -> Outcome {
            Outcome { reply: Reply::unknown(""), exchanges: Vec::new() }
        }
        async fn balance(&self) -> (Result<Balance, ProviderError>, Vec<Exchange>) {
            (Err(ProviderError::Unsupported("")), Vec::new())
        }
        fn parse_callback(&self, _: &CallbackRequest) -> Result<CallbackUpdate, CallbackError> {
            Err(CallbackError::BadSign)
        }
        async fn phone_product(&self, phone: &str, _: Li) -> (Answer, Vec<Exchange>) {
            self.asked.fetch_add(1, Ordering::SeqCst);
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_in_flight.fetch_max(now, Ordering::SeqCst);
            self.release.acquire().await.expect("open").forget();
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            if phone.ends_with('0') {
                return (Err(ProviderError::Network("down".into())), Vec::new());
            }
            let product = PhoneProduct {
                supported: true,
                card_id: None,
                card_name: Some(phone.to_owned()),
                in_price: None,
                area: None,
                message: None,
            };
            (Ok(product), Vec::new())
        }
    }

    async fn settle() {
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn one_lookup_per_number_and_face_until_the_ttl_passes() {
        let (fake, limits, cache) = (Fake::default(), Limits::new(4, 0), Lookups::default());
        fake.release.add_permits(100);
        let a = cache.get(&fake, &limits, "13812345678", Li::from_yuan(50)).await.unwrap();
        assert_eq!(a.card_name.as_deref(), Some("13812345678"));
        cache.get(&fake, &limits, "13812345678", Li::from_yuan(50)).await.unwrap();
        assert_eq!(fake.asked.load(Ordering::SeqCst), 1, "the second ask is answered from the cache");
        cache.get(&fake, &limits, "13812345678", Li::from_yuan(100)).await.unwrap();
        assert_eq!(fake.asked.load(Ordering::SeqCst), 2, "another face is another lookup");
        tokio::time::advance(LOOKUP_TTL).await;
        cache.get(&fake, &limits, "13812345678", Li::from_yuan(50)).await.unwrap();
        assert_eq!(fake.asked.load(Ordering::SeqCst), 3, "after the TTL the number is asked again");
        // A failure is not kept.
        assert!(cache.get(&fake, &limits, "13812345670", Li::from_yuan(50)).await.is_err());
        assert!(cache.get(&fake, &limits, "13812345670", Li::from_yuan(50)).await.is_err());
        assert_eq!(fake.asked.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn callers_at_the_same_time_share_one_lookup_and_the_concurrency_limit_holds() {
        let fake = Arc::new(Fake::default());
        let limits = Arc::new(Limits::new(1, 0));
        let cache = Arc::new(Lookups::default());
        let mut tasks = Vec::new();
        for number in ["13812345678", "13812345678", "13912345678", "13712345678"] {
            let (f, l, c) = (fake.clone(), limits.clone(), cache.clone());
            tasks.push(tokio::spawn(async move { c.get(&*f, &l, number, Li::from_yuan(10)).await }));
        }
        settle().await;
        assert_eq!(fake.in_flight.load(Ordering::SeqCst), 1, "juhe's concurrency of 1 holds for lookups");
        fake.release.add_permits(100);
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(fake.asked.load(Ordering::SeqCst), 3, "the two asks about one number share a lookup");
        assert_eq!(fake.most_in_flight.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn each_lookup_is_paced_as_two_requests() {
        // 2 requests a second: a lookup is two, so the second lookup waits for the next second.
        let (fake, limits, cache) = (Fake::default(), Limits::new(4, 2), Lookups::default());
        fake.release.add_permits(100);
        let start = Instant::now();
        cache.get(&fake, &limits, "13812345678", Li::from_yuan(10)).await.unwrap();
        cache.get(&fake, &limits, "13912345678", Li::from_yuan(10)).await.unwrap();
        assert!(start.elapsed() >= Duration::from_secs(1), "{:?}", start.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn the_cache_is_bounded() {
        let (fake, limits, cache) = (Fake::default(), Limits::new(4, 0), Lookups::default());
        fake.release.add_permits(10_000);
        for i in 0..MAX_LOOKUPS + 10 {
            cache.get(&fake, &limits, &format!("1{i:010}1"), Li::from_yuan(10)).await.unwrap();
            tokio::time::advance(Duration::from_millis(1)).await;
        }
        assert_eq!(cache.len(), MAX_LOOKUPS);
        // The newest stayed.
        cache.get(&fake, &limits, &format!("1{:010}1", MAX_LOOKUPS + 9), Li::from_yuan(10)).await.unwrap();
        assert_eq!(fake.asked.load(Ordering::SeqCst), MAX_LOOKUPS + 10);
    }
}
