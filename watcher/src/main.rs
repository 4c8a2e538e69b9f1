//! `fpm-watcher`: follows Docker and keeps systemd's view of every on-demand site true.

use anyhow::Context;
use clap::Parser;
use fpm_docker::DockerClient;
use fpm_shared::{Layout, Systemd};
use fpm_watcher::cli::{Args, Command, Format, SiteCommand};
use fpm_watcher::daemon::{self, Notify, Settings};
use fpm_watcher::metrics::serve::{self, Listener};
use fpm_watcher::metrics::Metrics;
use fpm_watcher::{
    admission, renew, report, site_add, site_check, site_remove, start_container, start_site,
    status, stop_container, Ctx,
};
use std::os::fd::FromRawFd;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::filter::LevelFilter;

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
            let metrics = Arc::new(Metrics::new());
            let ctx = ctx(layout, &docker, &systemd, &metrics);
            daemon(ctx, &settings, activated_sockets()?, metrics.clone()).await?;
            Ok(0)
        }
        Command::Status { sites, format } => {
            let (docker, systemd) = (docker(layout).await?, systemd().await?);
            let rows =
                status::status(ctx(layout, &docker, &systemd, &Metrics::new()), &sites).await?;
            let budget = budget_view(layout).await;
            let now = chrono::Utc::now();
            match format {
                Format::Text => print!("{}", status::status_table(&rows, budget.as_ref(), now)),
                Format::Json => print!("{}", status::status_json(&rows, budget.as_ref(), now)),
            }
            Ok(u8::from(rows.iter().any(|r| !r.to_fix.is_empty())))
        }
        Command::Site {
            command: SiteCommand::Check { site },
        } => {
            let (docker, systemd) = (docker(layout).await?, systemd().await?);
            let facts = site_check::gather(layout, &docker, &systemd, &site).await;
            Ok(site_check::print(
                &site,
                &site_check::judge(layout, &site, &facts),
            ))
        }
        Command::Site {
            command:
                SiteCommand::Add {
                    site,
                    window,
                    image,
                    php_dir,
                    volumes,
                    log_max_size,
                    log_max_file,
                    pool,
                    no_pool_override,
                    process_control_timeout,
                    command,
                },
        } => {
            let (docker, systemd) = (docker(layout).await?, systemd().await?);
            let opts = site_add::AddOptions {
                window,
                image,
                php_dir,
                volumes,
                log: (log_max_size, log_max_file),
                command,
                pool,
                no_pool_override,
                process_control_timeout,
            };
            let mut done = |line: String| println!("ok    {line}");
            site_add::add(layout, &docker, &systemd, &site, &opts, &mut done)
                .await
                .with_context(|| format!("adding site {site}"))?;
            print!("{}", site_check::nginx_block(layout, &site, false));
            println!("# next: fpm-watcher site check {site}");
            Ok(0)
        }
        Command::Site {
            command:
                SiteCommand::Remove {
                    site,
                    keep_container,
                    force,
                },
        } => {
            let (docker, systemd) = (docker(layout).await?, systemd().await?);
            let opts = site_remove::RemoveOptions {
                keep_container,
                force,
            };
            let mut done = |line: String| println!("ok    {line}");
            match site_remove::remove(layout, &docker, &systemd, &site, opts, &mut done).await {
                Ok(()) => Ok(0),
                Err(
                    e @ (site_remove::RemoveError::NotASite { .. }
                    | site_remove::RemoveError::InUse { .. }
                    | site_remove::RemoveError::Nginx { .. }),
                ) => {
                    eprintln!("fpm-watcher: {e}");
                    Ok(2)
                }
                Err(e) => Err(anyhow::Error::new(e).context(format!("removing site {site}"))),
            }
        }
        Command::Site {
            command: SiteCommand::Nginx { site, seed_path },
        } => {
            print!("{}", site_check::nginx_block(layout, &site, seed_path));
            Ok(0)
        }
        Command::Report { since, format } => {
            let docker = docker(layout).await?;
            let now = chrono::Utc::now();
            let since = now - chrono::Duration::from_std(since).context("--since is too long")?;
            let sites = report::sites_now(layout, &docker).await?;
            let (units, wakes) =
                report::journal::read(layout, since).context("reading the journal")?;
            let report = report::compute(since, now, &sites, &units, &wakes);
            match format {
                Format::Text => print!("{}", report.to_text()),
                Format::Json => print!("{}", report.to_json()),
            }
            Ok(0)
        }
        Command::Renew { site } => {
            let (docker, systemd) = (docker(layout).await?, systemd().await?);
            let steps = renew::renew(ctx(layout, &docker, &systemd, &Metrics::new()), &site).await;
            Ok(renew::print(&steps))
        }
        Command::StartSite => {
            let listener = start_socket().context(
                "expected the start socket from systemd (LISTEN_FDS): run me as fpm-start.service",
            )?;
            // systemd ends each job at fpm@'s TimeoutStartSec; 90 s only guards a lost answer.
            let systemd = systemd().await?;
            let token = CancellationToken::new();
            tokio::spawn(on_signals(token.clone()));
            tracing::info!(socket = %layout.start_socket.display(), "serving the wakers' start requests");
            start_site::serve_all(listener, layout, &systemd, &token).await;
            Ok(0)
        }
        Command::StartContainer { site } => {
            // On a cold request's path: no D-Bus connection, which starting does not need.
            let docker = docker(layout).await?;
            let started = start_container::start_container(layout, &docker, &site)
                .await
                .with_context(|| format!("starting {}", layout.container(&site)))?;
            Ok(match started {
                start_container::Started::Running => 0,
                start_container::Started::NoRoom => fpm_shared::budget::NO_ROOM_EXIT as u8,
            })
        }
        Command::StopContainer { site, grace } => {
            let (docker, systemd) = (docker(layout).await?, systemd().await?);
            let metrics = Metrics::new();
            let ctx = ctx(layout, &docker, &systemd, &metrics);
            stop_container::stop_container(ctx, &site, grace, chrono::Utc::now())
                .await
                .with_context(|| format!("stopping {}", layout.container(&site)))?;
            Ok(0)
        }
    }
}

/// The admission's state when a budget is set and the watcher answers; why not, on stderr.
async fn budget_view(layout: &Layout) -> Option<admission::BudgetView> {
    if !layout.budget.enabled() {
        return None;
    }
    let socket = &layout.admission_socket;
    admission::client::status(socket)
        .await
        .inspect_err(|e| {
            eprintln!(
                "fpm-watcher: budget state unknown: {}: {e}",
                socket.display()
            )
        })
        .ok()
}

async fn docker(layout: &Layout) -> anyhow::Result<DockerClient> {
    Ok(DockerClient::connect(&layout.docker_socket, layout.docker_timeout()).await?)
}

/// The one listening socket systemd passes `fpm-start.service` (fd 3).
fn start_socket() -> anyhow::Result<tokio::net::UnixListener> {
    let fds: Vec<_> = sd_notify::listen_fds()?.collect();
    let [fd] = fds[..] else {
        anyhow::bail!("got {} sockets, not one", fds.len());
    };
    // SAFETY: systemd hands this process ownership of fd 3 (LISTEN_PID is checked by listen_fds).
    let std = unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd) };
    std.set_nonblocking(true)?;
    Ok(tokio::net::UnixListener::from_std(std)?)
}

async fn systemd() -> anyhow::Result<Systemd> {
    Ok(Systemd::connect(Duration::from_secs(90)).await?)
}

fn ctx<'a>(
    layout: &'a Layout,
    docker: &'a DockerClient,
    systemd: &'a Systemd,
    metrics: &'a Metrics,
) -> Ctx<'a, DockerClient, Systemd> {
    Ctx {
        layout,
        docker,
        systemd,
        metrics,
    }
}

/// The sockets systemd passes to the daemon (`fpm-watcher.socket`, `fpm-watcher-metrics.socket`):
/// the events socket and the metrics endpoint's listeners. None outside systemd.
struct Activated {
    events: Option<tokio::net::UnixDatagram>,
    metrics: Vec<Listener>,
    admission: Option<tokio::net::UnixListener>,
}

fn activated_sockets() -> anyhow::Result<Activated> {
    let mut got = Activated {
        events: None,
        metrics: Vec::new(),
        admission: None,
    };
    for (fd, name) in sd_notify::listen_fds_with_names().context("reading LISTEN_FDS")? {
        // SAFETY: systemd hands this process ownership of each passed fd (LISTEN_PID checked).
        match name.as_str() {
            "events" => {
                let socket = unsafe { std::os::unix::net::UnixDatagram::from_raw_fd(fd) };
                socket.set_nonblocking(true)?;
                got.events = Some(tokio::net::UnixDatagram::from_std(socket)?);
            }
            "metrics" => got.metrics.push(unsafe { Listener::from_fd(fd) }?),
            "admission" => {
                let socket = unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd) };
                socket.set_nonblocking(true)?;
                got.admission = Some(tokio::net::UnixListener::from_std(socket)?);
            }
            other => tracing::warn!(fd, name = other, "unexpected socket from systemd: ignored"),
        }
    }
    if got.events.is_none() {
        tracing::info!("no events socket from systemd (fpm-watcher.socket): wakes, replays, refusals and reaper runs are not counted");
    }
    Ok(got)
}

/// Runs the daemon, the metrics endpoint and the events reader until SIGTERM or SIGINT, and at
/// most a drain deadline after.
async fn daemon(
    ctx: Ctx<'_, DockerClient, Systemd>,
    settings: &Settings,
    sockets: Activated,
    metrics: Arc<Metrics>,
) -> anyhow::Result<()> {
    let token = CancellationToken::new();
    tokio::spawn(on_signals(token.clone()));
    for listener in sockets.metrics {
        tokio::spawn(serve::http(listener, metrics.clone(), token.clone()));
    }
    if let Some(socket) = sockets.events {
        let layout = ctx.layout.clone();
        // The wakers' user owns the events socket (fpm-watcher.socket's SocketUser).
        let waker_uid = std::fs::metadata(&layout.events_socket)
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
            .inspect_err(|e| tracing::error!(error = %e, socket = %layout.events_socket.display(), "cannot read the events socket's owner: the wakers' events are rejected"))
            .ok();
        tokio::spawn(serve::events(
            socket,
            metrics,
            (layout, waker_uid),
            token.clone(),
        ));
    }
    let admission = async {
        match sockets.admission {
            Some(listener) if ctx.layout.budget.enabled() => {
                admission::serve(listener, ctx, &token).await
            }
            Some(_) => tracing::info!("no budget of awake sites set: starts are not held"),
            None if ctx.layout.budget.enabled() => tracing::error!(
                "a budget of awake sites is set, but systemd passed no admission socket (fpm-watcher-admission.socket): starts are not held"
            ),
            None => {}
        }
    };
    let daemon = async { tokio::join!(daemon::run(ctx, settings, &SdNotify, &token), admission).0 };
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
