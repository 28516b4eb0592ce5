//! The store conformance suite on `MemoryStore`, with 1000 rounds per concurrency case, and the
//! outbox's suite.

click_core::order_store_conformance!(
    |hooks| async move { click_core::MemoryStore::new(hooks) },
    rounds = 1000
);

mod outbox {
    click_core::outbox_conformance!(
        |hooks| async move { click_core::MemoryStore::new(hooks) },
        rounds = 50
    );
}
