//! Token buckets: the rate limits on commands per session and chat starts per address.

use std::time::Instant;

/// Allows `rate` events per second on average, in bursts of up to `burst`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket refilled at `rate` per second, holding at most `burst`.
    pub fn new(rate: f64, burst: f64, now: Instant) -> TokenBucket {
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Whether the bucket has refilled completely (its history no longer matters).
    pub fn is_full(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens + elapsed * self.rate >= self.burst
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TokenBucket;
    use std::time::{Duration, Instant};

    #[test]
    fn a_burst_is_allowed_then_the_rate_holds() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(10.0, 3.0, start);
        assert!((0..3).all(|_| bucket.try_take(start)));
        assert!(!bucket.try_take(start), "the burst is spent");
        assert!(
            !bucket.try_take(start + Duration::from_millis(50)),
            "half a token"
        );
        assert!(
            bucket.try_take(start + Duration::from_millis(100)),
            "one token after 100 ms"
        );
        assert!(!bucket.try_take(start + Duration::from_millis(100)));
        let later = start + Duration::from_secs(60);
        assert!(!bucket.is_full(start));
        assert!(bucket.is_full(later));
        assert!(
            (0..3).all(|_| bucket.try_take(later)),
            "refills up to the burst"
        );
        assert!(!bucket.try_take(later), "but no further");
    }
}
