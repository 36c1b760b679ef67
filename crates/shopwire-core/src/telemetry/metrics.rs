//! Prometheus metrics: one recorder per process, rendered at `/metrics` by web and worker.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Install the global recorder once (test binaries build many apps in one process) and
/// return the handle that renders it. Histograms ending in `_seconds` get buckets from
/// 0.5 ms to 5 s.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_seconds".into()),
                    &[
                        0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                        5.0,
                    ],
                )
                .expect("the bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // If something else installed a recorder first we still render ours (empty).
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}
