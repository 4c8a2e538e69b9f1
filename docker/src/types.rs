//! What the engine answers about a container, as plain data.

use crate::probe::ImageCommand;
use crate::setup::Setup;
use chrono::{DateTime, Utc};
use std::path::PathBuf;

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
    /// Docker could not be asked: the error's text. The client never answers this; a tool that
    /// keeps a failed look in its view of a site records it so.
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
    /// Docker could not be asked: the error's text (recorded by a tool, as for [`ContainerState`]).
    Unknown(String),
}

/// What one inspect request tells about a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// Its state; a missing container is [`ContainerState::Missing`].
    pub state: ContainerState,
    /// The file Docker writes its log to, when the log driver is `json-file`.
    pub log_file: Option<PathBuf>,
    /// What it mounts, its stop signal and log driver (empty for a missing container).
    pub setup: Setup,
    /// Its image, as it was created from (empty for a missing container).
    pub image: String,
    /// What it runs: its entrypoint and command.
    pub command: ImageCommand,
}

/// A container event, reduced to what the watcher needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerEvent {
    /// The container's name (no leading `/`).
    pub name: String,
    /// start, die, destroy, pause, unpause.
    pub action: String,
    /// When it happened, in nanoseconds since the epoch.
    pub time_nano: i64,
}
