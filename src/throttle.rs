//! Login throttling: growing delays after repeated failures, then a temporary lock, kept per
//! key (an account's email, a client address). Plain logic over `Instant`s, so the policy is
//! tested without a clock or a server.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// When failures start to cost waiting, and when they lock the key.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures allowed with no wait at all.
    pub free: u32,
    /// Failures after which the key is locked for `lockout`; between `free` and this, each
    /// failure makes the next attempt wait twice as long as the one before (1 s, 2 s, 4 s…,
    /// never more than `lockout`).
    pub lock_after: u32,
    /// How long a lock lasts; also how long failures are remembered without a new one.
    pub lockout: Duration,
}

impl Policy {
    /// How long the key must wait after its `failures`-th failure in a row.
    fn wait_after(&self, failures: u32) -> Duration {
        if failures >= self.lock_after {
            self.lockout
        } else if failures > self.free {
            let doublings = (failures - self.free - 1).min(30);
            Duration::from_secs(1u64 << doublings).min(self.lockout)
        } else {
            Duration::ZERO
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    last_failure: Instant,
    blocked_until: Instant,
}

/// Failures per key under one [`Policy`].
#[derive(Debug)]
pub struct Throttle<K> {
    policy: Policy,
    records: HashMap<K, Record>,
}

/// The most keys remembered before forgotten ones are swept out, so a flood of made-up
/// emails or addresses costs bounded memory.
const SWEEP_AT: usize = 100_000;

impl<K: Hash + Eq> Throttle<K> {
    /// No failures recorded yet.
    pub fn new(policy: Policy) -> Throttle<K> {
        Throttle {
            policy,
            records: HashMap::new(),
        }
    }

    /// `Err(retry_after)` while `key` must wait before its next attempt.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        match self.records.get(key) {
            Some(record) if record.blocked_until > now => Err(record.blocked_until - now),
            _ => Ok(()),
        }
    }

    /// Records a failed attempt by `key` at `now`.
    pub fn fail(&mut self, key: K, now: Instant) {
        if self.records.len() >= SWEEP_AT {
            let lockout = self.policy.lockout;
            self.records
                .retain(|_, r| now.saturating_duration_since(r.last_failure) < lockout);
        }
        let lockout = self.policy.lockout;
        let record = self.records.entry(key).or_insert(Record {
            failures: 0,
            last_failure: now,
            blocked_until: now,
        });
        // Failures older than a lockout are forgiven: the count starts again.
        if now.saturating_duration_since(record.last_failure) >= lockout {
            record.failures = 0;
        }
        record.failures = record.failures.saturating_add(1);
        record.last_failure = now;
        record.blocked_until = now + self.policy.wait_after(record.failures);
    }

    /// A successful login: the key's failures are forgotten.
    pub fn succeed(&mut self, key: &K) {
        self.records.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        free: 3,
        lock_after: 6,
        lockout: Duration::from_secs(60),
    };

    fn failed(throttle: &mut Throttle<&'static str>, times: u32, now: Instant) {
        for _ in 0..times {
            throttle.fail("ann", now);
        }
    }

    #[test]
    fn the_first_failures_cost_nothing() {
        let now = Instant::now();
        let mut throttle = Throttle::new(POLICY);
        failed(&mut throttle, 3, now);
        assert_eq!(throttle.check(&"ann", now), Ok(()));
    }

    #[test]
    fn later_failures_double_the_wait_then_lock() {
        let now = Instant::now();
        let mut throttle = Throttle::new(POLICY);
        failed(&mut throttle, 4, now);
        assert_eq!(throttle.check(&"ann", now), Err(Duration::from_secs(1)));
        assert_eq!(throttle.check(&"ann", now + Duration::from_secs(1)), Ok(()));
        failed(&mut throttle, 1, now);
        assert_eq!(throttle.check(&"ann", now), Err(Duration::from_secs(2)));
        failed(&mut throttle, 1, now);
        assert_eq!(
            throttle.check(&"ann", now),
            Err(POLICY.lockout),
            "locked at the sixth failure"
        );
        assert_eq!(throttle.check(&"ann", now + POLICY.lockout), Ok(()));
    }

    #[test]
    fn other_keys_are_not_affected() {
        let now = Instant::now();
        let mut throttle = Throttle::new(POLICY);
        failed(&mut throttle, 6, now);
        assert!(throttle.check(&"ann", now).is_err());
        assert_eq!(throttle.check(&"bob", now), Ok(()));
    }

    #[test]
    fn success_forgets_the_failures() {
        let now = Instant::now();
        let mut throttle = Throttle::new(POLICY);
        failed(&mut throttle, 5, now);
        throttle.succeed(&"ann");
        assert_eq!(throttle.check(&"ann", now), Ok(()));
        failed(&mut throttle, 3, now);
        assert_eq!(
            throttle.check(&"ann", now),
            Ok(()),
            "counting from zero again"
        );
    }

    #[test]
    fn failures_a_lockout_apart_start_the_count_again() {
        let now = Instant::now();
        let mut throttle = Throttle::new(POLICY);
        failed(&mut throttle, 5, now);
        let later = now + POLICY.lockout;
        throttle.fail("ann", later);
        assert_eq!(
            throttle.check(&"ann", later),
            Ok(()),
            "one failure, not six"
        );
    }

    #[test]
    fn the_wait_never_exceeds_the_lockout() {
        let policy = Policy {
            free: 0,
            lock_after: u32::MAX,
            lockout: Duration::from_secs(5),
        };
        assert_eq!(policy.wait_after(40), Duration::from_secs(5));
        assert_eq!(policy.wait_after(1), Duration::from_secs(1));
    }
}
