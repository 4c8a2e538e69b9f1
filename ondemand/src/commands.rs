//! One module per subcommand of `fpm-ondemand`, each with its `run`; and what they share:
//! connecting to Docker and systemd, and how a failure is printed.

pub mod config_check;
pub mod renew;
pub mod report;
pub mod site_add;
pub mod site_check;
pub mod site_list;
pub mod site_nginx;
pub mod site_remove;
pub mod status;

use fpm_docker::DockerClient;
use fpm_shared::{Layout, Systemd};
use std::process::ExitCode;
use std::time::Duration;

/// Prints a failure with its causes; exit status 2 (could not run).
pub fn fatal(e: &anyhow::Error) -> ExitCode {
    eprintln!("fpm-ondemand: {e:#}");
    ExitCode::from(2)
}

/// The Docker engine the config names, its API version agreed.
async fn docker(layout: &Layout) -> anyhow::Result<DockerClient> {
    Ok(DockerClient::connect(&layout.docker_socket, layout.docker_timeout()).await?)
}

/// systemd's manager over D-Bus. Its jobs end at the units' own timeouts; 90 s only guards a
/// lost answer.
async fn systemd() -> anyhow::Result<Systemd> {
    Ok(Systemd::connect(Duration::from_secs(90)).await?)
}
