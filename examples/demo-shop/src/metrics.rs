//! The Prometheus exporter behind the demo's `/metrics`: click-rs records through the `metrics`
//! facade, and this recorder renders what it recorded in Prometheus' text format.

use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Histogram buckets for the latency metrics, in seconds: 1 ms to 30 s.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Histogram buckets for the time from a payment to its fiscal receipt, in seconds: 1 s to 1
/// day (a receipt waits for Click's fiscalization, and for the worker's retries when it fails).
const RECEIPT_BUCKETS: [f64; 10] = [
    1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 14400.0, 43200.0, 86400.0,
];

/// Installs the recorder (unless `off`), with its upkeep task; the handle renders `/metrics`.
pub(crate) fn exporter(off: bool) -> Result<Option<PrometheusHandle>, Box<dyn std::error::Error>> {
    if off {
        return Ok(None);
    }
    let handle = PrometheusBuilder::new()
        .set_buckets(&BUCKETS)?
        .set_buckets_for_metric(
            Matcher::Full(click_core::metrics::PAYMENT_TO_RECEIPT.to_owned()),
            &RECEIPT_BUCKETS,
        )?
        .install_recorder()?;
    click_core::metrics::describe();
    let upkeep = handle.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    Ok(Some(handle))
}
