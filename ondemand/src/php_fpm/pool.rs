//! The php-fpm pool override `site add` writes into any image: where the image's php-fpm reads
//! its pools (from what `php-fpm -tt` says and its main configuration's `include`), and the
//! override's text. Pure: the caller runs php-fpm and reads the files.

use std::collections::BTreeMap;

/// The override's file name: it sorts after the image's pool files (`www.conf`, the official
/// images' `zz-docker.conf`), so its settings win.
pub const OVERRIDE_NAME: &str = "zz-fpm-ondemand.conf";

/// What `php-fpm -tt` printed of its configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FpmConfig {
    /// The main configuration file it read.
    pub conf_file: String,
    /// `[global]`'s settings.
    pub global: BTreeMap<String, String>,
    /// Each pool's name and settings, in order.
    pub pools: Vec<(String, BTreeMap<String, String>)>,
}

impl FpmConfig {
    /// The settings of the pool `name`.
    pub fn pool(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        self.pools.iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }
}

/// Why the image's pool folder or pool could not be told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// `php-fpm -tt` did not end with "configuration file ... test is successful".
    #[error("php-fpm -tt did not pass: {0}")]
    NotTested(String),
    /// The main configuration has no `include` that takes a file named like the override.
    #[error("{conf_file} includes no folder of pool files (include = {includes:?}): php-fpm would not read {OVERRIDE_NAME}")]
    NoInclude {
        /// The main configuration.
        conf_file: String,
        /// Its `include` lines.
        includes: Vec<String>,
    },
    /// Not one pool to override, and none named.
    #[error("php-fpm has pools {pools:?}: name the one that serves the site (--pool NAME)")]
    WhichPool {
        /// The pools found.
        pools: Vec<String>,
    },
    /// The pool named is not there.
    #[error("php-fpm has no pool {name:?} (its pools: {pools:?})")]
    NoPool {
        /// The name given.
        name: String,
        /// The pools found.
        pools: Vec<String>,
    },
}

/// Reads `php-fpm -tt`'s output: `[date] NOTICE: [section]`, `NOTICE: \tkey = value`, and the
/// closing `configuration file PATH test is successful`.
pub fn parse_tt(output: &str) -> Result<FpmConfig, PoolError> {
    let mut config = FpmConfig::default();
    let mut section: Option<String> = None;
    for line in output.lines() {
        let Some((_, said)) = line.split_once("NOTICE: ") else {
            continue;
        };
        if let Some(file) = said
            .strip_prefix("configuration file ")
            .and_then(|r| r.strip_suffix(" test is successful"))
        {
            config.conf_file = file.to_owned();
        } else if let Some(name) = said.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            // (a line may come twice: php-fpm logs to stderr and to an error_log that is stderr)
            if name != "global" && config.pool(name).is_none() {
                config.pools.push((name.to_owned(), BTreeMap::new()));
            }
            section = Some(name.to_owned());
        } else if let Some((key, value)) = said.trim().split_once(" = ") {
            let settings = match section.as_deref() {
                Some("global") => &mut config.global,
                Some(name) => match config.pools.iter_mut().find(|(n, _)| n == name) {
                    Some((_, settings)) => settings,
                    None => continue,
                },
                None => continue,
            };
            settings.insert(key.trim().to_owned(), value.trim().to_owned());
        }
    }
    if config.conf_file.is_empty() {
        let last = output.lines().rev().find(|l| !l.trim().is_empty());
        return Err(PoolError::NotTested(
            last.unwrap_or("no output").trim().to_owned(),
        ));
    }
    Ok(config)
}

/// The `include` values of a php-fpm configuration file (comments start with `;` or `#`).
pub fn includes(conf: &str) -> Vec<String> {
    conf.lines()
        .map(|l| l.split([';', '#']).next().unwrap_or("").trim())
        .filter_map(|l| l.split_once('='))
        .filter(|(key, _)| key.trim() == "include")
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        .collect()
}

/// The folder the override goes in: that of the last `include` whose pattern takes a file named
/// [`OVERRIDE_NAME`]. A relative pattern is php-fpm's prefix's: the folder above the one holding
/// `conf_file` (`/usr/local/etc/php-fpm.conf` → `/usr/local`, the official images' layout).
pub fn pool_folder(conf_file: &str, includes: &[String]) -> Result<String, PoolError> {
    let conf_dir = parent(conf_file);
    let prefix = parent(conf_dir);
    includes
        .iter()
        .rev()
        .filter_map(|pattern| {
            let (dir, name) = pattern.rsplit_once('/')?;
            let matches = glob::Pattern::new(name).ok()?.matches(OVERRIDE_NAME);
            let dir = if dir.starts_with('/') {
                dir.to_owned()
            } else {
                format!("{}/{dir}", prefix.trim_end_matches('/'))
            };
            matches.then_some(dir)
        })
        .next()
        .ok_or_else(|| PoolError::NoInclude {
            conf_file: conf_file.to_owned(),
            includes: includes.to_vec(),
        })
}

fn parent(path: &str) -> &str {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) => "/",
        Some((dir, _)) => dir,
        None => ".",
    }
}

/// The pool the site is served by: `named`, else the only one.
pub fn chosen_pool(config: &FpmConfig, named: Option<&str>) -> Result<String, PoolError> {
    let pools: Vec<String> = config.pools.iter().map(|(n, _)| n.clone()).collect();
    match (named, pools.as_slice()) {
        (Some(name), _) if pools.iter().any(|p| p == name) => Ok(name.to_owned()),
        (Some(name), _) => Err(PoolError::NoPool {
            name: name.to_owned(),
            pools,
        }),
        (None, [only]) => Ok(only.clone()),
        (None, _) => Err(PoolError::WhichPool { pools }),
    }
}

/// What the override sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// The site, named in the file's first line.
    pub site: String,
    /// The pool it changes.
    pub pool: String,
    /// Where php-fpm listens, inside the container.
    pub listen: String,
    /// The socket's owner and group, as the host's numbers.
    pub owner: (u32, u32),
    /// `process_control_timeout`, in seconds.
    pub stop_grace_s: u64,
}

impl Override {
    /// The file's text.
    pub fn render(&self) -> String {
        let Override {
            site,
            pool,
            listen,
            owner: (uid, gid),
            stop_grace_s,
        } = self;
        format!(
            "; Written by `fpm-ondemand site add {site}` (fpm-ondemand). It sorts after the image's own
; pool files, so what it sets wins; the rest of the pool is the image's.
[global]
; php-fpm is the container's main process: it stays in the foreground.
daemonize = no
; php-fpm's own messages go to the container's log.
error_log = /proc/self/fd/2
; A graceful stop: on SIGQUIT the workers finish the requests they hold, for up to this long
; (php-fpm's default, 0, kills them at once).
process_control_timeout = {stop_grace_s}s

[{pool}]
; Where the waker and nginx connect: the site's socket folder, mounted here.
listen = {listen}
; The host's ids (numbers: the image's www-data may not be the host's): nginx's user owns the
; socket, the group the waker and the watcher run in may connect, nobody else may.
listen.owner = {uid}
listen.group = {gid}
listen.mode = 0660
; One line per request in the container's log: the reaper reads it to tell an idle site.
access.log = /proc/self/fd/2
"
        )
    }

    /// What php-fpm must say of the pool once the override is in place (`php-fpm -tt`): the
    /// settings that differ, as `key: wanted, found`.
    pub fn unmet(&self, config: &FpmConfig) -> Vec<String> {
        self.differences(config)
            .into_iter()
            .map(|(key, want, found)| format!("{key}: {want} wanted, {found} found"))
            .collect()
    }

    /// The settings php-fpm reads otherwise than the override sets them: `(key, wanted,
    /// found)`, `undefined` where php-fpm has none.
    pub fn differences(&self, config: &FpmConfig) -> Vec<(&'static str, String, String)> {
        let wanted_global = [
            ("daemonize", "no".to_owned()),
            ("process_control_timeout", format!("{}s", self.stop_grace_s)),
        ];
        let wanted_pool = [
            ("listen", self.listen.clone()),
            ("listen.owner", self.owner.0.to_string()),
            ("listen.group", self.owner.1.to_string()),
            ("listen.mode", "0660".to_owned()),
            ("access.log", "/proc/self/fd/2".to_owned()),
        ];
        let empty = BTreeMap::new();
        let pool = config.pool(&self.pool).unwrap_or(&empty);
        let check = |settings: &BTreeMap<String, String>, (key, want): &(&'static str, String)| {
            let found = settings.get(*key).map_or("undefined", String::as_str);
            (found != want).then(|| (*key, want.clone(), found.to_owned()))
        };
        wanted_global
            .iter()
            .filter_map(|w| check(&config.global, w))
            .chain(wanted_pool.iter().filter_map(|w| check(pool, w)))
            .collect()
    }
}

#[cfg(test)]
mod tests;
