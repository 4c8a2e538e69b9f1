//! The watcher's Prometheus endpoint in a real systemd host, scraped by a real Prometheus
//! (Debian's, run in the host): after cold and warm requests through nginx and the waker, a
//! reaper stop and a `docker stop` behind systemd's back, the scraped values are exactly what
//! happened, and `promtool check metrics` finds nothing wrong with the endpoint's text.

use fpm_tests::stack::Stack;
use fpm_tests::{docker, require_docker, wait_until};
use std::path::Path;
use std::time::Duration;

/// Debian's Prometheus and promtool on this machine (`scripts/setup.sh` installs them); each
/// needs only libc, so the test host runs them as they are.
const PROMETHEUS: [&str; 2] = ["/usr/bin/prometheus", "/usr/bin/promtool"];

/// Prometheus in the host: scrapes the watcher's endpoint every second.
const PROMETHEUS_CONFIG: &str = "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: fpm-ondemand\n    static_configs:\n      - targets: ['127.0.0.1:9747']\n";

fn start_prometheus(s: &Stack) {
    for bin in PROMETHEUS {
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: run scripts/setup.sh (apt-get install prometheus)"
        );
        let copied = s.host.copy_in(Path::new(bin));
        s.host.ok(&["mv", &copied, bin]);
    }
    let config = s.files().join("prometheus.yml");
    std::fs::write(&config, PROMETHEUS_CONFIG).unwrap();
    let config = s.host.copy_in(&config);
    s.host.ok(&[
        "systemd-run",
        "--unit",
        "test-prometheus",
        "/usr/bin/prometheus",
        &format!("--config.file={config}"),
        "--storage.tsdb.path=/var/tmp/prometheus",
        "--web.listen-address=127.0.0.1:9090",
    ]);
    wait_until(
        Duration::from_secs(60),
        "Prometheus to scrape the watcher",
        || query(s, "up{job=\"fpm-ondemand\"}") == Some(1.0),
    );
}

/// The value Prometheus has for `expr` now (its first series), if any.
fn query(s: &Stack, expr: &str) -> Option<f64> {
    let out = s.host.exec(&[
        "curl",
        "-sf",
        "http://127.0.0.1:9090/api/v1/query",
        "--data-urlencode",
        &format!("query={expr}"),
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let value = doc["data"]["result"].get(0)?["value"][1].as_str()?;
    value.parse().ok()
}

/// Waits until Prometheus has scraped `expr` at `want`, then checks it stays there.
fn expect(s: &Stack, expr: &str, want: f64) {
    let mut last = None;
    let limit = Duration::from_secs(20);
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        last = query(s, expr);
        if last == Some(want) {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let text = s.host.ok(&["curl", "-s", "http://127.0.0.1:9747/metrics"]);
    panic!("{expr}: Prometheus has {last:?}, not {want}\nthe endpoint says:\n{text}");
}

#[test]
fn prometheus_scrapes_exactly_what_happened() {
    require_docker();
    let bin = Path::new(env!("CARGO_BIN_EXE_fpm-watcher"));
    let s = Stack::boot("metrics", &["a", "b", "c"], "3s", bin);
    s.host.ok(&["systemctl", "start", "fpm-watcher.service"]);
    start_prometheus(&s);
    let site = |tag: &str| s.site(tag);
    expect(&s, "fpm_ondemand_sites", 3.0);
    expect(&s, "fpm_ondemand_sites_awake", 0.0);

    // N = 3 cold requests (one per site), then M = 5 warm ones to a.
    for tag in ["a", "b", "c"] {
        let (code, body) = s.get(tag, "test");
        let units = [
            s.waker_service(tag),
            s.fpm_unit(tag),
            "fpm-watcher.service".into(),
        ];
        let units: Vec<&str> = units.iter().map(String::as_str).collect();
        assert_eq!(code, 200, "cold {tag}: {body}\n{}", s.journal(&units));
    }
    for _ in 0..5 {
        assert_eq!(s.get("a", "test").0, 200, "warm");
    }
    expect(&s, "sum(fpm_ondemand_wakes_total)", 3.0);
    for tag in ["a", "b", "c"] {
        expect(
            &s,
            &format!("fpm_ondemand_wakes_total{{site=\"{}\"}}", site(tag)),
            1.0,
        );
    }
    expect(&s, "fpm_ondemand_cold_start_seconds_count", 3.0);
    // Each cold start took under 30 s, the highest bucket (the waker's start timeout).
    expect(
        &s,
        "fpm_ondemand_cold_start_seconds_bucket{le=\"30.0\"}",
        3.0,
    );
    expect(&s, "fpm_ondemand_sites_awake", 3.0);

    // One reaper stop (a, idle past its 3 s window), one docker stop behind systemd's back (b).
    std::thread::sleep(Duration::from_secs(4));
    let report = s
        .host
        .ok(&["fpm-reaper", "--format", "json", "--site", &site("a")]);
    assert!(report.contains("\"action\": \"stopped\""), "{report}");
    docker(&["stop", &s.container("b")]);
    let stops = |tag: &str, cause: &str| {
        format!(
            "fpm_ondemand_stops_total{{site=\"{}\",cause=\"{cause}\"}}",
            site(tag)
        )
    };
    expect(&s, &stops("a", "reaper"), 1.0);
    expect(&s, &stops("b", "out_of_band"), 1.0);
    expect(&s, "sum(fpm_ondemand_stops_total)", 2.0);
    expect(&s, "fpm_ondemand_reaper_runs_total", 1.0);
    expect(&s, "fpm_ondemand_reaper_last_run_stopped_sites", 1.0);
    expect(&s, "fpm_ondemand_sites_awake", 1.0);
    expect(
        &s,
        "sum(fpm_ondemand_waker_refusals_total) or vector(0)",
        0.0,
    );
    expect(&s, "fpm_ondemand_events_rejected_total", 0.0);
    let awake_a = query(
        &s,
        &format!("fpm_ondemand_awake_seconds_total{{site=\"{}\"}}", site("a")),
    );
    assert!(
        awake_a.is_some_and(|t| t > 3.0 && t < 120.0),
        "a was awake for the warm requests and its window: {awake_a:?}"
    );

    // The same from the journal, after the fact: fpm-ondemand report.
    let report = s.host.ok(&[
        "fpm-ondemand",
        "report",
        "--since",
        "1h",
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&report).unwrap();
    let line = |tag: &str| {
        doc["sites"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["site"] == site(tag).as_str())
            .unwrap_or_else(|| panic!("{tag} in the report:\n{report}"))
            .clone()
    };
    for tag in ["a", "b", "c"] {
        let l = line(tag);
        assert_eq!(l["wakes"], 1, "{tag}: {report}");
        let (p50, max) = (
            l["cold_start_p50_secs"].as_f64(),
            l["cold_start_max_secs"].as_f64(),
        );
        assert!(
            p50.is_some_and(|t| t > 0.0 && t <= 30.0) && p50 == max,
            "{tag}: {report}"
        );
        let share = l["awake_share"].as_f64().unwrap();
        assert!(
            share > 0.0 && share < 1.0,
            "{tag} was awake part of the hour: {report}"
        );
    }
    // a ran from its cold request to the reaper's stop: the warm requests and its 3 s window.
    let a_secs = line("a")["awake_secs"].as_f64().unwrap();
    assert!(a_secs > 4.0 && a_secs < 120.0, "{report}");
    assert_eq!(doc["host"]["sites"], 3, "{report}");
    // Only c runs. (In this test host the engine reports empty stats for the site containers:
    // the host's systemd shares the machine's cgroup tree. The measurement itself is tested
    // against the engine in tests/tests/engine_api.rs; here both outcomes are consistent.)
    let measured = doc["host"]["memory_measured_sites"].as_u64().unwrap();
    assert!(measured <= 1, "only c runs: {report}");
    assert_eq!(
        doc["host"]["memory_saved_bytes"].is_u64(),
        measured == 1,
        "{report}"
    );
    let out = s.host.exec(&["fpm-ondemand", "report", "--since", "1h"]);
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        text.contains("3 sites") && text.contains(&site("a")),
        "{text}"
    );

    // The wakers' user may not report the reaper's events (nor root a waker's): each is rejected
    // and counts nothing.
    let run = r#"{"event":"reaper_run","checked":9,"stopped":9,"errors":0,"duration_seconds":1.0}"#;
    let wake = format!(
        r#"{{"event":"wake","site":"{}","held_seconds":9.0}}"#,
        site("a")
    );
    for (user, event) in [("fpm-waker", run), ("root", wake.as_str())] {
        s.host.ok(&[
            "setpriv",
            "--reuid",
            user,
            "--regid",
            "root",
            "--clear-groups",
            "sh",
            "-c",
            "printf '%s' \"$1\" | socat - UNIX-SENDTO:/run/fpm-ondemand/events.sock",
            "sh",
            event,
        ]);
    }
    expect(&s, "fpm_ondemand_events_rejected_total", 2.0);
    expect(&s, "fpm_ondemand_reaper_runs_total", 1.0);
    expect(
        &s,
        &format!("fpm_ondemand_wakes_total{{site=\"{}\"}}", site("a")),
        1.0,
    );

    // Prometheus asks for OpenMetrics and gets it; anyone else gets Prometheus' text format, which
    // passes promtool's checks.
    let openmetrics = s.host.ok(&[
        "curl",
        "-sf",
        "-H",
        "Accept: application/openmetrics-text; version=1.0.0",
        "http://127.0.0.1:9747/metrics",
    ]);
    assert!(openmetrics.ends_with("# EOF"), "{openmetrics}");
    let checked = s.host.exec(&[
        "sh",
        "-c",
        "curl -sf http://127.0.0.1:9747/metrics | promtool check metrics",
    ]);
    assert!(
        checked.status.success() && checked.stdout.is_empty() && checked.stderr.is_empty(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}
