//! The operator's commands: `status` (a table of every site) and `renew SITE` (the old renew script).

use crate::actor::{managed_sites, Ctx};
use crate::drain::{Drain, Drainer};
use fpm_shared::sockets;
use fpm_shared::{
    diff, unit_stop, Action, ContainerRuntime, ServiceManager, Site, SiteView, SocketState,
    UnitStop,
};
use std::fmt::Write as _;
use std::time::Duration;

/// One row of `status`.
pub struct StatusRow {
    /// The site.
    pub site: Site,
    /// What was observed.
    pub view: SiteView,
    /// What the watcher would change.
    pub to_fix: Vec<Action>,
}

/// Observes every managed site.
pub async fn status<R: ContainerRuntime, S: ServiceManager>(
    ctx: Ctx<'_, R, S>,
) -> Result<Vec<StatusRow>, fpm_shared::conf::ListError> {
    let mut rows = Vec::new();
    for site in managed_sites(ctx.layout)? {
        let view = ctx.observe(&site).await;
        let to_fix = diff(&view);
        rows.push(StatusRow { site, view, to_fix });
    }
    Ok(rows)
}

/// The `status` table; the last column says what is inconsistent.
pub fn status_table(rows: &[StatusRow]) -> String {
    let mut cells = vec![[
        "SITE",
        "CONTAINER",
        "FPM UNIT",
        "WAKER SOCKET",
        "WAKER SERVICE",
        "PHP-FPM.SOCK",
        "INCONSISTENT",
    ]
    .map(str::to_owned)
    .to_vec()];
    for r in rows {
        let fixes: Vec<&str> = r.to_fix.iter().map(|a| a.describe()).collect();
        cells.push(vec![
            r.site.to_string(),
            r.view.container.label().to_owned(),
            r.view.fpm_unit.label().to_owned(),
            r.view.waker_socket.label().to_owned(),
            r.view.waker_service.label().to_owned(),
            r.view.fpm_socket.label().to_owned(),
            if fixes.is_empty() {
                "-".to_owned()
            } else {
                fixes.join("; ")
            },
        ]);
    }
    let mut out = fpm_shared::table::aligned(&cells);
    let bad = rows.iter().filter(|r| !r.to_fix.is_empty()).count();
    let n = rows.len();
    let sites = if n == 1 { "site" } else { "sites" };
    let _ = writeln!(out, "{n} {sites}, {bad} inconsistent");
    out
}

/// One step of `renew` and what came of it.
pub struct Step {
    /// What was done.
    pub what: String,
    /// Ok, or the error.
    pub result: Result<(), String>,
}

/// Renews a site by hand: stops the waker socket and service and the fpm unit, removes a stale
/// php-fpm socket, clears failed states and starts the waker socket again.
pub async fn renew<R: ContainerRuntime, S: ServiceManager>(
    ctx: Ctx<'_, R, S>,
    site: &Site,
) -> Vec<Step> {
    let l = ctx.layout;
    let sd = ctx.systemd;
    let (socket_unit, waker, fpm) = (
        l.waker_socket_unit(site),
        l.waker_service_unit(site),
        l.fpm_unit(site),
    );
    let mut steps = Vec::new();
    let mut step = |what: String, result: Result<(), String>| {
        match &result {
            Ok(()) => tracing::info!(site = %site, cause = "renew", "{what}: done"),
            Err(e) => tracing::warn!(site = %site, cause = "renew", error = %e, "{what}: failed"),
        }
        steps.push(Step { what, result });
    };
    for unit in [&socket_unit, &waker, &fpm] {
        step(
            format!("stop {unit}"),
            sd.stop_unit(unit).await.map_err(|e| e.to_string()),
        );
    }
    let path = l.fpm_socket_path(site);
    match sockets::probe(&path).await {
        SocketState::Stale => step(
            format!("remove stale {}", path.display()),
            sockets::remove_stale(&l.socket_dir(site), &path)
                .await
                .map_err(|e| e.to_string()),
        ),
        other => step(
            format!("leave {} ({})", path.display(), other.label()),
            Ok(()),
        ),
    }
    for unit in [&socket_unit, &waker, &fpm] {
        step(
            format!("reset-failed {unit}"),
            sd.reset_failed(unit).await.map_err(|e| e.to_string()),
        );
    }
    step(
        format!("start {socket_unit}"),
        sd.start_unit(&socket_unit).await.map_err(|e| e.to_string()),
    );
    steps
}

/// `fpm@SITE.service`'s `ExecStop`: stops the site's container, unless it was started again
/// after the unit last became active (someone else's run, see [`unit_stop`]). Returns what it
/// found; a Docker error means the container may still run.
pub async fn stop_container<R: ContainerRuntime, S: ServiceManager>(
    ctx: Ctx<'_, R, S>,
    site: &Site,
    grace: Duration,
) -> Result<UnitStop, fpm_shared::DockerError> {
    let container = ctx.layout.container(site);
    let unit = ctx.layout.fpm_unit(site);
    let since = ctx.systemd.active_since(&unit).await.unwrap_or_else(|e| {
        tracing::warn!(site = %site, unit, error = %e, "activation time unknown: stopping as asked");
        None
    });
    let state = ctx.docker.state(&container).await?;
    let verdict = unit_stop(&state, since);
    if verdict == UnitStop::Stop {
        let drainer = Drainer::new(&ctx.layout.socket_dir(site), &ctx.layout.fpm_socket);
        let left = drain_logged(&drainer, site, &unit, grace).await;
        let stopped = ctx.docker.stop(&container, left).await;
        if let Err(e) = drainer.finish().await {
            tracing::warn!(site = %site, unit, error = %e, "cannot tidy the drained php-fpm socket");
        }
        stopped?;
    }
    Ok(verdict)
}

/// Drains the site (see [`crate::drain`]), logs how it went, and returns what is left of the
/// grace for php-fpm's own stop (at least a second).
async fn drain_logged(drainer: &Drainer, site: &Site, unit: &str, grace: Duration) -> Duration {
    let begun = std::time::Instant::now();
    match drainer.drain(grace).await {
        Ok(Drain::Drained { took }) => tracing::info!(
            site = %site, unit, took_ms = took.as_millis() as u64,
            "drained: php-fpm has taken every queued request; new ones wait for the next start"
        ),
        Ok(Drain::Idle) => tracing::debug!(site = %site, unit, "nothing to drain"),
        Ok(Drain::NotSocket(found)) => tracing::warn!(
            site = %site, unit, found, "php-fpm.sock is not a socket: not drained"
        ),
        Ok(Drain::GraceRanOut) => tracing::warn!(
            site = %site, unit, grace_s = grace.as_secs(),
            "grace ran out while draining: requests still queued in php-fpm will get no answer"
        ),
        Err(e) => tracing::warn!(site = %site, unit, error = %e, "cannot drain: stopping as asked"),
    }
    grace
        .saturating_sub(begun.elapsed())
        .max(Duration::from_secs(1))
}
