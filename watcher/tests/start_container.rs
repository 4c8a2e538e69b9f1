//! `fpm-watcher start-container`, fpm@SITE.service's `ExecStart`, against the real engine: it
//! needs no D-Bus, so it runs here on the host without systemd.

use fpm_tests::host::container_status;
use fpm_tests::names;
use fpm_tests::{require_docker, unique, Containers, DOCKER_SOCKET};
use std::process::{Command, Output};

/// `fpm-watcher start-container SITE`, with the engine's socket and a conf folder configured,
/// the site's conf in it when `managed`.
fn start_container_of(site: &str, managed: bool) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let confs = dir.path().join("confs");
    std::fs::create_dir(&confs).unwrap();
    if managed {
        std::fs::write(
            confs.join(format!("{site}.conf")),
            "# Amount of time to pause the container after: 20m\n",
        )
        .unwrap();
    }
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "docker_socket = \"{DOCKER_SOCKET}\"\nconf_dir = \"{}\"\n",
            confs.display()
        ),
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_fpm-watcher"))
        .arg("--config")
        .arg(&config)
        .args(["start-container", site])
        .env_remove("DBUS_SYSTEM_BUS_ADDRESS")
        .output()
        .unwrap()
}

/// `fpm-watcher start-container SITE` of a managed site.
fn start_container(site: &str) -> Output {
    start_container_of(site, true)
}

#[test]
fn a_site_without_a_conf_is_not_started() {
    require_docker();
    let site = unique("retired");
    let container = names::container(&site);
    let mut c = Containers::default();
    c.create(&container, "exec sleep 3600");
    let out = start_container_of(&site, false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{site} has no conf in ")) && stderr.contains("not started"),
        "{stderr}"
    );
    assert_eq!(container_status(&container), "created", "left as it was");
}

#[test]
fn a_stopped_site_is_started_and_a_running_one_left_running() {
    require_docker();
    let site = unique("start");
    let container = names::container(&site);
    let mut c = Containers::default();
    c.create(&container, "exec sleep 3600");
    let never = fpm_tests::docker(&["inspect", "--format", "{{.State.StartedAt}}", &container]);

    let out = start_container(&site);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(container_status(&container), "running");
    assert!(
        stderr.contains("container started")
            && stderr.contains(&format!("site={site}"))
            && stderr.contains(&format!("container={container}")),
        "the start is logged with site and container: {stderr}"
    );

    // Already running: no error, and the same run goes on (not restarted).
    let started = fpm_tests::docker(&["inspect", "--format", "{{.State.StartedAt}}", &container]);
    assert_ne!(started, never, "the first start happened");
    let again = start_container(&site);
    assert!(again.status.success(), "{again:?}");
    let still = fpm_tests::docker(&["inspect", "--format", "{{.State.StartedAt}}", &container]);
    assert_eq!(still, started, "the running container was not restarted");
}

#[test]
fn a_missing_container_fails_naming_it() {
    require_docker();
    let site = unique("nostart");
    let out = start_container(&site);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "fpm-watcher: starting {site}.fpm: start {site}.fpm:"
        )),
        "the error names the container: {stderr}"
    );
    assert_eq!(
        stderr.matches("No such container").count(),
        1,
        "the engine's reason is said once, not once per layer of the error: {stderr}"
    );
    assert_eq!(container_status(&names::container(&site)), "missing");
}
