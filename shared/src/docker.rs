//! The Docker engine as the tools see it: a small trait and its bollard implementation.

use bollard::errors::Error as BollardError;
use bollard::query_parameters::{
    EventsOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
    StopContainerOptionsBuilder,
};
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::StreamExt;
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod probe;
mod setup;
mod stats;
mod top;
pub use probe::ImageCommand;
pub use setup::Setup;
pub use top::Process;

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

/// The oldest engine API the tools speak: Docker Engine 20.10's (API 1.41), the oldest engine the
/// tests run against. Newer engines are spoken to in their own version, up to bollard's newest.
pub const MIN_API: (usize, usize) = (1, 41);

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

/// The container events the watcher follows.
pub const WATCHED_EVENTS: [&str; 7] =
    ["start", "die", "destroy", "pause", "unpause", "kill", "oom"];

/// The Docker engine through bollard, with the API version negotiated.
#[derive(Debug, Clone)]
pub struct DockerClient {
    docker: bollard::Docker,
    timeout: Duration,
}

impl DockerClient {
    /// Connects to the engine's unix socket and agrees on an API version both sides speak: the
    /// engine's own, up to bollard's newest. An engine older than [`MIN_API`] is refused.
    pub async fn connect(socket: &Path, timeout: Duration) -> Result<DockerClient, DockerError> {
        let connect_err = |source| DockerError::Connect {
            socket: socket.to_owned(),
            error: source,
        };
        let docker = bollard::Docker::connect_with_unix(
            &socket.to_string_lossy(),
            timeout.as_secs().max(1),
            bollard::API_DEFAULT_VERSION,
        )
        .map_err(connect_err)?;
        let docker = tokio::time::timeout(timeout, docker.negotiate_version())
            .await
            .map_err(|_| connect_err(BollardError::RequestTimeoutError))?
            .map_err(connect_err)?;
        let v = docker.client_version();
        let client = DockerClient { docker, timeout };
        if (v.major_version, v.minor_version) < MIN_API {
            return Err(DockerError::TooOld {
                socket: socket.to_owned(),
                api: client.api_version(),
            });
        }
        Ok(client)
    }

    /// The API version agreed with the engine, e.g. `1.41`.
    pub fn api_version(&self) -> String {
        let v = self.docker.client_version();
        format!("{}.{}", v.major_version, v.minor_version)
    }

    /// The underlying bollard client, for requests this trait does not cover.
    pub fn bollard(&self) -> &bollard::Docker {
        &self.docker
    }

    async fn bounded<T>(
        &self,
        container: &str,
        what: &'static str,
        fut: impl Future<Output = Result<T, DockerError>>,
    ) -> Result<T, DockerError> {
        tokio::time::timeout(self.timeout, fut)
            .await
            .unwrap_or_else(|_| {
                Err(DockerError::Timeout {
                    container: container.to_owned(),
                    what,
                    after: self.timeout,
                })
            })
    }
}

fn status_code(e: &BollardError) -> Option<u16> {
    match e {
        BollardError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

impl ContainerRuntime for DockerClient {
    fn events(
        &self,
        since: Option<i64>,
    ) -> BoxStream<'static, Result<ContainerEvent, DockerError>> {
        let filters = HashMap::from([
            ("type", vec!["container"]),
            ("event", WATCHED_EVENTS.to_vec()),
        ]);
        let mut options = EventsOptionsBuilder::new().filters(&filters);
        let since = since.map(|t| {
            format!(
                "{}.{:09}",
                t.div_euclid(1_000_000_000),
                t.rem_euclid(1_000_000_000)
            )
        });
        if let Some(since) = &since {
            options = options.since(since);
        }
        self.docker
            .events(Some(options.build()))
            .filter_map(|item| async move {
                match item {
                    Ok(msg) => container_event(msg).map(Ok),
                    Err(source) => Some(Err(DockerError::Engine {
                        what: "events",
                        error: source,
                    })),
                }
            })
            .boxed()
    }

    /// What `docker start` does, without a CLI process in the path of a cold request.
    async fn start(&self, container: &str) -> Result<(), DockerError> {
        let what = "start";
        self.bounded(container, what, async {
            match self.docker.start_container(container, None).await {
                Ok(()) => Ok(()),
                // 304: already running.
                Err(e) if status_code(&e) == Some(304) => Ok(()),
                Err(source) => Err(DockerError::Request {
                    container: container.to_owned(),
                    what,
                    error: source,
                }),
            }
        })
        .await
    }

    async fn processes(&self, container: &str) -> Result<Vec<Process>, DockerError> {
        self.top(container).await
    }

    async fn running(&self) -> Result<Vec<String>, DockerError> {
        let engine = |error| DockerError::Engine {
            what: "list running containers",
            error,
        };
        let options = ListContainersOptionsBuilder::new().all(false).build();
        let list = tokio::time::timeout(self.timeout, self.docker.list_containers(Some(options)))
            .await
            .map_err(|_| engine(BollardError::RequestTimeoutError))?
            .map_err(engine)?;
        Ok(list
            .into_iter()
            .flat_map(|c| c.names.unwrap_or_default())
            .map(|n| n.strip_prefix('/').map(str::to_owned).unwrap_or(n))
            .collect())
    }

    async fn ping(&self) -> Result<(), DockerError> {
        let engine = |error| DockerError::Engine {
            what: "ping",
            error,
        };
        tokio::time::timeout(self.timeout, self.docker.ping())
            .await
            .map_err(|_| engine(BollardError::RequestTimeoutError))?
            .map(drop)
            .map_err(engine)
    }

    async fn stop(&self, container: &str, grace: Duration) -> Result<(), DockerError> {
        let what = "stop";
        let options = StopContainerOptionsBuilder::new()
            .t(i32::try_from(grace.as_secs()).unwrap_or(i32::MAX))
            .build();
        // The engine answers once the container is down: allow the grace time on top, in
        // bollard's own request timeout too.
        let limit = grace + self.timeout;
        let docker = self.docker.clone().with_timeout(limit);
        let request = async {
            match docker.stop_container(container, Some(options)).await {
                Ok(()) => Ok(()),
                // 304: already stopped; 404: no such container.
                Err(e) if matches!(status_code(&e), Some(304 | 404)) => Ok(()),
                Err(source) => Err(DockerError::Request {
                    container: container.to_owned(),
                    what,
                    error: source,
                }),
            }
        };
        tokio::time::timeout(limit, request)
            .await
            .map_err(|_| DockerError::Timeout {
                container: container.to_owned(),
                what,
                after: limit,
            })?
    }

    async fn inspect(&self, container: &str) -> Result<Inspection, DockerError> {
        let what = "inspect";
        self.bounded(container, what, async {
            let info = match self.docker.inspect_container(container, None).await {
                Ok(info) => info,
                Err(e) if status_code(&e) == Some(404) => {
                    return Ok(Inspection {
                        state: ContainerState::Missing,
                        log_file: None,
                        setup: Setup::default(),
                        image: String::new(),
                        command: ImageCommand::default(),
                    })
                }
                Err(source) => {
                    return Err(DockerError::Request {
                        container: container.to_owned(),
                        what,
                        error: source,
                    })
                }
            };
            let setup = Setup::of(&info);
            let log_file = match (setup.log_driver.as_deref(), info.log_path) {
                (Some("json-file"), Some(path)) if !path.is_empty() => Some(PathBuf::from(path)),
                _ => None,
            };
            let config = info.config.unwrap_or_default();
            Ok(Inspection {
                state: state_of(info.state.unwrap_or_default()),
                log_file,
                setup,
                image: config.image.unwrap_or_default(),
                command: ImageCommand::of(config.entrypoint, config.cmd),
            })
        })
        .await
    }

    async fn last_log(&self, container: &str) -> Result<LastLog, DockerError> {
        let what = "logs";
        self.bounded(container, what, async {
            let options = LogsOptionsBuilder::new()
                .stdout(true)
                .stderr(true)
                .timestamps(true)
                .tail("1")
                .build();
            let mut stream = self.docker.logs(container, Some(options));
            match stream.next().await {
                None => Ok(LastLog::Never),
                Some(Ok(frame)) => log_time(container, frame.as_ref()).map(LastLog::At),
                Some(Err(BollardError::DockerResponseServerError {
                    status_code: 501,
                    message,
                })) => Ok(LastLog::Unreadable(format!(
                    "its logs cannot be read ({})",
                    message.trim()
                ))),
                Some(Err(source)) => Err(DockerError::Request {
                    container: container.to_owned(),
                    what,
                    error: source,
                }),
            }
        })
        .await
    }
}

/// Reduces an engine event to a [`ContainerEvent`]; `None` for one without a name.
fn container_event(msg: bollard::models::EventMessage) -> Option<ContainerEvent> {
    let actor = msg.actor?;
    let name = actor.attributes?.remove("name")?;
    Some(ContainerEvent {
        name: name.trim_start_matches('/').to_owned(),
        action: msg.action.unwrap_or_default(),
        time_nano: msg
            .time_nano
            .or(msg.time.map(|t| t * 1_000_000_000))
            .unwrap_or_default(),
    })
}

/// Maps Docker's `State` to the decision's view of it.
pub fn state_of(state: bollard::models::ContainerState) -> ContainerState {
    use bollard::models::ContainerStateStatusEnum as S;
    match state.status {
        Some(S::RUNNING) => ContainerState::Running {
            started_at: state
                .started_at
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc)),
        },
        Some(S::PAUSED) => ContainerState::Paused,
        Some(other) => ContainerState::NotRunning(other.to_string()),
        None => ContainerState::NotRunning("no status".to_owned()),
    }
}

/// The timestamp `docker logs --timestamps` puts before a line.
fn log_time(container: &str, line: &[u8]) -> Result<DateTime<Utc>, DockerError> {
    let end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
    std::str::from_utf8(&line[..end])
        .ok()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| DockerError::BadTimestamp {
            container: container.to_owned(),
            line: String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerState as Raw, ContainerStateStatusEnum as S};

    #[test]
    fn reads_the_timestamp_before_the_line() {
        let t = log_time("c", b"2026-11-25T01:20:42.123456789Z GET /index.php 200\n").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-25T01:20:42.123456789+00:00");
        let t = log_time("c", b"2026-11-25T01:20:42Z").unwrap();
        assert_eq!(t.timestamp(), 1795569642);
        let e = log_time("web.fpm", b"hello world").unwrap_err().to_string();
        assert!(e.contains("web.fpm") && e.contains("hello"), "{e}");
    }

    #[test]
    fn maps_docker_states() {
        let raw = |status, started: Option<&str>| Raw {
            status: Some(status),
            started_at: started.map(str::to_owned),
            ..Default::default()
        };
        let s = state_of(raw(S::RUNNING, Some("2026-11-25T01:00:00.5Z")));
        let ContainerState::Running {
            started_at: Some(t),
        } = s
        else {
            panic!("{s:?}")
        };
        assert_eq!(t.timestamp_millis(), 1795568400500);
        assert_eq!(
            state_of(raw(S::RUNNING, Some("0001-x"))),
            ContainerState::Running { started_at: None }
        );
        assert_eq!(state_of(raw(S::PAUSED, None)), ContainerState::Paused);
        assert_eq!(
            state_of(raw(S::EXITED, None)),
            ContainerState::NotRunning("exited".into())
        );
        assert_eq!(state_of(raw(S::CREATED, None)).label(), "stopped");
    }
}
