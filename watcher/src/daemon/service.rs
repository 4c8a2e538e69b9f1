//! The daemon as fpm-watcher.service runs it: the sockets systemd passes (events, metrics,
//! admission), the tasks serving them beside the main loop, sd_notify, and the drain deadline.

use super::{Notify, Settings};
use crate::actor::Ctx;
use crate::admission;
use crate::metrics::serve::{self, Listener};
use crate::metrics::Metrics;
use anyhow::Context as _;
use fpm_docker::DockerClient;
use fpm_shared::budget::Budget;
use fpm_shared::Systemd;
use std::os::fd::FromRawFd as _;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The most a drain may take once SIGTERM came.
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// The sockets systemd passes to the daemon (`fpm-watcher.socket`, `fpm-watcher-metrics.socket`,
/// `fpm-watcher-admission.socket`), by their `FileDescriptorName`. None outside systemd.
pub struct Activated {
    events: Option<tokio::net::UnixDatagram>,
    metrics: Vec<Listener>,
    admission: Option<tokio::net::UnixListener>,
}

impl Activated {
    /// Takes the sockets systemd passed (LISTEN_FDS, LISTEN_FDNAMES); an unknown name is logged
    /// and ignored.
    pub fn from_systemd() -> anyhow::Result<Activated> {
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
                other => {
                    tracing::warn!(fd, name = other, "unexpected socket from systemd: ignored")
                }
            }
        }
        if got.events.is_none() {
            tracing::info!("no events socket from systemd (fpm-watcher.socket): wakes, replays, refusals and reaper runs are not counted");
        }
        Ok(got)
    }
}

/// Runs the daemon, the metrics endpoint, the events reader and the admission (under the budget
/// `budget` holds) until `token` is cancelled, and at most [`DRAIN_DEADLINE`] after.
pub async fn serve(
    ctx: Ctx<'_, DockerClient, Systemd>,
    settings: &Settings,
    sockets: Activated,
    (metrics, budget): (Arc<Metrics>, watch::Receiver<Budget>),
    token: &CancellationToken,
) -> anyhow::Result<()> {
    for listener in sockets.metrics {
        tokio::spawn(serve::http(listener, metrics.clone(), token.clone()));
    }
    if let Some(socket) = sockets.events {
        serve_events(socket, ctx, metrics, token);
    }
    let admission = async {
        match sockets.admission {
            Some(listener) => admission::serve(listener, ctx, budget, token).await,
            None if ctx.layout.budget.enabled() => tracing::error!(
                "a budget of awake sites is set, but systemd passed no admission socket (fpm-watcher-admission.socket): starts are not held"
            ),
            None => {}
        }
    };
    // The daemon's end (SIGTERM, or an error such as a lost D-Bus connection) ends the admission
    // too: it serves until the token is cancelled, and the process must not outlive the daemon.
    let main_loop = async {
        let ended = super::run(ctx, settings, &SdNotify, token).await;
        token.cancel();
        ended
    };
    let daemon = async { tokio::join!(main_loop, admission).0 };
    tokio::pin!(daemon);
    tokio::select! {
        r = &mut daemon => r?,
        _ = drain_deadline(token) => tracing::warn!("drain deadline passed; exiting"),
    }
    Ok(())
}

/// Reads the wakers' and reaper's events into the metrics; only the wakers' user may send.
fn serve_events(
    socket: tokio::net::UnixDatagram,
    ctx: Ctx<'_, DockerClient, Systemd>,
    metrics: Arc<Metrics>,
    token: &CancellationToken,
) {
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

/// Resolves [`DRAIN_DEADLINE`] after cancellation.
async fn drain_deadline(token: &CancellationToken) {
    token.cancelled().await;
    tokio::time::sleep(DRAIN_DEADLINE).await;
}

/// The wall clock in nanoseconds since the epoch.
pub fn now_nanos() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// systemd's notification socket.
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
