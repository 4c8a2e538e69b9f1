//! How a container is set up, as far as the on-demand chain depends on it: what it mounts, the
//! signal `docker stop` sends, and where its log goes (`fpm-ondemand site check` reads it).

use bollard::models::ContainerInspectResponse;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A container's setup, from the same inspect request as its state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Setup {
    /// Its bind mounts: (the host's path, the path inside).
    pub binds: Vec<(PathBuf, String)>,
    /// `Config.StopSignal`, when set (Docker's default is SIGTERM).
    pub stop_signal: Option<String>,
    /// `HostConfig.LogConfig.Type`, when known.
    pub log_driver: Option<String>,
    /// `HostConfig.LogConfig.Config`: the log driver's options (`max-size`, `max-file`, ...), as
    /// the engine filled them in at creation (the daemon's `log-opts` included).
    pub log_options: BTreeMap<String, String>,
    /// `HostConfig.RestartPolicy.Name` (`no`, `always`, `unless-stopped`, `on-failure`); `None`
    /// when not set, which Docker takes as `no`.
    pub restart_policy: Option<String>,
}

impl Setup {
    /// Reads the setup out of an inspect answer.
    pub(crate) fn of(info: &ContainerInspectResponse) -> Setup {
        let binds = info
            .mounts
            .iter()
            .flatten()
            .filter_map(|m| Some((PathBuf::from(m.source.as_ref()?), m.destination.clone()?)))
            .collect();
        let host = info.host_config.as_ref();
        let log = host.and_then(|h| h.log_config.as_ref());
        Setup {
            binds,
            stop_signal: info.config.as_ref().and_then(|c| c.stop_signal.clone()),
            log_driver: log.and_then(|l| l.typ.clone()),
            log_options: log
                .and_then(|l| l.config.clone())
                .map(|c| c.into_iter().collect())
                .unwrap_or_default(),
            restart_policy: host
                .and_then(|h| h.restart_policy.as_ref())
                .and_then(|r| r.name)
                .map(|name| name.to_string())
                .filter(|name| !name.is_empty()),
        }
    }
}

impl crate::client::DockerClient {
    /// Creates (does not start) the container `name` from `image` with `setup` (binds as
    /// `host:inside[:ro]`, stop signal, log driver and options, restart policy `no`: only
    /// systemd starts a site) and, when given, `command` instead of the
    /// image's own. A container of that name already there is an error: nothing is replaced.
    pub async fn create(
        &self,
        name: &str,
        image: &str,
        setup: &Setup,
        command: Option<Vec<String>>,
    ) -> Result<(), crate::error::DockerError> {
        use bollard::models::{
            ContainerCreateBody, HostConfig, HostConfigLogConfig, RestartPolicy,
            RestartPolicyNameEnum,
        };
        let what = "create";
        let binds = setup
            .binds
            .iter()
            .map(|(host, inside)| format!("{}:{inside}", host.display()))
            .collect();
        let body = ContainerCreateBody {
            image: Some(image.to_owned()),
            cmd: command,
            stop_signal: setup.stop_signal.clone(),
            host_config: Some(HostConfig {
                binds: Some(binds),
                log_config: Some(HostConfigLogConfig {
                    typ: setup.log_driver.clone(),
                    config: Some(setup.log_options.clone().into_iter().collect()),
                }),
                restart_policy: Some(RestartPolicy {
                    name: Some(RestartPolicyNameEnum::NO),
                    maximum_retry_count: None,
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = bollard::query_parameters::CreateContainerOptionsBuilder::default()
            .name(name)
            .build();
        self.bounded(name, what, async {
            self.docker
                .create_container(Some(options), body)
                .await
                .map(drop)
                .map_err(|error| crate::error::DockerError::Request {
                    container: name.to_owned(),
                    what,
                    error,
                })
        })
        .await
    }

    /// Removes the stopped container `name` (never a running one: the engine refuses, and so is
    /// this an error); its anonymous volumes stay, as with `docker rm`.
    pub async fn remove(&self, name: &str) -> Result<(), crate::error::DockerError> {
        let what = "remove";
        let options = bollard::query_parameters::RemoveContainerOptionsBuilder::default()
            .force(false)
            .build();
        self.bounded(name, what, async {
            self.docker
                .remove_container(name, Some(options))
                .await
                .map_err(|error| crate::error::DockerError::Request {
                    container: name.to_owned(),
                    what,
                    error,
                })
        })
        .await
    }
}
