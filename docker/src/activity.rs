//! What a site's container did last: its state and, when it runs, when it last logged (the
//! activity the reaper judges idleness by, and `fpm-ondemand status` shows).

mod jsonlog;

use crate::runtime::ContainerRuntime;
use crate::types::{ContainerState, Inspection, LastLog};
use chrono::{DateTime, Utc};
use fpm_shared::error::chain;

/// A running container's last sign of activity: its newest log line, or its start when it has
/// not logged since (a line from before the start, a previous run's, does not count). `None`
/// when that cannot be known (start time unknown and no line, or the log unreadable).
pub fn last_activity(
    started_at: Option<DateTime<Utc>>,
    last_log: &LastLog,
) -> Option<DateTime<Utc>> {
    match last_log {
        LastLog::At(t) => Some(started_at.map_or(*t, |s| s.max(*t))),
        LastLog::Never => started_at,
        LastLog::Unreadable(_) | LastLog::Unknown(_) => None,
    }
}

/// The container's state and, when it runs, when it last logged: one inspect request; the newest
/// entry of a `json-file` log is read from the file Docker writes, and the logs request is made
/// only when the file cannot tell. What could not be read is `Unknown`, never a guess.
pub async fn activity<R: ContainerRuntime>(
    docker: &R,
    container: &str,
) -> (ContainerState, LastLog) {
    let Inspection {
        state, log_file, ..
    } = match docker.inspect(container).await {
        Ok(inspection) => inspection,
        Err(e) => return (ContainerState::Unknown(chain(&e)), LastLog::Never),
    };
    if !matches!(state, ContainerState::Running { .. }) {
        return (state, LastLog::Never);
    }
    if let Some(t) = log_file.as_deref().and_then(jsonlog::newest_time) {
        return (state, LastLog::At(t));
    }
    let last_log = docker
        .last_log(container)
        .await
        .unwrap_or_else(|e| LastLog::Unknown(chain(&e)));
    (state, last_log)
}

#[cfg(test)]
mod tests;
