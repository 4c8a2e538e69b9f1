//! `fpm-waker SITE`: run by `fpm-waker@SITE.service` when nginx connects to the site's waker socket.

use anyhow::Context as _;
use clap::Parser;
use fpm_shared::duration::parse_duration;
use fpm_shared::{Layout, Site, Systemd};
use fpm_waker::backend::Backend;
use fpm_waker::{Exit, Settings};
use std::os::fd::FromRawFd;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

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
#[command(version, about, long_about)]
struct Args {
    /// The site id (the instance name of fpm-waker@SITE.service).
    site: Site,
    /// Config file with paths and name templates [default: /etc/fpm-ondemand/config.toml if present].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Give up on a start after this long: held connections are closed (nginx answers 502).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    start_timeout: Duration,
    /// Exit after this long with no connection, so systemd takes the socket back.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// Connections held or proxied at once; more wait in the socket's backlog. Each takes two
    /// file descriptors: keep LimitNOFILE= of the unit above twice this.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let _guard = fpm_shared::logging::init(None, tracing::level_filters::LevelFilter::INFO);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fpm-waker: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<Exit> {
    let layout = Layout::load(args.config.as_deref())?;
    let listener = listening_socket()?;
    let systemd = Systemd::connect(args.start_timeout).await?;
    let backend = Backend::new(
        systemd,
        layout.fpm_unit(&args.site),
        layout.fpm_socket_path(&args.site),
        args.start_timeout,
    );
    let settings = Settings {
        idle_timeout: args.idle_timeout,
        drain_timeout: Duration::from_secs(30),
        max_connections: args.max_connections as usize,
    };
    let token = CancellationToken::new();
    tokio::spawn(on_sigterm(token.clone()));
    Ok(fpm_waker::run(
        args.site.to_string(),
        listener,
        Arc::new(backend),
        &settings,
        &token,
    )
    .await)
}

/// The one listening socket systemd passes (fd 3); refuses to run without it.
fn listening_socket() -> anyhow::Result<tokio::net::UnixListener> {
    let fds: Vec<_> = sd_notify::listen_fds()
        .context("reading LISTEN_FDS")?
        .collect();
    let [fd] = fds[..] else {
        anyhow::bail!(
            "expected one listening socket from systemd (LISTEN_FDS), got {}; \
             run me through fpm-waker@SITE.socket",
            fds.len()
        );
    };
    // SAFETY: systemd hands this process ownership of fd 3 (LISTEN_PID is checked by listen_fds).
    let std = unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd) };
    std.set_nonblocking(true).context("fd 3 is not a socket")?;
    tokio::net::UnixListener::from_std(std).context("fd 3 is not a listening unix socket")
}

async fn on_sigterm(token: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    if let Ok(mut term) = signal(SignalKind::terminate()) {
        term.recv().await;
        tracing::info!("SIGTERM: finishing open connections");
        token.cancel();
    }
}
