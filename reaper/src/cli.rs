//! `fpm-reaper`'s command line, as clap parses it; the man page and shell completions are
//! generated from it too (`deploy/debian`).

use clap::{Parser, ValueEnum};
use fpm_shared::Site;
use std::path::PathBuf;

/// Stop on-demand php-fpm sites that have been idle for their window.
///
/// For each conf in the on-demand folder, the idle window is read from line 1
/// (`# Amount of time to pause the container after: 20m`). A site is idle since the later of its
/// container's newest log line and its start; idle sites are stopped with `systemctl stop
/// fpm@SITE.service` (over D-Bus). Anything uncertain keeps the site running.
///
/// Exit status: 0 every site handled (or another reaper holds the lock), 1 some sites had
/// errors (each reported; the others were still handled), 2 nothing could be done.
#[derive(Debug, Parser)]
#[command(version = fpm_shared::VERSION, about, long_about, after_long_help = fpm_shared::DOCS)]
pub struct Args {
    /// Audit only: report what would be done, change nothing (needs no systemd).
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Conf folder [default: conf_dir of the config, /var/lib/docker/volumes/docker_sites-enabled/on-demand].
    #[arg(long, value_name = "DIR")]
    pub conf_dir: Option<PathBuf>,
    /// Only this site (repeatable).
    #[arg(long = "site", value_name = "SITE")]
    pub sites: Vec<Site>,
    /// Config file with paths and name templates [default: /etc/fpm-ondemand/config.toml if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// How many sites are queried at once.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Also log to this file, appending (the package's /etc/logrotate.d/fpm-ondemand rotates /var/log/fpm-ondemand/*.log).
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// No report on stdout, only warnings and errors on stderr (for cron and the timer); the journal
    /// and the log file get every stop and the report's summary line.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// An aligned table and a summary line.
    Text,
    /// One JSON object: {"version": 1, "sites": [...]}.
    Json,
}
