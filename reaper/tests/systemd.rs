//! The acting reaper inside a real systemd host: idle sites are stopped through `fpm@SITE.service`.

mod common;

use common::entry;
use fpm_tests::host::{container_status, HostBuilder, SystemdHost};
use fpm_tests::names;
use fpm_tests::{header, require_docker, unique, ConfDir, Containers};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// A systemd host with the reaper, `fpm@.service` and its `ExecStop` (fpm-watcher), and `confs`
/// mounted at the same path.
fn boot_host(prefix: &str, confs: &Path) -> SystemdHost {
    let bins = Path::new(env!("CARGO_BIN_EXE_fpm-reaper"))
        .parent()
        .unwrap();
    HostBuilder::new(&format!("{prefix}-host"))
        .confs(confs, "")
        .binaries(bins, &["fpm-reaper", "fpm-watcher"])
        .boot()
}

#[test]
fn acting_run_stops_idle_sites_through_systemd() {
    require_docker();
    let p = unique("act");
    let (idle, busy) = (format!("{p}-idle"), format!("{p}-busy"));
    let confs = ConfDir::new();
    let mut c = Containers::default();
    c.run(
        &names::container(&idle),
        &["--init"],
        "echo hi; exec sleep 3600",
    );
    confs.add(&idle, &header("1s"));
    c.run(
        &names::container(&busy),
        &["--init"],
        "while true; do echo tick; sleep 0.2; done",
    );
    confs.add(&busy, &header("5s"));
    let dir = confs.path().to_str().unwrap().to_owned();
    let host = boot_host(&p, confs.path());
    for site in [&idle, &busy] {
        host.ok(&["systemctl", "start", &names::fpm_unit(site)]);
        assert_eq!(host.active_state(&names::fpm_unit(site)), "active");
    }
    std::thread::sleep(Duration::from_millis(1500));

    let out = host.exec(&["fpm-reaper", "--conf-dir", &dir, "--format", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{report:#}\n{stderr}");
    let sites = report["sites"].as_array().unwrap();
    let e = entry(sites, &idle);
    assert_eq!(
        (e["decision"].as_str(), e["action"].as_str()),
        (Some("stop"), Some("stopped")),
        "{e}"
    );
    assert_eq!(host.active_state(&names::fpm_unit(&idle)), "inactive");
    assert_eq!(container_status(&names::container(&idle)), "exited");
    assert!(
        stderr.contains("stopped idle site")
            && stderr.contains(&format!("unit=fpm@{idle}.service ")),
        "{stderr}"
    );
    let e = entry(sites, &busy);
    assert_eq!(
        (e["decision"].as_str(), e["action"].as_str()),
        (Some("keep"), Some("none")),
        "{e}"
    );
    assert_eq!(host.active_state(&names::fpm_unit(&busy)), "active");
    assert_eq!(container_status(&names::container(&busy)), "running");
}

#[test]
fn a_refused_or_timed_out_stop_is_reported_left_consistent_and_retried() {
    require_docker();
    let p = unique("jobfail");
    let (refused, slow) = (format!("{p}-refused"), format!("{p}-slow"));
    let confs = ConfDir::new();
    let mut c = Containers::default();
    for site in [&refused, &slow] {
        c.run(
            &names::container(site),
            &["--init"],
            "echo hi; exec sleep 3600",
        );
        confs.add(site, &header("1s"));
    }
    let dir = confs.path().to_str().unwrap().to_owned();
    let host = boot_host(&p, confs.path());
    // systemd refuses the stop job; and a stop whose ExecStop hangs until systemd's timeout.
    let dropins = [
        (&refused, "[Unit]\nRefuseManualStop=yes\n"),
        (
            &slow,
            "[Service]\nExecStop=\nExecStop=/bin/sleep 30\nTimeoutStopSec=2s\n",
        ),
    ];
    for (site, text) in dropins {
        let d = format!("/etc/systemd/system/{}.d", names::fpm_unit(site));
        host.ok(&["mkdir", "-p", &d]);
        host.ok(&["sh", "-c", &format!("printf '{text}' > {d}/fault.conf")]);
    }
    host.ok(&["systemctl", "daemon-reload"]);
    for site in [&refused, &slow] {
        host.ok(&["systemctl", "start", &names::fpm_unit(site)]);
    }
    std::thread::sleep(Duration::from_millis(1500));

    let run = || {
        let out = host.exec(&["fpm-reaper", "--conf-dir", &dir, "--format", "json"]);
        let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
        (out.status.code(), report)
    };
    let (code, report) = run();
    assert_eq!(code, Some(1), "{report:#}");
    let sites = report["sites"].as_array().unwrap();
    let e = entry(sites, &refused);
    assert_eq!(e["action"], "failed", "{e}");
    assert!(e["reason"].as_str().unwrap().contains("refused"), "{e}");
    let e = entry(sites, &slow);
    assert_eq!(e["action"], "failed", "{e}");
    assert!(
        e["reason"]
            .as_str()
            .unwrap()
            .contains("marked active again"),
        "{e}"
    );
    for site in [&refused, &slow] {
        assert_eq!(
            (
                host.active_state(&names::fpm_unit(site)),
                container_status(&names::container(site))
            ),
            ("active".to_owned(), "running".to_owned()),
            "{site}: systemd and Docker agree after the failed stop"
        );
    }

    // The faults go away: the next run stops both.
    for site in [&refused, &slow] {
        let d = format!("/etc/systemd/system/{}.d", names::fpm_unit(site));
        host.ok(&["rm", "-r", &d]);
    }
    host.ok(&["systemctl", "daemon-reload"]);
    let (code, report) = run();
    assert_eq!(code, Some(0), "{report:#}");
    for site in [&refused, &slow] {
        assert_eq!(
            entry(report["sites"].as_array().unwrap(), site)["action"],
            "stopped"
        );
        assert_eq!(container_status(&names::container(site)), "exited");
    }
}
