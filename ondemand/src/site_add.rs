//! `fpm-ondemand site add SITE --window 20m [--image IMAGE]`: one site onboarded in one command:
//! its conf written, its container created with what the chain needs (when an image is given),
//! its waker socket enabled and listening. It replaces nothing that exists.

use crate::php_fpm::{self, pool, ProbeError};
use crate::site_check::{nginx, reach};
use fpm_docker::{ContainerRuntime, ContainerState, DockerClient, DockerError, Setup};
use fpm_shared::conf::{self, ListError};
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
    /// The php-fpm pool that serves the site, when the image has several.
    pub pool: Option<String>,
    /// Leave the image's php-fpm pools as they are (the image is made for this chain already).
    pub no_pool_override: bool,
    /// `process_control_timeout` in the pool override (a Go duration): how long php-fpm's own
    /// graceful stop may take (the drain before it has waited for the requests already).
    pub process_control_timeout: String,
}

/// The pool override for one image, written and checked by the image's own php-fpm.
#[derive(Debug, Clone)]
struct PoolPlan {
    /// The override's bind: the host's file, and where it goes in the image's pool folder.
    bind: (PathBuf, String),
    /// The pool it changes.
    pool: String,
    /// What it changes of the image's settings.
    changed: Vec<String>,
}

/// Why `site add` stopped; what it did before is reported beside.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// A flag's value is not a duration.
    #[error("{flag} {value:?}")]
    Duration {
        /// The flag.
        flag: &'static str,
        /// What was given.
        value: String,
        /// Why it is not a duration.
        #[source]
        error: DurationError,
    },
    /// A bind is not `HOST:INSIDE`.
    #[error("--volume {0:?}: expected HOST:INSIDE[:ro]")]
    Volume(String),
    /// The site has a conf already.
    #[error("{} exists: {site} is a site already (edit its conf, or remove the site first: fpm-ondemand site remove {site})", path.display())]
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
    /// The image's php-fpm could not be read or does not take the override.
    #[error("image {image}: {error}")]
    Pool {
        /// The image.
        image: String,
        /// What was wrong.
        error: pool::PoolError,
    },
    /// nginx's user or the waker's group is unknown on this host.
    #[error("user {user} or group {group} is unknown on this host: php-fpm's socket would be nobody's to reach")]
    HostIds {
        /// nginx's user.
        user: String,
        /// The waker's group.
        group: String,
    },
    /// php-fpm could not be asked.
    #[error(transparent)]
    Probe(#[from] ProbeError),
    /// The image's php-fpm, given the override, does not say what it sets.
    #[error("image {image}: php-fpm does not take {dir}/{}: {}", pool::OVERRIDE_NAME, unmet.join("; "))]
    OverrideIgnored {
        /// The image.
        image: String,
        /// Where the override was put.
        dir: String,
        /// What php-fpm said instead.
        unmet: Vec<String>,
    },
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
    parse_duration(&opts.window).map_err(|error| AddError::Duration {
        flag: "--window",
        value: opts.window.clone(),
        error,
    })?;
    let mut setup = setup(layout, site, opts)?;
    if let Some(path) = conf::conf_of(layout, site)? {
        return Err(AddError::ConfExists {
            site: site.clone(),
            path,
        });
    }
    let state = docker.state(&layout.container(site)).await?;
    let plan = match &opts.image {
        Some(image) if !opts.no_pool_override && state == ContainerState::Missing => {
            let plan = plan_pool(layout, docker, site, (image, opts), &setup).await?;
            setup.binds.push(plan.bind.clone());
            Some(plan)
        }
        _ => None,
    };
    let path = write_conf(layout, site, &opts.window)?;
    done(format!(
        "conf          wrote {} (window {})",
        path.display(),
        opts.window
    ));
    create_container(
        layout,
        docker,
        site,
        (opts, &setup, plan.as_ref(), state),
        done,
    )
    .await?;
    let unit = layout.waker_socket_unit(site);
    systemd.enable_unit(&unit).await?;
    systemd.start_unit(&unit).await?;
    done(format!("waker socket  {unit} enabled and listening"));
    Ok(())
}

/// Creates the site's container from `--image` with `setup` (the override's bind in it when
/// planned), or says why not: no image, or a container already there (`state`).
async fn create_container(
    layout: &Layout,
    docker: &DockerClient,
    site: &Site,
    (opts, setup, plan, state): (&AddOptions, &Setup, Option<&PoolPlan>, ContainerState),
    done: &mut impl FnMut(String),
) -> Result<(), AddError> {
    let name = layout.container(site);
    match (&opts.image, state) {
        (None, ContainerState::Missing) => done(format!(
            "container     {name} not created (no --image): create it as `fpm-ondemand site check {site}` says"
        )),
        (Some(image), ContainerState::Missing) => {
            let command = (!opts.command.is_empty()).then(|| opts.command.clone());
            docker.create(&name, image, setup, command).await?;
            if let Some(plan) = plan {
                let changed = if plan.changed.is_empty() {
                    "the image set all of it already".to_owned()
                } else {
                    plan.changed.join(", ")
                };
                done(format!(
                    "php-fpm pool  [{}] overridden by {} (mounted at {}): {changed}",
                    plan.pool,
                    plan.bind.0.display(),
                    plan.bind.1.trim_end_matches(":ro"),
                ));
            }
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
    Ok(())
}

/// Reads how `image`'s php-fpm is set up (`php-fpm -tt` in a one-off container, and the
/// `include` of its main configuration), writes the override where the layout keeps it, and has
/// the image's php-fpm read it back through the bind the container will have. The file is
/// removed again when php-fpm does not take it.
async fn plan_pool(
    layout: &Layout,
    docker: &DockerClient,
    site: &Site,
    (image, opts): (&str, &AddOptions),
    setup: &Setup,
) -> Result<PoolPlan, AddError> {
    let pool_err = |error| AddError::Pool {
        image: image.to_owned(),
        error,
    };
    let own = docker.image_command(image).await?;
    let argv = php_fpm::php_fpm_command(&opts.command, &own.entrypoint, &own.cmd);
    let config = php_fpm::tt(docker, image, &argv, &setup.binds).await?;
    let dir = php_fpm::pool_dir(docker, image, &config.conf_file)
        .await?
        .map_err(pool_err)?;
    let chosen = pool::chosen_pool(&config, opts.pool.as_deref()).map_err(pool_err)?;
    let wanted = pool::Override {
        site: site.to_string(),
        pool: chosen.clone(),
        listen: format!(
            "{}/{}",
            opts.php_dir.trim_end_matches('/'),
            layout.fpm_socket
        ),
        owner: host_ids()?,
        stop_grace_s: stop_grace(&opts.process_control_timeout)?,
    };
    let file = layout.pool_override_path(site);
    write_override(&file, &wanted.render())?;
    let bind = (file.clone(), format!("{dir}/{}:ro", pool::OVERRIDE_NAME));
    let binds = [setup.binds.clone(), vec![bind.clone()]].concat();
    let unmet = match php_fpm::tt(docker, image, &argv, &binds).await {
        Ok(read) => wanted.unmet(&read),
        Err(ProbeError::Pool { error, .. }) => vec![error.to_string()],
        Err(e) => {
            let _ = std::fs::remove_file(&file);
            return Err(e.into());
        }
    };
    if !unmet.is_empty() {
        let _ = std::fs::remove_file(&file);
        return Err(AddError::OverrideIgnored {
            image: image.to_owned(),
            dir,
            unmet,
        });
    }
    Ok(PoolPlan {
        bind,
        pool: chosen,
        changed: wanted
            .differences(&config)
            .into_iter()
            .map(|(key, want, found)| format!("{key} {found} → {want}"))
            .collect(),
    })
}

/// `--process-control-timeout` in seconds; 0, php-fpm's own default, is allowed.
fn stop_grace(value: &str) -> Result<u64, AddError> {
    match parse_duration(value) {
        Ok(d) => Ok(d.as_secs()),
        Err(DurationError::Zero) => Ok(0),
        Err(error) => Err(AddError::Duration {
            flag: "--process-control-timeout",
            value: value.to_owned(),
            error,
        }),
    }
}

/// Writes the override (root's, 0644) in the layout's pool folder, made if missing.
fn write_override(file: &std::path::Path, text: &str) -> Result<(), AddError> {
    let write_err = |error| AddError::WriteConf {
        path: file.to_owned(),
        error,
    };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(write_err)?;
    }
    std::fs::write(file, text).map_err(write_err)
}

/// The host's ids php-fpm's socket gets: nginx's user (its `user` in `nginx -T`; www-data when
/// nginx cannot be asked) and the group the waker runs in.
fn host_ids() -> Result<(u32, u32), AddError> {
    let (user, _) = nginx::nginx_config()
        .map(|text| reach::nginx_user(&text))
        .unwrap_or_else(|_| ("www-data".to_owned(), String::new()));
    let group = fpm_shared::layout::WAKER_USER.1;
    reach::identity(String::new(), &user, group)
        .map(|id| (id.uid, id.gid))
        .ok_or_else(|| AddError::HostIds {
            user,
            group: group.to_owned(),
        })
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
