//! `fpm-watcher stop-container SITE`, the `ExecStop` of `fpm@SITE.service`: drains the site, then
//! stops its container, unless that run is not the unit's (the stop-or-leave rule, [`unit_stop`]).

use crate::actor::Ctx;
use crate::drain::{Drain, Drainer};
use crate::workers::{self, Wait};
use chrono::{DateTime, Utc};
use fpm_docker::{ContainerRuntime, ContainerState, DockerError};
use fpm_shared::error::Chain;
use fpm_shared::{ServiceManager, Site};
use std::time::Duration;

/// How long after its container started php-fpm may still be creating its socket: the waker's
/// default `--start-timeout`, for which it waits for that socket and connects the moment it
/// appears. A stop within it waits for the socket, so that what the waker queues is drained.
pub const PHP_FPM_STARTS_WITHIN: Duration = Duration::from_secs(30);

/// What stopping `fpm@SITE.service` does with its container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitStop {
    /// Stop it: the run the unit knows about (or its start time cannot be told).
    Stop,
    /// Nothing to stop.
    AlreadyDown,
    /// The container was started again after the unit last became active, by someone else
    /// (e.g. `docker stop` then `docker start`, faster than the watcher could mark the unit
    /// inactive): that run is not this unit's to stop. The watcher marks the unit active again.
    StartedLater {
        /// When the container started.
        started_at: DateTime<Utc>,
        /// When the unit last became active.
        unit_active_since: DateTime<Utc>,
    },
}

/// Decides [`UnitStop`] from the container's state and when the unit last became active.
/// A unit started by a request becomes active after its `docker start` returns, so its own run
/// always started earlier.
pub fn unit_stop(state: &ContainerState, unit_active_since: Option<DateTime<Utc>>) -> UnitStop {
    match (state, unit_active_since) {
        (ContainerState::NotRunning(_) | ContainerState::Missing, _) => UnitStop::AlreadyDown,
        (
            ContainerState::Running {
                started_at: Some(started_at),
            },
            Some(unit_active_since),
        ) if *started_at > unit_active_since => UnitStop::StartedLater {
            started_at: *started_at,
            unit_active_since,
        },
        _ => UnitStop::Stop,
    }
}

/// How long a stop at `now` waits for php-fpm's socket to appear, from the container's state:
/// what is left of [`PHP_FPM_STARTS_WITHIN`] since it started; nothing when that is unknown.
pub fn socket_wait(state: &ContainerState, now: DateTime<Utc>) -> Duration {
    match state {
        ContainerState::Running {
            started_at: Some(started_at),
        } => {
            let ends =
                *started_at + chrono::Duration::from_std(PHP_FPM_STARTS_WITHIN).unwrap_or_default();
            (ends - now).to_std().unwrap_or_default()
        }
        _ => Duration::ZERO,
    }
}

/// `fpm@SITE.service`'s `ExecStop`: stops the site's container, unless it was started again
/// after the unit last became active (someone else's run, see [`unit_stop`]), and logs what it
/// found, which it returns; a Docker error means the container may still run.
pub async fn stop_container<R: ContainerRuntime, S: ServiceManager>(
    ctx: Ctx<'_, R, S>,
    site: &Site,
    grace: Duration,
    now: DateTime<Utc>,
) -> Result<UnitStop, DockerError> {
    let container = ctx.layout.container(site);
    let unit = ctx.layout.fpm_unit(site);
    let since = ctx.systemd.active_since(&unit).await.unwrap_or_else(|e| {
        tracing::warn!(site = %site, %unit, error = %Chain(&e), "activation time unknown: stopping as asked");
        None
    });
    let state = ctx.docker.state(&container).await?;
    let verdict = unit_stop(&state, since);
    if verdict == UnitStop::Stop {
        let drainer = Drainer::new(&ctx.layout.socket_dir(site), &ctx.layout.fpm_socket);
        let starting = socket_wait(&state, now);
        let left = drain_logged(&drainer, site, &unit, grace, starting).await;
        let left = workers_logged(ctx.docker, site, &unit, &container, left).await;
        let stopped = ctx.docker.stop(&container, left).await;
        if let Err(e) = drainer.finish().await {
            tracing::warn!(site = %site, %unit, error = %Chain(&e), "cannot tidy the drained php-fpm socket");
        }
        stopped?;
    }
    log(site, &unit, &container, &verdict);
    Ok(verdict)
}

/// Drains the site (see [`crate::drain`]), logs how it went, and returns what is left of the
/// grace for php-fpm's own stop (at least a second).
async fn drain_logged(
    drainer: &Drainer,
    site: &Site,
    unit: &str,
    grace: Duration,
    starting: Duration,
) -> Duration {
    let begun = std::time::Instant::now();
    match drainer.drain(grace, starting).await {
        Ok(Drain::Drained { took }) => tracing::info!(
            site = %site, unit, took_ms = took.as_millis() as u64,
            "drained: php-fpm has taken every queued request; new ones wait for the next start"
        ),
        Ok(Drain::Idle) if starting.is_zero() => {
            tracing::debug!(site = %site, unit, "nothing to drain")
        }
        Ok(Drain::Idle) => tracing::info!(
            site = %site, unit, waited_ms = begun.elapsed().as_millis() as u64,
            "nothing to drain: php-fpm did not listen while the stop waited for it"
        ),
        Ok(Drain::NotSocket(found)) => tracing::warn!(
            site = %site, unit, found, "php-fpm.sock is not a socket: not drained"
        ),
        Ok(Drain::GraceRanOut) => tracing::warn!(
            site = %site, unit, grace_s = grace.as_secs(),
            "grace ran out while draining: requests still queued in php-fpm will get no answer"
        ),
        Err(e) => {
            tracing::warn!(site = %site, unit, error = %Chain(&e), "cannot drain: stopping as asked")
        }
    }
    grace
        .saturating_sub(begun.elapsed())
        .max(Duration::from_secs(1))
}

/// Waits until php-fpm's workers hold no request (see [`crate::workers`]), within what is left of
/// the grace, logs how it went, and returns what is left then for php-fpm's own stop (at least a
/// second).
async fn workers_logged<R: ContainerRuntime>(
    docker: &R,
    site: &Site,
    unit: &str,
    container: &str,
    grace: Duration,
) -> Duration {
    let begun = std::time::Instant::now();
    match workers::until_idle(docker, container, grace).await {
        Wait::Idle(took) if took >= Duration::from_millis(1) => tracing::info!(
            site = %site, unit, container, took_ms = took.as_millis() as u64,
            "php-fpm's workers finished the requests they held"
        ),
        Wait::Idle(_) => {
            tracing::debug!(site = %site, unit, container, "no php-fpm worker holds a request")
        }
        Wait::RanOut(pids) => tracing::warn!(
            site = %site, unit, container, workers = pids.join(","),
            "grace ran out while php-fpm's workers still held requests: they end with the container"
        ),
        Wait::CannotTell(why) => tracing::warn!(
            site = %site, unit, container, why,
            "cannot tell whether php-fpm's workers hold requests: stopping as asked"
        ),
    }
    grace
        .saturating_sub(begun.elapsed())
        .max(Duration::from_secs(1))
}

/// Logs what the stop found, with the site, unit and container.
fn log(site: &Site, unit: &str, container: &str, outcome: &UnitStop) {
    match outcome {
        UnitStop::Stop => tracing::info!(site = %site, unit, container, "container stopped"),
        UnitStop::AlreadyDown => {
            tracing::info!(site = %site, unit, container, "container already stopped")
        }
        UnitStop::StartedLater {
            started_at,
            unit_active_since,
        } => tracing::warn!(
            site = %site, unit, container, %started_at, %unit_active_since,
            "left running: started again after the unit became active, so not this unit's run"
        ),
    }
}

#[cfg(test)]
mod tests;
