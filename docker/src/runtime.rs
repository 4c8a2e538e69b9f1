//! What the tools need from the container engine ([`ContainerRuntime`]), and the API range and
//! events they speak.

use crate::error::DockerError;
use crate::top::Process;
use crate::types::{ContainerEvent, ContainerState, Inspection, LastLog};
use futures::stream::BoxStream;
use std::future::Future;
use std::time::Duration;

/// The oldest engine API the tools speak: Docker Engine 20.10's (API 1.41), the oldest engine the
/// tests run against. Newer engines are spoken to in their own version, up to bollard's newest.
pub const MIN_API: (usize, usize) = (1, 41);

/// What the reaper and watcher need from the container engine.
pub trait ContainerRuntime: Send + Sync {
    /// The container's state and where its log is; a missing container is
    /// [`ContainerState::Missing`], not an error.
    fn inspect(
        &self,
        container: &str,
    ) -> impl Future<Output = Result<Inspection, DockerError>> + Send;

    /// The container's state (see [`ContainerRuntime::inspect`]).
    fn state(
        &self,
        container: &str,
    ) -> impl Future<Output = Result<ContainerState, DockerError>> + Send {
        async move { Ok(self.inspect(container).await?.state) }
    }

    /// The time of the container's newest log line, read without reading the rest of the log.
    fn last_log(
        &self,
        container: &str,
    ) -> impl Future<Output = Result<LastLog, DockerError>> + Send;

    /// Starts the container and returns once it runs; one already running is no error, a
    /// missing one is.
    fn start(&self, container: &str) -> impl Future<Output = Result<(), DockerError>> + Send;

    /// Container start, die, destroy, pause and unpause events, replayed from `since`
    /// (nanoseconds since the epoch) when given. The stream ends when the connection does.
    fn events(&self, since: Option<i64>)
        -> BoxStream<'static, Result<ContainerEvent, DockerError>>;

    /// The container's processes, each with the kernel function it waits in (see [`Process`]).
    fn processes(
        &self,
        container: &str,
    ) -> impl Future<Output = Result<Vec<Process>, DockerError>> + Send;

    /// The names (no leading `/`) of every running container: one request, whatever their number.
    fn running(&self) -> impl Future<Output = Result<Vec<String>, DockerError>> + Send;

    /// Checks that the engine answers (the events stream alone can hang unnoticed).
    fn ping(&self) -> impl Future<Output = Result<(), DockerError>> + Send;

    /// Stops the container: its stop signal, then SIGKILL after `grace`. A stopped or missing
    /// container is no error.
    fn stop(
        &self,
        container: &str,
        grace: Duration,
    ) -> impl Future<Output = Result<(), DockerError>> + Send;
}

/// The container events the watcher follows.
pub const WATCHED_EVENTS: [&str; 7] =
    ["start", "die", "destroy", "pause", "unpause", "kill", "oom"];
