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
mod tests;
