//! `fpm-watcher`'s command line, as clap parses it; the man page and shell completions are
//! generated from it too (`deploy/debian`).

use clap::{Parser, Subcommand};
use fpm_shared::duration::parse_duration;
use fpm_shared::Site;
use std::path::PathBuf;
use std::time::Duration;

/// Keep systemd's view of every on-demand site true to what its container does.
///
/// `run` (the default) is the daemon for fpm-watcher.service: it reconciles every site that has a
/// conf, then follows Docker's events. When a site's container stops, dies or is killed behind
/// systemd's back, fpm@SITE.service is brought to inactive and a stale php-fpm.sock is removed;
/// when it is started behind systemd's back, the unit is marked active; a failed or stopped
/// waker socket is started again. Containers that are not managed sites are never touched.
///
/// `start-container`, `stop-container` and `start-site` are the commands of fpm@SITE.service and
/// fpm-start.service. The operator's commands (site add, check, remove; status, report, renew)
/// are `fpm-ondemand`'s.
///
/// Exit status: 0 done, 2 could not run; `start-container` exits 75 when the budget of awake
/// sites made no room in time.
#[derive(Debug, Parser)]
#[command(version = fpm_shared::VERSION, about, long_about, after_long_help = fpm_shared::DOCS)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Config file with paths and name templates [default: /etc/fpm-ondemand/config.toml if present].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Conf folder (overrides the config).
    #[arg(long, global = true, value_name = "DIR")]
    pub conf_dir: Option<PathBuf>,
    /// Also log to this file, appending (the package's /etc/logrotate.d/fpm-ondemand rotates /var/log/fpm-ondemand/*.log).
    #[arg(long, global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon (the default).
    Run {
        /// Full reconcile of every site this often (Go duration).
        #[arg(long, default_value = "5m", value_parser = parse_duration)]
        reconcile_every: Duration,
        /// Check the Docker engine still answers this often.
        #[arg(long, default_value = "30s", value_parser = parse_duration)]
        ping_every: Duration,
    },
    /// Start a site's container: the `ExecStart` of fpm@SITE.service. Returns once the
    /// container runs; one already running is left as it is.
    StartContainer {
        /// The site id.
        site: Site,
    },
    /// Serve the wakers' start requests on the start socket systemd passes (fd 3): the
    /// `ExecStart` of fpm-start.service. For each connection: reads a site id, starts exactly
    /// fpm@SITE.service (mode replace) if the site has a conf, and answers `done`, the job's
    /// other result, or `refused: WHY`.
    StartSite,
    /// Stop a site's container: the `ExecStop` of fpm@SITE.service. A container that was
    /// started again after the unit became active (e.g. `docker stop` then `docker start`
    /// before the watcher caught up) is not the unit's run and is left running.
    StopContainer {
        /// The site id.
        site: Site,
        /// Time for php-fpm to finish its requests before it is killed (Go duration).
        #[arg(long, default_value = "30s", value_parser = parse_duration)]
        grace: Duration,
    },
}

impl Default for Command {
    /// `run` with its defaults.
    fn default() -> Self {
        Command::Run {
            reconcile_every: Duration::from_secs(300),
            ping_every: Duration::from_secs(30),
        }
    }
}
