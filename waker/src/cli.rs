//! `fpm-waker`'s command line, as clap parses it; the man page and shell completions are
//! generated from it too (`deploy/debian`).

use clap::Parser;
use fpm_shared::duration::parse_duration;
use fpm_shared::Site;
use std::path::PathBuf;
use std::time::Duration;

/// Wake a sleeping on-demand site and proxy its FastCGI connections to php-fpm.
///
/// Run by systemd from fpm-waker@SITE.socket (Accept=no): the listening socket arrives as fd 3
/// (LISTEN_FDS). On the first connection it starts fpm@SITE.service, waits until php-fpm.sock
/// accepts (inotify, no polling), then proxies every held and later connection. When php-fpm goes
/// away (the reaper stopped the site) a new connection starts it again. After the idle timeout
/// with no connection it exits and systemd listens again.
///
/// Exit status: 0 idle or stopped, 2 could not run (no socket from systemd, bad config).
#[derive(Debug, Parser)]
#[command(version = fpm_shared::VERSION, about, long_about, after_long_help = fpm_shared::DOCS)]
pub struct Args {
    /// The site id (the instance name of fpm-waker@SITE.service).
    pub site: Site,
    /// Config file with paths and name templates [default: /etc/fpm-ondemand/config.toml if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Give up when php-fpm's socket does not accept this long after its container started
    /// (fpm@SITE.service's start finished): held connections are closed (nginx answers 502).
    /// The start itself (a wait for room under a budget, the engine's start) is bounded by the
    /// unit's TimeoutStartSec, not by this.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub start_timeout: Duration,
    /// Exit after this long with no connection, so systemd takes the socket back.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// Connections held or proxied at once; more wait in the socket's backlog. Each takes two
    /// file descriptors: keep LimitNOFILE= of the unit above twice this.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
}

#[cfg(test)]
mod tests;
