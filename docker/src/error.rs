//! A Docker request that failed, naming the container or socket.

use crate::runtime::MIN_API;
use bollard::errors::Error as BollardError;
use std::path::PathBuf;
use std::time::Duration;

/// A Docker request that failed; every variant names the container or socket.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// The engine could not be reached or its API version not agreed.
    #[error("cannot reach the Docker engine at {}", socket.display())]
    Connect {
        /// The engine's socket.
        socket: PathBuf,
        /// What bollard said.
        #[source]
        error: BollardError,
    },
    /// The engine is older than [`MIN_API`].
    #[error("the Docker engine at {} speaks API {api}, older than the oldest this supports, {}.{} (Docker Engine 20.10)", socket.display(), MIN_API.0, MIN_API.1)]
    TooOld {
        /// The engine's socket.
        socket: PathBuf,
        /// The newest API version it speaks.
        api: String,
    },
    /// The engine did not answer in time.
    #[error("{what} {container}: no answer from Docker within {}s", after.as_secs())]
    Timeout {
        /// The container asked about.
        container: String,
        /// The request.
        what: &'static str,
        /// The timeout.
        after: Duration,
    },
    /// The engine answered with an error.
    #[error("{what} {container}")]
    Request {
        /// The container asked about.
        container: String,
        /// The request.
        what: &'static str,
        /// What bollard said.
        #[source]
        error: BollardError,
    },
    /// A request about the engine itself (events, ping) failed.
    #[error("{what}")]
    Engine {
        /// The request.
        what: &'static str,
        /// What bollard said.
        #[source]
        error: BollardError,
    },
    /// A file read out of a container is not a readable archive.
    #[error("{container}: {path}: bad archive")]
    Archive {
        /// The container.
        container: String,
        /// The file inside it.
        path: String,
        /// What went wrong.
        #[source]
        error: std::io::Error,
    },
    /// A log line without a readable timestamp.
    #[error("logs of {container}: no RFC 3339 timestamp in {line:?}")]
    BadTimestamp {
        /// The container.
        container: String,
        /// The start of the line.
        line: String,
    },
}
