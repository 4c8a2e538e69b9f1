//! Events to the journal with native fields: `site = %site` becomes `SITE=blog`, so that
//! `journalctl SITE=blog` finds every line about a site across the tools. The message keeps the
//! fields too (`drained site=blog took_ms=12`), as on stderr, so that `journalctl -u UNIT` reads
//! the same as before. (tracing-journald sends the fields but a bare message, which is why this
//! small layer formats the line itself; libsystemd does the journal's protocol.)
//!
//! Each line also names the sender's own unit as `OBJECT_SYSTEMD_UNIT`. journald finds a
//! sender's unit (`_SYSTEMD_UNIT`, what `journalctl -u` matches) by reading its cgroup when the
//! datagram is read; a short-lived sender such as fpm@'s `stop-container` has often exited by
//! then, and its last lines went missing from `journalctl -u fpm@SITE`. `journalctl -u` also
//! matches `OBJECT_SYSTEMD_UNIT` from a root sender (`_UID=0`, which the kernel vouches for).

use libsystemd::logging::{journal_send, Priority};
use std::fmt::{self, Write as _};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// Sends each event to the journal; when the journal refuses one, it goes to stderr instead
/// (which systemd also keeps).
pub struct JournalLayer {
    /// The unit this process runs in, if any (see the module's note).
    pub own_unit: Option<String>,
}

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
            .chain([("TARGET", meta.target())])
            .chain(
                self.own_unit
                    .as_deref()
                    .map(|unit| ("OBJECT_SYSTEMD_UNIT", unit)),
            );
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

/// The service a process runs in, from its `/proc/PID/cgroup` text: the last `.service` in its
/// unified (`0::`) cgroup path, or in the `name=systemd` one on a cgroup v1 host. `None` outside
/// any service (a shell, a cron job's session).
pub fn unit_of_cgroup(text: &str) -> Option<String> {
    let service = |path: &str| {
        path.rsplit('/')
            .find(|part| part.ends_with(".service"))
            .map(str::to_owned)
    };
    let in_hierarchy = |prefix: &str| {
        text.lines()
            .find_map(|line| line.split_once(prefix).map(|(_, path)| path))
            .and_then(service)
    };
    text.lines()
        .find_map(|line| line.strip_prefix("0::"))
        .and_then(service)
        .or_else(|| in_hierarchy(":name=systemd:"))
}

#[cfg(test)]
mod tests;
