//! What a site's container did last: its state and, when it runs, when it last logged (the
//! activity the reaper judges idleness by, and `fpm-watcher status` shows).

mod jsonlog;

use crate::docker::{ContainerRuntime, ContainerState, Inspection, LastLog};
use crate::error::chain;

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
