//! The awake-site budget's settings (`[budget]` in the config), which the watcher's admission,
//! fpm@'s `start-container` and the waker all read; off unless `max_awake` is set.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The exit status of `fpm-watcher start-container` when no room was made within the wait
/// (`EX_TEMPFAIL`): the waker then answers the held requests 503 with `Retry-After`.
pub const NO_ROOM_EXIT: i32 = 75;

/// `TimeoutStartSec` of `fpm@.service`: systemd ends a start job after this long, and the wait
/// for room happens inside that job (in `start-container`), before the container's start.
pub const FPM_START_TIMEOUT: Duration = Duration::from_secs(60);

/// What a start job keeps for the container's own start after the longest wait for room: a
/// start that finds no room must end with `start-container`'s own answer ([`NO_ROOM_EXIT`],
/// then a 503), never with systemd's timeout (a failed start, then a 502).
pub const CONTAINER_START_ROOM: Duration = Duration::from_secs(15);

/// The waker's default `--start-timeout`: how long php-fpm may take to accept after its
/// container started.
pub const WAKER_START_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest a visitor's request waits at the waker before its first byte with the shipped
/// units and defaults: the start job (room and the container's start, bounded by
/// [`FPM_START_TIMEOUT`]), then php-fpm's own start ([`WAKER_START_TIMEOUT`]). nginx's
/// `fastcgi_read_timeout` must be at least this, or nginx gives up first (504).
pub const LONGEST_WAKE: Duration = FPM_START_TIMEOUT.saturating_add(WAKER_START_TIMEOUT);

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
    pub fn problem(&self) -> Option<(&'static str, String, String)> {
        self.problems().into_iter().next()
    }

    /// Every setting that cannot work, as (key, value, why).
    pub fn problems(&self) -> Vec<(&'static str, String, String)> {
        let mut found = Vec::new();
        if self.enabled() && self.max_starting == 0 {
            found.push((
                "budget.max_starting",
                "0".into(),
                "must be at least 1 when max_awake is set".into(),
            ));
        }
        let wait = self.wait();
        if wait.is_zero() || wait + CONTAINER_START_ROOM > FPM_START_TIMEOUT {
            found.push((
                "budget.wait_secs",
                self.wait_secs.to_string(),
                format!(
                    "must be 1 to {}: the wait for room and the container's start share \
                     fpm@SITE.service's {} s TimeoutStartSec, and the container's start keeps {} s of it",
                    (FPM_START_TIMEOUT - CONTAINER_START_ROOM).as_secs(),
                    FPM_START_TIMEOUT.as_secs(),
                    CONTAINER_START_ROOM.as_secs()
                ),
            ));
        }
        if self.retry_after_secs == 0 {
            found.push((
                "budget.retry_after_secs",
                "0".into(),
                "must be at least 1".into(),
            ));
        }
        found
    }
}

#[cfg(test)]
mod tests;
