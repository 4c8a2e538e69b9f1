//! A Docker engine restart while the watcher runs: a container that died while the engine was down
//! is reconciled once the watcher reconnects, and events flow again afterwards; sites onboarded
//! with `site add` (restart policy `no`) keep sleeping or serving as they did.
//!
//! Restarting the engine disturbs every other test, so this one is `#[ignore]`d in the parallel
//! run and `scripts/test.sh` runs it on its own right after (`--ignored`).

use fpm_tests::host::container_status;
use fpm_tests::stack::Stack;
use fpm_tests::watched::Watched;
use fpm_tests::{
    container_pid, docker, freeze_engine, images, require_docker, restart_engine, signal,
    Containers,
};
use std::path::Path;
use std::time::Duration;

#[test]
#[ignore = "restarts the Docker engine: scripts/test.sh runs it alone with --ignored"]
fn a_container_that_died_while_docker_restarted_is_reconciled() {
    require_docker();
    // The engine recreates its socket file on restart: a bind-mounted file would go stale, so the
    // host sees the outer /run folder and uses the socket inside it.
    let w = Watched::boot_with(
        "restart",
        &["dies", "steady"],
        &[(Path::new("/run"), "/outer-run", true)],
        "docker_socket = \"/outer-run/docker.sock\"\n",
    );
    w.host.ok(&[
        "systemctl",
        "set-environment",
        "DOCKER_HOST=unix:///outer-run/docker.sock",
    ]);
    let mut c = Containers::default();
    for tag in ["dies", "steady"] {
        w.run_site(&mut c, tag);
    }
    w.start_watcher();
    let pid = container_pid(&w.container("dies"));

    // The container dies while the engine is down.
    restart_engine(|| signal("KILL", &pid));
    assert_eq!(container_status(&w.container("dies")), "exited");
    w.expect_state(&w.unit("dies"), "inactive", Duration::from_secs(10));
    assert_eq!(w.host.active_state(&w.unit("steady")), "active");
    assert_eq!(container_status(&w.container("steady")), "running");
    let journal = w.journal();
    assert!(journal.contains("Docker events stream"), "{journal}");
    assert!(journal.contains("cause=\"reconnect\""), "{journal}");

    // Events flow again after the reconnect.
    docker(&["stop", "--time", "5", &w.container("steady")]);
    w.expect_state(&w.unit("steady"), "inactive", Duration::from_secs(1));
    assert_eq!(w.host.active_state("fpm-watcher.service"), "active");
}

#[test]
#[ignore = "freezes the Docker engine: scripts/test.sh runs it alone with --ignored"]
fn a_container_that_died_while_docker_hung_is_mirrored_once_it_answers() {
    require_docker();
    let w = Watched::boot("freeze", &["dies"]);
    let mut c = Containers::default();
    w.run_site(&mut c, "dies");
    w.start_watcher();
    let pid = container_pid(&w.container("dies"));
    freeze_engine(|| {
        // The container's init dies while the engine answers nothing.
        signal("KILL", &pid);
        // (Nothing here may ask Docker: every request hangs, `docker exec` too.)
        std::thread::sleep(Duration::from_secs(3));
    });
    w.expect_state(&w.unit("dies"), "inactive", Duration::from_secs(3));
    assert_eq!(container_status(&w.container("dies")), "exited");
}

/// Two sites onboarded with `site add` (the restart policy it creates, `no`): one stopped by the
/// reaper, one awake. Across an engine restart the sleeping one stays asleep (Docker starts no
/// container of policy `no`; an `always` one would wake, which `site check` refuses), the awake
/// one answers through both nginx variants without a new start, and the sleeping one still wakes
/// on its next request.
#[test]
#[ignore = "restarts the Docker engine: scripts/test.sh runs it alone with --ignored"]
fn across_an_engine_restart_a_sleeping_site_sleeps_and_an_awake_one_serves() {
    require_docker();
    let bin = Path::new(env!("CARGO_BIN_EXE_fpm-watcher"));
    let mut s = Stack::boot_for_engine_restart("restartsites", bin);
    let folders = [("www", "/var/www:ro"), ("data", "/var/data")];
    for tag in ["asleep", "awake"] {
        let added = s.site_add((tag, "1s"), images::php_debian(), &folders, &[]);
        assert!(added.contains("restart policy no"), "{added}");
        assert_eq!(s.get(tag, "test").0, 200, "{tag} before");
    }
    s.host.ok(&["systemctl", "start", "fpm-watcher.service"]);
    std::thread::sleep(Duration::from_millis(2500));
    let stopped = s.host.ok(&[
        "fpm-reaper",
        "--format",
        "json",
        "--site",
        &s.site("asleep"),
    ]);
    assert!(stopped.contains("\"action\": \"stopped\""), "{stopped}");
    assert_eq!(container_status(&s.container("asleep")), "exited");
    let started = |tag: &str| {
        docker(&[
            "inspect",
            "--format",
            "{{.State.StartedAt}}",
            &s.container(tag),
        ])
    };
    let awake_since = started("awake");

    restart_engine(|| {});
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        container_status(&s.container("asleep")),
        "exited",
        "still asleep"
    );
    assert_eq!(s.host.active_state(&s.fpm_unit("asleep")), "inactive");
    assert_eq!(
        s.get("awake", "fast").0,
        200,
        "the awake site, upstream variant"
    );
    assert_eq!(
        s.get("awake", "test").0,
        200,
        "the awake site, through the waker"
    );
    assert_eq!(started("awake"), awake_since, "served by the same run");
    assert_eq!(s.host.active_state(&s.fpm_unit("awake")), "active");
    let (code, body) = s.get("asleep", "test");
    assert_eq!(code, 200, "the sleeping site wakes on a request: {body}");
}
