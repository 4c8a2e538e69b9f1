//! One site's slow job does not hold up the watcher: while the stop of a site's waker takes
//! many seconds, another site's container stopped behind systemd's back is mirrored at once.

use fpm_tests::stack::Stack;
use fpm_tests::{docker, require_docker, wait_until};
use std::path::Path;
use std::time::{Duration, Instant};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fpm-watcher"))
}

#[test]
fn one_sites_slow_stop_delays_no_other_sites_repair() {
    require_docker();
    let s = Stack::boot("stall", &["slow", "other"], "20m", bin());
    // The slow site's waker takes 15 s to stop (as one draining held connections does).
    let dropin = format!("/etc/systemd/system/{}.d", s.waker_service("slow"));
    s.host.ok(&["mkdir", "-p", &dropin]);
    s.host.ok(&[
        "sh",
        "-c",
        &format!("printf '[Service]\\nExecStopPost=/bin/sleep 15\\n' > {dropin}/slow.conf"),
    ]);
    s.host.ok(&["systemctl", "daemon-reload"]);
    s.host.ok(&["systemctl", "start", "fpm-watcher.service"]);
    assert_eq!(s.get("other", "test").0, 200);
    assert_eq!(s.get("slow", "test").0, 200);
    // The slow site's container dies while its waker runs: the watcher stops that waker (15 s).
    docker(&["kill", &s.container("slow")]);
    wait_until(Duration::from_secs(5), "the slow waker's stop", || {
        s.host.active_state(&s.waker_service("slow")) == "deactivating"
    });
    // Meanwhile another site is stopped behind systemd's back: mirrored at once.
    docker(&["stop", &s.container("other")]);
    let stopped = Instant::now();
    wait_until(Duration::from_secs(20), "fpm@other to be mirrored", || {
        s.host.active_state(&s.fpm_unit("other")) == "inactive"
    });
    let mirrored = stopped.elapsed();
    println!("mirrored in {mirrored:?} while another site's waker stopped for 15 s");
    assert_eq!(
        s.host.active_state(&s.waker_service("slow")),
        "deactivating",
        "the slow stop was still running"
    );
    assert!(
        mirrored < Duration::from_secs(2),
        "mirrored in {mirrored:?}"
    );
}
