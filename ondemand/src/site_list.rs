//! `fpm-ondemand site list`: the managed sites, as the reaper reads their confs (a broken or
//! duplicated conf named with why, never hiding the others).

use fpm_shared::conf::{conf_label, list_confs, read_conf, reject_duplicates, ListError};
use fpm_shared::duration::human;
use fpm_shared::error::chain;
use fpm_shared::Layout;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// The shape of `site list --format json`; raised when a field changes meaning or goes.
pub const JSON_VERSION: u32 = 1;

/// One conf in the conf folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The site id, or the conf's name when it is not a valid one.
    pub site: String,
    /// The idle window on line 1, or why it cannot be had.
    pub window: Result<Duration, String>,
    /// The conf file.
    pub conf: PathBuf,
}

/// Reads every conf of the conf folder.
pub fn list(layout: &Layout) -> Result<Vec<Row>, ListError> {
    let paths = list_confs(layout)?;
    let confs = reject_duplicates(paths.iter().map(|p| read_conf(p)).collect());
    Ok(paths
        .into_iter()
        .zip(confs)
        .map(|(conf, read)| match read {
            Ok(c) => Row {
                site: c.site.to_string(),
                window: Ok(c.window),
                conf,
            },
            Err(e) => Row {
                site: conf_label(&conf),
                window: Err(chain(&e)),
                conf,
            },
        })
        .collect())
}

/// An aligned table: `SITE  WINDOW  CONF`; a conf that cannot be used has `-` for its window
/// and its error after it.
pub fn to_table(rows: &[Row]) -> String {
    let mut table = vec![vec!["SITE".into(), "WINDOW".into(), "CONF".into()]];
    for r in rows {
        let conf = r.conf.display().to_string();
        table.push(match &r.window {
            Ok(w) => vec![r.site.clone(), human(*w), conf],
            Err(e) => vec![r.site.clone(), "-".into(), conf, format!("error: {e}")],
        });
    }
    fpm_shared::table::aligned(&table)
}

#[derive(Serialize)]
struct JsonRow<'a> {
    site: &'a str,
    window_seconds: Option<u64>,
    error: Option<&'a str>,
    conf: String,
}

/// One JSON document: `{"version":1,"sites":[{"site","window_seconds","error","conf"}]}`.
pub fn to_json(rows: &[Row]) -> String {
    let sites: Vec<_> = rows
        .iter()
        .map(|r| JsonRow {
            site: &r.site,
            window_seconds: r.window.as_ref().ok().map(Duration::as_secs),
            error: r.window.as_ref().err().map(String::as_str),
            conf: r.conf.display().to_string(),
        })
        .collect();
    let doc = serde_json::json!({ "version": JSON_VERSION, "sites": sites });
    format!("{doc}\n")
}

#[cfg(test)]
mod tests;
