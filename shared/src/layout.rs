//! The host layout: every path and name template, with defaults, in one place (optionally from TOML).

use crate::site::{ContainerName, Site, UnitName};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the optional config file is looked for when no `--config` is given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/fpm-ondemand/config.toml";

/// The placeholder a name template replaces with the site id.
pub const SITE_PLACEHOLDER: &str = "{site}";

/// File name of the waker socket in the site's folder on the shell-script host.
pub const SEED_WAKER_SOCKET: &str = "vhost-waker.sock";

/// The user and group `fpm-waker@.service` runs the waker as (`User=`, `Group=`): it must be
/// able to connect to every site's php-fpm socket.
pub const WAKER_USER: (&str, &str) = ("fpm-waker", "www-data");

/// Where the operator keeps a site's nginx upstream, as the README and the migration guide write
/// it (`fpm-ondemand site nginx SITE > ...`); `site remove` removes it when `site nginx` wrote it.
pub const NGINX_UPSTREAM_FILE: &str = "/etc/nginx/conf.d/fpm-{site}.conf";

/// Keys the config may not set, and why: the shipped units, tmpfiles.d and nginx
/// snippets name these paths and units literally, so a changed value would silently break the host.
/// Each is tested to match those files (`tests/tests/layout.rs`).
pub const FIXED_KEYS: [&str; 6] = [
    "fpm_unit",
    "waker_socket_unit",
    "waker_service_unit",
    "socket_dir",
    "waker_socket",
    "fpm_socket",
];

/// Paths and name templates of a host. Every field has the default of the host layout; only the
/// fields that nothing shipped depends on can be set in the config (see [`FIXED_KEYS`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Layout {
    /// Folder of the per-site conf files.
    pub conf_dir: PathBuf,
    /// Glob, relative to `conf_dir`, that selects conf files; the site id is the file name minus its extension.
    pub conf_glob: String,
    /// Container name template (`fpm@.service` asks the watcher, which reads it here).
    pub container: String,
    /// The unit that starts and stops the site's container (`deploy/systemd/fpm@.service`).
    #[serde(skip)]
    pub fpm_unit: String,
    /// The waker's socket unit (`deploy/systemd/fpm-waker@.socket`).
    #[serde(skip)]
    pub waker_socket_unit: String,
    /// The waker's service unit (`deploy/systemd/fpm-waker@.service`).
    #[serde(skip)]
    pub waker_service_unit: String,
    /// The site's socket folder template (the socket unit, tmpfiles.d, nginx).
    #[serde(skip)]
    pub socket_dir: String,
    /// The waker socket's path template (owned by systemd): in a root-owned folder that is
    /// never mounted into a container, so nothing a tenant does reaches the socket systemd binds.
    #[serde(skip)]
    pub waker_socket: String,
    /// File name of php-fpm's socket inside the socket folder (created by php-fpm; nginx's upstream).
    #[serde(skip)]
    pub fpm_socket: String,
    /// The Docker engine's socket.
    pub docker_socket: PathBuf,
    /// Seconds one Docker request may take before it counts as failed.
    pub docker_timeout_secs: u64,
    /// Lock file that keeps two acting reapers apart; its folder is the reaper's alone (0700).
    /// The default's folder is made by the reaper unit's `RuntimeDirectory=`; elsewhere, the
    /// unit's sandbox must let the reaper write there (it fails loudly otherwise).
    pub reaper_lock: PathBuf,
    /// The watcher's events socket, where the waker and the reaper send what its metrics count
    /// (`fpm-watcher.socket` makes it).
    #[serde(skip)]
    pub events_socket: PathBuf,
    /// The watcher's admission socket, where fpm@'s `start-container` asks for room when a
    /// budget is set (`fpm-watcher-admission.socket` makes it).
    #[serde(skip)]
    pub admission_socket: PathBuf,
    /// The start socket, where a site's waker asks for its site's start (`fpm-start.socket`
    /// makes it; `fpm-watcher start-site` answers each connection).
    #[serde(skip)]
    pub start_socket: PathBuf,
    /// Where `site add` writes each site's php-fpm pool override (`SITE.conf`), which the site's
    /// container mounts read-only into its image's pool folder. The engine reads it at this path.
    pub pool_dir: PathBuf,
    /// The awake-site budget (`[budget]`); off by default.
    pub budget: crate::budget::Budget,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            conf_dir: "/var/lib/docker/volumes/docker_sites-enabled/on-demand".into(),
            conf_glob: "*.conf".into(),
            container: "{site}.fpm".into(),
            fpm_unit: "fpm@{site}.service".into(),
            waker_socket_unit: "fpm-waker@{site}.socket".into(),
            waker_service_unit: "fpm-waker@{site}.service".into(),
            socket_dir: "/var/run/docker-apps/{site}".into(),
            waker_socket: "/run/fpm-ondemand/wake/{site}.sock".into(),
            fpm_socket: "php-fpm.sock".into(),
            docker_socket: "/var/run/docker.sock".into(),
            docker_timeout_secs: 20,
            reaper_lock: "/run/fpm-reaper/lock".into(),
            events_socket: "/run/fpm-ondemand/events.sock".into(),
            admission_socket: "/run/fpm-ondemand/admission.sock".into(),
            start_socket: "/run/fpm-ondemand/start.sock".into(),
            pool_dir: "/var/lib/fpm-ondemand/php-fpm".into(),
            budget: crate::budget::Budget::default(),
        }
    }
}

/// A config file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// The file is not valid TOML for [`Layout`].
    #[error("invalid config {path}: {message}")]
    Parse {
        /// The config file.
        path: PathBuf,
        /// What the TOML parser said, with line and column.
        message: String,
    },
    /// A key the shipped units depend on (see [`FIXED_KEYS`]).
    #[error("invalid config {path}: {key} cannot be changed: the shipped units, tmpfiles.d and nginx snippets use its default; remove the line")]
    Fixed {
        /// The config file.
        path: PathBuf,
        /// The key.
        key: &'static str,
    },
    /// A name template does not hold `{site}` exactly once, or a file name is not a plain name.
    #[error("invalid config {path}: {key} = {value:?}: {why}")]
    Value {
        /// The config file.
        path: PathBuf,
        /// The key.
        key: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        why: String,
    },
}

impl Layout {
    /// Loads the layout: from `explicit` if given (it must exist), else from
    /// [`DEFAULT_CONFIG_PATH`] if that exists, else the defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Layout, ConfigError> {
        match Layout::config_text(explicit)? {
            Some((path, text)) => Layout::from_toml(&text, &path),
            None => Ok(Layout::default()),
        }
    }

    /// [`Layout::load`], with the conf folder `conf_dir` instead of the config's when given
    /// (the tools' `--conf-dir`).
    pub fn load_with_conf_dir(
        explicit: Option<&Path>,
        conf_dir: Option<&Path>,
    ) -> Result<Layout, ConfigError> {
        let mut layout = Layout::load(explicit)?;
        if let Some(dir) = conf_dir {
            layout.conf_dir = dir.to_owned();
        }
        Ok(layout)
    }

    /// The config file [`Layout::load`] reads, and its text: `explicit` if given (it must
    /// exist), else [`DEFAULT_CONFIG_PATH`]; `None` when that default does not exist.
    pub fn config_text(explicit: Option<&Path>) -> Result<Option<(PathBuf, String)>, ConfigError> {
        let path = explicit.unwrap_or(Path::new(DEFAULT_CONFIG_PATH));
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some((path.to_owned(), text))),
            Err(e) if explicit.is_none() && e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ConfigError::Read {
                path: path.to_owned(),
                error: source,
            }),
        }
    }

    /// Parses and checks a layout from TOML text read from `path`.
    pub fn from_toml(text: &str, path: &Path) -> Result<Layout, ConfigError> {
        let parse_err = |e: toml::de::Error| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        };
        let table: toml::Table = toml::from_str(text).map_err(parse_err)?;
        if let Some(key) = FIXED_KEYS.iter().find(|k| table.contains_key(**k)) {
            return Err(ConfigError::Fixed {
                path: path.to_owned(),
                key,
            });
        }
        let layout: Layout = table.try_into().map_err(parse_err)?;
        layout.check(path)?;
        Ok(layout)
    }

    fn check(&self, path: &Path) -> Result<(), ConfigError> {
        match self.value_problems().into_iter().next() {
            Some((key, value, why)) => Err(ConfigError::Value {
                path: path.to_owned(),
                key,
                value,
                why,
            }),
            None => Ok(()),
        }
    }

    /// Every setting that cannot work, as (key, value, why).
    pub fn value_problems(&self) -> Vec<(&'static str, String, String)> {
        let mut found = Vec::new();
        let mut bad =
            |key, value: &str, why: &str| found.push((key, value.to_owned(), why.to_owned()));
        if self.container.matches(SITE_PLACEHOLDER).count() != 1 {
            bad(
                "container",
                &self.container,
                "must contain {site} exactly once",
            );
        }
        if self.conf_glob.contains('/') || glob::Pattern::new(&self.conf_glob).is_err() {
            bad(
                "conf_glob",
                &self.conf_glob,
                "must be a file-name glob without '/'",
            );
        }
        if self.docker_timeout_secs == 0 {
            bad("docker_timeout_secs", "0", "must be at least 1");
        }
        found.extend(self.budget.problems());
        found
    }

    /// The site's container name, e.g. `blog.fpm`.
    pub fn container(&self, site: &Site) -> ContainerName {
        ContainerName::new(fill(&self.container, site))
    }

    /// The unit that runs the site's container, e.g. `fpm@blog.service`.
    pub fn fpm_unit(&self, site: &Site) -> UnitName {
        UnitName::new(fill(&self.fpm_unit, site))
    }

    /// The waker's socket unit, e.g. `fpm-waker@blog.socket`.
    pub fn waker_socket_unit(&self, site: &Site) -> UnitName {
        UnitName::new(fill(&self.waker_socket_unit, site))
    }

    /// The waker's service unit, e.g. `fpm-waker@blog.service`.
    pub fn waker_service_unit(&self, site: &Site) -> UnitName {
        UnitName::new(fill(&self.waker_service_unit, site))
    }

    /// The site's socket folder, e.g. `/var/run/docker-apps/blog`.
    pub fn socket_dir(&self, site: &Site) -> PathBuf {
        fill(&self.socket_dir, site).into()
    }

    /// The site's php-fpm pool override written by `site add`, e.g.
    /// `/var/lib/fpm-ondemand/php-fpm/blog.conf`.
    pub fn pool_override_path(&self, site: &Site) -> PathBuf {
        self.pool_dir.join(format!("{site}.conf"))
    }

    /// The waker socket owned by systemd, e.g. `/run/fpm-ondemand/wake/blog.sock`.
    pub fn waker_socket_path(&self, site: &Site) -> PathBuf {
        fill(&self.waker_socket, site).into()
    }

    /// Where the shell-script host put the waker socket, inside the site's folder, e.g.
    /// `/var/run/docker-apps/blog/vhost-waker.sock`: systemd listens there too only on a host that
    /// keeps its old vhosts with the seed-path drop-in (docs/security.md, "Security model").
    pub fn seed_waker_socket_path(&self, site: &Site) -> PathBuf {
        self.socket_dir(site).join(SEED_WAKER_SOCKET)
    }

    /// php-fpm's socket, e.g. `/var/run/docker-apps/blog/php-fpm.sock`.
    pub fn fpm_socket_path(&self, site: &Site) -> PathBuf {
        self.socket_dir(site).join(&self.fpm_socket)
    }

    /// The site's nginx upstream file ([`NGINX_UPSTREAM_FILE`]), e.g. `/etc/nginx/conf.d/fpm-blog.conf`.
    pub fn nginx_upstream_file(&self, site: &Site) -> PathBuf {
        fill(NGINX_UPSTREAM_FILE, site).into()
    }

    /// The site whose container has this name, if the name fits the template exactly.
    pub fn site_of_container(&self, name: &str) -> Option<Site> {
        unfill(&self.container, name.strip_prefix('/').unwrap_or(name))
    }

    /// The site whose waker socket unit has this name, if the name fits the template exactly.
    pub fn site_of_waker_socket_unit(&self, unit: &str) -> Option<Site> {
        unfill(&self.waker_socket_unit, unit)
    }

    /// The site whose `fpm@SITE.service` has this name, if the name fits the template exactly.
    pub fn site_of_fpm_unit(&self, unit: &str) -> Option<Site> {
        unfill(&self.fpm_unit, unit)
    }

    /// The Docker request timeout.
    pub fn docker_timeout(&self) -> Duration {
        Duration::from_secs(self.docker_timeout_secs)
    }
}

fn fill(template: &str, site: &Site) -> String {
    template.replacen(SITE_PLACEHOLDER, site.as_str(), 1)
}

/// The inverse of [`fill`]: the site a name was made from, if it fits the template exactly.
fn unfill(template: &str, name: &str) -> Option<Site> {
    let (prefix, suffix) = template.split_once(SITE_PLACEHOLDER)?;
    Site::new(name.strip_prefix(prefix)?.strip_suffix(suffix)?).ok()
}

pub mod check;

#[cfg(test)]
mod tests;
