//! When a failed waker socket may be re-armed again: at once the first time, and backed off,
//! doubling up to five minutes, for a socket that fails again soon after each re-arm (a tenant
//! who put a folder where the socket belongs), so that one site cannot keep the watcher,
//! systemd and the journal busy.

use fpm_shared::Site;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A socket that needs re-arming again within this long of the moment it could be re-armed
/// again (its last re-arm, plus the pause then in force) failed again soon after that re-arm.
pub const FAILED_AGAIN_WITHIN: Duration = Duration::from_secs(60);

/// The first pause after a socket failed again soon after its re-arm.
pub const FIRST_PAUSE: Duration = Duration::from_secs(1);

/// The longest pause between two re-arms.
pub const LONGEST_PAUSE: Duration = Duration::from_secs(300);

/// One site's re-arms.
#[derive(Debug, Clone, Copy)]
struct Rearms {
    last: Instant,
    pause: Duration,
}

/// The re-arm history of every site whose waker socket was re-armed.
#[derive(Debug, Default)]
pub struct Backoff {
    sites: HashMap<Site, Rearms>,
}

/// What a re-arm of a site's socket may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Re-arm now.
    Now,
    /// Not before this instant.
    NotBefore(Instant),
}

impl Backoff {
    /// Whether `site`'s socket may be re-armed at `now`.
    pub fn verdict(&self, site: &Site, now: Instant) -> Verdict {
        match self.sites.get(site) {
            Some(r) if now < r.last + r.pause => Verdict::NotBefore(r.last + r.pause),
            _ => Verdict::Now,
        }
    }

    /// `site`'s socket was re-armed at `now`; returns the pause before the next re-arm when it
    /// grew from none (the moment to say so, once).
    pub fn rearmed(&mut self, site: &Site, now: Instant) -> Option<Duration> {
        let before = self.sites.get(site).copied();
        let pause = match before {
            Some(r) if now.saturating_duration_since(r.last + r.pause) < FAILED_AGAIN_WITHIN => {
                (r.pause * 2).clamp(FIRST_PAUSE, LONGEST_PAUSE)
            }
            _ => Duration::ZERO,
        };
        self.sites.insert(site.clone(), Rearms { last: now, pause });
        let was = before.map_or(Duration::ZERO, |r| r.pause);
        (was.is_zero() && !pause.is_zero()).then_some(pause)
    }

    /// Forgets sites not in `keep` (their confs are gone).
    pub fn retain(&mut self, keep: impl Fn(&Site) -> bool) {
        self.sites.retain(|s, _| keep(s));
    }
}

#[cfg(test)]
mod tests;
