//! Unit tests of `logging::journal` (the shared crate).
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
