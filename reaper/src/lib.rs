//! The reaper: judges every on-demand site from its conf and Docker, and stops the idle ones through systemd.

pub mod lock;
pub mod report;

use chrono::{DateTime, Utc};
use fpm_shared::conf::{self, ConfError, SiteConf};
use fpm_shared::{
    decide, ContainerRuntime, ContainerState, Decision, Layout, ServiceManager, Site, Verdict,
};
use futures::stream::{self, StreamExt};
use report::{Action, Report, SiteReport};
use std::collections::BTreeSet;

pub use conf::ListError;

/// Audit only, or act through systemd.
pub enum Mode<'a, S> {
    /// Change nothing; no systemd needed.
    DryRun,
    /// Stop idle sites with this service manager.
    Act(&'a S),
}

/// How the run is scoped.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only these sites (all when empty).
    pub sites: Vec<Site>,
    /// How many sites are queried (and stopped) at once.
    pub concurrency: usize,
}

/// A clock, so that tests and the binary can give "now".
pub type Clock<'a> = &'a (dyn Fn() -> DateTime<Utc> + Sync);

/// Judges every selected site and, in acting mode, stops the idle ones.
///
/// Fails only when the conf folder cannot be listed; every per-site problem is in the report.
pub async fn run<R: ContainerRuntime, S: ServiceManager>(
    layout: &Layout,
    options: &Options,
    docker: &R,
    mode: Mode<'_, S>,
    now: Clock<'_>,
) -> Result<Report, ListError> {
    let confs = select(conf::list_confs(layout)?, &options.sites);
    let concurrency = options.concurrency.max(1);
    let sites = stream::iter(confs)
        .map(|c| judge_and_act(layout, docker, &mode, now, c))
        .buffered(concurrency)
        .collect()
        .await;
    Ok(Report { sites })
}

/// A conf to look at: read (or not) from a file, or a `--site` that has no conf.
enum Selected {
    Conf(Result<SiteConf, ConfError>),
    NoConf(Site),
}

fn select(paths: Vec<std::path::PathBuf>, only: &[Site]) -> Vec<Selected> {
    let wanted: BTreeSet<&Site> = only.iter().collect();
    let mut found = BTreeSet::new();
    let mut confs = Vec::new();
    for path in paths {
        if !wanted.is_empty() {
            match conf::site_of_conf(&path) {
                Ok(site) if wanted.contains(&site) => {
                    found.insert(site);
                }
                _ => continue,
            }
        }
        confs.push(conf::read_conf(&path));
    }
    let mut out: Vec<Selected> = conf::reject_duplicates(confs)
        .into_iter()
        .map(Selected::Conf)
        .collect();
    out.extend(
        wanted
            .into_iter()
            .filter(|s| !found.contains(*s))
            .cloned()
            .map(Selected::NoConf),
    );
    out
}

async fn judge_and_act<R: ContainerRuntime, S: ServiceManager>(
    layout: &Layout,
    docker: &R,
    mode: &Mode<'_, S>,
    now: Clock<'_>,
    selected: Selected,
) -> SiteReport {
    let acting = matches!(mode, Mode::Act(_));
    let conf = match selected {
        Selected::Conf(Ok(conf)) => conf,
        Selected::Conf(Err(e)) => {
            return unusable(conf::conf_label(e.path()), e.path(), e.to_string(), acting)
        }
        Selected::NoConf(site) => {
            let path = layout.conf_dir.join(format!("{site}.conf"));
            let why = format!("no conf for site {site} in {}", layout.conf_dir.display());
            return unusable(site.to_string(), &path, why, acting);
        }
    };
    let container = layout.container(&conf.site);
    let (state, decision) = judge(docker, &container, &conf, now).await;
    let mut entry = entry(&conf, &state, &decision);
    if state == ContainerState::Missing {
        entry.reason = format!("no container named {container}");
    }
    if let Mode::Act(systemd) = mode {
        entry.action = Some(Action::None);
        if decision.verdict == Verdict::Stop {
            stop(layout, docker, *systemd, &conf, now, &mut entry).await;
        }
    }
    entry
}

/// Reads the container's state and, if it runs, when it last logged (one inspect request, and a
/// logs request only when the log file cannot tell), and decides.
async fn judge<R: ContainerRuntime>(
    docker: &R,
    container: &str,
    conf: &SiteConf,
    now: Clock<'_>,
) -> (ContainerState, Decision) {
    let (state, last_log) = docker.activity(container).await;
    let decision = decide(conf.window, &state, &last_log, now());
    (state, decision)
}

/// Looks once more right before stopping, stops the unit, then checks the container is down.
async fn stop<R: ContainerRuntime, S: ServiceManager>(
    layout: &Layout,
    docker: &R,
    systemd: &S,
    conf: &SiteConf,
    now: Clock<'_>,
    entry: &mut SiteReport,
) {
    let site = conf.site.as_str();
    let container = layout.container(&conf.site);
    let unit = layout.fpm_unit(&conf.site);
    // The conf may have been removed (the site no longer managed) or edited since it was read.
    let conf = &match conf::read_conf(&conf.path) {
        Ok(now_conf) => now_conf,
        Err(e) => {
            tracing::warn!(site, container, error = %e, "kept: its conf changed right before stopping");
            entry.action = Some(Action::Kept);
            entry.reason = format!(
                "{}; not stopped, its conf is unusable now: {e}",
                entry.reason
            );
            return;
        }
    };
    let (state, fresh) = judge(docker, &container, conf, now).await;
    if fresh.verdict != Verdict::Stop {
        tracing::info!(site, container, reason = %fresh.reason, "kept: activity seen right before stopping");
        *entry = SiteReport {
            action: Some(Action::Kept),
            ..self::entry(conf, &state, &fresh)
        };
        return;
    }
    if let Err(e) = systemd.stop_unit(&unit).await {
        tracing::error!(site, unit, container, error = %e, "stopping the site failed");
        entry.action = Some(Action::Failed);
        entry.reason = format!("{}; stop failed: {e}", entry.reason);
        return;
    }
    match docker.state(&container).await {
        Ok(ContainerState::Running { .. } | ContainerState::Paused) => {
            // Not left half-done: the unit is marked active again (its start is a no-op on a
            // running container), so systemd tells the truth and the next run retries.
            let _ = systemd.reset_failed(&unit).await;
            let restored = match systemd.start_unit(&unit).await {
                Ok(()) => format!("{unit} marked active again; the next run retries"),
                Err(e) => format!("{unit} could not be marked active again: {e}"),
            };
            tracing::error!(
                site,
                unit,
                container,
                restored,
                "unit stopped but the container still runs"
            );
            entry.action = Some(Action::Failed);
            entry.reason = format!(
                "{}; {unit} stopped but {container} still runs; {restored}",
                entry.reason
            );
        }
        Ok(_) => {
            tracing::info!(site, unit, container, reason = %entry.reason, "stopped idle site");
            entry.action = Some(Action::Stopped);
        }
        Err(e) => {
            tracing::error!(site, unit, container, error = %e, "cannot confirm the container stopped");
            entry.action = Some(Action::Failed);
            entry.reason = format!(
                "{}; {unit} stopped, container state unknown: {e}",
                entry.reason
            );
        }
    }
}

fn entry(conf: &SiteConf, state: &ContainerState, d: &Decision) -> SiteReport {
    SiteReport {
        site: conf.site.to_string(),
        conf: conf.path.display().to_string(),
        window_secs: Some(conf.window),
        container: state.label(),
        last_activity: d.last_activity,
        idle_secs: d.idle,
        decision: d.verdict,
        reason: d.reason.clone(),
        action: None,
    }
}

fn unusable(site: String, path: &std::path::Path, why: String, acting: bool) -> SiteReport {
    tracing::error!(site, conf = %path.display(), "{why}");
    SiteReport {
        site,
        conf: path.display().to_string(),
        window_secs: None,
        container: "unknown",
        last_activity: None,
        idle_secs: None,
        decision: Verdict::Error,
        reason: why,
        action: acting.then_some(Action::None),
    }
}

#[cfg(test)]
mod tests;
