//! The reaper's decision, "stop or keep", as a pure function of what Docker reported and the time.

use chrono::{DateTime, Utc};
use fpm_docker::{ContainerState, LastLog};
use fpm_shared::duration::human;
use std::time::Duration;

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
    judge_idle(window, last_activity, what, now)
}

/// The verdict once the last activity (and what it was) is known.
fn judge_idle(
    window: Duration,
    last_activity: DateTime<Utc>,
    what: &str,
    now: DateTime<Utc>,
) -> Decision {
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

#[cfg(test)]
mod tests;
