//! A stop through `fpm@SITE.service` loses nothing and runs nothing twice: `stop-container`
//! drains the site first. Concurrent POSTs and GETs (more than php-fpm has workers, so some wait
//! in its backlog) to a counting script, while the site is stopped again and again through
//! systemctl and through the reaper, in both nginx variants: every request is answered 200 and
//! ran exactly once, and the waker never had to replay or refuse one.

use fpm_tests::require_docker;
use fpm_tests::stack::{Answer, Stack, LOAD_PER_ROUND};
use std::path::Path;

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

/// Runs the acting reaper every 0.3 s (the site's window is 1 s: it stops the site in the
/// load's gaps).
fn reaper_stops(s: &Stack) -> String {
    format!(
        "n=0; while [ ! -e /tmp/stop-disturbing ]; do \
           fpm-reaper --format json --site {} | grep -q '\"action\": \"stopped\"' && n=$((n+1)) && echo $n > /tmp/stops; \
           sleep 0.3; \
         done; echo \"$n stops\" > /tmp/disturbed",
        s.site("a")
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
        (30, "1.$((RANDOM % 5))", reaper_stops(&s), 8)
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
