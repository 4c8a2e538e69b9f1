//! Stopping a site judged idle: one more look right before, the stop through systemd, and a check
//! that the container is down; what came of it is a [`StopOutcome`], which the report renders.

use crate::decide::Verdict;
use crate::judge::{judge, Clock, Judged};
use crate::report::Action;
use fpm_docker::{ContainerRuntime, ContainerState, DockerError};
use fpm_shared::conf::{self, ConfError, SiteConf};
use fpm_shared::error::Chain;
use fpm_shared::events::{Event, EventSink};
use fpm_shared::{ContainerName, ServiceManager, Site, SystemdError, UnitName};

/// What acting on a site judged idle came to.
#[derive(Debug)]
pub enum StopOutcome {
    /// The unit stopped and the container no longer runs.
    Stopped,
    /// Its conf was removed or became unusable right before the stop: not stopped.
    ConfUnusable(ConfError),
    /// A fresh look right before the stop found activity (or doubt): not stopped; the fresh look.
    Kept(Box<Judged>),
    /// systemd's stop failed.
    StopFailed(SystemdError),
    /// The unit stopped but the container still runs; then the unit was marked active again
    /// (its start is a no-op on a running container), or that failed.
    StillRuns {
        /// Whether the unit could be marked active again.
        restored: Result<(), SystemdError>,
    },
    /// The unit stopped, but Docker could not say whether the container did.
    Unconfirmed(DockerError),
}

impl StopOutcome {
    /// The report's action.
    pub fn action(&self) -> Action {
        match self {
            StopOutcome::Stopped => Action::Stopped,
            StopOutcome::ConfUnusable(_) | StopOutcome::Kept(_) => Action::Kept,
            StopOutcome::StopFailed(_)
            | StopOutcome::StillRuns { .. }
            | StopOutcome::Unconfirmed(_) => Action::Failed,
        }
    }

    /// What the report adds to the decision's reason, if anything.
    pub fn note(&self, unit: &str, container: &str) -> Option<String> {
        Some(match self {
            StopOutcome::Stopped | StopOutcome::Kept(_) => return None,
            StopOutcome::ConfUnusable(e) => {
                format!("not stopped, its conf is unusable now: {}", Chain(e))
            }
            StopOutcome::StopFailed(e) => format!("stop failed: {}", Chain(e)),
            StopOutcome::StillRuns { restored: Ok(()) } => format!(
                "{unit} stopped but {container} still runs; {unit} marked active again; the next run retries"
            ),
            StopOutcome::StillRuns { restored: Err(e) } => format!(
                "{unit} stopped but {container} still runs; {unit} could not be marked active again: {}",
                Chain(e)
            ),
            StopOutcome::Unconfirmed(e) => {
                format!("{unit} stopped, container state unknown: {}", Chain(e))
            }
        })
    }
}

/// The site a stop is about: its conf as judged, its unit and its container.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The conf the site was judged by.
    pub conf: &'a SiteConf,
    /// `fpm@SITE.service`.
    pub unit: &'a UnitName,
    /// `SITE.fpm`.
    pub container: &'a ContainerName,
}

/// Looks once more right before stopping, tells the watcher's metrics (through `events`), stops
/// the unit, then checks the container is down.
pub async fn stop<R: ContainerRuntime, S: ServiceManager>(
    docker: &R,
    systemd: &S,
    target: Target<'_>,
    events: Option<&EventSink>,
    now: Clock<'_>,
) -> StopOutcome {
    let Target {
        conf,
        unit,
        container,
    } = target;
    let site = &conf.site;
    // The conf may have been removed (the site no longer managed) or edited since it was read.
    let conf = match conf::read_conf(&conf.path) {
        Ok(now_conf) => now_conf,
        Err(e) => {
            tracing::warn!(%site, %container, error = %Chain(&e), "kept: its conf changed right before stopping");
            return StopOutcome::ConfUnusable(e);
        }
    };
    let fresh = judge(docker, container, conf, now).await;
    if fresh.decision.verdict != Verdict::Stop {
        tracing::info!(%site, %container, reason = %fresh.decision.reason, "kept: activity seen right before stopping");
        return StopOutcome::Kept(Box::new(fresh));
    }
    if let Some(events) = events {
        events.send(&Event::ReaperStopping { site: site.clone() });
    }
    if let Err(e) = systemd.stop_unit(unit).await {
        tracing::error!(%site, %unit, %container, error = %Chain(&e), "stopping the site failed");
        return StopOutcome::StopFailed(e);
    }
    match docker.state(container).await {
        Ok(ContainerState::Running { .. } | ContainerState::Paused) => {
            let restored = mark_active_again(systemd, site, unit).await;
            match &restored {
                Ok(()) => tracing::error!(
                    %site,
                    %unit,
                    %container,
                    "unit stopped but the container still runs; unit marked active again"
                ),
                Err(e) => {
                    tracing::error!(%site, %unit, %container, error = %Chain(e), "unit stopped but the container still runs, and the unit could not be marked active again")
                }
            }
            StopOutcome::StillRuns { restored }
        }
        Ok(_) => {
            tracing::info!(%site, %unit, %container, reason = %fresh.decision.reason, "stopped idle site");
            StopOutcome::Stopped
        }
        Err(e) => {
            tracing::error!(%site, %unit, %container, error = %Chain(&e), "cannot confirm the container stopped");
            StopOutcome::Unconfirmed(e)
        }
    }
}

/// Not left half-done: the unit is marked active again, so systemd tells the truth and the next
/// run retries.
async fn mark_active_again<S: ServiceManager>(
    systemd: &S,
    site: &Site,
    unit: &UnitName,
) -> Result<(), SystemdError> {
    if let Err(e) = systemd.reset_failed(unit).await {
        tracing::warn!(%site, %unit, error = %Chain(&e), "cannot clear the unit's failed state");
    }
    systemd.start_unit(unit).await
}
