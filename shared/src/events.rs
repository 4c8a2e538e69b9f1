//! What the waker and the reaper tell the watcher for its metrics: one small JSON datagram per
//! event on the watcher's events socket, sent without ever waiting (a slow or absent watcher
//! costs a request nothing: the event is dropped).

use crate::site::Site;
use serde::{Deserialize, Serialize};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

/// The largest datagram the watcher reads; a longer one is refused.
pub const MAX_EVENT_BYTES: usize = 1024;

/// One thing that happened, as sent to the watcher. A datagram naming an invalid site id does not
/// read as an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// The waker started a sleeping site: its first request was held this long, from the
    /// start to php-fpm accepting (a cold start).
    Wake {
        /// The site id.
        site: Site,
        /// Seconds the request was held.
        held_seconds: f64,
    },
    /// The waker sent a request to php-fpm again after php-fpm reset it unanswered.
    Replay {
        /// The site id.
        site: Site,
    },
    /// The waker closed a connection without an answer (nginx answers 502).
    Refusal {
        /// The site id.
        site: Site,
        /// Why.
        reason: RefusalReason,
    },
    /// The reaper is about to stop an idle site through its unit.
    ReaperStopping {
        /// The site id.
        site: Site,
    },
    /// A reaper run ended.
    ReaperRun {
        /// Sites judged.
        checked: u64,
        /// Sites stopped.
        stopped: u64,
        /// Sites that could not be judged or stopped.
        errors: u64,
        /// How long the run took.
        duration_seconds: f64,
    },
}

/// Who sends an event: the watcher takes each kind from its own sender only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// A site's waker (user `fpm-waker`, the events socket's owner).
    Waker,
    /// The reaper (root).
    Reaper,
}

impl Event {
    /// The only sender that may report this event.
    pub fn sender(&self) -> Sender {
        match self {
            Event::Wake { .. } | Event::Replay { .. } | Event::Refusal { .. } => Sender::Waker,
            Event::ReaperStopping { .. } | Event::ReaperRun { .. } => Sender::Reaper,
        }
    }
}

/// Why the waker closed a connection without an answer; the metric's `reason` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// Something other than php-fpm's socket sits at its path.
    NotASocket,
    /// Starting the site failed.
    StartFailed,
    /// php-fpm did not accept within the start timeout.
    StartTimeout,
    /// php-fpm reset or closed the request without answering.
    Unanswered,
    /// The budget of awake sites was full and no room was made in time: answered 503.
    NoRoom,
    /// php-fpm's socket does not let the waker's user connect (the pool's owner, group, mode).
    Forbidden,
}

impl RefusalReason {
    /// Every reason.
    pub const ALL: [RefusalReason; 6] = [
        RefusalReason::NotASocket,
        RefusalReason::StartFailed,
        RefusalReason::StartTimeout,
        RefusalReason::Unanswered,
        RefusalReason::NoRoom,
        RefusalReason::Forbidden,
    ];

    /// The label value, as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalReason::NotASocket => "not_a_socket",
            RefusalReason::StartFailed => "start_failed",
            RefusalReason::StartTimeout => "start_timeout",
            RefusalReason::Unanswered => "unanswered",
            RefusalReason::NoRoom => "no_room",
            RefusalReason::Forbidden => "forbidden",
        }
    }
}

/// Why a datagram is not an event.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Longer than [`MAX_EVENT_BYTES`].
    #[error("event of {0} bytes: longer than {MAX_EVENT_BYTES}")]
    TooLong(usize),
    /// Not one of the events, as JSON.
    #[error("not an event: {0}")]
    Invalid(#[from] serde_json::Error),
}

impl Event {
    /// Reads one datagram.
    pub fn parse(bytes: &[u8]) -> Result<Event, EventError> {
        if bytes.len() > MAX_EVENT_BYTES {
            return Err(EventError::TooLong(bytes.len()));
        }
        Ok(serde_json::from_slice(bytes)?)
    }
}

/// Sends events to the watcher's socket, never blocking.
#[derive(Debug)]
pub struct EventSink {
    socket: Option<UnixDatagram>,
    path: PathBuf,
}

impl EventSink {
    /// A sink for the socket at `path` (it need not exist yet: events sent while it does not
    /// are dropped).
    pub fn new(path: &Path) -> EventSink {
        let socket = UnixDatagram::unbound()
            .and_then(|s| s.set_nonblocking(true).map(|()| s))
            .map_err(|e| tracing::debug!(error = %e, "no events socket: metrics events dropped"))
            .ok();
        EventSink {
            socket,
            path: path.to_owned(),
        }
    }

    /// Sends `event` if the watcher can take it now; otherwise drops it (logged at debug).
    pub fn send(&self, event: &Event) {
        let Some(socket) = &self.socket else { return };
        let bytes = serde_json::to_vec(event).expect("events serialize");
        if let Err(e) = socket.send_to(&bytes, &self.path) {
            tracing::debug!(path = %self.path.display(), error = %e, ?event, "metrics event dropped");
        }
    }
}

#[cfg(test)]
mod tests;
