//! `fpm-watcher`: follows Docker and keeps systemd's view of every on-demand site true.

use anyhow::Context;
use clap::{Parser, Subcommand};
use fpm_shared::duration::parse_duration;
use fpm_shared::{DockerClient, Layout, Site, Systemd};
use fpm_watcher::daemon::{self, Notify, Settings};
use fpm_watcher::{renew, start_container, status, stop_container, Ctx};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::filter::LevelFilter;

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
#[command(version, about, long_about)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Config file with paths and name templates [default: /etc/fpm-ondemand/config.toml if present].
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Conf folder (overrides the config).
    #[arg(long, global = true, value_name = "DIR")]
    conf_dir: Option<PathBuf>,
    /// Also log to this file, rotated daily.
    #[arg(long, global = true, value_name = "FILE")]
    log_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon (the default).
    Run {
        /// Full reconcile of every site this often (Go duration).
        #[arg(long, default_value = "5m", value_parser = parse_duration)]
        reconcile_every: Duration,
        /// Check the Docker engine still answers this often.
        #[arg(long, default_value = "30s", value_parser = parse_duration)]
        ping_every: Duration,
    },
    /// Print every site's container, units and sockets, and what is inconsistent.
    Status,
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

fn main() -> ExitCode {
    let args = Args::parse();
    let _guard = match fpm_shared::logging::init(args.log_file.as_deref(), LevelFilter::INFO) {
        Ok(guard) => guard,
        Err(e) => return fatal(&e.into()),
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => fatal(&e),
    }
}

fn fatal(e: &anyhow::Error) -> ExitCode {
    eprintln!("fpm-watcher: {e:#}");
    ExitCode::from(2)
}

async fn run(args: Args) -> anyhow::Result<u8> {
    let mut layout = Layout::load(args.config.as_deref())?;
    if let Some(dir) = args.conf_dir {
        layout.conf_dir = dir;
    }
    let layout = &layout;
    match args.command.unwrap_or_default() {
        Command::Run {
            reconcile_every,
            ping_every,
        } => {
            let (docker, systemd) = (docker(layout).await?, systemd().await?);
            let settings = Settings {
                reconcile_every,
                ping_every,
                watchdog_every: sd_notify::watchdog_enabled().map(|d| d / 2),
                now_nanos,
            };
            daemon(ctx(layout, &docker, &systemd), &settings).await?;
            Ok(0)
        }
        Command::Status => {
            let (docker, systemd) = (docker(layout).await?, systemd().await?);
            let rows = status::status(ctx(layout, &docker, &systemd)).await?;
            print!("{}", status::status_table(&rows));
            Ok(u8::from(rows.iter().any(|r| !r.to_fix.is_empty())))
        }
        Command::Renew { site } => {
            let (docker, systemd) = (docker(layout).await?, systemd().await?);
            let steps = renew::renew(ctx(layout, &docker, &systemd), &site).await;
            Ok(renew::print(&steps))
        }
        Command::StartContainer { site } => {
            // On a cold request's path: no D-Bus connection, which starting does not need.
            let docker = docker(layout).await?;
            start_container::start_container(layout, &docker, &site)
                .await
                .with_context(|| format!("starting {}", layout.container(&site)))?;
            Ok(0)
        }
        Command::StopContainer { site, grace } => {
            let (docker, systemd) = (docker(layout).await?, systemd().await?);
            let ctx = ctx(layout, &docker, &systemd);
            stop_container::stop_container(ctx, &site, grace, chrono::Utc::now())
                .await
                .with_context(|| format!("stopping {}", layout.container(&site)))?;
            Ok(0)
        }
    }
}

async fn docker(layout: &Layout) -> anyhow::Result<DockerClient> {
    Ok(DockerClient::connect(&layout.docker_socket, layout.docker_timeout()).await?)
}

async fn systemd() -> anyhow::Result<Systemd> {
    Ok(Systemd::connect(Duration::from_secs(90)).await?)
}

fn ctx<'a>(
    layout: &'a Layout,
    docker: &'a DockerClient,
    systemd: &'a Systemd,
) -> Ctx<'a, DockerClient, Systemd> {
    Ctx {
        layout,
        docker,
        systemd,
    }
}

/// Runs the daemon until SIGTERM or SIGINT, and at most a drain deadline after.
async fn daemon(ctx: Ctx<'_, DockerClient, Systemd>, settings: &Settings) -> anyhow::Result<()> {
    let token = CancellationToken::new();
    tokio::spawn(on_signals(token.clone()));
    let daemon = daemon::run(ctx, settings, &SdNotify, &token);
    tokio::pin!(daemon);
    tokio::select! {
        r = &mut daemon => r?,
        _ = drain_deadline(&token) => tracing::warn!("drain deadline passed; exiting"),
    }
    Ok(())
}

/// The wall clock in nanoseconds since the epoch.
fn now_nanos() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// Cancels on SIGTERM or SIGINT.
async fn on_signals(token: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers");
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: finishing the current site, then exiting"),
        _ = int.recv() => tracing::info!("SIGINT: finishing the current site, then exiting"),
    }
    if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Stopping]) {
        tracing::debug!(error = %e, "cannot notify STOPPING=1");
    }
    token.cancel();
}

/// Resolves 10 s after cancellation: the most a drain may take.
async fn drain_deadline(token: &CancellationToken) {
    token.cancelled().await;
    tokio::time::sleep(Duration::from_secs(10)).await;
}

struct SdNotify;

impl Notify for SdNotify {
    fn ready(&self) {
        if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
            tracing::warn!(error = %e, "cannot notify READY=1");
        }
    }
    fn watchdog(&self) {
        if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]) {
            tracing::warn!(error = %e, "cannot notify WATCHDOG=1");
        }
    }
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
