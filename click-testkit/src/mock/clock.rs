//! The mock's clock: the real clock by default, or pinned and moved by tests.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use super::lock;

/// Unix seconds of mock time. Unpinned, it is the real clock plus the sum of every
/// [`advance`](Clock::advance); pinned by [`set`](Clock::set), it stands still until moved.
#[derive(Debug, Default)]
pub(super) struct Clock {
    state: Mutex<Setting>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Setting {
    pinned: Option<i64>,
    offset: i64,
}

impl Clock {
    /// The current mock time, in unix seconds.
    pub(super) fn now(&self) -> i64 {
        let setting = *lock(&self.state);
        setting
            .pinned
            .unwrap_or_else(|| real_now().saturating_add(setting.offset))
    }

    /// Pins the clock at `unix_secs`.
    pub(super) fn set(&self, unix_secs: i64) {
        lock(&self.state).pinned = Some(unix_secs);
    }

    /// Moves the clock forward.
    pub(super) fn advance(&self, secs: u64) {
        let secs = i64::try_from(secs).unwrap_or(i64::MAX);
        let mut setting = lock(&self.state);
        match &mut setting.pinned {
            Some(pinned) => *pinned = pinned.saturating_add(secs),
            None => setting.offset = setting.offset.saturating_add(secs),
        }
    }
}

/// The real clock in unix seconds (0 before 1970).
fn real_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_real_clock_until_pinned() {
        let clock = Clock::default();
        let before = real_now();
        clock.advance(100);
        let now = clock.now();
        assert!((before + 100..=real_now() + 100).contains(&now), "{now}");
        clock.set(1_700_000_000);
        clock.advance(31);
        assert_eq!(clock.now(), 1_700_000_031);
    }
}
