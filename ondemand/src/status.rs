//! `fpm-ondemand status [SITE...]`: each managed site's container, units and socket, since when it
//! has been awake and how long idle, and what the watcher would change; a table or a JSON document.

use chrono::{DateTime, Utc};
use fpm_docker::activity::{activity, last_activity};
use fpm_docker::{ContainerRuntime, ContainerState};
use fpm_shared::admission::BudgetView;
use fpm_shared::conf::ListError;
use fpm_shared::duration::human;
use fpm_shared::{Layout, ServiceManager, Site};
use fpm_state::managed_sites;
use fpm_state::{diff, observe, Action, SiteView};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The shape of `status --format json`; raised when a field changes meaning or goes.
pub const JSON_VERSION: u32 = 1;

/// Why `status` could not look.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The conf folder cannot be listed.
    #[error(transparent)]
    List(#[from] ListError),
    /// A site was asked for that has no conf.
    #[error("{site} is not a managed site: no conf for it in {}", dir.display())]
    NotManaged {
        /// The site asked for.
        site: Site,
        /// The conf folder.
        dir: PathBuf,
    },
}

/// One row of `status`.
pub struct StatusRow {
    /// The site.
    pub site: Site,
    /// What was observed.
    pub view: SiteView,
    /// What the watcher would change.
    pub to_fix: Vec<Action>,
    /// When its container started, while it runs.
    pub awake_since: Option<DateTime<Utc>>,
    /// While it runs: its newest log line or its start, whichever is later (what the reaper
    /// judges idleness by); `None` when that cannot be read.
    pub last_activity: Option<DateTime<Utc>>,
}

/// Observes the sites `only` (every managed site when empty).
pub async fn status<R: ContainerRuntime, S: ServiceManager>(
    layout: &Layout,
    docker: &R,
    systemd: &S,
    only: &[Site],
) -> Result<Vec<StatusRow>, StatusError> {
    let managed = managed_sites(layout)?;
    if let Some(site) = only.iter().find(|s| !managed.contains(s)) {
        return Err(StatusError::NotManaged {
            site: site.clone(),
            dir: layout.conf_dir.clone(),
        });
    }
    let mut rows = Vec::new();
    for site in managed {
        if !only.is_empty() && !only.contains(&site) {
            continue;
        }
        let view = observe(layout, docker, systemd, &site).await;
        let to_fix = diff(&view);
        let container = layout.container(&site);
        let (awake_since, last_activity) = awake(docker, &container, &view.container).await;
        rows.push(StatusRow {
            site,
            view,
            to_fix,
            awake_since,
            last_activity,
        });
    }
    Ok(rows)
}

/// While the container runs: when it started, and its last activity.
async fn awake<R: ContainerRuntime>(
    docker: &R,
    container: &str,
    state: &ContainerState,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let ContainerState::Running { started_at } = state else {
        return (None, None);
    };
    let last_log = activity(docker, container).await.1;
    (*started_at, last_activity(*started_at, &last_log))
}

impl StatusRow {
    fn idle(&self, now: DateTime<Utc>) -> Option<std::time::Duration> {
        self.last_activity.and_then(|t| (now - t).to_std().ok())
    }

    fn inconsistent(&self) -> Vec<&'static str> {
        self.to_fix.iter().map(|a| a.describe()).collect()
    }
}

/// The `status` table at `now`; the last column says what is inconsistent.
/// With a budget set, `budget` is the admission's state (a last line).
pub fn status_table(rows: &[StatusRow], budget: Option<&BudgetView>, now: DateTime<Utc>) -> String {
    let header = [
        "SITE",
        "CONTAINER",
        "AWAKE SINCE",
        "IDLE",
        "FPM UNIT",
        "WAKER SOCKET",
        "WAKER SERVICE",
        "PHP-FPM.SOCK",
        "INCONSISTENT",
    ];
    let mut cells = vec![header.map(str::to_owned).to_vec()];
    let or_dash = |s: Option<String>| s.unwrap_or_else(|| "-".to_owned());
    for r in rows {
        let fixes = r.inconsistent();
        cells.push(vec![
            r.site.to_string(),
            r.view.container.label().to_owned(),
            or_dash(
                r.awake_since
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
            ),
            or_dash(r.idle(now).map(human)),
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
    writeln!(out, "{n} {sites}, {bad} inconsistent").expect("writing to a String");
    if let Some(b) = budget {
        writeln!(out, "{}", b.line()).expect("writing to a String");
    }
    out
}

/// `status --format json`: see the README ("The watcher") for the shape.
#[derive(Debug, Serialize)]
struct StatusDoc<'a> {
    version: u32,
    now: DateTime<Utc>,
    sites: Vec<SiteDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    budget: Option<&'a BudgetView>,
}

#[derive(Debug, Serialize)]
struct SiteDoc<'a> {
    site: String,
    container: &'a str,
    awake_since: Option<DateTime<Utc>>,
    last_activity: Option<DateTime<Utc>>,
    idle_secs: Option<u64>,
    fpm_unit: &'a str,
    waker_socket: &'a str,
    waker_service: &'a str,
    php_fpm_sock: &'a str,
    inconsistent: Vec<&'static str>,
}

/// The rows as one JSON document at `now`.
pub fn status_json(rows: &[StatusRow], budget: Option<&BudgetView>, now: DateTime<Utc>) -> String {
    let doc = StatusDoc {
        version: JSON_VERSION,
        now,
        budget,
        sites: rows
            .iter()
            .map(|r| SiteDoc {
                site: r.site.to_string(),
                container: r.view.container.label(),
                awake_since: r.awake_since,
                last_activity: r.last_activity,
                idle_secs: r.idle(now).map(|d| d.as_secs()),
                fpm_unit: r.view.fpm_unit.label(),
                waker_socket: r.view.waker_socket.label(),
                waker_service: r.view.waker_service.label(),
                php_fpm_sock: r.view.fpm_socket.label(),
                inconsistent: r.inconsistent(),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&doc).expect("status serializes") + "\n"
}

#[cfg(test)]
mod tests;
