//! What a site's php-fpm reads, asked of php-fpm itself: `php-fpm -tt` in a one-off container of
//! the site's image (with the site's binds, and a file put in place when given), and the main
//! configuration's `include` read from it. `site add` places and checks its pool override with
//! it; `site check` reads the pool a site's container runs.

pub mod pool;

use fpm_shared::docker::{DockerClient, DockerError, FileIn};
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

/// What php-fpm reads in an image, run as the site runs it.
#[derive(Debug, Clone)]
pub struct Probed {
    /// Its configuration, as `php-fpm -tt` printed it.
    pub config: FpmConfig,
    /// The folder of pool files its main configuration includes, or why there is none.
    pub pool_dir: Result<String, PoolError>,
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

/// Runs `argv` with `-tt` in a one-off container of `image` with `binds` (read-only) and `file`
/// in place, and reads what php-fpm says and which pool folder its main configuration includes.
pub async fn probe(
    docker: &DockerClient,
    image: &str,
    argv: &[String],
    binds: &[(PathBuf, String)],
    file: Option<FileIn<'_>>,
) -> Result<Probed, ProbeError> {
    let mut argv = argv.to_vec();
    argv.push("-tt".to_owned());
    let run = docker.run_once(image, &argv, binds, file).await?;
    let config = pool::parse_tt(&run.output);
    let main_conf = match &config {
        Ok(c) => docker.read_file(&run.id, &c.conf_file).await,
        Err(_) => Ok(None),
    };
    docker.remove(&run.id).await?;
    let config = config.map_err(|error| ProbeError::Pool {
        image: image.to_owned(),
        error,
    })?;
    let main_conf = String::from_utf8_lossy(&main_conf?.unwrap_or_default()).into_owned();
    let pool_dir = pool::pool_folder(&config.conf_file, &pool::includes(&main_conf));
    Ok(Probed { config, pool_dir })
}

#[cfg(test)]
mod tests {
    use super::php_fpm_command;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn php_fpm_is_found_in_the_command_with_its_arguments() {
        // The official images: an entrypoint script, then php-fpm.
        let entry = words(&["docker-php-entrypoint"]);
        assert_eq!(
            php_fpm_command(&[], &entry, &words(&["php-fpm"])),
            ["php-fpm"]
        );
        // Debian's binary, a main configuration of its own: kept, so php-fpm reads the same.
        let given = words(&["/usr/sbin/php-fpm8.2", "-F", "-y", "/etc/site.conf"]);
        assert_eq!(php_fpm_command(&given, &words(&["sh"]), &[]), given);
        // A start script the binary is not named in: php-fpm on the image's PATH.
        let script = words(&["/start.sh"]);
        assert_eq!(php_fpm_command(&[], &[], &script), ["php-fpm"]);
    }
}
