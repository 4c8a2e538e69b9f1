//! A stop through `fpm@SITE.service` loses nothing and runs nothing twice: `stop-container`
//! drains the site first. Concurrent POSTs and GETs (more than php-fpm has workers, so some wait
//! in its backlog) to a counting script, while the site is stopped again and again through
//! systemctl and through the reaper, in both nginx variants: every request is answered 200 and
//! ran exactly once, and the waker never had to replay or refuse one.

use fpm_tests::stack::{Answer, Stack, LOAD_PER_ROUND};
use fpm_tests::{require_docker, wait_until};
use std::path::Path;
use std::time::{Duration, Instant};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fpm-watcher"))
}

/// Stops the site through systemd every second.
fn systemctl_stops(s: &Stack) -> String {
    format!(
        "n=0; while [ ! -e /tmp/stop-disturbing ]; do \
           sleep 1; systemctl stop {} && n=$((n+1)) && echo $n > /tmp/stops; \
         done; echo \"$n stops\" > /tmp/disturbed",
        s.fpm_unit("a")
    )
}

/// Checks what a visitor and the site's data would show, and returns the number of stops.
fn check(s: &Stack, what: &str, answers: &[Answer], disturbed: &str, rounds: usize) -> usize {
    let ran = s.count_runs();
    let waker = s.journal(&[&s.waker_service("a")]);
    let fpm = s.journal(&[&s.fpm_unit("a")]);
    let failed: Vec<&Answer> = answers.iter().filter(|a| a.code != 200).collect();
    let twice: Vec<(&String, &usize)> = ran.iter().filter(|(_, n)| **n != 1).collect();
    let summary = format!(
        "{what}: {disturbed}, {} requests, {} not 200, {} ids not run exactly once, {} drains logged",
        answers.len(),
        failed.len(),
        twice.len(),
        fpm.matches("drained: php-fpm has taken every queued request").count()
    );
    println!("{summary}");
    assert!(
        answers.len() >= rounds * LOAD_PER_ROUND && answers.len().is_multiple_of(LOAD_PER_ROUND),
        "{summary}: whole rounds, at least {rounds}"
    );
    assert!(failed.is_empty(), "{summary}: {failed:?}\n{waker}\n{fpm}");
    assert_eq!(ran.len(), answers.len(), "{summary}: every request ran");
    assert!(twice.is_empty(), "{summary}: {twice:?}");
    for word in ["replaying it", "not sent again", "without answering"] {
        assert!(
            !waker.contains(word),
            "{summary}: the waker logged {word:?}\n{waker}"
        );
    }
    disturbed
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn storm(vhost: &str, through_reaper: bool) {
    require_docker();
    let window = if through_reaper { "1s" } else { "20m" };
    let s = Stack::boot(&format!("drain{vhost}"), &["a"], window, bin());
    assert_eq!(s.get("a", vhost).0, 200);
    s.host.ok(&["systemctl", "start", "fpm-watcher.service"]);
    let (rounds, gap, disturb, at_least) = if through_reaper {
        (30, "1.$((RANDOM % 5))", s.reaper_stops("a"), 8)
    } else {
        (40, "0.$((RANDOM % 5))", systemctl_stops(&s), 15)
    };
    let (answers, disturbed) = s.count_load("a", vhost, (rounds, 300, gap), (&disturb, at_least));
    let how = if through_reaper {
        "reaper"
    } else {
        "systemctl"
    };
    let stops = check(
        &s,
        &format!("{vhost} vhost, {how}"),
        &answers,
        &disturbed,
        rounds,
    );
    assert!(stops >= at_least, "only {stops} stops: {disturbed}");
}

#[test]
fn through_the_waker_stopped_by_systemctl() {
    storm("test", false);
}

#[test]
fn through_the_upstream_variant_stopped_by_systemctl() {
    storm("fast", false);
}

#[test]
fn through_the_waker_stopped_by_the_reaper() {
    storm("test", true);
}

#[test]
fn through_the_upstream_variant_stopped_by_the_reaper() {
    storm("fast", true);
}

/// A stop that begins while php-fpm is still starting (its container runs, its socket is not
/// there yet) while a POST waits at the waker: the stop waits for php-fpm's socket and drains it,
/// the waker starts the site again if the stop moved the socket away first, and the POST is
/// answered 200 and ran once, long before the start timeout.
#[test]
fn a_stop_while_php_fpm_starts_loses_no_held_request() {
    require_docker();
    let mut s = Stack::boot("drainstart", &["a"], "20m", bin());
    s.create_slow_site_container("a", 3);
    let unit = s.fpm_unit("a");
    let socket = s.sockets.path().join(s.site("a")).join("php-fpm.sock");
    std::thread::scope(|scope| {
        let post = scope.spawn(|| s.fetch("a", "test", "/count.php?ms=10", &["-d", "id=held-1"]));
        wait_until(
            Duration::from_secs(20),
            "the site's unit to be active",
            || s.host.active_state(&unit) == "active",
        );
        assert!(!socket.exists(), "php-fpm is still starting");
        let begun = Instant::now();
        s.host.ok(&["systemctl", "stop", &unit]);
        let (code, body) = post.join().unwrap();
        let took = begun.elapsed();
        let fpm = s.journal(&[&unit]);
        let waker = s.journal(&[&s.waker_service("a")]);
        assert_eq!(code, 200, "{body}\n{fpm}\n{waker}");
        assert!(
            took < Duration::from_secs(20),
            "answered after {took:?}\n{waker}"
        );
        assert!(
            fpm.contains("drained: php-fpm has taken every queued request"),
            "the stop waited for php-fpm's socket and drained it:\n{fpm}"
        );
    });
    assert_eq!(
        s.count_runs().get("held-1"),
        Some(&1),
        "{:?}",
        s.count_runs()
    );
}

/// php-fpm's own default `process_control_timeout` (0: its SIGQUIT becomes SIGTERM at once, and
/// the requests its workers run are killed): a 3 s request in flight is still answered in full
/// across a stop by systemctl and one by the reaper, in both nginx variants, because the stop
/// waits until php-fpm's workers hold no request before php-fpm gets its signal.
#[test]
fn a_request_in_flight_is_answered_in_full_with_php_fpms_default_control_timeout() {
    require_docker();
    let s = Stack::boot("drainpct", &["a"], "1s", bin());
    keep_php_fpms_default_control_timeout(&s);
    let stop_by = |how: &str| match how {
        "systemctl" => s.host.ok(&["systemctl", "stop", &s.fpm_unit("a")]),
        _ => s.host.ok(&["fpm-reaper", "--site", &s.site("a")]),
    };
    for (vhost, how) in [
        ("test", "systemctl"),
        ("fast", "systemctl"),
        ("test", "reaper"),
        ("fast", "reaper"),
    ] {
        assert_eq!(s.get("a", vhost).0, 200, "awake");
        let id = format!("{vhost}-{how}");
        let (answer, stop_took) = std::thread::scope(|scope| {
            let slow =
                scope.spawn(|| s.fetch("a", vhost, &format!("/count.php?ms=3000&id={id}"), &[]));
            std::thread::sleep(Duration::from_millis(1500));
            let asked = Instant::now();
            stop_by(how);
            let took = asked.elapsed();
            (slow.join().unwrap(), took)
        });
        assert_eq!(
            (answer.0, answer.1.trim()),
            (200, format!("ran {id}").as_str()),
            "{vhost}, stopped by {how}"
        );
        assert!(
            stop_took >= Duration::from_millis(800),
            "{vhost}, {how}: the stop waited for the request ({stop_took:?})"
        );
        assert_eq!(s.host.active_state(&s.fpm_unit("a")), "inactive", "{how}");
    }
    let fpm = s.journal(&[&s.fpm_unit("a")]);
    assert_eq!(
        fpm.matches("php-fpm's workers finished the requests they held")
            .count(),
        4,
        "{fpm}"
    );
    let runs = s.count_runs();
    assert!(
        runs.len() == 4 && runs.values().all(|n| *n == 1),
        "each request ran once: {runs:?}"
    );
}

/// Takes `process_control_timeout` out of the stack's pool: php-fpm's default (0) from then on.
fn keep_php_fpms_default_control_timeout(s: &Stack) {
    let pool = s.files().join("pool.conf");
    let text = std::fs::read_to_string(&pool).unwrap();
    let default: String = text
        .lines()
        .filter(|l| !l.starts_with("process_control_timeout"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(
        default, text,
        "the stack's pool sets it: php-fpm's default here"
    );
    std::fs::write(&pool, default).unwrap();
}

/// The third way a site is stopped, a budget eviction, with php-fpm's default
/// `process_control_timeout`: one site may be awake; a's 3 s request has logged nothing yet
/// when b asks for room, so a is the site quiet longest and is stopped for b while the request
/// runs. The stop waits for it: a's request is answered in full, and b is served after.
#[test]
fn a_request_in_flight_is_answered_in_full_across_a_budget_eviction() {
    require_docker();
    let config = "[budget]\nmax_awake = 1\nmin_awake_secs = 1\nmin_idle_secs = 1\nwait_secs = 30\n";
    let s = Stack::boot_configured("drainevict", &["a", "b"], "20m", bin(), config);
    keep_php_fpms_default_control_timeout(&s);
    s.host.ok(&["systemctl", "start", "fpm-watcher.service"]);
    assert_eq!(s.get("a", "test").0, 200, "a awake");
    std::thread::sleep(Duration::from_millis(1200));
    let (slow, other) = std::thread::scope(|scope| {
        let slow = scope.spawn(|| s.fetch("a", "test", "/count.php?ms=3000&id=evicted", &[]));
        std::thread::sleep(Duration::from_millis(1500));
        let other = s.get("b", "test");
        (slow.join().unwrap(), other)
    });
    let watcher = s
        .host
        .ok(&["journalctl", "-u", "fpm-watcher", "--no-pager", "-o", "cat"]);
    let a = format!("site={} ", s.site("a"));
    assert!(
        watcher.lines().any(
            |l| l.starts_with("stopping the site quiet longest to make room") && l.contains(&a)
        ),
        "a was evicted for b:\n{watcher}"
    );
    assert_eq!(
        (slow.0, slow.1.trim()),
        (200, "ran evicted"),
        "a's request across its eviction:\n{}",
        s.journal(&[&s.fpm_unit("a")])
    );
    assert_eq!(other.0, 200, "b served after: {}", other.1);
    assert_eq!(s.host.active_state(&s.fpm_unit("a")), "inactive");
    let fpm = s.journal(&[&s.fpm_unit("a")]);
    assert!(
        fpm.contains("php-fpm's workers finished the requests they held"),
        "{fpm}"
    );
    assert_eq!(s.count_runs().get("evicted"), Some(&1));
}
