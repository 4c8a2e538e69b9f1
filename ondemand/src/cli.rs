//! `fpm-ondemand`'s command line, as clap parses it; the man pages and shell completions are
//! generated from it too (`deploy/debian`).

use clap::{Parser, Subcommand, ValueEnum};
use fpm_shared::duration::parse_duration;
use fpm_shared::Site;
use std::path::PathBuf;
use std::time::Duration;

/// Run PHP sites that sleep when idle: add, check and remove a site; see every site's state, what
/// they cost, and reset one by hand.
///
/// Each site's php-fpm runs in its own container, started by its waker on the first request and
/// stopped by fpm-reaper when idle; fpm-watcher keeps systemd's view of it true. This is the
/// operator's command over all of them.
///
/// Exit status: 0 done (for `status`: every site consistent; for `site check`: every check
/// holds), 1 `status` found inconsistencies, `site check` a failed check or `renew` a failed
/// step, 2 could not run or refused.
#[derive(Debug, Parser)]
#[command(name = "fpm-ondemand", version = fpm_shared::VERSION, about, long_about, after_long_help = fpm_shared::DOCS)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
    /// Config file with paths and name templates [default: /etc/fpm-ondemand/config.toml if present].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Conf folder (overrides the config).
    #[arg(long, global = true, value_name = "DIR")]
    pub conf_dir: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// One site: add, check or remove it, print its nginx block; list the sites.
    Site {
        #[command(subcommand)]
        command: SiteCommand,
    },
    /// Print each site's container, since when it is awake and how long idle, its units and
    /// sockets, and what is inconsistent (exit 1 if anything is).
    Status {
        /// Only these sites (each must have a conf); every managed site when none is given.
        sites: Vec<Site>,
        /// Output: an aligned table, or one JSON document (`version`, `now`, `sites`).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The config file: check it.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// What each site cost over a period, read from the journal (so it works after the fact,
    /// without Prometheus): wakes, awake share, cold-start p50/p95/max, last wake, memory; and the
    /// host's awake site-hours against always-on, with the memory sleeping saved (each running
    /// container's measured memory; a sleeping one at their mean). Needs root or the
    /// systemd-journal group.
    Report {
        /// The period: this long back from now (Go duration).
        #[arg(long, default_value = "24h", value_parser = parse_duration)]
        since: Duration,
        /// Output: an aligned table with the host's totals, or one JSON document (`version`,
        /// `since`, `now`, `sites`, `host`).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Reset a site by hand: stop its waker and fpm units, clear stale sockets and failed
    /// states, start the waker socket again.
    Renew {
        /// The site id.
        site: Site,
    },
}

/// How `status` prints.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// An aligned table and a summary line.
    Text,
    /// One JSON document (see the docs/stops.md, "The watcher").
    Json,
}

/// `fpm-ondemand config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check the config file (--config, else /etc/fpm-ondemand/config.toml) like `nginx -t`: every
    /// unknown key, value of the wrong type and setting that cannot work, each as FILE:LINE: KEY:
    /// WHY. Exit 0 when the tools would load it, 2 otherwise. Run it before restarting or
    /// reloading the watcher.
    Check,
}

/// `fpm-ondemand site ...`.
#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Onboard a site in one command: write its conf, create its container from --image with
    /// what the chain needs (the socket folder mounted at --php-dir, SIGQUIT, a json-file log
    /// bounded by --log-max-size and --log-max-file, restart policy `no`, and a php-fpm pool
    /// override written to the config's pool_dir (SITE.conf) and mounted as zz-fpm-ondemand.conf
    /// in the pool folder the image's php-fpm reads: listening on DIR/php-fpm.sock for nginx,
    /// logging each request, stopping gracefully),
    /// enable and start its waker socket, and print its nginx block. Nothing that exists is
    /// replaced. Then run `fpm-ondemand site check SITE`.
    Add(AddArgs),
    /// Remove a site, the inverse of `site add`: disable and stop its waker socket, stop the site
    /// through fpm@SITE.service (drained), remove its container (unless --keep-container), its
    /// conf, its socket folder (its stale sockets; a folder holding anything else is left and
    /// named) and the upstream file `site nginx` wrote. Refuses (exit 2) while nginx still sends
    /// the site requests or its waker runs, unless --force.
    Remove {
        /// The site id.
        site: Site,
        /// Leave the site's container in place (stopped).
        #[arg(long)]
        keep_container: bool,
        /// Remove the site although nginx may still send it requests or its waker holds some.
        #[arg(long)]
        force: bool,
    },
    /// Check every link of the site's chain, like `nginx -t`: its conf, its container (exists,
    /// mounts the socket folder, stops with SIGQUIT, logs where the reaper reads), its waker
    /// socket (enabled and listening), php-fpm.sock, and an nginx vhost that routes to it. One
    /// line per check; each failure says what to run. Exit 0 when all hold, 1 otherwise.
    Check {
        /// The site id.
        site: Site,
    },
    /// List the managed sites (those with a conf in the conf folder): each site's idle window,
    /// or why its conf cannot be read, and its conf file. Exit 1 if a conf cannot be read.
    List {
        /// Output: an aligned table, or one JSON document (`version`, `sites`).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the site's nginx upstream (php-fpm's socket first, the waker socket as backup) and
    /// the location block that uses it.
    Nginx {
        /// The site id.
        site: Site,
        /// Name the seed's waker socket as the backup (the shell-script host's path, in the
        /// site's folder) rather than /run/fpm-ondemand/wake/SITE.sock: for a host whose waker
        /// sockets listen there too (the seed-path drop-in), as during a migration.
        #[arg(long)]
        seed_path: bool,
    },
}

/// `fpm-ondemand site add`'s arguments.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The site id.
    pub site: Site,
    /// The idle window written in the conf (Go duration).
    #[arg(long, value_name = "DURATION")]
    pub window: String,
    /// Create the site's container from this image (without it the container is yours).
    #[arg(long)]
    pub image: Option<String>,
    /// Where the socket folder is mounted in the container: php-fpm must listen on
    /// DIR/php-fpm.sock.
    #[arg(long, value_name = "DIR", default_value = "/run/php")]
    pub php_dir: String,
    /// More binds for the container (repeatable).
    #[arg(long = "volume", short = 'v', value_name = "HOST:INSIDE[:ro]")]
    pub volumes: Vec<String>,
    /// The container's json-file log is rotated at this size (Docker's `max-size`: 10m, 500k).
    #[arg(long, value_name = "SIZE", default_value = "10m")]
    pub log_max_size: String,
    /// How many json-file logs are kept, the current one included (Docker's `max-file`).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub log_max_file: u32,
    /// The php-fpm pool that serves the site, when the image has several.
    #[arg(long, value_name = "NAME")]
    pub pool: Option<String>,
    /// Leave the image's php-fpm pools as they are: mount no zz-fpm-ondemand.conf in the
    /// image's pool folder (php-fpm must then listen on DIR/php-fpm.sock, 0660, for nginx's
    /// user and group www-data, log each request, and stop gracefully on its own).
    #[arg(long)]
    pub no_pool_override: bool,
    /// php-fpm's `process_control_timeout` in the override (Go duration): how long its own
    /// graceful stop may take once the drain has waited for the running requests; `0s`
    /// keeps php-fpm's default.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub process_control_timeout: String,
    /// The container's command instead of the image's (after `--`).
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}
