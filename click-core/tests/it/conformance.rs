//! The store conformance suite on `MemoryStore`, with 1000 rounds per concurrency case.

click_core::order_store_conformance!(
    |hooks| async move { click_core::MemoryStore::new(hooks) },
    rounds = 1000
);
