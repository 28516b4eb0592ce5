//! The demo's settlement: order hooks that want a receipt for every payment and cannot deliver
//! sold-out orders, a one-line receipt, and the worker over the Merchant API (Click's, or the
//! testkit's mock).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use click_core::{
    BoxError, Credentials, MemoryOrders, MerchantTransId, Order, OrderHooks, OrderStore, ServiceId,
    Tiyin, Transaction,
};
use click_merchant::{CommissionInfo, MerchantClient, OfdItem, OfdReceipt};
use click_settle::{Policy, SettleEvent, Worker};
use click_testkit::mock::{MockApi, MockConfig};

/// Orders whose id starts with this cannot be delivered (the goods are gone): Click is answered
/// `0` and the payment is reversed.
pub(crate) const SOLD_OUT: &str = "sold-out-";

/// The demo's order book, as hooks: every delivered payment wants a fiscal receipt.
#[derive(Debug, Clone, Default)]
pub(crate) struct DemoOrders {
    pub(crate) book: MemoryOrders,
}

#[async_trait]
impl<Cx: ?Sized + Send> OrderHooks<Cx> for DemoOrders {
    async fn find(
        &self,
        cx: &mut Cx,
        service_id: ServiceId,
        id: &MerchantTransId,
    ) -> Result<Option<Order>, BoxError> {
        self.book.find(cx, service_id, id).await
    }

    async fn deliver(&self, cx: &mut Cx, payment: &Transaction) -> Result<(), BoxError> {
        if payment.merchant_trans_id.as_str().starts_with(SOLD_OUT) {
            return Err(format!("{} is sold out", payment.merchant_trans_id).into());
        }
        self.book.deliver(cx, payment).await
    }

    fn reserves_orders(&self) -> bool {
        OrderHooks::<Cx>::reserves_orders(&self.book)
    }

    fn wants_receipt(&self, _payment: &Transaction) -> bool {
        true
    }
}

/// A receipt of one position: the order, at its price, VAT included at 12 %.
struct DemoReceipts;

#[async_trait]
impl click_settle::Receipts for DemoReceipts {
    async fn receipt(&self, payment: &Transaction) -> Result<OfdReceipt, BoxError> {
        let total = payment.amount.tiyin();
        // 12 % VAT included in the price: total · 12 / 112.
        let vat = Tiyin(total.get() * 12 / 112);
        let item = OfdItem::builder(
            format!("Order {}, pcs", payment.merchant_trans_id)
                .chars()
                .take(63)
                .collect::<String>(),
            "10899001001000000",
            "1517893",
            total,
            1,
            vat,
            12,
            CommissionInfo::Tin("123456789".into()),
        )
        .build()?;
        Ok(OfdReceipt {
            items: vec![item],
            received_ecash: total,
            received_cash: Tiyin(0),
            received_card: Tiyin(0),
        })
    }
}

/// Where the worker calls the Merchant API.
pub(crate) struct MerchantApi {
    /// The base URL.
    pub(crate) base_url: String,
    /// The in-process mock, when no URL was given.
    pub(crate) mock: Option<MockApi>,
}

impl MerchantApi {
    /// Click's (or any) Merchant API at `url`, or else the testkit's mock, started here.
    pub(crate) async fn new(
        url: Option<&str>,
        credentials: &Credentials,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        if let Some(url) = url {
            return Ok(Self {
                base_url: url.to_owned(),
                mock: None,
            });
        }
        let mock = MockApi::new(MockConfig::new(
            credentials.service_id,
            credentials.merchant_user_id,
            credentials.secret_key.clone(),
        ));
        Ok(Self {
            base_url: mock.start().await?,
            mock: Some(mock),
        })
    }
}

/// Starts the worker in the background; it runs as long as the process.
pub(crate) fn start_worker(
    store: Arc<dyn OrderStore>,
    api: &MerchantApi,
    credentials: &Credentials,
    policy: Policy,
) -> Result<(), Box<dyn std::error::Error>> {
    let client = MerchantClient::builder(credentials.clone())
        .base_url(api.base_url.clone())
        .timeout(Duration::from_secs(5))
        .build()?;
    let worker = Worker::new(store, client, policy)
        .receipts(DemoReceipts)
        .on_event(|event| match event {
            SettleEvent::Settled { task, settled } => tracing::info!(
                payment_id = %task.transaction.click_paydoc_id,
                order = %task.transaction.merchant_trans_id,
                ?settled,
                "settled"
            ),
            SettleEvent::Parked { task, error } => tracing::warn!(
                payment_id = %task.transaction.click_paydoc_id,
                %error,
                "parked for a person"
            ),
            other => tracing::info!(?other, "settlement"),
        });
    tokio::spawn(async move { worker.run(std::future::pending()).await });
    Ok(())
}
