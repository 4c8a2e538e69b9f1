//! The admission socket's protocol, spoken by the watcher (which admits starts when a budget of
//! awake sites is set), fpm@'s `start-container` (which asks) and `fpm-ondemand status` (which
//! reads the budget's state): one line per connection, `start SITE` (answered [`QUEUED`] at
//! once, then [`GO`] once let in; the connection is then held while the container starts) or
//! `status` (answered with one JSON line, a [`BudgetView`]).

pub mod client;

use crate::site::Site;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The answer that lets a start in.
pub const GO: &str = "go";

/// The first answer to a start: the watcher has it and will answer [`GO`] when it is let in.
pub const QUEUED: &str = "queued";

/// A request on the admission socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Let this site's container start.
    Start(Site),
    /// The admission's state.
    Status,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Start(site) => write!(f, "start {site}"),
            Request::Status => f.write_str("status"),
        }
    }
}

impl Request {
    /// Reads a request line; `None` for anything else.
    pub fn parse(line: &str) -> Option<Request> {
        match line.trim_end().split_once(' ') {
            Some(("start", site)) => Site::new(site).ok().map(Request::Start),
            None if line.trim_end() == "status" => Some(Request::Status),
            _ => None,
        }
    }
}

/// The admission's state, as `status` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetView {
    /// The budget.
    pub max_awake: usize,
    /// Starts let in at once.
    pub max_starting: usize,
    /// Managed sites whose container runs (`None` when Docker could not be asked).
    pub awake: Option<usize>,
    /// Sites starting now.
    pub starting: Vec<String>,
    /// Sites whose start waits for room, oldest first.
    pub waiting: Vec<String>,
    /// Sites being stopped to make room.
    pub evicting: Vec<String>,
}

impl BudgetView {
    /// As one JSON line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("the view serializes")
    }

    /// One line for people: `budget: 18 of 20 sites awake; starting: a; waiting for room: b`.
    pub fn line(&self) -> String {
        let awake = self.awake.map_or("?".to_owned(), |n| n.to_string());
        let mut line = format!("budget: {awake} of {} sites awake", self.max_awake);
        for (what, sites) in [
            ("starting", &self.starting),
            ("waiting for room", &self.waiting),
            ("being stopped for room", &self.evicting),
        ] {
            if !sites.is_empty() {
                line += &format!("; {what}: {}", sites.join(", "));
            }
        }
        line
    }
}

#[cfg(test)]
mod tests;
