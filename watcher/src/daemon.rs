//! The daemon: reconcile every site, then follow Docker's events, reconnecting and replaying
//! when the stream breaks, with a periodic full reconcile that heals anything else.

use crate::actor::{managed_sites, Cause, Ctx};
use fpm_shared::docker::{ContainerEvent, ContainerRuntime, DockerError};
use fpm_shared::error::Chain;
use fpm_shared::{ServiceManager, Site};
use futures::StreamExt;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Timings of the daemon.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Full reconcile of every site this often.
    pub reconcile_every: Duration,
    /// Ask the engine whether it still answers this often (an idle events stream can hang unnoticed).
    pub ping_every: Duration,
    /// Ping systemd's watchdog this often, when it asks for it.
    pub watchdog_every: Option<Duration>,
    /// The clock, in nanoseconds since the epoch: the first subscription replays from the moment
    /// before the first reconcile, so no event is missed while the stream connects.
    pub now_nanos: fn() -> i64,
}

/// Messages from the service manager's notification socket; the binary gives the real one.
pub trait Notify {
    /// The first reconcile is done and events are followed.
    fn ready(&self);
    /// The main loop is alive.
    fn watchdog(&self);
}

/// What stops the daemon.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The conf folder cannot be listed.
    #[error(transparent)]
    Confs(#[from] fpm_shared::conf::ListError),
    /// systemd's change signals stopped: the D-Bus connection is gone (dbus restarted). Every
    /// later call would fail too; exiting lets systemd restart the watcher on a new connection.
    #[error("lost the D-Bus connection to systemd (its change signals ended); exiting so that systemd restarts the watcher")]
    SystemdLost,
}

/// What the events reader passes to the main loop.
enum Msg {
    /// A container event.
    Event(ContainerEvent),
    /// The stream ended: [`StreamEnd::Closed`] or [`StreamEnd::Broke`].
    Ended(StreamEnd),
}

/// Why the main loop stopped following one events stream.
enum StreamEnd {
    /// Shutdown was asked for.
    Cancelled,
    /// The engine closed the stream.
    Closed,
    /// The stream or a ping failed.
    Broke(DockerError),
}

/// Runs until `token` is cancelled.
pub async fn run<R: ContainerRuntime, S: ServiceManager>(
    ctx: Ctx<'_, R, S>,
    settings: &Settings,
    notify: &impl Notify,
    token: &CancellationToken,
) -> Result<(), DaemonError> {
    let mut managed: BTreeSet<Site> = BTreeSet::new();
    let mut since = (settings.now_nanos)();
    let mut backoff = Duration::from_millis(100);
    let mut cause = Cause::Startup;
    let mut timers = Timers::new(settings);
    // Drained by its own task at once: an unread zbus stream that fills up stalls the whole
    // D-Bus connection, including the JobRemoved signals our own start/stop jobs wait for.
    let (unit_tx, mut units) = mpsc::unbounded_channel();
    let unit_reader = match ctx.systemd.unit_changes().await {
        Ok(stream) => Some(tokio::spawn(forward(stream, unit_tx))),
        Err(e) => {
            tracing::warn!(error = %Chain(&e), "cannot follow systemd's unit changes; failed waker sockets wait for the periodic reconcile");
            None
        }
    };
    while !token.is_cancelled() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let reader = tokio::spawn(read_events(ctx.docker.events(Some(since)), tx));
        reconcile_all(ctx, &mut managed, cause, token).await?;
        if cause == Cause::Startup {
            notify.ready();
            tracing::info!(sites = managed.len(), "following Docker events");
        }
        cause = Cause::Reconnect;
        timers.reconcile.reset();
        let ended = loop {
            tokio::select! {
                _ = token.cancelled() => break StreamEnd::Cancelled,
                msg = rx.recv() => match msg {
                    Some(Msg::Event(event)) => {
                        since = event.time_nano.max(since);
                        backoff = Duration::from_millis(100);
                        on_event(ctx, &mut managed, &event.name).await?;
                    }
                    Some(Msg::Ended(end)) => break end,
                    None => break StreamEnd::Closed,
                },
                unit = units.recv(), if unit_reader.is_some() => match unit {
                    Some(unit) => on_unit_change(ctx, &managed, &unit).await,
                    None => return Err(DaemonError::SystemdLost),
                },
                _ = timers.reconcile.tick() => reconcile_all(ctx, &mut managed, Cause::Periodic, token).await?,
                _ = timers.ping.tick() => if let Err(e) = ctx.docker.ping().await {
                    break StreamEnd::Broke(e);
                },
                _ = timers.watchdog.tick(), if settings.watchdog_every.is_some() => notify.watchdog(),
            }
        };
        reader.abort();
        match ended {
            StreamEnd::Cancelled => break,
            StreamEnd::Broke(e) => {
                tracing::warn!(error = %Chain(&e), retry_in = ?backoff, "Docker events stream broke")
            }
            StreamEnd::Closed => tracing::warn!(retry_in = ?backoff, "Docker events stream ended"),
        }
        tokio::select! {
            _ = token.cancelled() => break,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
    if let Some(task) = unit_reader {
        task.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

/// The main loop's periodic work.
struct Timers {
    reconcile: tokio::time::Interval,
    ping: tokio::time::Interval,
    watchdog: tokio::time::Interval,
}

impl Timers {
    fn new(settings: &Settings) -> Timers {
        Timers {
            reconcile: tokio::time::interval(settings.reconcile_every),
            ping: tokio::time::interval(settings.ping_every),
            watchdog: tokio::time::interval(
                settings.watchdog_every.unwrap_or(Duration::from_secs(3600)),
            ),
        }
    }
}

/// Forwards every item of `stream` to `tx` until either side ends.
async fn forward<T>(
    mut stream: futures::stream::BoxStream<'static, T>,
    tx: mpsc::UnboundedSender<T>,
) {
    while let Some(item) = stream.next().await {
        if tx.send(item).is_err() {
            return;
        }
    }
}

/// Forwards the engine's events to the main loop at once, so that a slow reconcile never leaves
/// the stream unread (the engine drops events for a reader that lags).
async fn read_events(
    mut events: futures::stream::BoxStream<'static, Result<ContainerEvent, DockerError>>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let end = loop {
        match events.next().await {
            Some(Ok(event)) => {
                if tx.send(Msg::Event(event)).is_err() {
                    // The main loop has moved on: nobody to tell.
                    return;
                }
            }
            Some(Err(e)) => break Msg::Ended(StreamEnd::Broke(e)),
            None => break Msg::Ended(StreamEnd::Closed),
        }
    };
    // A closed channel means the main loop has moved on; the end no longer matters.
    tx.send(end).ok();
}

async fn on_event<R: ContainerRuntime, S: ServiceManager>(
    ctx: Ctx<'_, R, S>,
    managed: &mut BTreeSet<Site>,
    name: &str,
) -> Result<(), DaemonError> {
    let Some(site) = ctx.layout.site_of_container(name) else {
        return Ok(());
    };
    if !managed.contains(&site) {
        // A conf may have been added since the last full reconcile.
        *managed = managed_sites(ctx.layout)?.into_iter().collect();
        if !managed.contains(&site) {
            tracing::debug!(container = name, "not a managed site: ignored");
            return Ok(());
        }
    }
    ctx.reconcile(&site, Cause::Event).await;
    Ok(())
}

/// A managed site's waker socket (failed, stopped) or fpm unit (e.g. inactive while a container
/// started again behind its back runs on) changed state: reconcile that site.
async fn on_unit_change<R: ContainerRuntime, S: ServiceManager>(
    ctx: Ctx<'_, R, S>,
    managed: &BTreeSet<Site>,
    unit: &str,
) {
    let l = ctx.layout;
    if let Some(site) = l
        .site_of_waker_socket_unit(unit)
        .or_else(|| l.site_of_fpm_unit(unit))
    {
        tracing::debug!(unit, site = %site, "unit changed");
        if managed.contains(&site) {
            ctx.reconcile(&site, Cause::Systemd).await;
        }
    }
}

async fn reconcile_all<R: ContainerRuntime, S: ServiceManager>(
    ctx: Ctx<'_, R, S>,
    managed: &mut BTreeSet<Site>,
    cause: Cause,
    token: &CancellationToken,
) -> Result<(), DaemonError> {
    *managed = managed_sites(ctx.layout)?.into_iter().collect();
    for site in managed.iter() {
        if token.is_cancelled() {
            break;
        }
        ctx.reconcile(site, cause).await;
    }
    Ok(())
}
