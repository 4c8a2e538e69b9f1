//! A container's processes as the engine lists them (`GET /containers/NAME/top`, `ps` run by the
//! engine on its host), with the kernel function each one waits in: what the drain asks to know
//! whether php-fpm's workers still hold requests, without anything from the image.

use crate::client::DockerClient;
use crate::error::DockerError;

/// The `ps` columns asked for: the engine needs `pid` to pick the container's processes.
const PS_ARGS: &str = "-o pid,wchan:64,args";

/// One process of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// Its pid on the engine's host.
    pub pid: String,
    /// The kernel function it sleeps in (`ps`'s `wchan`); `-` when it runs or cannot be read.
    pub wchan: String,
    /// Its command line, as its process title shows it (`php-fpm: pool www`).
    pub command: String,
}

impl DockerClient {
    /// The container's processes (see the module's note).
    pub(super) async fn top(&self, container: &str) -> Result<Vec<Process>, DockerError> {
        let what = "list processes";
        let options = bollard::query_parameters::TopOptionsBuilder::default()
            .ps_args(PS_ARGS)
            .build();
        let answer = self
            .bounded(container, what, async {
                self.docker
                    .top_processes(container, Some(options))
                    .await
                    .map_err(|error| DockerError::Request {
                        container: container.to_owned(),
                        what,
                        error,
                    })
            })
            .await?;
        let titles = answer.titles.unwrap_or_default();
        let column = |name: &str| titles.iter().position(|t| t.eq_ignore_ascii_case(name));
        let (pid, wchan, command) = (column("PID"), column("WCHAN"), column("COMMAND"));
        let cell = |row: &[String], at: Option<usize>| {
            at.and_then(|i| row.get(i)).cloned().unwrap_or_default()
        };
        Ok(answer
            .processes
            .unwrap_or_default()
            .iter()
            .map(|row| Process {
                pid: cell(row, pid),
                wchan: cell(row, wchan),
                command: cell(row, command),
            })
            .collect())
    }
}
