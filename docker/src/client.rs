//! The engine through bollard: [`DockerClient`] and its [`ContainerRuntime`] implementation.

use crate::error::DockerError;
use crate::probe::ImageCommand;
use crate::runtime::{ContainerRuntime, MIN_API, WATCHED_EVENTS};
use crate::setup::Setup;
use crate::top::Process;
use crate::types::{ContainerEvent, ContainerState, Inspection, LastLog};
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

/// The Docker engine through bollard, with the API version negotiated.
#[derive(Debug, Clone)]
pub struct DockerClient {
    pub(crate) docker: bollard::Docker,
    pub(crate) timeout: Duration,
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

    pub(crate) async fn bounded<T>(
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

pub(crate) fn status_code(e: &BollardError) -> Option<u16> {
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
mod tests;
