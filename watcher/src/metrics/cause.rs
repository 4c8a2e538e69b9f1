//! Why a site's container stopped: the pure rule over what was seen around its `die`.

use prometheus_client::encoding::EncodeLabelValue;

/// Why a site's container stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum StopCause {
    /// The reaper stopped it as idle, through its unit.
    reaper,
    /// Stopped through its unit by anything else (an operator's `systemctl stop`, `renew`).
    systemd,
    /// Stopped or killed behind systemd's back (`docker stop`, `docker kill`).
    out_of_band,
    /// Exited by itself while its unit was active.
    died,
    /// Killed by the kernel's OOM killer.
    oom_killed,
    /// Stopped through its unit by the admission, to make room for another site.
    evicted,
}

impl StopCause {
    /// Every cause.
    pub const ALL: [StopCause; 6] = [
        StopCause::reaper,
        StopCause::systemd,
        StopCause::out_of_band,
        StopCause::died,
        StopCause::oom_killed,
        StopCause::evicted,
    ];
}

/// What is known about a container's stop when its `die` event is handled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StopFacts {
    /// Its unit was still active (the stop did not come through systemd).
    pub unit_active: bool,
    /// Docker reported an `oom` event for it shortly before.
    pub oom: bool,
    /// Docker reported a `kill` event for it shortly before (`docker stop` or `docker kill`).
    pub killed: bool,
    /// The reaper announced it was stopping the site shortly before.
    pub reaper: bool,
    /// The admission stopped it to make room shortly before.
    pub evicted: bool,
}

/// The cause of a stop, from what was seen around it.
pub fn stop_cause(facts: StopFacts) -> StopCause {
    match facts {
        StopFacts { oom: true, .. } => StopCause::oom_killed,
        StopFacts {
            unit_active: false,
            evicted: true,
            ..
        } => StopCause::evicted,
        StopFacts {
            unit_active: false,
            reaper: true,
            ..
        } => StopCause::reaper,
        StopFacts {
            unit_active: false, ..
        } => StopCause::systemd,
        StopFacts { killed: true, .. } => StopCause::out_of_band,
        StopFacts { .. } => StopCause::died,
    }
}
