//! Unit tests of `daemon::queue` (the watcher crate).
use super::*;

fn site(s: &str) -> Site {
    Site::new(s).unwrap()
}

fn names(runs: &[(Site, Cause)]) -> Vec<&str> {
    runs.iter().map(|(s, _)| s.as_str()).collect()
}

#[test]
fn a_site_asked_for_many_times_runs_once_and_once_more_after() {
    let mut q = Queue::new(4);
    for _ in 0..1000 {
        q.ask(site("a"), Cause::Systemd);
    }
    assert_eq!(names(&q.start()), ["a"]);
    // Asked for again and again while it runs: one more run, after this one.
    for _ in 0..1000 {
        q.ask(site("a"), Cause::Systemd);
    }
    assert!(q.start().is_empty(), "never two runs of one site at once");
    q.done(&site("a"));
    assert_eq!(names(&q.start()), ["a"]);
    q.done(&site("a"));
    assert!(q.start().is_empty(), "nothing more asked for");
}

#[test]
fn a_slow_site_holds_one_slot_and_the_others_go_on_in_order() {
    let mut q = Queue::new(2);
    q.ask(site("slow"), Cause::Event);
    assert_eq!(names(&q.start()), ["slow"]);
    for s in ["b", "c", "d"] {
        q.ask(site(s), Cause::Event);
    }
    assert_eq!(names(&q.start()), ["b"]);
    q.done(&site("b"));
    assert_eq!(names(&q.start()), ["c"]);
    q.done(&site("c"));
    assert_eq!(names(&q.start()), ["d"]);
    q.ask(site("slow"), Cause::Event);
    q.done(&site("slow"));
    assert_eq!(names(&q.start()), ["slow"]);
}

#[test]
fn the_first_cause_is_kept() {
    let mut q = Queue::new(1);
    q.ask(site("a"), Cause::Event);
    q.ask(site("a"), Cause::Periodic);
    assert_eq!(q.start(), [(site("a"), Cause::Event)]);
}
