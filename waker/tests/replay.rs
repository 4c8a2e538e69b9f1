//! A request never runs twice: POSTs and GETs to a counting script (one line per run) through
//! nginx and the waker, while the site is stopped again and again and php-fpm's workers are
//! killed mid-request.

use fpm_tests::require_docker;
use fpm_tests::stack::{Stack, LOAD_PER_ROUND};
use std::path::Path;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fpm-waker"))
}

#[test]
fn no_post_runs_twice_under_stops_and_killed_workers() {
    require_docker();
    let s = Stack::boot("replay", &["a"], "20m", bin());
    assert_eq!(s.get("a", "test").0, 200);
    // systemd stops the site, and workers are killed while they run a request.
    let disturb = format!(
        "n=0; k=0; while [ ! -e /tmp/stop-disturbing ]; do \
           sleep 0.7; docker exec {} pkill -KILL -f 'php-fpm: pool' && k=$((k+1)); \
           sleep 0.7; systemctl stop {} && n=$((n+1)) && echo $n > /tmp/stops; \
         done; echo \"$n stops $k kills\" > /tmp/disturbed",
        s.container("a"),
        s.fpm_unit("a")
    );
    let (answers, disturbed) =
        s.count_load("a", "test", (13, 300, "0.$((RANDOM % 5))"), (&disturb, 3));
    assert!(
        answers.len() >= 13 * LOAD_PER_ROUND && answers.len().is_multiple_of(LOAD_PER_ROUND),
        "every request answered: {} answers",
        answers.len()
    );
    let ran = s.count_runs();
    let journal = s.journal(&[&s.waker_service("a")]);
    let refused_posts = journal
        .lines()
        .filter(|l| l.contains("not sent again") && l.contains("method=\"POST\""))
        .count();
    let summary = format!(
        "{disturbed}; answers: {} x 200, {} other; {} runs; {refused_posts} POSTs reset and not sent again; {} replays",
        answers.iter().filter(|a| a.code == 200).count(),
        answers.iter().filter(|a| a.code != 200).count(),
        ran.values().sum::<usize>(),
        journal.matches("replaying it").count(),
    );
    println!("{summary}");
    for a in &answers {
        let runs = ran.get(&a.id).copied().unwrap_or(0);
        if a.method == "POST" {
            assert!(
                runs <= 1,
                "POST {} ran {runs} times ({summary})\n{journal}",
                a.id
            );
        }
        if a.code == 200 {
            assert!(
                runs >= 1,
                "{} {} answered 200 but never ran ({summary})",
                a.method,
                a.id
            );
        }
    }
    // Each waker process counts what it left unanswered, 1, 2, 3, ... in its log lines.
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for line in journal.lines().filter(|l| l.contains("nginx answers 502")) {
        let pid = line.split_whitespace().nth(4).unwrap_or_default();
        let n = counts.entry(pid).or_default();
        *n += 1;
        assert!(
            line.contains(&format!("unanswered={n}")),
            "each unanswered request is logged with the site's running count: {line}"
        );
    }
    let stops: usize = disturbed
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(stops >= 3, "the site was stopped often enough: {disturbed}");
}
