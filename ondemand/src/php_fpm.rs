//! What a site's php-fpm reads, asked of php-fpm itself: `php-fpm -tt` in a one-off container of
//! the site's image with the site's binds (its pool override among them), and the `include` of
//! the main configuration it names, read from the image. `site add` places and checks its pool
//! override with it; `site check` reads the pool a site's container runs.

pub mod pool;

use fpm_docker::{DockerClient, DockerError};
use pool::{FpmConfig, PoolError};
use std::path::PathBuf;

/// Why php-fpm's configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// Docker refused a step.
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// php-fpm's answer is not a passed configuration test.
    #[error("image {image}: {error}")]
    Pool {
        /// The image.
        image: String,
        /// What php-fpm said.
        #[source]
        error: PoolError,
    },
}

/// How a container runs php-fpm: the command (`command`, else the image's entrypoint and
/// command) from its first word named `php-fpm*` on (so `-y FILE` and the like count), else
/// `php-fpm` on the image's PATH.
pub fn php_fpm_command(command: &[String], entrypoint: &[String], cmd: &[String]) -> Vec<String> {
    let words = if command.is_empty() {
        [entrypoint, cmd].concat()
    } else {
        command.to_vec()
    };
    let is_fpm = |w: &String| {
        w.rsplit('/')
            .next()
            .is_some_and(|b| b.starts_with("php-fpm"))
    };
    match words.iter().position(is_fpm) {
        Some(at) => words[at..].to_vec(),
        None => vec!["php-fpm".to_owned()],
    }
}

/// What php-fpm says of its configuration when `argv` runs with `-tt` in a one-off container of
/// `image` with `binds` (read-only).
pub async fn tt(
    docker: &DockerClient,
    image: &str,
    argv: &[String],
    binds: &[(PathBuf, String)],
) -> Result<FpmConfig, ProbeError> {
    let mut argv = argv.to_vec();
    argv.push("-tt".to_owned());
    let output = docker.run_once(image, &argv, binds).await?;
    pool::parse_tt(&output).map_err(|error| ProbeError::Pool {
        image: image.to_owned(),
        error,
    })
}

/// The folder of pool files the main configuration `conf_file` of `image` includes, or why
/// there is none (a main configuration that is not in the image has none to tell).
pub async fn pool_dir(
    docker: &DockerClient,
    image: &str,
    conf_file: &str,
) -> Result<Result<String, PoolError>, ProbeError> {
    let text = docker.read_image_file(image, conf_file).await?;
    let text = String::from_utf8_lossy(&text.unwrap_or_default()).into_owned();
    Ok(pool::pool_folder(conf_file, &pool::includes(&text)))
}

#[cfg(test)]
mod tests;
