//! The reaper's decision core: a site's container read once (state, newest log line) and
//! judged against its conf's window by the pure [`crate::decide`]; [`Judged`] is what the run
//! reports and what a stop looks at again.

use crate::decide::{decide, Decision};
use crate::report::{Action, SiteReport};
use chrono::{DateTime, Utc};
use fpm_docker::activity::activity;
use fpm_docker::{ContainerRuntime, ContainerState};
use fpm_shared::conf::SiteConf;

/// A clock, so that tests and the binary can give "now".
pub type Clock<'a> = &'a (dyn Fn() -> DateTime<Utc> + Sync);

/// Reads the container's state and, if it runs, when it last logged, and decides.
pub async fn judge<R: ContainerRuntime>(
    docker: &R,
    container: &str,
    conf: SiteConf,
    now: Clock<'_>,
) -> Judged {
    let (state, last_log) = activity(docker, container).await;
    let decision = decide(conf.window, &state, &last_log, now());
    Judged {
        conf,
        state,
        decision,
    }
}

/// A site as judged: its conf, its container's state and the decision.
#[derive(Debug, Clone)]
pub struct Judged {
    /// The conf it was judged by.
    pub conf: SiteConf,
    /// The container's state.
    pub state: ContainerState,
    /// The decision.
    pub decision: Decision,
}

impl Judged {
    /// The report's entry: the decision's reason, then a note on what acting came to; `action` is
    /// `None` in a dry run.
    pub(crate) fn report(
        &self,
        container: &str,
        action: Option<Action>,
        note: Option<String>,
    ) -> SiteReport {
        let d = &self.decision;
        let mut reason = match self.state {
            ContainerState::Missing => format!("no container named {container}"),
            _ => d.reason.clone(),
        };
        if let Some(note) = note {
            reason = format!("{reason}; {note}");
        }
        SiteReport {
            site: self.conf.site.to_string(),
            conf: self.conf.path.display().to_string(),
            window_secs: Some(self.conf.window),
            container: self.state.label(),
            last_activity: d.last_activity,
            idle_secs: d.idle,
            decision: d.verdict,
            reason,
            action,
        }
    }
}
