//! `fpm-ondemand report`: what each site cost over a period, from what systemd and the waker
//! already recorded in the journal (so it works after the fact, without Prometheus): wakes,
//! awake share, cold-start times, and the memory the host did not spend on sleeping sites.
//! [`compute`] is the pure part; `journal` reads the records.

pub mod journal;

use chrono::{DateTime, Utc};
use fpm_shared::duration::human;
use fpm_shared::Site;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// The version of the JSON document.
pub const JSON_VERSION: u32 = 1;

/// `fpm@SITE.service` became active (`up`) or inactive, as systemd journaled its job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRecord {
    /// The site.
    pub site: Site,
    /// When the job finished.
    pub at: DateTime<Utc>,
    /// A start (true) or a stop (false).
    pub up: bool,
}

/// The waker started a sleeping site: php-fpm accepted `took` after the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WakeRecord {
    /// The site.
    pub site: Site,
    /// When php-fpm accepted.
    pub at: DateTime<Utc>,
    /// From the start to php-fpm accepting.
    pub took: Duration,
}

/// A managed site as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteNow {
    /// The site.
    pub site: Site,
    /// Its container runs.
    pub running: bool,
    /// The memory it uses, when it runs and the engine measures it.
    pub memory: Option<u64>,
}

/// One site's line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteLine {
    /// The site id.
    pub site: String,
    /// Cold starts in the period.
    pub wakes: usize,
    /// Seconds its container ran in the period.
    pub awake_secs: f64,
    /// The part of the period it ran, 0 to 1.
    pub awake_share: f64,
    /// Cold-start times, in seconds: the median, the 95th percentile and the longest.
    pub cold_start_p50_secs: Option<f64>,
    /// See `cold_start_p50_secs`.
    pub cold_start_p95_secs: Option<f64>,
    /// See `cold_start_p50_secs`.
    pub cold_start_max_secs: Option<f64>,
    /// The last wake in the period.
    pub last_wake: Option<DateTime<Utc>>,
    /// The memory it uses now, if it runs and the engine measures it.
    pub memory_bytes: Option<u64>,
}

/// The host's totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostLine {
    /// Managed sites.
    pub sites: usize,
    /// Site-hours awake in the period.
    pub awake_site_hours: f64,
    /// Site-hours had every site run the whole period (always on).
    pub always_on_site_hours: f64,
    /// Sites whose memory was measured (running now).
    pub memory_measured_sites: usize,
    /// The memory not spent on average over the period thanks to sleeping: each site's
    /// measured memory (or, for a site not running now, the measured sites' mean) times the
    /// part of the period it slept. `None` when no site could be measured.
    pub memory_saved_bytes: Option<u64>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The document's version.
    pub version: u32,
    /// The period's start.
    pub since: DateTime<Utc>,
    /// Its end: when the report was made.
    pub now: DateTime<Utc>,
    /// One line per managed site.
    pub sites: Vec<SiteLine>,
    /// The host's totals.
    pub host: HostLine,
}

/// The report over `since..now` for `sites`, from the journal's `units` and `wakes` records
/// (any order; records outside the period and of other sites are left out).
pub fn compute(
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    sites: &[SiteNow],
    units: &[UnitRecord],
    wakes: &[WakeRecord],
) -> Report {
    let period = (now - since).to_std().unwrap_or_default().as_secs_f64();
    let inside = |at: &DateTime<Utc>| *at >= since && *at <= now;
    let mut lines = Vec::new();
    for s in sites {
        let mut changes: Vec<&UnitRecord> = units
            .iter()
            .filter(|u| u.site == s.site && inside(&u.at))
            .collect();
        changes.sort_by_key(|u| u.at);
        let awake = awake_secs(since, now, s.running, &changes);
        let mut took: Vec<f64> = wakes
            .iter()
            .filter(|w| w.site == s.site && inside(&w.at))
            .map(|w| w.took.as_secs_f64())
            .collect();
        took.sort_by(f64::total_cmp);
        lines.push(SiteLine {
            site: s.site.to_string(),
            wakes: took.len(),
            awake_secs: awake,
            awake_share: if period > 0.0 { awake / period } else { 0.0 },
            cold_start_p50_secs: percentile(&took, 0.50),
            cold_start_p95_secs: percentile(&took, 0.95),
            cold_start_max_secs: took.last().copied(),
            last_wake: wakes
                .iter()
                .filter(|w| w.site == s.site && inside(&w.at))
                .map(|w| w.at)
                .max(),
            memory_bytes: s.memory,
        });
    }
    let host = host_line(&lines, period);
    Report {
        version: JSON_VERSION,
        since,
        now,
        sites: lines,
        host,
    }
}

/// Seconds awake in the period: from each start to the next stop; before the first record the
/// site was in the state opposite to that record (or, with none, as it is now).
fn awake_secs(
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    running: bool,
    changes: &[&UnitRecord],
) -> f64 {
    let mut up = changes.first().map_or(running, |c| !c.up);
    let mut from = since;
    let mut total = chrono::Duration::zero();
    for c in changes {
        if up && !c.up {
            total += c.at - from;
        }
        if !up && c.up {
            from = c.at;
        }
        up = c.up;
    }
    if up {
        total += now - from;
    }
    total.to_std().unwrap_or_default().as_secs_f64()
}

/// The nearest-rank percentile `p` (0 to 1) of sorted `values`.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    (n > 0).then(|| sorted[((p * n as f64).ceil() as usize).clamp(1, n) - 1])
}

fn host_line(lines: &[SiteLine], period: f64) -> HostLine {
    let measured: Vec<u64> = lines.iter().filter_map(|l| l.memory_bytes).collect();
    let mean = (!measured.is_empty()).then(|| measured.iter().sum::<u64>() / measured.len() as u64);
    let saved = mean.map(|mean| {
        lines
            .iter()
            .map(|l| l.memory_bytes.unwrap_or(mean) as f64 * (1.0 - l.awake_share))
            .sum::<f64>() as u64
    });
    HostLine {
        sites: lines.len(),
        awake_site_hours: lines.iter().map(|l| l.awake_secs).sum::<f64>() / 3600.0,
        always_on_site_hours: lines.len() as f64 * period / 3600.0,
        memory_measured_sites: measured.len(),
        memory_saved_bytes: saved,
    }
}

impl Report {
    /// One JSON document.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serializes") + "\n"
    }

    /// An aligned table and the host's totals.
    pub fn to_text(&self) -> String {
        let secs = |s: Option<f64>| s.map_or("-".into(), |s| format!("{s:.2}s"));
        let mut rows = vec![[
            "SITE",
            "WAKES",
            "AWAKE",
            "SHARE",
            "COLD P50",
            "P95",
            "MAX",
            "LAST WAKE",
            "MEMORY",
        ]
        .map(String::from)
        .to_vec()];
        for l in &self.sites {
            rows.push(vec![
                l.site.clone(),
                l.wakes.to_string(),
                human(Duration::from_secs_f64(l.awake_secs)),
                format!("{:.1}%", l.awake_share * 100.0),
                secs(l.cold_start_p50_secs),
                secs(l.cold_start_p95_secs),
                secs(l.cold_start_max_secs),
                l.last_wake
                    .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
                l.memory_bytes.map_or("-".into(), mib),
            ]);
        }
        let h = &self.host;
        let share = if h.always_on_site_hours > 0.0 {
            h.awake_site_hours / h.always_on_site_hours * 100.0
        } else {
            0.0
        };
        let memory = match h.memory_saved_bytes {
            Some(saved) => format!(
                "memory not spent on sleeping sites, on average: {} (measured on {} running site(s); the others at their mean)",
                mib(saved),
                h.memory_measured_sites
            ),
            None => "memory saved: unknown (no running site to measure)".into(),
        };
        format!(
            "{}{} sites, {:.2} awake site-hours of {:.2} always-on ({share:.1}%) since {}\n{memory}\n",
            fpm_shared::table::aligned(&rows),
            h.sites,
            h.awake_site_hours,
            h.always_on_site_hours,
            self.since.format("%Y-%m-%d %H:%M:%S UTC"),
        )
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Every managed site as it is now: running or not, and the memory a running one uses.
pub async fn sites_now(
    layout: &fpm_shared::Layout,
    docker: &fpm_docker::DockerClient,
) -> Result<Vec<SiteNow>, fpm_shared::conf::ListError> {
    use fpm_docker::{ContainerRuntime, ContainerState};
    let mut sites = Vec::new();
    for site in fpm_state::managed_sites(layout)? {
        let name = layout.container(&site);
        let running = matches!(
            docker.state(&name).await,
            Ok(ContainerState::Running { .. })
        );
        let memory = match running {
            true => docker.memory(&name).await.unwrap_or_else(|e| {
                let error = fpm_shared::error::Chain(&e);
                tracing::warn!(site = %site, container = %name, %error, "memory not measured");
                None
            }),
            false => None,
        };
        sites.push(SiteNow {
            site,
            running,
            memory,
        });
    }
    Ok(sites)
}

/// The sites' lines keyed by site id (for tests and callers that look one up).
pub fn by_site(report: &Report) -> BTreeMap<&str, &SiteLine> {
    report.sites.iter().map(|l| (l.site.as_str(), l)).collect()
}

#[cfg(test)]
mod tests;
