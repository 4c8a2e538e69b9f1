//! The reaper's report: one entry per conf, printed as an aligned table or as JSON.

use crate::decide::Verdict;
use chrono::{DateTime, SecondsFormat, Utc};
use fpm_shared::duration::human;
use serde::{Serialize, Serializer};
use std::fmt::Write as _;
use std::time::Duration;

/// What was done about a site in acting mode (absent from a dry run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Nothing was to be done.
    None,
    /// The unit was stopped and the container is no longer running.
    Stopped,
    /// A fresh look right before stopping found activity, so it was kept.
    Kept,
    /// Stopping failed, or the container still runs after the unit stopped.
    Failed,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct SiteReport {
    /// The site id (for an unusable conf name, the file name without extension).
    pub site: String,
    /// The conf file.
    pub conf: String,
    /// The idle window in seconds, when the header could be read.
    #[serde(serialize_with = "secs")]
    pub window_secs: Option<Duration>,
    /// running, stopped, paused, missing or unknown.
    pub container: &'static str,
    /// The later of the newest log line and the container's start.
    #[serde(serialize_with = "rfc3339")]
    pub last_activity: Option<DateTime<Utc>>,
    /// Whole seconds idle, when known.
    #[serde(serialize_with = "whole_secs")]
    pub idle_secs: Option<Duration>,
    /// stop, keep, skip or error.
    pub decision: Verdict,
    /// One short sentence.
    pub reason: String,
    /// What was done (acting mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
}

impl SiteReport {
    /// True when this site counts as an error for the exit status.
    pub fn is_error(&self) -> bool {
        self.decision == Verdict::Error || self.action == Some(Action::Failed)
    }
}

/// The shape of `--format json`; raised when a field changes meaning or goes.
pub const JSON_VERSION: u32 = 1;

/// The whole report, in conf order.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// One entry per conf file (and per `--site` with no conf).
    pub sites: Vec<SiteReport>,
}

fn secs<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) if d.subsec_nanos() == 0 => s.serialize_u64(d.as_secs()),
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

fn whole_secs<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_u64(d.as_secs()),
        None => s.serialize_none(),
    }
}

fn rfc3339<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true)),
        None => s.serialize_none(),
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Stop => "stop",
        Verdict::Keep => "keep",
        Verdict::Skip => "skip",
        Verdict::Error => "error",
    }
}

fn action_word(a: Option<Action>) -> &'static str {
    match a {
        None | Some(Action::None) => "-",
        Some(Action::Stopped) => "stopped",
        Some(Action::Kept) => "kept",
        Some(Action::Failed) => "FAILED",
    }
}

impl Report {
    /// The exit status: 0 when every site was handled, 1 when some had errors.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.sites.iter().any(SiteReport::is_error))
    }

    /// What the watcher's metrics hear of this run, which took `took`.
    pub fn run_event(&self, took: Duration) -> fpm_shared::events::Event {
        let count = |f: fn(&SiteReport) -> bool| self.sites.iter().filter(|s| f(s)).count() as u64;
        fpm_shared::events::Event::ReaperRun {
            checked: self.sites.len() as u64,
            stopped: count(|s| s.action == Some(Action::Stopped)),
            errors: count(SiteReport::is_error),
            duration_seconds: took.as_secs_f64(),
        }
    }

    /// The report as one JSON object `{"version": 1, "sites": [...]}`.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Doc<'a> {
            version: u32,
            sites: &'a [SiteReport],
        }
        let doc = Doc {
            version: JSON_VERSION,
            sites: &self.sites,
        };
        serde_json::to_string_pretty(&doc).expect("report serializes")
    }

    /// The report as an aligned table with a summary line.
    pub fn to_text(&self) -> String {
        let acting = self.sites.iter().any(|s| s.action.is_some());
        let mut rows = vec![vec!["SITE", "CONTAINER", "WINDOW", "IDLE", "DECISION"]
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()];
        if acting {
            rows[0].push("ACTION".into());
        }
        rows[0].push("REASON".into());
        for s in &self.sites {
            let mut row = vec![
                s.site.clone(),
                s.container.to_owned(),
                s.window_secs.map_or("-".into(), human),
                s.idle_secs.map_or("-".into(), human),
                verdict_word(s.decision).to_owned(),
            ];
            if acting {
                row.push(action_word(s.action).to_owned());
            }
            row.push(s.reason.clone());
            rows.push(row);
        }
        let mut out = fpm_shared::table::aligned(&rows);
        writeln!(out, "{}", self.summary()).expect("writing to a String");
        out
    }

    /// The text report's last line: `3 sites: 1 stop, 1 keep, 1 skip, 0 error`.
    pub fn summary(&self) -> String {
        let count = |v| self.sites.iter().filter(|s| s.decision == v).count();
        format!(
            "{} sites: {} stop, {} keep, {} skip, {} error",
            self.sites.len(),
            count(Verdict::Stop),
            count(Verdict::Keep),
            count(Verdict::Skip),
            count(Verdict::Error)
        )
    }
}

#[cfg(test)]
mod tests;
