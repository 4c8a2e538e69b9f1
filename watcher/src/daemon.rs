//! The daemon: reconcile every site, then follow Docker's events, reconnecting and replaying
//! when the stream breaks, with a periodic full reconcile that heals anything else.

mod queue;
mod rearm;
pub mod reload;
pub mod service;

use crate::actor::{Cause, Ctx, Reconciled};
use fpm_docker::{ContainerEvent, ContainerRuntime, ContainerState, DockerError};
use fpm_shared::error::Chain;
use fpm_shared::{ServiceManager, Site, UnitState};
use fpm_state::managed_sites;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use queue::Queue;
use rearm::{Backoff, Verdict};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
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
    let (units, unit_reader) = follow_units(ctx).await;
    let mut state = State {
        managed: BTreeSet::new(),
        since: (settings.now_nanos)(),
        backoff: Duration::from_millis(100),
        timers: Timers::new(settings),
        units,
    };
    let daemon = Daemon {
        ctx,
        settings,
        notify,
        token,
    };
    let result = daemon.run(&mut state).await;
    if let Some(task) = unit_reader {
        task.abort();
    }
    tracing::info!("stopped");
    result
}

/// What the daemon works with, borrowed for its whole run.
struct Daemon<'a, R, S, N> {
    ctx: Ctx<'a, R, S>,
    settings: &'a Settings,
    notify: &'a N,
    token: &'a CancellationToken,
}

/// What the daemon keeps between events.
struct State {
    /// The sites with a conf, as of the last look.
    managed: BTreeSet<Site>,
    /// The newest event's time: a new subscription replays from there.
    since: i64,
    /// The pause before the next reconnect.
    backoff: Duration,
    timers: Timers,
    /// Names of units whose state changed; `None` when systemd's changes cannot be followed.
    units: Option<mpsc::UnboundedReceiver<String>>,
}

/// Site reconciles asked for by events, unit changes and timers, run beside the main loop: one
/// site's slow job (a waker's stop can take its 35 s) delays no other site's repair.
struct Runs<'a> {
    queue: Queue,
    running: FuturesUnordered<BoxFuture<'a, Ran>>,
    /// Docker events about each site not yet seen by a reconcile: the stop causes are counted
    /// with what the next reconcile observes.
    events: BTreeMap<Site, Vec<(String, i64)>>,
    backoff: Backoff,
    /// Sites whose waker socket's re-arm is held back, and when it may run.
    retry: BTreeMap<Site, Instant>,
    /// Sites a reconcile saw stopped while their unit was active (a stop behind systemd's
    /// back), until their `die` is counted: the reconcile that takes the `die` may come after
    /// the one that already marked the unit inactive.
    down_while_active: BTreeSet<Site>,
}

/// One reconcile that ran.
struct Ran {
    site: Site,
    reconciled: Reconciled,
    events: Vec<(String, i64)>,
}

/// What woke the main loop.
enum Step {
    Cancelled,
    Event(Option<Msg>),
    Unit(Option<String>),
    Ran(Ran),
    Retry,
    Reconcile,
    Ping,
    Watchdog,
}

impl<'a, R: ContainerRuntime, S: ServiceManager, N: Notify> Daemon<'a, R, S, N> {
    /// Subscribes, reconciles everything, follows the stream; again after a pause when it ends.
    async fn run(&self, st: &mut State) -> Result<(), DaemonError> {
        let mut runs = Runs {
            queue: Queue::new(RECONCILE_AT_ONCE),
            running: FuturesUnordered::new(),
            events: BTreeMap::new(),
            backoff: Backoff::default(),
            retry: BTreeMap::new(),
            down_while_active: BTreeSet::new(),
        };
        let mut cause = Cause::Startup;
        while !self.token.is_cancelled() {
            let (tx, mut rx) = mpsc::unbounded_channel();
            let events = self.ctx.docker.events(Some(st.since));
            let reader = tokio::spawn(read_events(events, tx));
            if cause == Cause::Reconnect {
                self.ctx.metrics.reconnected();
            }
            let ended = self.follow(st, &mut rx, cause, &mut runs).await;
            reader.abort();
            cause = Cause::Reconnect;
            match ended? {
                StreamEnd::Cancelled => break,
                StreamEnd::Broke(e) => {
                    tracing::warn!(error = %Chain(&e), retry_in = ?st.backoff, "Docker events stream broke")
                }
                StreamEnd::Closed => {
                    tracing::warn!(retry_in = ?st.backoff, "Docker events stream ended")
                }
            }
            tokio::select! {
                _ = self.token.cancelled() => break,
                _ = tokio::time::sleep(st.backoff) => {}
            }
            st.backoff = (st.backoff * 2).min(Duration::from_secs(5));
        }
        // The reconciles under way finish (the binary bounds this with its drain deadline).
        while let Some(ran) = runs.running.next().await {
            self.ran(&mut runs, ran);
        }
        Ok(())
    }

    /// Reconciles every site, then acts on events, unit changes and timers until the stream ends.
    async fn follow(
        &self,
        st: &mut State,
        rx: &mut mpsc::UnboundedReceiver<Msg>,
        cause: Cause,
        runs: &mut Runs<'a>,
    ) -> Result<StreamEnd, DaemonError> {
        let ctx = self.ctx;
        if cause == Cause::Startup {
            reconcile_all(ctx, &mut st.managed, cause, self.token).await?;
            self.notify.ready();
            tracing::info!(sites = st.managed.len(), "following Docker events");
        } else {
            self.ask_all(st, runs, cause)?;
        }
        st.timers.reconcile.reset();
        loop {
            self.start_runs(runs);
            let next_retry = runs.retry.values().min().copied();
            let step = tokio::select! {
                _ = self.token.cancelled() => Step::Cancelled,
                msg = rx.recv() => Step::Event(msg),
                unit = next_unit(&mut st.units) => Step::Unit(unit),
                Some(ran) = runs.running.next(), if !runs.running.is_empty() => Step::Ran(ran),
                _ = sleep_until(next_retry), if next_retry.is_some() => Step::Retry,
                _ = st.timers.reconcile.tick() => Step::Reconcile,
                _ = st.timers.ping.tick() => Step::Ping,
                _ = st.timers.watchdog.tick(), if self.settings.watchdog_every.is_some() => Step::Watchdog,
            };
            match step {
                Step::Cancelled => return Ok(StreamEnd::Cancelled),
                Step::Event(Some(Msg::Event(event))) => {
                    st.since = event.time_nano.max(st.since);
                    st.backoff = Duration::from_millis(100);
                    on_event(ctx, &mut st.managed, &event, runs)?;
                }
                Step::Event(Some(Msg::Ended(end))) => return Ok(end),
                Step::Event(None) => return Ok(StreamEnd::Closed),
                Step::Unit(Some(unit)) => on_unit_change(ctx, &st.managed, &unit, runs),
                Step::Unit(None) => return Err(DaemonError::SystemdLost),
                Step::Ran(ran) => self.ran(runs, ran),
                Step::Retry => retry_due(runs),
                Step::Reconcile => self.ask_all(st, runs, Cause::Periodic)?,
                Step::Ping => {
                    if let Err(e) = ctx.docker.ping().await {
                        return Ok(StreamEnd::Broke(e));
                    }
                }
                Step::Watchdog => self.notify.watchdog(),
            }
        }
    }

    /// Asks for a reconcile of every managed site (looked up again), with `cause`.
    fn ask_all(&self, st: &mut State, runs: &mut Runs, cause: Cause) -> Result<(), DaemonError> {
        st.managed = managed_sites(self.ctx.layout)?.into_iter().collect();
        self.ctx.metrics.set_sites(&st.managed);
        runs.backoff.retain(|s| st.managed.contains(s));
        runs.retry.retain(|s, _| st.managed.contains(s));
        for site in &st.managed {
            runs.queue.ask(site.clone(), cause);
        }
        Ok(())
    }

    /// Starts the reconciles the queue lets run now.
    fn start_runs(&self, runs: &mut Runs<'a>) {
        for (site, cause) in runs.queue.start() {
            let hold = runs.backoff.verdict(&site, Instant::now()) != Verdict::Now;
            let events = runs.events.remove(&site).unwrap_or_default();
            let ctx = self.ctx;
            runs.running.push(Box::pin(async move {
                let reconciled = ctx.reconcile_holding(&site, cause, hold).await;
                Ran {
                    site,
                    reconciled,
                    events,
                }
            }));
        }
    }

    /// What a reconcile that ran leaves to do: count its events' stops, back off a waker
    /// socket that keeps failing.
    fn ran(&self, runs: &mut Runs, ran: Ran) {
        let Ran {
            site,
            reconciled,
            events,
        } = ran;
        runs.queue.done(&site);
        let now = Instant::now();
        let metrics = self.ctx.metrics;
        let view = &reconciled.view;
        match view.container {
            ContainerState::NotRunning(_) | ContainerState::Missing
                if view.fpm_unit == UnitState::Active =>
            {
                runs.down_while_active.insert(site.clone());
            }
            ContainerState::Running { .. } => {
                runs.down_while_active.remove(&site);
            }
            _ => {}
        }
        for (action, time) in events {
            // The unit as it was when the container stopped.
            let unit = if action == "die" && runs.down_while_active.remove(&site) {
                UnitState::Active
            } else {
                view.fpm_unit.clone()
            };
            metrics.container_event(&site, &action, time, &unit, now);
        }
        let unit = self.ctx.layout.waker_socket_unit(&site);
        if reconciled.rearmed {
            if let Some(pause) = runs.backoff.rearmed(&site, now) {
                tracing::warn!(site = %site, %unit, pause_secs = pause.as_secs(),
                    "the waker socket failed again soon after its re-arm: re-arming it backed off, \
                     the pause doubling up to 5 minutes (look at what is at its path: systemctl status {unit})");
            }
        }
        if reconciled.rearm_held {
            metrics.rearm_held(&site);
            if let Verdict::NotBefore(at) = runs.backoff.verdict(&site, now) {
                tracing::debug!(site = %site, %unit, "waker socket re-arm held back");
                runs.retry.insert(site, at);
            }
        }
    }
}

/// Asks again for the sites whose pause after a failing re-arm is over.
fn retry_due(runs: &mut Runs<'_>) {
    let now = Instant::now();
    let due: Vec<Site> = runs
        .retry
        .iter()
        .filter(|(_, at)| **at <= now)
        .map(|(site, _)| site.clone())
        .collect();
    for site in due {
        runs.retry.remove(&site);
        runs.queue.ask(site, Cause::Backoff);
    }
}

/// Waits until `at`; never when there is none.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Follows systemd's unit changes from a task of its own: an unread zbus stream that fills up
/// stalls the whole D-Bus connection, including the JobRemoved signals our own jobs wait for.
async fn follow_units<R, S: ServiceManager>(
    ctx: Ctx<'_, R, S>,
) -> (
    Option<mpsc::UnboundedReceiver<String>>,
    Option<tokio::task::JoinHandle<()>>,
) {
    match ctx.systemd.unit_changes().await {
        Ok(stream) => {
            let (tx, rx) = mpsc::unbounded_channel();
            (Some(rx), Some(tokio::spawn(forward(stream, tx))))
        }
        Err(e) => {
            tracing::warn!(error = %Chain(&e), "cannot follow systemd's unit changes; failed waker sockets wait for the periodic reconcile");
            (None, None)
        }
    }
}

/// The next changed unit; `None` once the stream has ended. Never resolves when there is none.
async fn next_unit(units: &mut Option<mpsc::UnboundedReceiver<String>>) -> Option<String> {
    match units {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
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

/// A Docker event about a container: a managed site's is kept for its next reconcile's
/// metrics, and that reconcile asked for.
fn on_event<R: ContainerRuntime, S: ServiceManager>(
    ctx: Ctx<'_, R, S>,
    managed: &mut BTreeSet<Site>,
    event: &ContainerEvent,
    runs: &mut Runs,
) -> Result<(), DaemonError> {
    let name = event.name.as_str();
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
    runs.events
        .entry(site.clone())
        .or_default()
        .push((event.action.clone(), event.time_nano));
    runs.queue.ask(site, Cause::Event);
    Ok(())
}

/// A managed site's waker socket (failed, stopped) or fpm unit (e.g. inactive while a container
/// started again behind its back runs on) changed state: reconcile that site (once, however
/// many changes arrive while it is reconciled).
fn on_unit_change<R: ContainerRuntime, S: ServiceManager>(
    ctx: Ctx<'_, R, S>,
    managed: &BTreeSet<Site>,
    unit: &str,
    runs: &mut Runs,
) {
    let l = ctx.layout;
    if let Some(site) = l
        .site_of_waker_socket_unit(unit)
        .or_else(|| l.site_of_fpm_unit(unit))
    {
        tracing::debug!(unit, site = %site, "unit changed");
        if managed.contains(&site) {
            runs.queue.ask(site, Cause::Systemd);
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
    ctx.metrics.set_sites(managed);
    // Sites are independent: several at once, so that a host of a thousand sites is ready (and
    // each systemd job it needs, e.g. re-arming every waker socket after a boot, is done) in
    // seconds rather than minutes; bounded, so that Docker and D-Bus see a handful of requests.
    futures::stream::iter(managed.iter())
        .for_each_concurrent(RECONCILE_AT_ONCE, |site| async move {
            if !token.is_cancelled() {
                ctx.reconcile(site, cause).await;
            }
        })
        .await;
    Ok(())
}

/// Sites a full reconcile looks at at once.
pub const RECONCILE_AT_ONCE: usize = 16;
