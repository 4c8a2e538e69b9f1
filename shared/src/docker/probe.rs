//! One-off commands in an image and single files in and out of a container: how `site add` reads
//! an image's php-fpm setup and puts its pool override in place, without changing the image.

use super::{DockerClient, DockerError};
use bollard::models::{ContainerCreateBody, HostConfig};
use futures::StreamExt;
use std::io::Read as _;

/// The most of a file [`DockerClient::read_file`] reads, and of a one-off container's output
/// [`DockerClient::run_once`] keeps: a php-fpm configuration and its `-tt` are a few KiB.
pub const MAX_READ: u64 = 1 << 20;

/// An image's own `Entrypoint` and `Cmd`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageCommand {
    /// `Config.Entrypoint`.
    pub entrypoint: Vec<String>,
    /// `Config.Cmd`.
    pub cmd: Vec<String>,
}

/// A one-off container that ran to its end: remove it with [`DockerClient::remove`].
#[derive(Debug, Clone)]
pub struct OneOff {
    /// Its id.
    pub id: String,
    /// Its exit code.
    pub exit_code: i64,
    /// Its output, stdout and stderr as they came (the first [`MAX_READ`] bytes).
    pub output: String,
}

/// A file to put in a container: `name` in the folder `dir`, mode 0644, owned by root.
#[derive(Debug, Clone, Copy)]
pub struct FileIn<'a> {
    /// The folder inside the container (it must exist).
    pub dir: &'a str,
    /// The file's name.
    pub name: &'a str,
    /// What it holds.
    pub contents: &'a [u8],
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
            Ok(ImageCommand {
                entrypoint: config.entrypoint.unwrap_or_default(),
                cmd: config.cmd.unwrap_or_default(),
            })
        })
        .await
    }

    /// The image and the entrypoint and command the container `name` runs; `None` when there is
    /// no such container.
    pub async fn container_command(
        &self,
        name: &str,
    ) -> Result<Option<(String, ImageCommand)>, DockerError> {
        let what = "inspect";
        self.bounded(name, what, async {
            let info = match self.docker.inspect_container(name, None).await {
                Ok(info) => info,
                Err(e) if super::status_code(&e) == Some(404) => return Ok(None),
                Err(error) => return Err(request(name, what, error)),
            };
            let config = info.config.unwrap_or_default();
            let command = ImageCommand {
                entrypoint: config.entrypoint.unwrap_or_default(),
                cmd: config.cmd.unwrap_or_default(),
            };
            Ok(config.image.map(|image| (image, command)))
        })
        .await
    }

    /// Runs `argv` (its first word as the entrypoint) in a new container of `image` without a
    /// network, with `binds` (`(host, inside)`, read-only), `file` put in place before it
    /// starts, and waits for its end. The container is kept so that files can be read from it;
    /// on an error it is removed here.
    pub async fn run_once(
        &self,
        image: &str,
        argv: &[String],
        binds: &[(std::path::PathBuf, String)],
        file: Option<FileIn<'_>>,
    ) -> Result<OneOff, DockerError> {
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
        let what = "create";
        let id = self
            .bounded(image, what, async {
                let created = self.docker.create_container(None, body).await;
                created
                    .map(|c| c.id)
                    .map_err(|error| request(image, what, error))
            })
            .await?;
        let ran = self.run_created(&id, file).await;
        if ran.is_err() {
            let _ = self.remove(&id).await;
        }
        ran
    }

    async fn run_created(&self, id: &str, file: Option<FileIn<'_>>) -> Result<OneOff, DockerError> {
        if let Some(file) = file {
            self.put_file(id, file).await?;
        }
        let what = "run";
        self.bounded(id, what, async {
            self.docker
                .start_container(id, None)
                .await
                .map_err(|error| request(id, what, error))?;
            let exit_code = match self.docker.wait_container(id, None).next().await {
                Some(Ok(answer)) => answer.status_code,
                Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
                Some(Err(error)) => return Err(request(id, what, error)),
                None => -1,
            };
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
            Ok(OneOff {
                id: id.to_owned(),
                exit_code,
                output: String::from_utf8_lossy(&output).into_owned(),
            })
        })
        .await
    }

    /// Puts `file` in the container `name` (created or running), replacing a file of that name.
    pub async fn put_file(&self, name: &str, file: FileIn<'_>) -> Result<(), DockerError> {
        let what = "copy into";
        let mut header = tar::Header::new_gnu();
        header.set_size(file.contents.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        );
        let archive_err = |error| DockerError::Archive {
            container: name.to_owned(),
            path: format!("{}/{}", file.dir, file.name),
            error,
        };
        let mut archive = tar::Builder::new(Vec::new());
        archive
            .append_data(&mut header, file.name, file.contents)
            .map_err(archive_err)?;
        let tar = archive.into_inner().map_err(archive_err)?;
        let options = bollard::query_parameters::UploadToContainerOptionsBuilder::default()
            .path(file.dir)
            .build();
        self.bounded(name, what, async {
            self.docker
                .upload_to_container(name, Some(options), bollard::body_full(tar.into()))
                .await
                .map_err(|error| request(name, what, error))
        })
        .await
    }

    /// The regular file at `path` in the container `name` (at most [`MAX_READ`] bytes); `None`
    /// when there is none there (a link is not followed: `None` too).
    pub async fn read_file(&self, name: &str, path: &str) -> Result<Option<Vec<u8>>, DockerError> {
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
                        Err(e) if super::status_code(&e) == Some(404) => return Ok(None),
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
