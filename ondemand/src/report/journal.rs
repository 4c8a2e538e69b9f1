//! The records `fpm-ondemand report` reads from the journal: systemd's own start and stop jobs of
//! `fpm@SITE.service` (so stops the watcher made after a `docker stop` count too) and the waker's
//! "php-fpm accepts" lines with their `SITE=` and `TOOK_MS=` fields. `journalctl` is run
//! directly (no shell) with fixed arguments; its JSON is parsed here.

use super::{UnitRecord, WakeRecord};
use chrono::{DateTime, Utc};
use fpm_shared::{Layout, Site};
use std::process::Command;
use std::time::Duration;

/// Why the journal could not be read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// journalctl could not be run.
    #[error("cannot run journalctl")]
    Run(#[source] std::io::Error),
    /// journalctl failed (e.g. no permission: root or the systemd-journal group reads it).
    #[error("journalctl failed: {0}")]
    Failed(String),
}

/// The records since `since`: unit jobs and wakes.
pub fn read(
    layout: &Layout,
    since: DateTime<Utc>,
) -> Result<(Vec<UnitRecord>, Vec<WakeRecord>), JournalError> {
    let fpm_units = layout.fpm_unit.replace("{site}", "*");
    let waker_units = layout.waker_service_unit.replace("{site}", "*");
    let mut units = Vec::new();
    let mut wakes = Vec::new();
    for line in journalctl(since, &[&fpm_units, &waker_units])?.lines() {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let Some(u) = unit_record(layout, &entry) {
            units.push(u);
        } else if let Some(w) = wake_record(&entry) {
            wakes.push(w);
        }
    }
    Ok((units, wakes))
}

/// journalctl's JSON lines for `units` (globs) since `since`; none when no unit matches.
fn journalctl(since: DateTime<Utc>, units: &[&str]) -> Result<String, JournalError> {
    let mut cmd = Command::new("journalctl");
    cmd.args(["--no-pager", "-q", "-o", "json", "--since"])
        .arg(format!("@{}", since.timestamp()));
    for u in units {
        cmd.args(["-u", u]);
    }
    let out = cmd.output().map_err(JournalError::Run)?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        // A glob no unit in the journal matches yet.
        if stderr.contains("No data available") {
            return Ok(String::new());
        }
        return Err(JournalError::Failed(stderr.trim().to_owned()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn field<'a>(entry: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    entry.get(name)?.as_str()
}

fn time_of(entry: &serde_json::Value) -> Option<DateTime<Utc>> {
    let micros: i64 = field(entry, "__REALTIME_TIMESTAMP")?.parse().ok()?;
    DateTime::from_timestamp_micros(micros)
}

/// systemd's own record of a finished start or stop job of a site's fpm unit.
pub fn unit_record(layout: &Layout, entry: &serde_json::Value) -> Option<UnitRecord> {
    if field(entry, "_PID")? != "1" || field(entry, "JOB_RESULT")? != "done" {
        return None;
    }
    let up = match field(entry, "JOB_TYPE")? {
        "start" => true,
        "stop" => false,
        _ => return None,
    };
    Some(UnitRecord {
        site: layout.site_of_fpm_unit(field(entry, "UNIT")?)?,
        at: time_of(entry)?,
        up,
    })
}

/// The waker's line for a cold start: "php-fpm accepts" with `SITE` and `TOOK_MS`.
pub fn wake_record(entry: &serde_json::Value) -> Option<WakeRecord> {
    if !field(entry, "MESSAGE")?.starts_with("php-fpm accepts") {
        return None;
    }
    Some(WakeRecord {
        site: Site::new(field(entry, "SITE")?).ok()?,
        at: time_of(entry)?,
        took: Duration::from_millis(field(entry, "TOOK_MS")?.parse().ok()?),
    })
}
