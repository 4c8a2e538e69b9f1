//! Whether php-fpm's workers still hold requests, read from the container's process list (the
//! engine's `top`): a worker waiting for its next connection sleeps in the kernel's accept (on a
//! unix socket `skb_wait_for_more_packets`, on TCP `inet_csk_accept`); any other worker holds a
//! request. A stop waits for them before php-fpm gets its signal, so that a pool left at php-fpm's
//! default `process_control_timeout` (0: its SIGQUIT becomes SIGTERM at once, killing what runs)
//! loses nothing. It needs nothing from the image.

use fpm_docker::{ContainerRuntime, Process};
use fpm_shared::error::chain;
use std::time::Duration;
use tokio::time::Instant;

/// What the kernel function a php-fpm worker waiting for a connection sleeps in is named like,
/// across kernels (`__skb_wait_for_more_packets` before 6.x renamed it, `inet_csk_wait_for_connect`
/// under `inet_csk_accept`).
pub const WAITING_IN: [&str; 3] = [
    "skb_wait_for_more_packets",
    "inet_csk_accept",
    "inet_csk_wait_for_connect",
];

/// How often the process list is read while workers are busy.
const POLL: Duration = Duration::from_millis(50);

/// What php-fpm's workers are doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Workers {
    /// None holds a request (or there is no worker).
    Idle,
    /// These workers (pids) hold one.
    Busy(Vec<String>),
    /// The list shows no process's kernel function (the engine's `ps` cannot read them).
    Unknown,
}

/// Reads php-fpm's workers out of a container's process list.
pub fn workers(processes: &[Process]) -> Workers {
    let known = |p: &&Process| !matches!(p.wchan.as_str(), "" | "-" | "0" | "?");
    if !processes.is_empty() && !processes.iter().any(|p| known(&p)) {
        return Workers::Unknown;
    }
    let busy: Vec<String> = processes
        .iter()
        .filter(|p| p.command.starts_with("php-fpm: pool"))
        .filter(|p| !WAITING_IN.iter().any(|w| p.wchan.contains(w)))
        .map(|p| p.pid.clone())
        .collect();
    if busy.is_empty() {
        Workers::Idle
    } else {
        Workers::Busy(busy)
    }
}

/// How the wait for php-fpm's workers ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wait {
    /// No worker holds a request; how long that took.
    Idle(Duration),
    /// The limit ran out; these workers still hold a request.
    RanOut(Vec<String>),
    /// Could not be told (see [`Workers::Unknown`]), or the process list could not be read.
    CannotTell(String),
}

/// Waits, at most `limit`, until no php-fpm worker of `container` holds a request.
pub async fn until_idle<R: ContainerRuntime>(docker: &R, container: &str, limit: Duration) -> Wait {
    let begun = Instant::now();
    loop {
        let listed = match docker.processes(container).await {
            Ok(list) => workers(&list),
            Err(e) => return Wait::CannotTell(chain(&e)),
        };
        match listed {
            Workers::Idle => return Wait::Idle(begun.elapsed()),
            Workers::Unknown => {
                return Wait::CannotTell(
                    "the engine's process list shows no kernel function".into(),
                )
            }
            Workers::Busy(pids) if begun.elapsed() + POLL >= limit => return Wait::RanOut(pids),
            Workers::Busy(_) => tokio::time::sleep(POLL).await,
        }
    }
}

#[cfg(test)]
mod tests;
