//! What a site's container did last: its state and, when it runs, when it last logged (the
//! activity the reaper judges idleness by, and `fpm-watcher status` shows).

mod jsonlog;

use crate::{ContainerRuntime, ContainerState, Inspection, LastLog};
use fpm_shared::error::chain;
use chrono::{DateTime, Utc};

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
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_last_activity_is_the_newest_line_or_the_start() {
        let start = at("2026-11-28T12:00:00Z");
        let line = at("2026-11-28T12:05:00Z");
        assert_eq!(last_activity(Some(start), &LastLog::At(line)), Some(line));
        // A line from before this run's start does not make the site quiet since then.
        let old = at("2026-11-28T11:00:00Z");
        assert_eq!(last_activity(Some(start), &LastLog::At(old)), Some(start));
        assert_eq!(last_activity(None, &LastLog::At(old)), Some(old));
        assert_eq!(last_activity(Some(start), &LastLog::Never), Some(start));
        assert_eq!(last_activity(None, &LastLog::Never), None);
        let unreadable = LastLog::Unreadable("driver none".into());
        assert_eq!(last_activity(Some(start), &unreadable), None);
        let unknown = LastLog::Unknown("engine down".into());
        assert_eq!(last_activity(Some(start), &unknown), None);
    }
}
