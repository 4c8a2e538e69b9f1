//! A request never runs twice: POSTs and GETs to a counting script (one line per run) through
//! nginx and the waker, while the site is stopped again and again and php-fpm's workers are
//! killed mid-request.

use fpm_tests::require_docker;
use fpm_tests::stack::Stack;
use std::collections::BTreeMap;
use std::path::Path;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fpm-waker"))
}

/// Rounds of four requests (two POSTs, two GETs), each busy for 300 ms in php.
const ROUNDS: usize = 25;

#[test]
fn no_post_runs_twice_under_stops_and_killed_workers() {
    require_docker();
    let s = Stack::boot("replay", &["a"], "20m", bin());
    let site = s.site("a");
    assert_eq!(s.get("a", "test").0, 200);
    let client = format!(
        "for i in $(seq 1 {ROUNDS}); do \
           for j in 1 2 3 4; do \
             if [ $((j % 2)) = 1 ]; then m=POST; data=\"-d id=$i-$j\"; q=''; else m=GET; data=''; q=\"&id=$i-$j\"; fi; \
             curl -s -m 40 -o /dev/null -w \"$i-$j $m %{{http_code}}\\n\" $data \
               -H 'Host: {site}.test' \"http://127.0.0.1:8080/count.php?ms=300$q\" & \
           done; wait; sleep 0.$((RANDOM % 5)); \
         done"
    );
    // The reaper's stop (through systemd), and workers killed while they run a request.
    let unit = s.unit("fpm@", "a", "service");
    let container = s.container("a");
    let disturb = format!(
        "n=0; k=0; while [ ! -e /tmp/stop-disturbing ]; do \
           sleep 0.7; docker exec {container} pkill -KILL -f 'php-fpm: pool' && k=$((k+1)); \
           sleep 0.7; systemctl stop {unit} && n=$((n+1)); \
         done; echo \"$n stops $k kills\" > /tmp/disturbed"
    );
    let started = s.host.exec(&[
        "sh",
        "-c",
        "nohup sh -c \"$1\" >/dev/null 2>&1 &",
        "sh",
        &disturb,
    ]);
    assert!(started.status.success());
    let out = s.host.exec(&["bash", "-c", &client]);
    s.host.ok(&["touch", "/tmp/stop-disturbing"]);
    fpm_tests::wait_until(
        std::time::Duration::from_secs(10),
        "the disturber to end",
        || {
            s.host
                .exec(&["test", "-e", "/tmp/disturbed"])
                .status
                .success()
        },
    );
    let disturbed = s.host.ok(&["cat", "/tmp/disturbed"]);

    let answers: Vec<(String, String, u16)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.into(), w.next()?.into(), w.next()?.parse().ok()?))
        })
        .collect();
    assert_eq!(answers.len(), ROUNDS * 4, "every request answered");
    let log = std::fs::read_to_string(s.files().join("data/count.log")).unwrap_or_default();
    let mut ran: BTreeMap<String, usize> = BTreeMap::new();
    for line in log.lines() {
        if let Some((_, id)) = line.split_once(' ') {
            *ran.entry(id.to_owned()).or_default() += 1;
        }
    }
    let journal = s.journal(&[&s.unit("fpm-waker@", "a", "service")]);
    let refused_posts = journal
        .lines()
        .filter(|l| l.contains("not sent again") && l.contains("method=\"POST\""))
        .count();
    let summary = format!(
        "{disturbed}; answers: {} x 200, {} other; {} runs logged; {} POSTs reset and not sent again; {} replays",
        answers.iter().filter(|a| a.2 == 200).count(),
        answers.iter().filter(|a| a.2 != 200).count(),
        log.lines().count(),
        refused_posts,
        journal.matches("replaying it").count(),
    );
    println!("{summary}");
    for (id, method, code) in &answers {
        let runs = ran.get(id).copied().unwrap_or(0);
        if method == "POST" {
            assert!(
                runs <= 1,
                "POST {id} ran {runs} times ({summary})\n{journal}"
            );
        }
        if *code == 200 {
            assert!(
                runs >= 1,
                "{method} {id} answered 200 but never ran ({summary})"
            );
        }
    }
    let stops: usize = disturbed
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(stops >= 3, "the site was stopped often enough: {disturbed}");
}
