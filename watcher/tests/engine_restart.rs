//! A Docker engine restart while the watcher runs: a container that died while the engine was down
//! is reconciled once the watcher reconnects, and events flow again afterwards.
//!
//! Restarting the engine disturbs every other test, so this one is `#[ignore]`d in the parallel
//! run and `scripts/test.sh` runs it on its own right after (`--ignored`).

mod common;

use common::Watched;
use fpm_tests::host::container_status;
use fpm_tests::{
    container_pid, docker, freeze_engine, require_docker, restart_engine, signal, Containers,
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
