//! The awake-site budget's settings (`[budget]` in the config), which the watcher's admission,
//! fpm@'s `start-container` and the waker all read; off unless `max_awake` is set.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The exit status of `fpm-watcher start-container` when no room was made within the wait
/// (`EX_TEMPFAIL`): the waker then answers the held requests 503 with `Retry-After`.
pub const NO_ROOM_EXIT: i32 = 75;

/// The waker's default start timeout, which the wait for room must stay under so that the
/// waker hears of it and answers 503 before it gives up on its own (502).
pub const WAKER_START_TIMEOUT: Duration = Duration::from_secs(30);

/// How many sites may be awake, and how starts are let in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Budget {
    /// Site containers running at once; 0: no budget, no admission (the default).
    pub max_awake: usize,
    /// Container starts at once, host-wide; more wait in arrival order.
    pub max_starting: usize,
    /// A site stays awake at least this long before it may be stopped to make room.
    pub min_awake_secs: u64,
    /// A site is stopped to make room only when its container logged nothing this long (the
    /// activity the reaper judges by).
    pub min_idle_secs: u64,
    /// A start waits this long for room, then gives up: its held requests get 503.
    pub wait_secs: u64,
    /// The `Retry-After` of that 503, in seconds.
    pub retry_after_secs: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_awake: 0,
            max_starting: 4,
            min_awake_secs: 60,
            min_idle_secs: 60,
            wait_secs: 20,
            retry_after_secs: 30,
        }
    }
}

impl Budget {
    /// Whether starts go through the watcher's admission at all.
    pub fn enabled(&self) -> bool {
        self.max_awake > 0
    }

    /// How long a start waits for room.
    pub fn wait(&self) -> Duration {
        Duration::from_secs(self.wait_secs)
    }

    /// The first setting that cannot work, as (key, value, why).
    pub fn problem(&self) -> Option<(&'static str, String, &'static str)> {
        if self.enabled() && self.max_starting == 0 {
            return Some((
                "budget.max_starting",
                "0".into(),
                "must be at least 1 when max_awake is set",
            ));
        }
        let wait = self.wait();
        if wait.is_zero() || wait + Duration::from_secs(5) > WAKER_START_TIMEOUT {
            return Some((
                "budget.wait_secs",
                self.wait_secs.to_string(),
                "must be 1 to 25: the waker gives up a start after 30 s, and the 503 must come first",
            ));
        }
        if self.retry_after_secs == 0 {
            return Some(("budget.retry_after_secs", "0".into(), "must be at least 1"));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_checked_when_set() {
        let b = Budget::default();
        assert!(!b.enabled());
        assert_eq!(b.problem(), None);
        let on = Budget {
            max_awake: 20,
            ..Budget::default()
        };
        assert!(on.enabled());
        assert_eq!(on.problem(), None);
        let bad = Budget {
            wait_secs: 26,
            ..on.clone()
        };
        assert_eq!(bad.problem().unwrap().0, "budget.wait_secs");
        let bad = Budget {
            max_starting: 0,
            ..on
        };
        assert_eq!(bad.problem().unwrap().0, "budget.max_starting");
    }
}
