//! `fpm-watcher site add SITE --window 20m [--image IMAGE]`: one site onboarded in one command:
//! its conf written, its container created with what the chain needs (when an image is given),
//! its waker socket enabled and listening. It replaces nothing that exists.

use fpm_shared::conf::{self, ListError};
use fpm_shared::docker::{ContainerRuntime, ContainerState, DockerClient, DockerError, Setup};
use fpm_shared::duration::{parse_duration, DurationError};
use fpm_shared::{Layout, ServiceManager, Site, Systemd, SystemdError};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;

/// What `site add` is asked to do.
#[derive(Debug, Clone)]
pub struct AddOptions {
    /// The idle window, as written in the conf (a Go duration: `20m`).
    pub window: String,
    /// The image to create the site's container from; none: the container is the operator's.
    pub image: Option<String>,
    /// Where the site's socket folder is mounted inside the container (php-fpm listens there).
    pub php_dir: String,
    /// More binds for the container, `HOST:INSIDE[:ro]`.
    pub volumes: Vec<String>,
    /// The json-file log's `max-size` and `max-file`.
    pub log: (String, u32),
    /// The container's command instead of the image's, when not empty.
    pub command: Vec<String>,
}

/// Why `site add` stopped; what it did before is reported beside.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// The window is not a duration.
    #[error("--window {window:?}")]
    Window {
        /// What was given.
        window: String,
        /// Why it is not a duration.
        #[source]
        error: DurationError,
    },
    /// A bind is not `HOST:INSIDE`.
    #[error("--volume {0:?}: expected HOST:INSIDE[:ro]")]
    Volume(String),
    /// The site has a conf already.
    #[error("{} exists: {site} is a site already (edit its conf, or remove the site first: fpm-watcher site remove {site})", path.display())]
    ConfExists {
        /// The site.
        site: Site,
        /// Its conf.
        path: PathBuf,
    },
    /// The conf cannot be written.
    #[error("cannot write {}", path.display())]
    WriteConf {
        /// The conf.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// The conf folder cannot be listed.
    #[error(transparent)]
    List(#[from] ListError),
    /// Docker refused.
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// systemd refused.
    #[error(transparent)]
    Systemd(#[from] SystemdError),
}

/// Onboards `site`; `done` receives a line for each step as it is done.
pub async fn add(
    layout: &Layout,
    docker: &DockerClient,
    systemd: &Systemd,
    site: &Site,
    opts: &AddOptions,
    done: &mut impl FnMut(String),
) -> Result<(), AddError> {
    parse_duration(&opts.window).map_err(|error| AddError::Window {
        window: opts.window.clone(),
        error,
    })?;
    let setup = setup(layout, site, opts)?;
    let path = write_conf(layout, site, &opts.window)?;
    done(format!(
        "conf          wrote {} (window {})",
        path.display(),
        opts.window
    ));
    let name = layout.container(site);
    match (&opts.image, docker.state(&name).await?) {
        (_, ContainerState::Missing) if opts.image.is_none() => done(format!(
            "container     {name} not created (no --image): create it as `fpm-watcher site check {site}` says"
        )),
        (Some(image), ContainerState::Missing) => {
            let command = (!opts.command.is_empty()).then(|| opts.command.clone());
            docker.create(&name, image, &setup, command).await?;
            done(format!(
                "container     created {name} from {image}: SIGQUIT, json-file log (max-size {}, max-file {}), restart policy no, {}:{}",
                opts.log.0,
                opts.log.1,
                layout.socket_dir(site).display(),
                opts.php_dir
            ));
        }
        (_, state) => done(format!(
            "container     {name} exists ({}): left as it is",
            state.label()
        )),
    }
    let unit = layout.waker_socket_unit(site);
    systemd.enable_unit(&unit).await?;
    systemd.start_unit(&unit).await?;
    done(format!("waker socket  {unit} enabled and listening"));
    Ok(())
}

/// The container's setup: the socket folder where php-fpm listens, SIGQUIT, a bounded json-file
/// log.
fn setup(layout: &Layout, site: &Site, opts: &AddOptions) -> Result<Setup, AddError> {
    let mut binds = vec![(layout.socket_dir(site), opts.php_dir.clone())];
    for v in &opts.volumes {
        let (host, inside) = v
            .split_once(':')
            .filter(|(h, i)| !h.is_empty() && !i.is_empty())
            .ok_or_else(|| AddError::Volume(v.clone()))?;
        binds.push((PathBuf::from(host), inside.to_owned()));
    }
    Ok(Setup {
        binds,
        stop_signal: Some("SIGQUIT".into()),
        log_driver: Some("json-file".into()),
        log_options: [
            ("max-size".to_owned(), opts.log.0.clone()),
            ("max-file".to_owned(), opts.log.1.to_string()),
        ]
        .into(),
        restart_policy: None,
    })
}

/// Writes `SITE.conf` (never over an existing one, nor beside another conf of the site).
fn write_conf(layout: &Layout, site: &Site, window: &str) -> Result<PathBuf, AddError> {
    let path = layout.conf_dir.join(format!("{site}.conf"));
    if let Some(path) = conf::conf_of(layout, site)? {
        return Err(AddError::ConfExists {
            site: site.clone(),
            path,
        });
    }
    let write_err = |error| AddError::WriteConf {
        path: path.clone(),
        error,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&path)
        .map_err(write_err)?;
    writeln!(
        file,
        "# Amount of time to pause the container after: {window}"
    )
    .map_err(write_err)?;
    Ok(path)
}
