//! The admission's decisions, pure: which waiting start goes next, whether an awake site must be
//! stopped to make room for it, and which one.

use chrono::{DateTime, Utc};
use fpm_shared::{Budget, Site};
use std::collections::BTreeSet;
use std::time::Duration;

/// A start waiting for room, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// Its ticket (unique per request).
    pub ticket: u64,
    /// The site to start.
    pub site: Site,
}

/// What the admission knows when it decides.
#[derive(Debug, Clone, Default)]
pub struct Board {
    /// Starts waiting, oldest first.
    pub waiting: Vec<Waiting>,
    /// Sites whose start was let in and has not finished.
    pub starting: BTreeSet<Site>,
    /// Managed sites whose container runs.
    pub awake: BTreeSet<Site>,
    /// Awake sites being stopped to make room.
    pub evicting: BTreeSet<Site>,
}

/// The next thing to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Let this start in.
    Admit(u64),
    /// Room is needed: find an awake site to stop (see [`choose_victim`]).
    MakeRoom,
    /// Nothing to do until something changes (a start ends, a site stops, time passes).
    Wait,
}

/// The next step for `board` under `budget`. Only the oldest waiting start is ever let in, so
/// starts go in arrival order; at most `max_starting` run at once; a start of a site already
/// awake takes no room; room is made only for starts that could run now, and not twice. With
/// no budget (a reload lifted it) every start goes in at once.
pub fn next_step(board: &Board, budget: &Budget) -> Step {
    let Some(head) = board.waiting.first() else {
        return Step::Wait;
    };
    if !budget.enabled() {
        return Step::Admit(head.ticket);
    }
    if board.awake.contains(&head.site) && !board.evicting.contains(&head.site) {
        return Step::Admit(head.ticket);
    }
    if board.starting.len() >= budget.max_starting {
        return Step::Wait;
    }
    let occupied = board.awake.union(&board.starting).count();
    if occupied < budget.max_awake {
        return Step::Admit(head.ticket);
    }
    // Starts that could run now if there were room, and room already being made for them.
    let could_run = board
        .waiting
        .len()
        .min(budget.max_starting - board.starting.len());
    let room_coming = board.evicting.len() + budget.max_awake.saturating_sub(occupied);
    if room_coming >= could_run {
        Step::Wait
    } else {
        Step::MakeRoom
    }
}

/// An awake site that might be stopped to make room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The site.
    pub site: Site,
    /// When its container started.
    pub awake_since: DateTime<Utc>,
    /// Its last sign of activity: its newest log line (a request, for php-fpm's access log),
    /// or its start ([`fpm_docker::activity::last_activity`]).
    pub last_active: DateTime<Utc>,
}

/// The site to stop to make room: of those awake at least `min_awake` and quiet at least
/// `min_idle` at `now`, the one quiet longest (ties: the one awake longest, then by id).
/// `None` when no site qualifies: the start then waits.
pub fn choose_victim(
    candidates: &[Candidate],
    budget: &Budget,
    now: DateTime<Utc>,
) -> Option<Site> {
    let old_enough = |t: DateTime<Utc>, min: u64| {
        now.signed_duration_since(t)
            .to_std()
            .is_ok_and(|d| d >= Duration::from_secs(min))
    };
    candidates
        .iter()
        .filter(|c| old_enough(c.awake_since, budget.min_awake_secs))
        .filter(|c| old_enough(c.last_active, budget.min_idle_secs))
        .min_by_key(|c| (c.last_active, c.awake_since, c.site.clone()))
        .map(|c| c.site.clone())
}

#[cfg(test)]
mod tests;
