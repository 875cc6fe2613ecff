mod statements;

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogConfig, LogFormat};

pub use statements::MAX_STATEMENT_CHARS;

/// Installs the global log subscriber. A second call (tests build many apps) is a no-op.
pub fn init_logging(config: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only on a terminal: a log file or collector gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = subscriber(config.format, filter, ansi, std::io::stdout).try_init();
}

/// The log subscriber writing to `writer`: one line per event, text or JSON, with the SQL of
/// statement events (slow statements) cut to [`MAX_STATEMENT_CHARS`].
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    ansi: bool,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    let events = tracing_subscriber::fmt::format().with_target(false);
    match format {
        LogFormat::Json => Box::new(
            builder
                .json()
                .event_format(statements::Bounded::json(events.json().flatten_event(true)))
                .finish(),
        ),
        LogFormat::Text => Box::new(
            builder
                .event_format(statements::Bounded::text(events))
                .finish(),
        ),
    }
}

/// The HTTP request latency histogram's name and buckets (seconds).
pub const REQUEST_DURATION: &str = "http_request_duration_seconds";
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus recorder: `metrics` macros record into it, `/metrics` renders it.
/// Metrics are process-wide by nature, so one recorder serves every app in the process.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.into()), LATENCY_BUCKETS)
            .expect("the bucket list is not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will be empty");
        }
        handle
    })
}
