//! `fpm-reaper --dry-run` against a real Docker engine: every container case, judged in the JSON report.

mod common;

use common::{audit, entry, time};
use fpm_tests::names;
use fpm_tests::{docker, header, require_docker, unique, wait_until, ConfDir, Containers};
use std::path::Path;
use std::time::Duration;

#[test]
fn audit_judges_every_container_case() {
    require_docker();
    let p = unique("audit");
    let site = |tag: &str| format!("{p}-{tag}");
    let fpm = |tag: &str| names::container(&format!("{p}-{tag}"));
    let confs = ConfDir::new();
    let mut c = Containers::default();

    // Logs every 0.2 s: busy.
    c.run(
        &fpm("busy"),
        &[],
        "while true; do echo tick; sleep 0.2; done",
    );
    confs.add(&site("busy"), &header("2s"));
    // Logged once at start, then silent: idle once its 2 s window has passed.
    c.run(&fpm("quiet"), &[], "echo started; exec sleep 3600");
    confs.add(&site("quiet"), &header("2s"));
    // Logs on its first run only; restarted after a quiet time longer than its window.
    let once = "[ -e /tmp/ran ] || { echo first run; touch /tmp/ran; }; exec sleep 3600";
    c.run(&fpm("restarted"), &[], once);
    confs.add(&site("restarted"), &header("3s"));
    // Paused, never started, missing, and a log driver that cannot be read.
    c.run(&fpm("paused"), &[], "echo hi; exec sleep 3600");
    docker(&["pause", &fpm("paused")]);
    confs.add(&site("paused"), &header("1s"));
    c.create(&fpm("stopped"), "exec sleep 3600");
    confs.add(&site("stopped"), &header("1s"));
    confs.add(&site("missing"), &header("1s"));
    c.run(
        &fpm("nolog"),
        &["--log-driver", "none"],
        "echo lost; exec sleep 3600",
    );
    confs.add(&site("nolog"), &header("1s"));
    // Broken headers: reported with file, line and value; the others are still judged.
    let bad = confs.add(&site("badheader"), "# pause after 20m");
    let unitless = confs.add(&site("unitless"), &header("20"));

    wait_until(Duration::from_secs(10), "first run's log line", || {
        docker(&["logs", &fpm("restarted")]).contains("first run")
    });
    docker(&["kill", &fpm("restarted")]);
    std::thread::sleep(Duration::from_millis(3500));
    docker(&["start", &fpm("restarted")]);
    let started = chrono::Utc::now();

    let (code, sites, stderr) = audit(confs.path(), &[]);
    assert_eq!(code, 1, "a broken conf makes the run exit 1\n{stderr}");
    assert_eq!(sites.len(), 9, "{sites:#?}");

    let e = entry(&sites, &site("busy"));
    assert_eq!(
        (e["container"].as_str(), e["decision"].as_str()),
        (Some("running"), Some("keep")),
        "{e}"
    );
    assert!(e["idle_secs"].as_u64().unwrap() < 2, "{e}");
    assert!(
        e["reason"].as_str().unwrap().contains("last log line"),
        "{e}"
    );

    let e = entry(&sites, &site("quiet"));
    assert_eq!(
        (e["container"].as_str(), e["decision"].as_str()),
        (Some("running"), Some("stop")),
        "{e}"
    );
    assert_eq!(e["window_secs"], 2);
    assert!(e["idle_secs"].as_u64().unwrap() >= 2, "{e}");
    let idle_since = time(&e["last_activity"]);
    assert!(
        chrono::Utc::now() - idle_since >= chrono::Duration::seconds(3),
        "{e}"
    );

    let e = entry(&sites, &site("restarted"));
    assert_eq!(
        e["decision"], "keep",
        "a fresh start counts as activity: {e}"
    );
    assert!(e["reason"].as_str().unwrap().starts_with("started "), "{e}");
    assert!(
        (time(&e["last_activity"]) - started)
            .num_milliseconds()
            .abs()
            < 1500,
        "{e}"
    );

    for (tag, container) in [
        ("paused", "paused"),
        ("stopped", "stopped"),
        ("missing", "missing"),
    ] {
        let e = entry(&sites, &site(tag));
        assert_eq!(
            (e["container"].as_str(), e["decision"].as_str()),
            (Some(container), Some("skip")),
            "{e}"
        );
        assert!(
            e["last_activity"].is_null() && e["idle_secs"].is_null(),
            "{e}"
        );
    }
    assert!(entry(&sites, &site("missing"))["reason"]
        .as_str()
        .unwrap()
        .contains(&fpm("missing")));

    let e = entry(&sites, &site("nolog"));
    assert_eq!(
        (e["container"].as_str(), e["decision"].as_str()),
        (Some("running"), Some("keep")),
        "{e}"
    );
    assert!(
        e["reason"]
            .as_str()
            .unwrap()
            .starts_with("idle time unknown"),
        "{e}"
    );
    assert!(e["idle_secs"].is_null(), "{e}");

    for (tag, path, value) in [
        ("badheader", &bad, "\"# pause after 20m\""),
        ("unitless", &unitless, "\"20\""),
    ] {
        let e = entry(&sites, &site(tag));
        let reason = e["reason"].as_str().unwrap();
        assert_eq!(e["decision"], "error", "{e}");
        assert!(
            reason.contains(&format!("{}:1:", path.display())) && reason.contains(value),
            "{e}"
        );
        assert!(
            stderr.contains(&format!("{}:1:", path.display())),
            "error is logged too:\n{stderr}"
        );
    }
}

#[test]
fn a_huge_log_is_judged_by_its_newest_line() {
    require_docker();
    let p = unique("biglog");
    let confs = ConfDir::new();
    let mut c = Containers::default();
    let name = names::container(&p);
    // 256 MiB of 1 KiB lines, then one last line, then silence.
    let script =
        "l=$(printf %01023d 0); yes \"$l\" | head -c 268435456; echo LAST; exec sleep 3600";
    c.run(&name, &[], script);
    confs.add(&p, &header("1s"));
    wait_until(Duration::from_secs(120), "256 MiB of logs", || {
        docker(&["logs", "--tail", "1", &name]) == "LAST"
    });
    let last_line = docker(&["logs", "--tail", "1", "--timestamps", &name]);
    let last_line_at: chrono::DateTime<chrono::Utc> =
        chrono::DateTime::parse_from_rfc3339(last_line.split(' ').next().unwrap())
            .unwrap()
            .into();
    std::thread::sleep(Duration::from_millis(1200));

    let (code, sites, stderr) = audit(confs.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let e = entry(&sites, &p);
    assert_eq!(e["decision"], "stop", "{e}");
    assert_eq!(
        time(&e["last_activity"]).timestamp_millis(),
        last_line_at.timestamp_millis(),
        "{e}"
    );
}

/// A json-file log rotated at 2 KiB (`max-size=2k`, as `site add` bounds logs): an idle site
/// whose log has just been rotated several times is judged by its real last line, and a site
/// that logs all the time, its file rotated under the reaper, is kept.
#[test]
fn a_rotated_log_is_judged_by_its_newest_line() {
    require_docker();
    let confs = ConfDir::new();
    let mut c = Containers::default();
    let rotated = ["--log-opt", "max-size=2k", "--log-opt", "max-file=3"];
    let (quiet, busy) = (unique("rotquiet"), unique("rotbusy"));
    // About 6 KiB of lines (the file is rotated at each 2 KiB), the last one marked; a second
    // after the start, so that the last line is the activity and not the start (Docker 26 sets
    // StartedAt a few ms after a fast script's first lines).
    let script = "sleep 1; for i in $(seq 1 60); do echo line-$i-padding-padding-padding; done; \
                  echo LAST; exec sleep 3600";
    c.run(&names::container(&quiet), &rotated, script);
    let script = "while true; do echo busy-line-padding-padding-padding; sleep 0.05; done";
    c.run(&names::container(&busy), &rotated, script);
    confs.add(&quiet, &header("1s"));
    confs.add(&busy, &header("1s"));
    let name = names::container(&quiet);
    wait_until(Duration::from_secs(20), "the last line", || {
        docker(&["logs", "--tail", "1", &name]) == "LAST"
    });
    let log = docker(&["inspect", "--format", "{{.LogPath}}", &name]);
    assert!(
        Path::new(&format!("{}.1", log.trim())).exists(),
        "the log was rotated"
    );
    let last_line = docker(&["logs", "--tail", "1", "--timestamps", &name]);
    let last_line_at: chrono::DateTime<chrono::Utc> =
        chrono::DateTime::parse_from_rfc3339(last_line.split(' ').next().unwrap())
            .unwrap()
            .into();
    std::thread::sleep(Duration::from_millis(1500));

    let (code, sites, stderr) = audit(confs.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let e = entry(&sites, &quiet);
    assert_eq!(e["decision"], "stop", "{e}");
    assert_eq!(
        time(&e["last_activity"]).timestamp_millis(),
        last_line_at.timestamp_millis(),
        "{e}"
    );
    let e = entry(&sites, &busy);
    assert_eq!(e["decision"], "keep", "{e}");
}
