//! sqlx logs every statement it finds slow (over 1 s) at `warn`, with the whole SQL text: a filter
//! with thousands of values made lines of 300 KB, so one user could add tens of megabytes a
//! minute to the logs. Its events (target `sqlx::query`) are written here instead: the same
//! level, message and numbers, with the statement cut to [`MAX_STATEMENT_CHARS`] characters and
//! its full length beside it. Every other event goes to the usual formatter.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Characters of a statement kept in a log line.
pub const MAX_STATEMENT_CHARS: usize = 300;

/// sqlx's target for statement events.
const SQLX_TARGET: &str = "sqlx::query";

/// A formatter that writes sqlx's statement events itself, bounded.
pub struct Bounded<F> {
    inner: F,
    json: bool,
}

impl<F> Bounded<F> {
    pub fn text(inner: F) -> Bounded<F> {
        Bounded { inner, json: false }
    }

    pub fn json(inner: F) -> Bounded<F> {
        Bounded { inner, json: true }
    }
}

impl<S, N, F> FormatEvent<S, N> for Bounded<F>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        if event.metadata().target() != SQLX_TARGET {
            return self.inner.format_event(ctx, writer, event);
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let statement = fields.statement.trim();
        let length = statement.chars().count();
        let mut kept: String = statement.chars().take(MAX_STATEMENT_CHARS).collect();
        if length > MAX_STATEMENT_CHARS {
            kept.push('…');
        }
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        let level = event.metadata().level().as_str();
        if self.json {
            let mut line = Map::new();
            line.insert("timestamp".into(), timestamp.into());
            line.insert("level".into(), level.into());
            line.insert("message".into(), fields.message.into());
            line.insert("target".into(), SQLX_TARGET.into());
            line.insert("statement".into(), kept.into());
            line.insert("statement_chars".into(), length.into());
            for (name, value) in fields.others {
                line.insert(name, value);
            }
            return writeln!(writer, "{}", Value::Object(line));
        }
        write!(writer, "{timestamp} {level:>5} {}", fields.message)?;
        write!(writer, " statement={kept:?} statement_chars={length}")?;
        for (name, value) in fields.others {
            write!(writer, " {name}={value}")?;
        }
        writeln!(writer)
    }
}

/// The fields of a statement event: the message, the SQL, and the rest (summary, rows, times).
#[derive(Default)]
struct Fields {
    message: String,
    statement: String,
    others: Vec<(String, Value)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_owned(),
            "db.statement" => self.statement = value.to_owned(),
            name => self.others.push((name.to_owned(), cut(value).into())),
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.others.push((field.name().to_owned(), value.into()));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.others.push((field.name().to_owned(), value.into()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

fn cut(value: &str) -> String {
    value.chars().take(MAX_STATEMENT_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::EnvFilter;

    use crate::config::LogFormat;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Capture {
            self.clone()
        }
    }

    /// A slow statement of a 30,000-value `$in`, as sqlx reports it, logs a bounded line in both
    /// formats; other events are as before.
    #[test]
    fn slow_statements_are_logged_cut_short_with_their_length() {
        let values: Vec<String> = (0..30_000).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT uid FROM catalog_entities WHERE id IN (SELECT entity_id FROM catalog_search WHERE value IN ({}))",
            values.join(", ")
        );
        for format in [LogFormat::Text, LogFormat::Json] {
            let capture = Capture::default();
            let subscriber = crate::telemetry::subscriber(
                format,
                EnvFilter::new("info"),
                false,
                capture.clone(),
            );
            tracing::subscriber::with_default(subscriber, || {
                tracing::warn!(
                    target: "sqlx::query",
                    summary = "select uid from …",
                    db.statement = format!("\n\n{sql}\n").as_str(),
                    rows_affected = 0u64,
                    rows_returned = 3u64,
                    elapsed_secs = 8.5f64,
                    "slow statement: execution time exceeded alert threshold"
                );
                tracing::info!(route = "/healthz", "request");
            });
            let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), 2, "{text}");
            assert!(
                lines[0].len() < 1000,
                "{format:?}: {} bytes",
                lines[0].len()
            );
            assert!(lines[0].contains("slow statement"), "{}", lines[0]);
            assert!(
                lines[0].contains(&sql.chars().count().to_string()),
                "{}",
                lines[0]
            );
            assert!(
                lines[0].contains("SELECT uid FROM catalog_entities"),
                "{}",
                lines[0]
            );
            assert!(lines[1].contains("request"), "{}", lines[1]);
            if format == LogFormat::Json {
                let line: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
                assert_eq!(line["statement_chars"], sql.chars().count());
                assert_eq!(line["rows_returned"], 3);
                let _: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
            }
        }
    }
}
