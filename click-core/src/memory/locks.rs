//! One asynchronous lock per key, created on first use and dropped with its last holder, so that a
//! slow transition of one order never waits for another order's.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use async_lock::{Mutex as AsyncMutex, MutexGuardArc};

/// The locks of the keys currently in use.
pub(super) struct OrderLocks<K> {
    locks: Mutex<HashMap<K, Arc<AsyncMutex<()>>>>,
}

impl<K> Default for OrderLocks<K> {
    fn default() -> Self {
        Self {
            locks: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone> OrderLocks<K> {
    /// Waits for the lock of `key`, in arrival order.
    pub(super) async fn lock(&self, key: K) -> OrderGuard<'_, K> {
        let lock = Arc::clone(super::lock(&self.locks).entry(key.clone()).or_default());
        let guard = lock.lock_arc().await;
        OrderGuard {
            locks: self,
            key,
            guard: Some(guard),
        }
    }
}

/// A held lock; dropping it releases the lock, and forgets it once nobody else waits for it.
pub(super) struct OrderGuard<'a, K: Eq + Hash + Clone> {
    locks: &'a OrderLocks<K>,
    key: K,
    guard: Option<MutexGuardArc<()>>,
}

impl<K: Eq + Hash + Clone> Drop for OrderGuard<'_, K> {
    fn drop(&mut self) {
        let mut locks = super::lock(&self.locks.locks);
        drop(self.guard.take());
        // Under the map's lock nobody can clone the entry, so a count of one means no holder and
        // no waiter: the map's own reference.
        if locks
            .get(&self.key)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            locks.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_released_lock_is_forgotten_and_others_stay_independent() {
        let locks = OrderLocks::<u32>::default();
        block_on(async {
            let one = locks.lock(1).await;
            let two = locks.lock(2).await;
            assert_eq!(super::super::lock(&locks.locks).len(), 2);
            drop(one);
            assert_eq!(super::super::lock(&locks.locks).len(), 1);
            drop(two);
            assert!(super::super::lock(&locks.locks).is_empty());
        });
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(future)
    }
}
