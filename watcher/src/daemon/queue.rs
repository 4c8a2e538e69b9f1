//! Which site reconciles run next, beside the daemon's loop: one at a time per site, a site asked
//! for again while it runs is run once more after (however often it was asked), and a bounded
//! number run at once, in the order they were asked for.

use crate::actor::Cause;
use fpm_shared::Site;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The reconciles asked for and running.
#[derive(Debug)]
pub struct Queue {
    max: usize,
    running: BTreeSet<Site>,
    /// Asked for and not running, oldest first, each site once, with its first cause.
    waiting: VecDeque<(Site, Cause)>,
    /// Asked for again while running: run once more when that run ends.
    again: BTreeMap<Site, Cause>,
}

impl Queue {
    /// A queue that runs at most `max` reconciles at once.
    pub fn new(max: usize) -> Queue {
        Queue {
            max: max.max(1),
            running: BTreeSet::new(),
            waiting: VecDeque::new(),
            again: BTreeMap::new(),
        }
    }

    /// Asks for a reconcile of `site`; one already asked for and not started covers it.
    pub fn ask(&mut self, site: Site, cause: Cause) {
        if self.running.contains(&site) {
            self.again.entry(site).or_insert(cause);
        } else if !self.waiting.iter().any(|(s, _)| *s == site) {
            self.waiting.push_back((site, cause));
        }
    }

    /// The run of `site` ended.
    pub fn done(&mut self, site: &Site) {
        self.running.remove(site);
        if let Some(cause) = self.again.remove(site) {
            self.waiting.push_back((site.clone(), cause));
        }
    }

    /// The runs to start now, marked running.
    pub fn start(&mut self) -> Vec<(Site, Cause)> {
        let mut starting = Vec::new();
        while self.running.len() < self.max {
            let Some((site, cause)) = self.waiting.pop_front() else {
                break;
            };
            self.running.insert(site.clone());
            starting.push((site, cause));
        }
        starting
    }
}

#[cfg(test)]
mod tests {
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
}
