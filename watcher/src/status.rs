//! `fpm-watcher status`: every managed site's container, units and socket, and what the watcher
//! would change.

use crate::actor::{managed_sites, Ctx};
use crate::diff::{diff, Action, SiteView};
use fpm_shared::conf::ListError;
use fpm_shared::docker::ContainerRuntime;
use fpm_shared::{ServiceManager, Site};
use std::fmt::Write as _;

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
) -> Result<Vec<StatusRow>, ListError> {
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
    writeln!(out, "{n} {sites}, {bad} inconsistent").expect("writing to a String");
    out
}
