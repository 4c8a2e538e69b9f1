//! Events to the journal with native fields: `site = %site` becomes `SITE=blog`, so that
//! `journalctl SITE=blog` finds every line about a site across the tools. The message keeps the
//! fields too (`drained site=blog took_ms=12`), as on stderr, so that `journalctl -u UNIT` reads
//! the same as before. (tracing-journald sends the fields but a bare message, which is why this
//! small layer formats the line itself; libsystemd does the journal's protocol.)

use libsystemd::logging::{journal_send, Priority};
use std::fmt::{self, Write as _};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// Sends each event to the journal; when the journal refuses one, it goes to stderr instead
/// (which systemd also keeps).
pub struct JournalLayer;

impl<S: Subscriber> Layer<S> for JournalLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        let priority = match *meta.level() {
            Level::ERROR => Priority::Error,
            Level::WARN => Priority::Warning,
            Level::INFO => Priority::Info,
            Level::DEBUG | Level::TRACE => Priority::Debug,
        };
        let vars = fields
            .native
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain([("TARGET", meta.target())]);
        if journal_send(priority, &fields.line, vars).is_err() {
            eprintln!("{} {}", meta.level(), fields.line);
        }
    }
}

/// An event's fields: the line a person reads, and the native fields.
#[derive(Default)]
struct Fields {
    line: String,
    native: Vec<(String, String)>,
}

impl Fields {
    /// `value` is what the field holds; `shown` is how the line shows it (strings quoted, as
    /// tracing's own formatter does).
    fn add(&mut self, field: &Field, value: String, shown: &dyn fmt::Display) {
        if field.name() == "message" {
            self.line.insert_str(0, &value);
            return;
        }
        write!(self.line, " {}={shown}", field.name()).expect("writing to a String");
        self.native.push((journal_name(field.name()), value));
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.add(field, value.to_owned(), &format_args!("{value:?}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        self.add(field, text.clone(), &text);
    }
}

/// A field name as the journal takes it: upper case, `_` for anything but letters and digits.
fn journal_name(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'a'..='z' => c.to_ascii_uppercase(),
            'A'..='Z' | '0'..='9' => c,
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::prelude::*;

    /// Each event's line and native fields.
    type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<(String, String)>)>>>;

    /// Records the line and fields of each event, as the layer builds them.
    struct Capture(Seen);

    impl<S: Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            let mut fields = Fields::default();
            event.record(&mut fields);
            self.0.lock().unwrap().push((fields.line, fields.native));
        }
    }

    #[test]
    fn fields_go_native_and_stay_in_the_line() {
        let seen: Seen = std::sync::Arc::default();
        let subscriber = tracing_subscriber::registry().with(Capture(std::sync::Arc::clone(&seen)));
        tracing::subscriber::with_default(subscriber, || {
            let site = "blog";
            tracing::info!(site = %site, unit = "fpm@blog.service", took_ms = 12u64, "php-fpm accepts");
        });
        let seen = seen.lock().unwrap();
        let (line, native) = &seen[0];
        assert_eq!(
            line,
            "php-fpm accepts site=blog unit=\"fpm@blog.service\" took_ms=12"
        );
        assert_eq!(
            native,
            &[
                ("SITE".to_owned(), "blog".to_owned()),
                ("UNIT".to_owned(), "fpm@blog.service".to_owned()),
                ("TOOK_MS".to_owned(), "12".to_owned()),
            ]
        );
    }
}
