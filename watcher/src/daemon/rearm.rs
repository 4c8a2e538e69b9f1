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
mod tests {
    use super::*;

    #[test]
    fn a_socket_that_keeps_failing_is_re_armed_less_and_less_often() {
        let site = Site::new("blog").unwrap();
        let mut b = Backoff::default();
        let t0 = Instant::now();
        let s = Duration::from_secs;
        assert_eq!(b.verdict(&site, t0), Verdict::Now);
        assert_eq!(b.rearmed(&site, t0), None, "a first re-arm is no loop");
        // It failed again at once: 1 s, said once; then 2 s, 4 s, ... up to 5 minutes.
        let mut now = t0 + Duration::from_millis(50);
        assert_eq!(b.verdict(&site, now), Verdict::Now);
        assert_eq!(b.rearmed(&site, now), Some(s(1)));
        let mut pauses = Vec::new();
        for _ in 0..12 {
            let Verdict::NotBefore(at) = b.verdict(&site, now) else {
                panic!("backed off")
            };
            pauses.push(at - now);
            now = at;
            assert_eq!(b.verdict(&site, now), Verdict::Now);
            assert_eq!(b.rearmed(&site, now), None, "said once");
        }
        assert_eq!(&pauses[..4], &[s(1), s(2), s(4), s(8)]);
        assert_eq!(*pauses.last().unwrap(), LONGEST_PAUSE);
        // Re-armed and then fine for long: the next failure is re-armed at once again.
        let later = now + LONGEST_PAUSE + FAILED_AGAIN_WITHIN;
        assert_eq!(b.verdict(&site, later), Verdict::Now);
        assert_eq!(b.rearmed(&site, later), None);
        assert_eq!(
            b.verdict(&site, later + s(1)),
            Verdict::Now,
            "no pause after a re-arm that held"
        );
    }

    #[test]
    fn sites_are_backed_off_apart_and_forgotten_with_their_conf() {
        let (a, other) = (Site::new("a").unwrap(), Site::new("b").unwrap());
        let mut b = Backoff::default();
        let t0 = Instant::now();
        b.rearmed(&a, t0);
        b.rearmed(&a, t0);
        assert!(matches!(b.verdict(&a, t0), Verdict::NotBefore(_)));
        assert_eq!(b.verdict(&other, t0), Verdict::Now);
        b.retain(|s| *s != a);
        assert_eq!(b.verdict(&a, t0), Verdict::Now);
    }
}
