//! `systemctl reload fpm-watcher` on a host under load: a config that cannot be used fails the
//! reload, names its file and line, and changes nothing; a new `max_awake` is in force at once
//! (starts waiting for room are let in, and the new budget holds), the watcher is not restarted,
//! no request of a busy site fails, and the events stream still follows Docker afterwards.

use fpm_tests::stack::Stack;
use fpm_tests::{docker, require_docker, wait_until};
use std::path::Path;
use std::time::{Duration, Instant};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fpm-watcher"))
}

/// No awake site is ever quiet and old enough to stop: only the budget's size lets starts in.
const BUDGET: &str = "[budget]\nmax_awake = 2\nmin_awake_secs = 3600\nwait_secs = 20\n";

/// Requests `site` in the background every 0.2 s until /tmp/stop exists; codes to /tmp/busy.out.
fn busy(site: &str) -> String {
    format!(
        "rm -f /tmp/busy.out /tmp/stop; (while [ ! -e /tmp/stop ]; do \
           curl -s -o /dev/null -m 60 -H 'Host: {site}.test' -w '%{{http_code}}\\n' \
             http://127.0.0.1:8080/index.php; sleep 0.2; \
         done) >> /tmp/busy.out 2>/dev/null </dev/null &"
    )
}

/// Requests each of `sites` once in the background; `SITE CODE SECONDS` lines to /tmp/waiting.out.
fn wake_in_background(sites: &[String]) -> String {
    sites
        .iter()
        .map(|site| {
            format!(
                "(curl -s -o /dev/null -m 60 -H 'Host: {site}.test' \
                   -w '{site} %{{http_code}} %{{time_total}}\\n' \
                   http://127.0.0.1:8080/index.php >> /tmp/waiting.out) </dev/null >/dev/null 2>&1 &"
            )
        })
        .collect()
}

fn watcher_log(s: &Stack) -> String {
    s.host
        .ok(&["journalctl", "-u", "fpm-watcher", "--no-pager", "-o", "cat"])
}

fn main_pid(s: &Stack) -> String {
    s.host
        .ok(&["systemctl", "show", "-P", "MainPID", "fpm-watcher.service"])
}

#[test]
fn a_reload_puts_a_new_budget_in_force_under_load_and_misses_no_event() {
    require_docker();
    let tags = ["a", "b", "c", "d", "e"];
    let s = Stack::boot_configured("reload", &tags, "20m", bin(), BUDGET);
    s.host.ok(&["systemctl", "start", "fpm-watcher.service"]);
    for tag in ["a", "b"] {
        assert_eq!(s.get(tag, "test").0, 200, "{tag} wakes within the budget");
    }
    let pid = main_pid(&s);
    s.host.ok(&["bash", "-c", &busy(&s.site("a"))]);
    let waiting: Vec<String> = ["c", "d"].iter().map(|t| s.site(t)).collect();
    s.host.ok(&["bash", "-c", &wake_in_background(&waiting)]);
    wait_until(Duration::from_secs(20), "c and d to wait for room", || {
        let status = s.host.ok(&["fpm-ondemand", "status"]);
        waiting.iter().all(|site| status.contains(site.as_str()))
            && status.contains("budget: 2 of 2 sites awake")
    });

    // A config that cannot be used: the reload fails, saying where, and nothing changes.
    let good = s.host.config().expect("the stack's config");
    s.host
        .write_config(&good.replace("max_awake = 2", "max_awake = \"four\""));
    let refused = s.host.exec(&["systemctl", "reload", "fpm-watcher.service"]);
    assert!(!refused.status.success(), "a bad config fails the reload");
    let log = watcher_log(&s);
    let line = 1 + good.lines().position(|l| l == "max_awake = 2").unwrap();
    assert!(
        log.contains(&format!(
            "/etc/fpm-ondemand/config.toml:{line}: budget.max_awake: \"four\""
        )),
        "the reload names file, line and value:\n{log}"
    );
    assert!(!log.contains("reload: budget"), "{log}");
    s.host.write_config(&good);
    let status = s.host.ok(&["fpm-ondemand", "status"]);
    assert!(status.contains("budget: 2 of 2 sites awake"), "{status}");
    assert!(
        waiting.iter().all(|site| status.contains(site.as_str())),
        "{status}"
    );

    // max_awake 4: the waiting starts are let in at once, long before their wait ends.
    s.host
        .write_config(&good.replace("max_awake = 2", "max_awake = 4"));
    let reloaded = Instant::now();
    s.host.ok(&["systemctl", "reload", "fpm-watcher.service"]);
    wait_until(Duration::from_secs(30), "c and d to answer", || {
        s.host.ok(&["cat", "/tmp/waiting.out"]).lines().count() == 2
    });
    let answers = s.host.ok(&["cat", "/tmp/waiting.out"]);
    assert!(
        answers
            .lines()
            .all(|l| l.split_whitespace().nth(1) == Some("200")),
        "let in by the reload:\n{answers}"
    );
    assert!(
        reloaded.elapsed() < Duration::from_secs(15),
        "let in by the reload, not after a wait: {:?}",
        reloaded.elapsed()
    );
    let log = watcher_log(&s);
    assert!(
        log.contains("reload: budget of awake sites re-read and in force max_awake=4"),
        "{log}"
    );

    // The new budget holds: a fifth site finds no room and gets the 503 after its wait.
    let (code, body) = s.get("e", "test");
    assert_eq!(code, 503, "four of four are awake: {body}");
    let status = s.host.ok(&["fpm-ondemand", "status"]);
    assert!(status.contains("budget: 4 of 4 sites awake"), "{status}");

    // The busy site never failed, and the watcher was not restarted.
    s.host.ok(&["touch", "/tmp/stop"]);
    std::thread::sleep(Duration::from_millis(500));
    let codes = s.host.ok(&["cat", "/tmp/busy.out"]);
    assert!(codes.lines().count() > 20, "the load ran:\n{codes}");
    assert!(
        codes.lines().all(|c| c == "200"),
        "busy site's answers:\n{codes}"
    );
    assert_eq!(main_pid(&s), pid, "reloaded, not restarted");

    // The events stream still follows Docker: a container stopped behind systemd's back is seen.
    docker(&["stop", "-t", "1", &s.container("c")]);
    wait_until(Duration::from_secs(15), "fpm@c to go inactive", || {
        s.host.active_state(&s.fpm_unit("c")) == "inactive"
    });
}
