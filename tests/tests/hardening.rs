//! Every unit we ship is sandboxed: `systemd-analyze security` in a real systemd host rates each
//! at most at its budget. The figures are printed (`cargo test -- --nocapture` shows them).

use fpm_tests::host::HostBuilder;
use fpm_tests::{require_docker, unique};

/// Each unit and the highest exposure it may have (0 = locked down, 10 = unsafe).
const BUDGETS: [(&str, f64); 6] = [
    ("fpm-watcher.service", 2.0),
    ("fpm-start.service", 2.0),
    ("fpm-reaper.service", 2.0),
    ("fpm-waker@demo.service", 2.0),
    // It must reach the Docker socket, which is root's.
    ("fpm@demo.service", 4.0),
    // It mounts in the host's mount namespace, as root with CAP_SYS_ADMIN, once at boot.
    ("fpm-socket-folders.service", 6.0),
];

/// The figure from `Overall exposure level for UNIT: 1.2 OK`.
fn exposure(report: &str) -> Option<f64> {
    let line = report
        .lines()
        .find(|l| l.contains("Overall exposure level"))?;
    line.rsplit_once(": ")?
        .1
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[test]
fn every_unit_is_sandboxed_within_its_budget() {
    require_docker();
    let host = HostBuilder::new(&format!("{}-host", unique("harden"))).boot();
    let mut over = Vec::new();
    for (unit, budget) in BUDGETS {
        let out = host.exec(&["systemd-analyze", "security", "--no-pager", unit]);
        let report = String::from_utf8_lossy(&out.stdout);
        let level = exposure(&report)
            .unwrap_or_else(|| panic!("no exposure level for {unit}:\n{report}{out:?}"));
        println!("{unit}: exposure {level:.1} (budget {budget:.1})");
        if level > budget {
            over.push(format!("{unit}: {level} > {budget}\n{report}"));
        }
    }
    assert!(over.is_empty(), "{}", over.join("\n"));
}

/// Resource bounds systemd applies as the units say: a waker cannot take the host's memory.
#[test]
fn a_wakers_memory_and_the_watchers_descriptors_are_bounded() {
    require_docker();
    let host = HostBuilder::new(&format!("{}-host", unique("bounds"))).boot();
    for (unit, property, want) in [
        ("fpm-waker@demo.service", "MemoryMax", "335544320"),
        ("fpm-watcher.service", "LimitNOFILE", "8192"),
    ] {
        let got = host.ok(&["systemctl", "show", "-P", property, unit]);
        assert_eq!(got.trim(), want, "{unit} {property}");
    }
}

#[test]
fn the_exposure_line_is_read() {
    assert_eq!(
        exposure("  ✓ X\n→ Overall exposure level for fpm@demo.service: 3.6 OK 🙂\n"),
        Some(3.6)
    );
    assert_eq!(exposure("nothing"), None);
}
