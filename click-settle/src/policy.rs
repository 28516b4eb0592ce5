//! [`Policy`]: how a worker settles.

use std::time::Duration;

/// Whether reversals run on their own or wait for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Approve {
    /// Reverse as soon as the task is due (the default).
    #[default]
    Automatic,
    /// Hold each reversal until [`approve_reversal`](crate::approve_reversal) lets it run.
    Manual,
}

/// How a [`Worker`](crate::Worker) settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Whether reversals wait for a person.
    pub reversals: Approve,
    /// How long an attempt may wait for its Complete before it is looked up at Click (default 30
    /// minutes: Click completes within seconds, and retries an unanswered Complete for a while).
    pub expire_after: Duration,
    /// How long a claimed task is the worker's (default 5 minutes: longer than a task's calls to
    /// Click with their retries, so that a live worker never loses a task it is settling).
    pub lease: Duration,
    /// How many tasks a step claims and settles at once (default 16).
    pub batch: usize,
    /// Attempts before a failing task is parked for a person (default 12).
    pub max_attempts: u32,
    /// The pause before a second attempt; it doubles, with jitter, for each later one
    /// (default 5 s).
    pub backoff: Duration,
    /// The longest pause between attempts (default 30 minutes).
    pub max_backoff: Duration,
    /// How long [`Worker::run`](crate::Worker::run) waits when nothing is due (default 5 s).
    pub idle: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            reversals: Approve::Automatic,
            expire_after: Duration::from_secs(30 * 60),
            lease: Duration::from_secs(5 * 60),
            batch: 16,
            max_attempts: 12,
            backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(30 * 60),
            idle: Duration::from_secs(5),
        }
    }
}

impl Policy {
    /// The policy with reversals approved this way.
    #[must_use]
    pub fn reversals(mut self, approve: Approve) -> Self {
        self.reversals = approve;
        self
    }

    /// The pause before attempt `attempt + 1`: `backoff · 2^(attempt-1)`, at most `max_backoff`,
    /// then a random half to all of it (jitter, so that workers do not retry in step).
    pub fn pause(&self, attempt: u32, random: u64) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        let full = self.backoff.saturating_mul(factor).min(self.max_backoff);
        let millis = u64::try_from(full.as_millis()).unwrap_or(u64::MAX);
        let half = millis / 2;
        Duration::from_millis(half + random % (millis - half + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_with_jitter_and_stop_at_the_maximum() {
        let policy = Policy::default();
        for random in [0, 1, 7_777, u64::MAX] {
            let first = policy.pause(1, random);
            assert!(first >= Duration::from_millis(2500) && first <= Duration::from_secs(5));
            let third = policy.pause(3, random);
            assert!(third >= Duration::from_secs(10) && third <= Duration::from_secs(20));
            let late = policy.pause(40, random);
            assert!(late >= Duration::from_secs(15 * 60) && late <= Duration::from_secs(30 * 60));
        }
        assert_ne!(policy.pause(2, 1), policy.pause(2, 2), "jitter");
    }
}
