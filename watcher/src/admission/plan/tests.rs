//! Unit tests of `admission::plan` (the watcher crate).
use super::*;
use fpm_docker::activity::last_activity;
use fpm_docker::LastLog;

fn site(id: &str) -> Site {
    Site::new(id).unwrap()
}

fn sites(ids: &[&str]) -> BTreeSet<Site> {
    ids.iter().map(|s| site(s)).collect()
}

fn budget(max_awake: usize, max_starting: usize) -> Budget {
    Budget {
        max_awake,
        max_starting,
        ..Budget::default()
    }
}

fn waiting(ids: &[&str]) -> Vec<Waiting> {
    ids.iter()
        .enumerate()
        .map(|(i, s)| Waiting {
            ticket: i as u64 + 1,
            site: site(s),
        })
        .collect()
}

fn now() -> DateTime<Utc> {
    "2026-11-28T12:00:00Z".parse().unwrap()
}

fn ago(secs: i64) -> DateTime<Utc> {
    now() - chrono::Duration::seconds(secs)
}

#[test]
fn starts_go_in_arrival_order_while_there_is_room() {
    let board = Board {
        waiting: waiting(&["a", "b"]),
        awake: sites(&["x"]),
        ..Board::default()
    };
    assert_eq!(next_step(&board, &budget(3, 4)), Step::Admit(1));
    assert_eq!(next_step(&Board::default(), &budget(3, 4)), Step::Wait);
}

#[test]
fn with_the_budget_lifted_every_start_goes_in_at_once() {
    let board = Board {
        waiting: waiting(&["c", "d"]),
        starting: sites(&["a", "b"]),
        awake: sites(&["x", "y"]),
        ..Board::default()
    };
    assert_eq!(next_step(&board, &budget(2, 2)), Step::Wait);
    assert_eq!(next_step(&board, &budget(0, 2)), Step::Admit(1));
}

#[test]
fn at_most_max_starting_run_at_once() {
    let board = Board {
        waiting: waiting(&["c"]),
        starting: sites(&["a", "b"]),
        ..Board::default()
    };
    assert_eq!(next_step(&board, &budget(10, 2)), Step::Wait);
    assert_eq!(next_step(&board, &budget(10, 3)), Step::Admit(1));
}

#[test]
fn a_starting_site_counts_as_awake_and_not_twice() {
    // b's container already runs while its start finishes: one slot, not two.
    let board = Board {
        waiting: waiting(&["c"]),
        starting: sites(&["b"]),
        awake: sites(&["a", "b"]),
        ..Board::default()
    };
    assert_eq!(next_step(&board, &budget(3, 4)), Step::Admit(1));
    assert_eq!(next_step(&board, &budget(2, 4)), Step::MakeRoom);
}

#[test]
fn a_site_already_awake_is_let_in_at_once_even_when_full() {
    let board = Board {
        waiting: waiting(&["a"]),
        starting: sites(&["s1", "s2"]),
        awake: sites(&["a", "b"]),
        ..Board::default()
    };
    assert_eq!(next_step(&board, &budget(2, 2)), Step::Admit(1));
    // Unless it is being stopped: then it waits for that stop and for room like any other.
    let board = Board {
        evicting: sites(&["a"]),
        ..board
    };
    assert_eq!(next_step(&board, &budget(2, 2)), Step::Wait);
}

#[test]
fn room_is_made_once_per_start_that_could_run() {
    let full = Board {
        waiting: waiting(&["c", "d", "e"]),
        awake: sites(&["a", "b"]),
        ..Board::default()
    };
    assert_eq!(next_step(&full, &budget(2, 2)), Step::MakeRoom);
    let one_coming = Board {
        evicting: sites(&["a"]),
        ..full.clone()
    };
    // Two could start (max_starting 2), one stop is under way: one more.
    assert_eq!(next_step(&one_coming, &budget(2, 2)), Step::MakeRoom);
    let two_coming = Board {
        evicting: sites(&["a", "b"]),
        ..full
    };
    assert_eq!(next_step(&two_coming, &budget(2, 2)), Step::Wait);
}

/// An awake site, started `awake` seconds ago, whose newest log line is `log` seconds old.
fn candidate(id: &str, awake: i64, log: Option<i64>) -> Candidate {
    let last_log = log.map_or(LastLog::Never, |secs| LastLog::At(ago(secs)));
    Candidate {
        site: site(id),
        awake_since: ago(awake),
        last_active: last_activity(Some(ago(awake)), &last_log).unwrap(),
    }
}

#[test]
fn the_site_quiet_longest_goes_first() {
    let b = Budget {
        min_awake_secs: 60,
        min_idle_secs: 30,
        ..budget(2, 2)
    };
    let all = [
        candidate("busy", 600, Some(1)),
        candidate("quiet", 600, Some(300)),
        candidate("quieter", 900, Some(400)),
    ];
    assert_eq!(choose_victim(&all, &b, now()), Some(site("quieter")));
    // Never logged since its start: quiet since then.
    let never = [
        candidate("never", 500, None),
        candidate("quiet", 600, Some(300)),
    ];
    assert_eq!(choose_victim(&never, &b, now()), Some(site("never")));
}

#[test]
fn a_busy_or_newly_woken_site_is_never_stopped_for_room() {
    let b = Budget {
        min_awake_secs: 60,
        min_idle_secs: 30,
        ..budget(2, 2)
    };
    // Active 10 s ago; woken 20 s ago and never logged; a log line from before its start
    // does not make it quiet.
    let none = [
        candidate("busy", 600, Some(10)),
        candidate("new", 20, None),
        candidate("restarted", 40, Some(3600)),
    ];
    assert_eq!(choose_victim(&none, &b, now()), None);
    assert_eq!(choose_victim(&[], &b, now()), None);
    // Exactly at the limits it may go.
    let edge = [candidate("edge", 60, Some(30))];
    assert_eq!(choose_victim(&edge, &b, now()), Some(site("edge")));
}
