//! The reaper's decision, "stop or keep", as a pure function of what Docker reported and the time.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// What Docker says about a site's container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerState {
    /// Running (not paused), started at this time if Docker gave a readable one.
    Running {
        /// `State.StartedAt`.
        started_at: Option<DateTime<Utc>>,
    },
    /// Paused: frozen, not idle in the reaper's sense.
    Paused,
    /// Created, exited, dead, restarting or being removed: the raw `State.Status`.
    NotRunning(String),
    /// No container of that name.
    Missing,
    /// Docker could not be asked; the error.
    Unknown(String),
}

impl ContainerState {
    /// The word the report uses: running, paused, stopped, missing or unknown.
    pub fn label(&self) -> &'static str {
        match self {
            ContainerState::Running { .. } => "running",
            ContainerState::Paused => "paused",
            ContainerState::NotRunning(_) => "stopped",
            ContainerState::Missing => "missing",
            ContainerState::Unknown(_) => "unknown",
        }
    }
}

/// The time of the container's newest log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastLog {
    /// The newest line was written at this time.
    At(DateTime<Utc>),
    /// The container never logged.
    Never,
    /// The log driver cannot be read (e.g. `none`): idle time unknown.
    Unreadable(String),
    /// Docker could not be asked; the error.
    Unknown(String),
}

/// What to do with a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Idle for at least its window: stop it.
    Stop,
    /// Active, or not certainly idle: leave it running.
    Keep,
    /// Not running (or paused): nothing to do.
    Skip,
    /// The site could not be judged; it is left alone.
    Error,
}

/// A verdict with its reason and the figures behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What to do.
    pub verdict: Verdict,
    /// One short sentence saying why.
    pub reason: String,
    /// The later of the newest log line and the container's start, when known.
    pub last_activity: Option<DateTime<Utc>>,
    /// How long the site has been idle, when known.
    pub idle: Option<Duration>,
}

impl Decision {
    fn plain(verdict: Verdict, reason: impl Into<String>) -> Decision {
        Decision {
            verdict,
            reason: reason.into(),
            last_activity: None,
            idle: None,
        }
    }
}

/// Decides whether a site is idle for at least `window` at `now`.
///
/// Idle since = the later of the newest log line and the container's start. Anything unknown
/// keeps the site; only running containers are ever stopped. `last_log` is only looked at for
/// a running container.
pub fn decide(
    window: Duration,
    state: &ContainerState,
    last_log: &LastLog,
    now: DateTime<Utc>,
) -> Decision {
    let started_at = match state {
        ContainerState::Running { started_at } => *started_at,
        ContainerState::Paused => return Decision::plain(Verdict::Skip, "container is paused"),
        ContainerState::NotRunning(status) => {
            return Decision::plain(
                Verdict::Skip,
                format!("container is not running ({status})"),
            )
        }
        ContainerState::Missing => {
            return Decision::plain(Verdict::Skip, "container does not exist")
        }
        ContainerState::Unknown(e) => {
            return Decision::plain(Verdict::Error, format!("cannot inspect container: {e}"))
        }
    };
    let Some(started_at) = started_at else {
        return Decision::plain(Verdict::Keep, "start time unknown, so idle time unknown");
    };
    let (last_activity, what) = match last_log {
        LastLog::At(t) if *t > started_at => (*t, "last log line"),
        LastLog::At(_) | LastLog::Never => (started_at, "started"),
        LastLog::Unreadable(why) => {
            return Decision::plain(Verdict::Keep, format!("idle time unknown: {why}"))
        }
        LastLog::Unknown(e) => {
            return Decision::plain(Verdict::Error, format!("cannot read logs: {e}"))
        }
    };
    let Ok(idle) = (now - last_activity).to_std() else {
        return Decision {
            verdict: Verdict::Keep,
            reason: format!("{what} is in the future (clock skew?)"),
            last_activity: Some(last_activity),
            idle: None,
        };
    };
    let (verdict, reason) = if idle >= window {
        let reason = format!(
            "idle for {} ({what}), window {}",
            human(idle),
            human(window)
        );
        (Verdict::Stop, reason)
    } else {
        let reason = format!(
            "{what} {} ago, within window {}",
            human(idle),
            human(window)
        );
        (Verdict::Keep, reason)
    };
    Decision {
        verdict,
        reason,
        last_activity: Some(last_activity),
        idle: Some(idle),
    }
}

/// What stopping `fpm@SITE.service` does with its container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitStop {
    /// Stop it: the run the unit knows about (or its start time cannot be told).
    Stop,
    /// Nothing to stop.
    AlreadyDown,
    /// The container was started again after the unit last became active, by someone else
    /// (e.g. `docker stop` then `docker start`, faster than the watcher could mark the unit
    /// inactive): that run is not this unit's to stop. The watcher marks the unit active again.
    StartedLater {
        /// When the container started.
        started_at: DateTime<Utc>,
        /// When the unit last became active.
        unit_active_since: DateTime<Utc>,
    },
}

/// Decides [`UnitStop`] from the container's state and when the unit last became active.
/// A unit started by a request becomes active after its `docker start` returns, so its own run
/// always started earlier.
pub fn unit_stop(state: &ContainerState, unit_active_since: Option<DateTime<Utc>>) -> UnitStop {
    match (state, unit_active_since) {
        (ContainerState::NotRunning(_) | ContainerState::Missing, _) => UnitStop::AlreadyDown,
        (
            ContainerState::Running {
                started_at: Some(started_at),
            },
            Some(unit_active_since),
        ) if *started_at > unit_active_since => UnitStop::StartedLater {
            started_at: *started_at,
            unit_active_since,
        },
        _ => UnitStop::Stop,
    }
}

/// Formats a duration the way an operator reads it: `1h5m`, `25m3s`, `42s`, `500ms`.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
