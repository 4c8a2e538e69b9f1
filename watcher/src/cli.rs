//! `fpm-watcher`'s command line, as clap parses it; the man page and shell completions are
//! generated from it too (`deploy/debian`).

use clap::{Parser, Subcommand, ValueEnum};
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
/// Exit status: 0 done (for `status`: every site consistent), 1 `status` found inconsistencies
/// or `renew` had a failed step, 2 could not run.
#[derive(Debug, Parser)]
#[command(version = fpm_shared::VERSION, about, long_about)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Config file with paths and name templates [default: /etc/fpm-ondemand/config.toml if present].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Conf folder (overrides the config).
    #[arg(long, global = true, value_name = "DIR")]
    pub conf_dir: Option<PathBuf>,
    /// Also log to this file, rotated daily (FILE.YYYY-MM-DD); the newest 14 are kept.
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
    /// Print each site's container, since when it is awake and how long idle, its units and
    /// sockets, and what is inconsistent (exit 1 if anything is).
    Status {
        /// Only these sites (each must have a conf); every managed site when none is given.
        sites: Vec<Site>,
        /// Output: an aligned table, or one JSON document (`version`, `now`, `sites`).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// One site's whole chain: check it, or print its nginx block.
    Site {
        #[command(subcommand)]
        command: SiteCommand,
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

/// How `status` prints.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// An aligned table and a summary line.
    Text,
    /// One JSON document (see the README, "The watcher").
    Json,
}

/// `fpm-watcher site ...`.
#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Onboard a site in one command: write its conf, create its container from --image with
    /// what the chain needs (the socket folder mounted at --php-dir, SIGQUIT, a json-file log
    /// bounded by --log-max-size and --log-max-file, restart policy `no`, and a php-fpm pool
    /// override written to the config's pool_dir (SITE.conf) and mounted as zz-fpm-ondemand.conf
    /// in the pool folder the image's php-fpm reads: listening on DIR/php-fpm.sock for nginx,
    /// logging each request, stopping gracefully),
    /// enable and start its waker socket, and print its nginx block. Nothing that exists is
    /// replaced. Then run `fpm-watcher site check SITE`.
    Add {
        /// The site id.
        site: Site,
        /// The idle window written in the conf (Go duration).
        #[arg(long, value_name = "DURATION")]
        window: String,
        /// Create the site's container from this image (without it the container is yours).
        #[arg(long)]
        image: Option<String>,
        /// Where the socket folder is mounted in the container: php-fpm must listen on
        /// DIR/php-fpm.sock.
        #[arg(long, value_name = "DIR", default_value = "/run/php")]
        php_dir: String,
        /// More binds for the container (repeatable).
        #[arg(long = "volume", short = 'v', value_name = "HOST:INSIDE[:ro]")]
        volumes: Vec<String>,
        /// The container's json-file log is rotated at this size (Docker's `max-size`: 10m, 500k).
        #[arg(long, value_name = "SIZE", default_value = "10m")]
        log_max_size: String,
        /// How many json-file logs are kept, the current one included (Docker's `max-file`).
        #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
        log_max_file: u32,
        /// The php-fpm pool that serves the site, when the image has several.
        #[arg(long, value_name = "NAME")]
        pool: Option<String>,
        /// Leave the image's php-fpm pools as they are: mount no zz-fpm-ondemand.conf in the
        /// image's pool folder (php-fpm must then listen on DIR/php-fpm.sock, 0660, for nginx's
        /// user and group www-data, log each request, and stop gracefully on its own).
        #[arg(long)]
        no_pool_override: bool,
        /// php-fpm's `process_control_timeout` in the override (Go duration): how long its own
        /// graceful stop may take once the drain has waited for the running requests; `0s`
        /// keeps php-fpm's default.
        #[arg(long, value_name = "DURATION", default_value = "30s")]
        process_control_timeout: String,
        /// The container's command instead of the image's (after `--`).
        #[arg(last = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
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
