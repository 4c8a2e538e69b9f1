//! The watcher's Prometheus metrics: what it sees itself (sites awake, stops and their cause,
//! reconciles, actions, reconnects) and what the waker and the reaper tell it (wakes, cold-start
//! latency, replays, refusals, reaper runs) through the events socket.

pub mod budget;
mod cause;
pub mod serve;

pub use cause::{stop_cause, StopCause, StopFacts};

use fpm_docker::ContainerState;
use fpm_shared::events::Event;
use fpm_shared::{Site, UnitState};
use fpm_state::{Action, SiteView};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Cold-start buckets, in seconds: they resolve 100 ms to 30 s (the waker's start timeout).
pub const COLD_START_BUCKETS: [f64; 14] = [
    0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0,
];

/// How long a `kill`, `oom` or reaper announcement counts for the container's next `die`.
pub const RECENT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct SiteLabel {
    site: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StopLabels {
    site: String,
    cause: StopCause,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RefusalLabels {
    site: String,
    reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ActionLabels {
    action: &'static str,
    result: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CauseLabel {
    cause: &'static str,
}

/// Recent Docker events and announcements about one site, for the cause of its next stop.
#[derive(Debug, Default, Clone, Copy)]
struct Recent {
    killed: Option<Instant>,
    oom: Option<Instant>,
    reaper: Option<Instant>,
    evicted: Option<Instant>,
    /// The time of the last `die` counted (Docker's nanoseconds): a replayed event is not.
    last_die: i64,
}

/// Every metric, registered once; shared by the daemon, the events reader and the endpoint.
pub struct Metrics {
    registry: Registry,
    sites: Gauge,
    sites_awake: Gauge,
    wakes: Family<SiteLabel, Counter>,
    cold_start: Histogram,
    stops: Family<StopLabels, Counter>,
    awake_seconds: Family<SiteLabel, Counter<f64, AtomicU64>>,
    reaper_runs: Counter,
    reaper_stopped: Counter,
    reaper_last_sites: Gauge,
    reaper_last_stopped: Gauge,
    reaper_last_errors: Gauge,
    reaper_last_duration: Gauge<f64, AtomicU64>,
    reaper_last_time: Gauge<f64, AtomicU64>,
    reconciles: Family<CauseLabel, Counter>,
    actions: Family<ActionLabels, Counter>,
    reconnects: Counter,
    replays: Family<SiteLabel, Counter>,
    refusals: Family<RefusalLabels, Counter>,
    rejected: Counter,
    rearms_held: Family<SiteLabel, Counter>,
    budget: budget::BudgetMetrics,
    /// Awake sites, and when their awake time was last added to `awake_seconds`.
    awake: Mutex<HashMap<Site, Instant>>,
    recent: Mutex<HashMap<Site, Recent>>,
    /// The sites with a conf at the last full reconcile: their series are dropped when they go.
    known: Mutex<std::collections::BTreeSet<Site>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Every metric at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("fpm_ondemand");
        let budget = budget::BudgetMetrics::register(&mut registry);
        let mut m = Metrics {
            registry,
            budget,
            sites: Gauge::default(),
            sites_awake: Gauge::default(),
            wakes: Family::default(),
            cold_start: Histogram::new(COLD_START_BUCKETS),
            stops: Family::default(),
            awake_seconds: Family::default(),
            reaper_runs: Counter::default(),
            reaper_stopped: Counter::default(),
            reaper_last_sites: Gauge::default(),
            reaper_last_stopped: Gauge::default(),
            reaper_last_errors: Gauge::default(),
            reaper_last_duration: Gauge::default(),
            reaper_last_time: Gauge::default(),
            reconciles: Family::default(),
            actions: Family::default(),
            reconnects: Counter::default(),
            replays: Family::default(),
            refusals: Family::default(),
            rejected: Counter::default(),
            rearms_held: Family::default(),
            awake: Mutex::default(),
            recent: Mutex::default(),
            known: Mutex::default(),
        };
        m.register();
        m
    }

    /// The build's, the sites' metrics; then the reaper's and the watcher's.
    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "build",
            "The watcher's version and the commit it was built from",
            Info::new(vec![
                ("version".to_owned(), env!("CARGO_PKG_VERSION").to_owned()),
                ("commit".to_owned(), fpm_shared::COMMIT.to_owned()),
            ]),
        );
        r.register(
            "sites",
            "Sites with a conf in the on-demand folder",
            self.sites.clone(),
        );
        r.register(
            "sites_awake",
            "Managed sites whose container runs",
            self.sites_awake.clone(),
        );
        r.register(
            "wakes",
            "Cold starts: a request found the site asleep and the waker started it",
            self.wakes.clone(),
        );
        r.register_with_unit(
            "cold_start",
            "From the waker starting a sleeping site to php-fpm accepting its held request",
            Unit::Seconds,
            self.cold_start.clone(),
        );
        r.register("stops", "Container stops by cause: reaper, systemd (another stop through the unit), out_of_band (docker stop/kill), died, oom_killed, evicted (to make room for another site)", self.stops.clone());
        r.register_with_unit(
            "awake",
            "Time each site's container ran, as seen by the watcher",
            Unit::Seconds,
            self.awake_seconds.clone(),
        );
        self.register_reaper();
        self.register_watcher();
    }

    /// The reaper's runs, as it reports them on the events socket.
    fn register_reaper(&mut self) {
        let r = &mut self.registry;
        r.register(
            "reaper_runs",
            "Acting reaper runs that reported to the watcher",
            self.reaper_runs.clone(),
        );
        r.register(
            "reaper_stopped_sites",
            "Sites the reaper stopped, over all runs",
            self.reaper_stopped.clone(),
        );
        r.register(
            "reaper_last_run_sites",
            "Sites the last reaper run judged",
            self.reaper_last_sites.clone(),
        );
        r.register(
            "reaper_last_run_stopped_sites",
            "Sites the last reaper run stopped",
            self.reaper_last_stopped.clone(),
        );
        r.register(
            "reaper_last_run_errors",
            "Sites the last reaper run could not judge or stop",
            self.reaper_last_errors.clone(),
        );
        r.register_with_unit(
            "reaper_last_run_duration",
            "How long the last reaper run took",
            Unit::Seconds,
            self.reaper_last_duration.clone(),
        );
        r.register_with_unit(
            "reaper_last_run_timestamp",
            "When the last reaper run ended (Unix time)",
            Unit::Seconds,
            self.reaper_last_time.clone(),
        );
    }

    /// The watcher's own work, the waker's replays and refusals, and what was rejected.
    fn register_watcher(&mut self) {
        let r = &mut self.registry;
        r.register(
            "watcher_reconciles",
            "Sites the watcher looked at, by why",
            self.reconciles.clone(),
        );
        r.register(
            "watcher_actions",
            "Changes the watcher made, by action and result",
            self.actions.clone(),
        );
        r.register(
            "watcher_event_stream_reconnects",
            "Times the Docker events stream was connected again",
            self.reconnects.clone(),
        );
        r.register(
            "waker_replays",
            "Requests the waker sent to php-fpm again after an unanswered reset",
            self.replays.clone(),
        );
        r.register(
            "waker_refusals",
            "Connections the waker closed without an answer (nginx answered 502), by reason",
            self.refusals.clone(),
        );
        r.register(
            "events_rejected",
            "Datagrams on the events socket that were not an event about a managed site",
            self.rejected.clone(),
        );
        r.register(
            "watcher_rearms_held",
            "Re-arms of a waker socket held back because it failed again soon after the last",
            self.rearms_held.clone(),
        );
    }

    /// The metrics in the OpenMetrics text format, the awake time counted up to `now`.
    pub fn encode(&self, now: Instant) -> String {
        self.account_awake(now);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String");
        text
    }

    /// The admission's metrics.
    pub fn budget(&self) -> &budget::BudgetMetrics {
        &self.budget
    }

    /// The admission is stopping `site` to make room, at `now`: its next stop counts as evicted.
    pub fn evicting(&self, site: &Site, now: Instant) {
        let mut recent = self.recent.lock().expect("metrics lock");
        recent.entry(site.clone()).or_default().evicted = Some(now);
    }

    /// The sites with a conf, after a full reconcile.
    /// Sites without a conf any more are forgotten: their awake time no longer grows, and every
    /// series labelled with them is dropped (a removed site leaves nothing in the endpoint).
    pub fn set_sites(&self, managed: &std::collections::BTreeSet<Site>) {
        let mut known = self.known.lock().expect("metrics lock");
        for gone in known.difference(managed) {
            self.forget(gone);
        }
        known.clone_from(managed);
        drop(known);
        self.sites.set(managed.len() as i64);
        let mut awake = self.awake.lock().expect("metrics lock");
        awake.retain(|site, _| managed.contains(site));
        self.sites_awake.set(awake.len() as i64);
        drop(awake);
        let mut recent = self.recent.lock().expect("metrics lock");
        recent.retain(|site, _| managed.contains(site));
    }

    /// Drops every series labelled with `site`.
    fn forget(&self, site: &Site) {
        let label = SiteLabel {
            site: site.to_string(),
        };
        self.wakes.remove(&label);
        self.awake_seconds.remove(&label);
        self.replays.remove(&label);
        self.rearms_held.remove(&label);
        for cause in StopCause::ALL {
            self.stops.remove(&StopLabels {
                site: label.site.clone(),
                cause,
            });
        }
        for reason in fpm_shared::events::RefusalReason::ALL {
            self.refusals.remove(&RefusalLabels {
                site: label.site.clone(),
                reason: reason.as_str(),
            });
        }
        self.budget.forget(site);
    }

    /// A site was reconciled because of `cause`; `view` is what was seen, at `now`.
    pub fn observed(&self, site: &Site, cause: &'static str, view: &SiteView, now: Instant) {
        self.reconciles.get_or_create(&CauseLabel { cause }).inc();
        let mut awake = self.awake.lock().expect("metrics lock");
        match view.container {
            ContainerState::Running { .. } | ContainerState::Paused => {
                awake.entry(site.clone()).or_insert(now);
            }
            ContainerState::NotRunning(_) | ContainerState::Missing => {
                if let Some(since) = awake.remove(site) {
                    self.add_awake(site, now.saturating_duration_since(since));
                }
            }
            ContainerState::Unknown(_) => {}
        }
        self.sites_awake.set(awake.len() as i64);
    }

    /// The watcher applied `action` to a site; `ok` whether it worked.
    pub fn acted(&self, action: Action, ok: bool) {
        let labels = ActionLabels {
            action: action.name(),
            result: if ok { "done" } else { "failed" },
        };
        self.actions.get_or_create(&labels).inc();
    }

    /// The re-arm of `site`'s waker socket was held back (it keeps failing).
    pub fn rearm_held(&self, site: &Site) {
        self.rearms_held
            .get_or_create(&SiteLabel {
                site: site.to_string(),
            })
            .inc();
    }

    /// A datagram on the events socket was not an event.
    pub fn rejected(&self) {
        self.rejected.inc();
    }

    /// The Docker events stream was connected again.
    pub fn reconnected(&self) {
        self.reconnects.inc();
    }

    /// A Docker event about a managed site's container (`kill`, `oom`, `die`, ...) at `time_nano`;
    /// for a `die`, `unit` is the state of its unit when it was handled. Counts the stop.
    pub fn container_event(
        &self,
        site: &Site,
        action: &str,
        time_nano: i64,
        unit: &UnitState,
        now: Instant,
    ) {
        let mut recent = self.recent.lock().expect("metrics lock");
        let r = recent.entry(site.clone()).or_default();
        match action {
            "kill" => r.killed = Some(now),
            "oom" => r.oom = Some(now),
            "die" if time_nano > r.last_die => {
                let fresh = |at: Option<Instant>| {
                    at.is_some_and(|t| now.saturating_duration_since(t) <= RECENT)
                };
                let facts = StopFacts {
                    unit_active: *unit == UnitState::Active,
                    oom: fresh(r.oom),
                    killed: fresh(r.killed),
                    reaper: fresh(r.reaper),
                    evicted: fresh(r.evicted),
                };
                *r = Recent {
                    last_die: time_nano,
                    ..Recent::default()
                };
                let cause = stop_cause(facts);
                tracing::debug!(site = %site, ?facts, ?cause, "stop counted");
                self.stops
                    .get_or_create(&StopLabels {
                        site: site.to_string(),
                        cause,
                    })
                    .inc();
            }
            _ => {}
        }
    }

    /// An event from the waker or the reaper, about a site `known` says is managed, at `now`.
    /// Anything else is counted as rejected.
    pub fn event(&self, event: Event, known: impl Fn(&Site) -> bool, now: Instant) {
        let managed = |site: Site| Some(site).filter(|s| known(s));
        let label = |site: &Site| SiteLabel {
            site: site.to_string(),
        };
        let counted = match event {
            Event::Wake { site, held_seconds }
                if held_seconds.is_finite() && held_seconds >= 0.0 =>
            {
                managed(site).map(|s| {
                    self.wakes.get_or_create(&label(&s)).inc();
                    self.cold_start.observe(held_seconds);
                })
            }
            Event::Replay { site } => managed(site).map(|s| {
                self.replays.get_or_create(&label(&s)).inc();
            }),
            Event::Refusal { site, reason } => managed(site).map(|s| {
                let labels = RefusalLabels {
                    site: s.to_string(),
                    reason: reason.as_str(),
                };
                self.refusals.get_or_create(&labels).inc();
            }),
            Event::ReaperStopping { site } => managed(site).map(|s| {
                let mut recent = self.recent.lock().expect("metrics lock");
                recent.entry(s).or_default().reaper = Some(now);
            }),
            Event::ReaperRun {
                checked,
                stopped,
                errors,
                duration_seconds,
            } => {
                self.reaper_run(checked, stopped, errors, duration_seconds);
                Some(())
            }
            _ => None,
        };
        if counted.is_none() {
            self.rejected.inc();
        }
    }

    fn reaper_run(&self, checked: u64, stopped: u64, errors: u64, duration_seconds: f64) {
        self.reaper_runs.inc();
        self.reaper_stopped.inc_by(stopped);
        self.reaper_last_sites.set(checked as i64);
        self.reaper_last_stopped.set(stopped as i64);
        self.reaper_last_errors.set(errors as i64);
        self.reaper_last_duration.set(duration_seconds);
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.reaper_last_time.set(unix);
    }

    /// Adds the awake time of every awake site up to `now`.
    fn account_awake(&self, now: Instant) {
        let mut awake = self.awake.lock().expect("metrics lock");
        for (site, since) in awake.iter_mut() {
            self.add_awake(site, now.saturating_duration_since(*since));
            *since = now;
        }
    }

    fn add_awake(&self, site: &Site, d: Duration) {
        let label = SiteLabel {
            site: site.to_string(),
        };
        self.awake_seconds
            .get_or_create(&label)
            .inc_by(d.as_secs_f64());
    }
}

/// The OpenMetrics text of [`Metrics::encode`] in Prometheus' own text format (0.0.4), for
/// clients that do not ask for OpenMetrics (curl, promtool, older scrapers): a counter family is
/// named with its `_total` suffix, an info family is a gauge named with `_info`, and there are no
/// `# UNIT` or `# EOF` lines.
pub fn prometheus_text(openmetrics: &str) -> String {
    let typed = |kind: &str| -> std::collections::HashSet<&str> {
        openmetrics
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(kind))
            .collect()
    };
    let (counters, infos) = (typed(" counter"), typed(" info"));
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| Some((p, line.strip_prefix(p)?)));
        match meta {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                // An info metric is a gauge of 1 named `_info` in Prometheus' text format.
                let (suffix, tail) = if counters.contains(name) {
                    ("_total", tail)
                } else if infos.contains(name) {
                    ("_info", if prefix == "# TYPE " { "gauge" } else { tail })
                } else {
                    ("", tail)
                };
                out.push_str(&format!("{prefix}{name}{suffix} {tail}\n"));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
