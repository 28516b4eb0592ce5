//! `MemoryStore` beyond the conformance suite: transitions of different orders do not wait for
//! each other.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use click_core::testing::{Harness, code};
use click_core::{BoxError, MemoryOrders, MemoryStore, MerchantTransId, Order, OrderHooks};
use click_core::{ServiceId, Transaction};
use tokio::sync::Notify;

/// Hooks over a book whose delivery of one order waits until `go` is notified.
#[derive(Clone)]
struct SlowOrder {
    book: MemoryOrders,
    slow: MerchantTransId,
    arrived: Arc<Notify>,
    go: Arc<Notify>,
}

#[async_trait]
impl OrderHooks for SlowOrder {
    async fn find(
        &self,
        cx: &mut (),
        service_id: ServiceId,
        id: &MerchantTransId,
    ) -> Result<Option<Order>, BoxError> {
        self.book.find(cx, service_id, id).await
    }

    async fn deliver(&self, cx: &mut (), payment: &Transaction) -> Result<(), BoxError> {
        if payment.merchant_trans_id == self.slow {
            self.arrived.notify_one();
            self.go.notified().await;
        }
        self.book.deliver(cx, payment).await
    }
}

/// A delivery hook that stalls on one order holds that order's lock only: another order is
/// prepared and paid meanwhile. (With one lock for every transition, the second payment would
/// wait for the first hook, which waits for the second payment: the 30-second limit would fail
/// the test.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_hook_on_one_order_does_not_delay_another() {
    let book = MemoryOrders::new();
    let hooks = SlowOrder {
        book: book.clone(),
        slow: "slow".parse().expect("id"),
        arrived: Arc::new(Notify::new()),
        go: Arc::new(Notify::new()),
    };
    let (arrived, go) = (Arc::clone(&hooks.arrived), Arc::clone(&hooks.go));
    let h = Harness::new(move |_| async move { MemoryStore::new(hooks) }, 1).await;
    for id in ["slow", "quick"] {
        book.insert(
            id.parse().expect("id"),
            Order::Payable {
                amount: "1000".parse().expect("amount"),
            },
        );
    }
    let (slow_id, slow_prepare) = h.prepared("slow", "1000").await;
    let stalled = {
        let h = h.clone();
        tokio::spawn(async move { h.complete(slow_id, "slow", slow_prepare, "1000", 0).await })
    };
    arrived.notified().await;
    let quick = tokio::time::timeout(Duration::from_secs(30), async {
        let (id, prepare_id) = h.prepared("quick", "1000").await;
        h.complete(id, "quick", prepare_id, "1000", 0).await
    })
    .await
    .expect("the other order is paid while the slow hook runs");
    assert_eq!(code(&quick), 0);
    assert!(!stalled.is_finished(), "the slow delivery is still running");
    go.notify_one();
    assert_eq!(code(&stalled.await.expect("the task finishes")), 0);
    assert_eq!(book.delivery_count(&"quick".parse().expect("id")), 1);
    assert_eq!(book.delivery_count(&"slow".parse().expect("id")), 1);
}
