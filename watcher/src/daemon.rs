//! The daemon: reconcile every site, then follow Docker's events, reconnecting and replaying
//! when the stream breaks, with a periodic full reconcile that heals anything else.

use crate::actor::{managed_sites, Ctx};
use fpm_shared::{ContainerRuntime, DockerError, ServiceManager, Site};
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

enum Msg {
    Event { name: String, time_nano: i64 },
    Ended(Option<DockerError>),
}

/// Runs until `token` is cancelled.
pub async fn run<R: ContainerRuntime, S: ServiceManager>(
    ctx: Ctx<'_, R, S>,
    settings: &Settings,
    notify: &impl Notify,
    token: &CancellationToken,
) -> Result<(), DaemonError> {
    let mut managed: BTreeSet<Site> = BTreeSet::new();
    let mut since: Option<i64> = Some((settings.now_nanos)());
    let mut backoff = Duration::from_millis(100);
    let mut first = true;
    let mut reconcile = tokio::time::interval(settings.reconcile_every);
    let mut ping = tokio::time::interval(settings.ping_every);
    let mut watchdog =
        tokio::time::interval(settings.watchdog_every.unwrap_or(Duration::from_secs(3600)));
    // Drained by its own task at once: an unread zbus stream that fills up stalls the whole
    // D-Bus connection, including the JobRemoved signals our own start/stop jobs wait for.
    let (unit_tx, mut units) = mpsc::unbounded_channel();
    let unit_reader = match ctx.systemd.unit_changes().await {
        Ok(stream) => Some(tokio::spawn(forward(stream, unit_tx))),
        Err(e) => {
            tracing::warn!(error = %e, "cannot follow systemd's unit changes; failed waker sockets wait for the periodic reconcile");
            None
        }
    };
    while !token.is_cancelled() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let reader = tokio::spawn(read_events(ctx.docker.events(since), tx));
        let cause = if first { "startup" } else { "reconnect" };
        reconcile_all(ctx, &mut managed, cause, token).await?;
        if first {
            notify.ready();
            tracing::info!(sites = managed.len(), "following Docker events");
            first = false;
        }
        reconcile.reset();
        let ended = loop {
            tokio::select! {
                _ = token.cancelled() => break None,
                msg = rx.recv() => match msg {
                    Some(Msg::Event { name, time_nano }) => {
                        since = Some(time_nano.max(since.unwrap_or(0)));
                        backoff = Duration::from_millis(100);
                        on_event(ctx, &mut managed, &name).await?;
                    }
                    Some(Msg::Ended(e)) => break Some(e),
                    None => break Some(None),
                },
                unit = units.recv(), if unit_reader.is_some() => match unit {
                    Some(unit) => on_unit_change(ctx, &managed, &unit).await,
                    None => return Err(DaemonError::SystemdLost),
                },
                _ = reconcile.tick() => reconcile_all(ctx, &mut managed, "periodic", token).await?,
                _ = ping.tick() => if let Err(e) = ctx.docker.ping().await {
                    break Some(Some(e));
                },
                _ = watchdog.tick(), if settings.watchdog_every.is_some() => notify.watchdog(),
            }
        };
        reader.abort();
        let Some(error) = ended else { break };
        match error {
            Some(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "Docker events stream broke")
            }
            None => tracing::warn!(retry_in = ?backoff, "Docker events stream ended"),
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
    mut events: futures::stream::BoxStream<
        'static,
        Result<fpm_shared::ContainerEvent, DockerError>,
    >,
    tx: mpsc::UnboundedSender<Msg>,
) {
    while let Some(item) = events.next().await {
        let msg = match item {
            Ok(ev) => Msg::Event {
                name: ev.name,
                time_nano: ev.time_nano,
            },
            Err(e) => {
                let _ = tx.send(Msg::Ended(Some(e)));
                return;
            }
        };
        if tx.send(msg).is_err() {
            return;
        }
    }
    let _ = tx.send(Msg::Ended(None));
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
    ctx.reconcile(&site, "event").await;
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
            ctx.reconcile(&site, "systemd").await;
        }
    }
}

async fn reconcile_all<R: ContainerRuntime, S: ServiceManager>(
    ctx: Ctx<'_, R, S>,
    managed: &mut BTreeSet<Site>,
    cause: &str,
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
