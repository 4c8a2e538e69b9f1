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

    #[test]
    fn a_process_knows_its_unit_from_its_cgroup() {
        let unified = "0::/system.slice/system-fpm.slice/fpm@blog.service\n";
        assert_eq!(unit_of_cgroup(unified).as_deref(), Some("fpm@blog.service"));
        // A systemd inside a container (the test hosts), cgroup v1 and v2 side by side.
        let hybrid = "1:cpu:/docker/c9c1\n0::/docker/c9c1/system.slice/fpm-reaper.service\n";
        assert_eq!(
            unit_of_cgroup(hybrid).as_deref(),
            Some("fpm-reaper.service")
        );
        let v1 = "9:name=systemd:/system.slice/fpm-watcher.service\n4:memory:/\n";
        assert_eq!(unit_of_cgroup(v1).as_deref(), Some("fpm-watcher.service"));
        // A service's own sub-cgroup still names the service.
        let nested = "0::/system.slice/fpm-watcher.service/payload\n";
        assert_eq!(
            unit_of_cgroup(nested).as_deref(),
            Some("fpm-watcher.service")
        );
        // Outside any service: a login session, a container's root.
        assert_eq!(
            unit_of_cgroup("0::/user.slice/user-0.slice/session-3.scope\n"),
            None
        );
        assert_eq!(unit_of_cgroup("0::/\n"), None);
        assert_eq!(unit_of_cgroup(""), None);
    }
}
