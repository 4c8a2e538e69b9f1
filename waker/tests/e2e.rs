//! The whole request path, end to end: nginx -> the waker socket (systemd) -> fpm-waker ->
//! fpm@SITE.service -> the site's php-fpm container -> php-fpm.sock.

use fpm_tests::host::container_status;
use fpm_tests::stack::{Stack, LOAD_PER_ROUND, SHORT_START_TIMEOUT};
use fpm_tests::{docker, require_docker, wait_until};
use std::path::Path;
use std::time::Duration;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fpm-waker"))
}

#[test]
fn a_first_request_to_a_stopped_site_is_answered_by_php() {
    require_docker();
    let s = Stack::boot("cold", &["a"], "20m", bin());
    let container = s.container("a");
    assert_eq!(container_status(&container), "created", "the site sleeps");
    let (code, body) = s.get("a", "test");
    assert_eq!(
        (code, body.trim()),
        (200, format!("hello from {}", s.site("a")).as_str())
    );
    assert_eq!(container_status(&container), "running");
    assert_eq!(s.host.active_state(&s.fpm_unit("a")), "active");
    let (code, _) = s.get("a", "test");
    assert_eq!(code, 200, "a warm request");

    // In the journal with native fields: every line about the site, whichever tool wrote it.
    let site = format!("SITE={}", s.site("a"));
    let about = s
        .host
        .ok(&["journalctl", "--no-pager", "-o", "json", &site]);
    let entries: Vec<serde_json::Value> = about
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let accepted = entries
        .iter()
        .find(|e| {
            e["MESSAGE"]
                .as_str()
                .is_some_and(|m| m.starts_with("php-fpm accepts"))
        })
        .unwrap_or_else(|| panic!("the waker's start in the journal:\n{about}"));
    assert_eq!(accepted["UNIT"], s.fpm_unit("a"), "{accepted}");
    assert_eq!(
        accepted["_SYSTEMD_UNIT"],
        s.waker_service("a"),
        "{accepted}"
    );
    let took: u64 = accepted["TOOK_MS"].as_str().unwrap().parse().unwrap();
    assert!(took > 0, "{accepted}");
    assert!(
        accepted["MESSAGE"]
            .as_str()
            .unwrap()
            .contains(&format!("took_ms={took}")),
        "the line keeps its fields for people: {accepted}"
    );
    assert!(
        entries
            .iter()
            // By our own fields: journald adds _SYSTEMD_UNIT only when it reads the sender's
            // cgroup while it runs, and start-container exits right after this line (seen
            // missing on a Debian 13 host).
            .any(|e| e["TARGET"] == "fpm_watcher::start_container"
                && e["UNIT"] == s.fpm_unit("a")
                && e["CONTAINER"] == container.as_str()),
        "fpm@'s start-container logs the site and container too:\n{about}"
    );
}

/// How many times Docker started the container since `since` (a `docker events` time).
fn starts(container: &str, since: &str) -> usize {
    let until = chrono_now();
    let out = docker(&[
        "events",
        "--since",
        since,
        "--until",
        &until,
        "--filter",
        &format!("container={container}"),
        "--filter",
        "event=start",
        "--format",
        "{{.Actor.Attributes.name}}",
    ]);
    out.lines().filter(|l| *l == container).count()
}

fn chrono_now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

#[test]
fn a_burst_of_50_first_requests_all_succeed_with_one_start() {
    require_docker();
    let s = Stack::boot("burst", &["a"], "20m", bin());
    let since = chrono_now();
    let codes = s.get_parallel("a", 50);
    assert_eq!(codes.len(), 50);
    assert!(codes.iter().all(|c| *c == 200), "{codes:?}");
    assert_eq!(starts(&s.container("a"), &since), 1);
}

#[test]
fn the_reaper_stops_an_idle_site_and_the_next_request_starts_it_again() {
    require_docker();
    let s = Stack::boot("reap", &["a"], "1s", bin());
    let (unit, container) = (s.fpm_unit("a"), s.container("a"));
    assert_eq!(s.get("a", "test").0, 200);
    std::thread::sleep(Duration::from_millis(1500));
    let report = s.host.ok(&["fpm-reaper", "--format", "json"]);
    assert!(report.contains("\"action\": \"stopped\""), "{report}");
    assert_eq!(s.host.active_state(&unit), "inactive");
    assert_eq!(container_status(&container), "exited");
    let (code, body) = s.get("a", "test");
    assert_eq!(code, 200, "{body}");
    assert_eq!(container_status(&container), "running");
}

#[test]
fn a_site_stopped_out_of_band_recovers_through_the_watcher() {
    require_docker();
    let s = Stack::boot("oob", &["a"], "20m", bin());
    s.host.ok(&["systemctl", "start", "fpm-watcher.service"]);
    let unit = s.fpm_unit("a");
    assert_eq!(s.get("a", "test").0, 200);
    // The watcher saw the waker start while the site was still down: it must leave it alone.
    let waker = s.waker_service("a");
    assert_eq!(
        s.host.active_state(&waker),
        "active",
        "the waker serves until its idle timeout"
    );
    docker(&["stop", &s.container("a")]);
    wait_until(
        Duration::from_secs(2),
        "the watcher to mark the unit inactive",
        || s.host.active_state(&unit) == "inactive",
    );
    let (code, body) = s.get("a", "test");
    assert_eq!(code, 200, "{body}");
}

/// Rounds of requests with gaps around the 1 s window while the reaper runs every 0.3 s: the
/// reaper stops the site in some gaps (by chance: the load goes on until it has stopped it three
/// times), and every request still gets a 200.
#[test]
fn requests_racing_repeated_reaper_stops_all_get_200() {
    require_docker();
    let s = Stack::boot("race", &["a"], "1s", bin());
    s.host.ok(&["systemctl", "start", "fpm-watcher.service"]);
    let (answers, disturbed) = s.count_load(
        "a",
        "test",
        (16, 10, "1.$((RANDOM % 4))"),
        (&s.reaper_stops("a"), 3),
    );
    assert!(
        answers.len() >= 16 * LOAD_PER_ROUND,
        "{disturbed}: {answers:?}"
    );
    if answers.iter().any(|a| a.code != 200) {
        let journal = s.journal(&[&s.waker_service("a"), &s.fpm_unit("a")]);
        panic!("every request gets a 200 ({disturbed}): {answers:?}\n{journal}");
    }
    let since_boot = s.journal(&[&s.fpm_unit("a")]);
    let stops = since_boot.matches("Deactivated successfully").count();
    assert!(
        stops >= 3,
        "the reaper stopped the site only {stops} times ({disturbed}):\n{since_boot}"
    );
}

#[test]
fn the_upstream_variant_skips_the_waker_when_warm_and_falls_back_when_asleep() {
    require_docker();
    let s = Stack::boot("upstream", &["a"], "20m", bin());
    let waker = s.waker_service("a");
    let (code, body) = s.get("a", "fast");
    assert_eq!(code, 200, "a cold request falls back to the waker: {body}");
    wait_until(Duration::from_secs(10), "the idle waker to exit", || {
        s.host.active_state(&waker) == "inactive"
    });
    for _ in 0..5 {
        assert_eq!(s.get("a", "fast").0, 200);
    }
    assert_eq!(
        s.host.active_state(&waker),
        "inactive",
        "warm requests went straight to php-fpm"
    );
}

#[test]
fn the_waker_exits_when_idle_and_systemd_listens_again() {
    require_docker();
    let s = Stack::boot("idle", &["a"], "20m", bin());
    let (waker, socket) = (s.waker_service("a"), s.waker_socket("a"));
    assert_eq!(s.get("a", "test").0, 200);
    assert_eq!(s.host.active_state(&waker), "active");
    wait_until(Duration::from_secs(10), "the idle waker to exit", || {
        s.host.active_state(&waker) == "inactive"
    });
    assert_eq!(s.host.active_state(&socket), "active");
    let show = s.host.ok(&["systemctl", "show", "-p", "Result", &waker]);
    assert_eq!(show, "Result=success");
    assert_eq!(
        s.get("a", "test").0,
        200,
        "the next request wakes a new waker"
    );
}

#[test]
fn a_site_that_cannot_start_gets_a_quick_502() {
    require_docker();
    let s = Stack::boot("nostart", &["a"], "20m", bin());
    docker(&["rm", &s.container("a")]);
    let started = std::time::Instant::now();
    let (code, _) = s.get("a", "test");
    assert_eq!(code, 502);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no hang: {:?}",
        started.elapsed()
    );
    let journal = s.journal(&[&s.waker_service("a")]);
    assert!(
        journal.contains("cannot reach php-fpm") && journal.contains("fpm@"),
        "{journal}"
    );
}

#[test]
fn the_waker_refuses_to_run_without_a_socket_from_systemd() {
    let out = std::process::Command::new(bin())
        .arg("blog")
        .env_remove("LISTEN_FDS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("LISTEN_FDS") && err.contains("fpm-waker@SITE.socket"),
        "{err}"
    );
}

#[test]
fn a_site_whose_php_fpm_never_listens_gets_a_502_after_the_start_timeout() {
    require_docker();
    let mut s = Stack::boot_with("timeout", &["a"], "20m", bin(), (SHORT_START_TIMEOUT, ""));
    // The container starts, but nothing ever listens on php-fpm.sock.
    let container = s.container("a");
    docker(&["rm", &container]);
    s.replace_with_silent_container(&container);
    let started = std::time::Instant::now();
    let (code, _) = s.get("a", "test");
    let took = started.elapsed();
    assert_eq!(code, 502);
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(15),
        "502 after the 5 s start timeout, not {took:?}"
    );
    let journal = s.journal(&[&s.waker_service("a")]);
    assert!(
        journal.contains("did not accept a connection within 5s of its container's start"),
        "the log says why:\n{journal}"
    );
}

#[test]
fn starts_queued_behind_running_stops_do_not_hit_a_start_limit() {
    require_docker();
    let s = Stack::boot("limit", &["a"], "20m", bin());
    let unit = s.fpm_unit("a");
    // A start requested while the reaper's stop still runs, over and over: as requests racing
    // repeated reaper stops do. systemd's default start limit fails this within a few rounds.
    s.host.ok(&["systemctl", "start", &unit]);
    for round in 0..8 {
        s.host.ok(&["systemctl", "stop", "--no-block", &unit]);
        let out = s.host.exec(&["systemctl", "start", &unit]);
        assert!(
            out.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (code, body) = s.get("a", "test");
    assert_eq!(code, 200, "{body}");
}

#[test]
fn one_failed_request_through_the_waker_leaves_it_in_service_in_the_upstream_variant() {
    require_docker();
    let s = Stack::boot("markdown", &["a"], "20m", bin());
    // The site cannot start (its container is not there): the request that nginx sends to the
    // backup, the waker socket, fails.
    let container = s.container("a");
    let away = format!("{container}-away");
    docker(&["rename", &container, &away]);
    let (code, _) = s.get("a", "fast");
    assert_eq!(code, 502, "a site that cannot start answers 502");
    docker(&["rename", &away, &container]);
    // Within nginx's default fail_timeout (10 s) of that failure, the sleeping site's next
    // requests still reach the waker, which starts it.
    let failed_at = std::time::Instant::now();
    for _ in 0..2 {
        let (code, body) = s.get("a", "fast");
        assert_eq!(code, 200, "the waker socket was marked down: {body}");
        s.host.ok(&["systemctl", "stop", &s.fpm_unit("a")]);
    }
    assert!(
        failed_at.elapsed() < Duration::from_secs(10),
        "inside nginx's fail_timeout: {:?}",
        failed_at.elapsed()
    );
    let errors = s.host.ok(&["cat", "/var/log/nginx/error.log"]);
    assert!(!errors.contains("no live upstreams"), "{errors}");
}
