//! One-off commands in an image and single files read out of it: how `site add` and `site check`
//! ask an image's own php-fpm how it is set up, without changing the image.

use crate::client::DockerClient;
use crate::error::DockerError;
use bollard::models::{ContainerCreateBody, HostConfig};
use futures::StreamExt;
use std::io::Read as _;

/// The most of a file [`DockerClient::read_image_file`] reads, and of a one-off container's output
/// [`DockerClient::run_once`] keeps: a php-fpm configuration and its `-tt` are a few KiB.
const MAX_READ: u64 = 1 << 20;

/// What an image or a container runs: its `Entrypoint` and `Cmd`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageCommand {
    /// `Config.Entrypoint`.
    pub entrypoint: Vec<String>,
    /// `Config.Cmd`.
    pub cmd: Vec<String>,
}

impl ImageCommand {
    /// From a config's two optional lists.
    pub(crate) fn of(entrypoint: Option<Vec<String>>, cmd: Option<Vec<String>>) -> ImageCommand {
        ImageCommand {
            entrypoint: entrypoint.unwrap_or_default(),
            cmd: cmd.unwrap_or_default(),
        }
    }
}

impl DockerClient {
    /// The entrypoint and command `image` runs by default.
    pub async fn image_command(&self, image: &str) -> Result<ImageCommand, DockerError> {
        let what = "inspect image";
        self.bounded(image, what, async {
            let info = self
                .docker
                .inspect_image(image)
                .await
                .map_err(|error| request(image, what, error))?;
            let config = info.config.unwrap_or_default();
            Ok(ImageCommand::of(config.entrypoint, config.cmd))
        })
        .await
    }

    /// Runs `argv` (its first word as the entrypoint) in a new container of `image` without a
    /// network, with `binds` (`(host, inside)`, read-only), waits for its end and removes it:
    /// its output, stdout and stderr as they came (the first [`MAX_READ`] bytes).
    pub async fn run_once(
        &self,
        image: &str,
        argv: &[String],
        binds: &[(std::path::PathBuf, String)],
    ) -> Result<String, DockerError> {
        let binds = binds
            .iter()
            .map(|(host, inside)| {
                format!("{}:{}:ro", host.display(), inside.trim_end_matches(":ro"))
            })
            .collect();
        let body = ContainerCreateBody {
            image: Some(image.to_owned()),
            entrypoint: Some(argv[..1].to_vec()),
            cmd: Some(argv[1..].to_vec()),
            host_config: Some(HostConfig {
                binds: Some(binds),
                network_mode: Some("none".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let id = self.create_unnamed(image, body).await?;
        let ran = self.run_created(&id).await;
        let removed = self.remove(&id).await;
        let ran = ran?;
        removed.map(|()| ran)
    }

    /// The regular file at `path` in `image` (at most [`MAX_READ`] bytes), read from a container
    /// of it that is created without mounts and never started (Docker 28 refuses to copy out of
    /// a container one of whose mounts lies under a link of its image); `None` when there is none.
    pub async fn read_image_file(
        &self,
        image: &str,
        path: &str,
    ) -> Result<Option<Vec<u8>>, DockerError> {
        let body = ContainerCreateBody {
            image: Some(image.to_owned()),
            entrypoint: Some(vec!["/nonexistent".to_owned()]),
            network_disabled: Some(true),
            ..Default::default()
        };
        let id = self.create_unnamed(image, body).await?;
        let read = self.read_file(&id, path).await;
        let removed = self.remove(&id).await;
        let read = read?;
        removed.map(|()| read)
    }

    /// Creates a container of `image` without a name (Docker gives it one no site has): its id.
    async fn create_unnamed(
        &self,
        image: &str,
        body: ContainerCreateBody,
    ) -> Result<String, DockerError> {
        let what = "create";
        self.bounded(image, what, async {
            let created = self.docker.create_container(None, body).await;
            created
                .map(|c| c.id)
                .map_err(|error| request(image, what, error))
        })
        .await
    }

    async fn run_created(&self, id: &str) -> Result<String, DockerError> {
        let what = "run";
        self.bounded(id, what, async {
            self.docker
                .start_container(id, None)
                .await
                .map_err(|error| request(id, what, error))?;
            // Its end; a non-zero exit comes as an error of its own, and the output says why.
            match self.docker.wait_container(id, None).next().await {
                Some(Ok(_) | Err(bollard::errors::Error::DockerContainerWaitError { .. }))
                | None => {}
                Some(Err(error)) => return Err(request(id, what, error)),
            }
            let options = bollard::query_parameters::LogsOptionsBuilder::default()
                .stdout(true)
                .stderr(true)
                .build();
            let mut logs = self.docker.logs(id, Some(options));
            let mut output = Vec::new();
            while let Some(chunk) = logs.next().await {
                let chunk = chunk.map_err(|error| request(id, what, error))?;
                output.extend_from_slice(&chunk.into_bytes());
                if output.len() as u64 > MAX_READ {
                    output.truncate(MAX_READ as usize);
                    break;
                }
            }
            Ok(String::from_utf8_lossy(&output).into_owned())
        })
        .await
    }

    /// The regular file at `path` in the container `name` (at most [`MAX_READ`] bytes); `None`
    /// when there is none there (a link is not followed: `None` too).
    async fn read_file(&self, name: &str, path: &str) -> Result<Option<Vec<u8>>, DockerError> {
        let what = "copy from";
        let options = bollard::query_parameters::DownloadFromContainerOptionsBuilder::default()
            .path(path)
            .build();
        let tar = self
            .bounded(name, what, async {
                let mut stream = self.docker.download_from_container(name, Some(options));
                let mut tar = Vec::new();
                while let Some(chunk) = stream.next().await {
                    match chunk {
                        Ok(bytes) => tar.extend_from_slice(&bytes),
                        Err(e) if crate::client::status_code(&e) == Some(404) => return Ok(None),
                        Err(error) => return Err(request(name, what, error)),
                    }
                }
                Ok(Some(tar))
            })
            .await?;
        let archive_err = |error| DockerError::Archive {
            container: name.to_owned(),
            path: path.to_owned(),
            error,
        };
        let Some(tar) = tar else { return Ok(None) };
        let mut archive = tar::Archive::new(tar.as_slice());
        let Some(entry) = archive.entries().map_err(archive_err)?.next() else {
            return Ok(None);
        };
        let entry = entry.map_err(archive_err)?;
        if !entry.header().entry_type().is_file() {
            return Ok(None);
        }
        let mut contents = Vec::new();
        entry
            .take(MAX_READ)
            .read_to_end(&mut contents)
            .map_err(archive_err)?;
        Ok(Some(contents))
    }
}

fn request(container: &str, what: &'static str, error: bollard::errors::Error) -> DockerError {
    DockerError::Request {
        container: container.to_owned(),
        what,
        error,
    }
}
