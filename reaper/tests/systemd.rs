//! The acting reaper inside a real systemd host: idle sites are stopped through `fpm@SITE.service`.

mod common;

use common::entry;
use fpm_tests::host::{container_status, repo_root, SystemdHost};
use fpm_tests::{docker, header, require_docker, unique, ConfDir, Containers};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

#[test]
fn acting_run_stops_idle_sites_through_systemd_and_reports_failures() {
    require_docker();
    let p = unique("act");
    let (idle, busy, stuck) = (
        format!("{p}-idle"),
        format!("{p}-busy"),
        format!("{p}-stuck"),
    );
    let confs = ConfDir::new();
    let mut c = Containers::default();
    c.run(
        &format!("{idle}.fpm"),
        &["--init"],
        "echo hi; exec sleep 3600",
    );
    confs.add(&idle, &header("1s"));
    c.run(
        &format!("{busy}.fpm"),
        &["--init"],
        "while true; do echo tick; sleep 0.2; done",
    );
    confs.add(&busy, &header("5s"));
    let unit_file = repo_root().join("deploy/systemd/fpm@.service");
    let reaper = Path::new(env!("CARGO_BIN_EXE_fpm-reaper"));
    let dir = confs.path().to_str().unwrap().to_owned();
    let host = SystemdHost::boot(
        &format!("{p}-host"),
        &[
            (confs.path(), &dir, false),
            (reaper, "/usr/local/bin/fpm-reaper", true),
            (&unit_file, "/etc/systemd/system/fpm@.service", true),
        ],
    );
    for site in [&idle, &busy] {
        host.ok(&["systemctl", "start", &format!("fpm@{site}.service")]);
        assert_eq!(host.active_state(&format!("fpm@{site}.service")), "active");
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
    assert_eq!(
        host.active_state(&format!("fpm@{idle}.service")),
        "inactive"
    );
    assert_eq!(container_status(&format!("{idle}.fpm")), "exited");
    assert!(
        stderr.contains("stopped idle site")
            && stderr.contains(&format!("unit=\"fpm@{idle}.service\"")),
        "{stderr}"
    );
    let e = entry(sites, &busy);
    assert_eq!(
        (e["decision"].as_str(), e["action"].as_str()),
        (Some("keep"), Some("none")),
        "{e}"
    );
    assert_eq!(host.active_state(&format!("fpm@{busy}.service")), "active");
    assert_eq!(container_status(&format!("{busy}.fpm")), "running");

    // A unit systemd does not know: the stop fails, is reported, and the container is untouched.
    c.run(&format!("{stuck}.fpm"), &["--init"], "exec sleep 3600");
    confs.add(&stuck, &header("1s"));
    std::fs::write(
        confs.path().join("config.toml"),
        "fpm_unit = \"nosuch@{site}.service\"\n",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let config = format!("{dir}/config.toml");
    let out = host.exec(&[
        "fpm-reaper",
        "--config",
        &config,
        "--conf-dir",
        &dir,
        "--site",
        &stuck,
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    let e = entry(report["sites"].as_array().unwrap(), &stuck);
    assert_eq!(
        (e["decision"].as_str(), e["action"].as_str()),
        (Some("stop"), Some("failed")),
        "{e}"
    );
    assert!(
        e["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("nosuch@{stuck}.service")),
        "{e}"
    );
    assert_eq!(
        docker(&[
            "inspect",
            "--format",
            "{{.State.Status}}",
            &format!("{stuck}.fpm")
        ]),
        "running"
    );
}
