//! One reaper run: the selected confs read, each site judged ([`crate::judge`]) and, when
//! acting, the idle ones stopped ([`crate::stop`]), a few at a time; every per-site problem is in
//! the report, never a reason to stop the others.

use crate::decide::Verdict;
use crate::judge::{judge, Clock};
use crate::report::{Action, Report, SiteReport};
use crate::stop::{self, StopOutcome};
use fpm_docker::ContainerRuntime;
use fpm_shared::conf::{self, ConfError, ListError, SiteConf};
use fpm_shared::error::chain;
use fpm_shared::events::EventSink;
use fpm_shared::{Layout, ServiceManager, Site};
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;

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
    /// Where the watcher's metrics hear of each stop before it is made (acting mode).
    pub events: Option<std::sync::Arc<EventSink>>,
}

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
        .map(|c| judge_and_act(layout, docker, &mode, options.events.as_deref(), now, c))
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
    events: Option<&EventSink>,
    now: Clock<'_>,
    selected: Selected,
) -> SiteReport {
    let acting = matches!(mode, Mode::Act(_));
    let conf = match selected {
        Selected::Conf(Ok(conf)) => conf,
        Selected::Conf(Err(e)) => {
            return unusable(conf::conf_label(e.path()), e.path(), chain(&e), acting)
        }
        Selected::NoConf(site) => {
            let path = layout.conf_dir.join(format!("{site}.conf"));
            let why = format!("no conf for site {site} in {}", layout.conf_dir.display());
            return unusable(site.to_string(), &path, why, acting);
        }
    };
    let container = layout.container(&conf.site);
    let judged = judge(docker, &container, conf, now).await;
    let systemd = match mode {
        Mode::DryRun => return judged.report(&container, None, None),
        Mode::Act(_) if judged.decision.verdict != Verdict::Stop => {
            return judged.report(&container, Some(Action::None), None)
        }
        Mode::Act(systemd) => *systemd,
    };
    let unit = layout.fpm_unit(&judged.conf.site);
    let target = stop::Target {
        conf: &judged.conf,
        unit: &unit,
        container: &container,
    };
    match stop::stop(docker, systemd, target, events, now).await {
        StopOutcome::Kept(fresh) => fresh.report(&container, Some(Action::Kept), None),
        outcome => {
            let note = outcome.note(&unit, &container);
            judged.report(&container, Some(outcome.action()), note)
        }
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
