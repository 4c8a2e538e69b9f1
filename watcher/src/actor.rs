//! One site at a time: observe Docker, systemd and the socket folder, then apply the diff.

use crate::metrics::Metrics;
use fpm_docker::{ContainerRuntime, ContainerState};
use fpm_shared::error::Chain;
use fpm_shared::socket_folder::SocketState;
use fpm_shared::{Layout, ServiceManager, Site};
use fpm_state::{diff, Action, ApplyError, SiteView};

/// The external systems and the layout, borrowed for one reconcile.
pub struct Ctx<'a, R, S> {
    /// Paths and names.
    pub layout: &'a Layout,
    /// The Docker engine.
    pub docker: &'a R,
    /// systemd.
    pub systemd: &'a S,
    /// What the watcher counts.
    pub metrics: &'a Metrics,
}

impl<R, S> Clone for Ctx<'_, R, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R, S> Copy for Ctx<'_, R, S> {}

/// Why the watcher looked at a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The daemon started.
    Startup,
    /// The Docker events stream was connected again.
    Reconnect,
    /// A Docker event about the site's container.
    Event,
    /// systemd reported a change of one of the site's units.
    Systemd,
    /// The periodic full reconcile.
    Periodic,
    /// The pause before re-arming a waker socket that keeps failing is over.
    Backoff,
}

impl Cause {
    /// The word logged as `cause="..."`.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Startup => "startup",
            Cause::Reconnect => "reconnect",
            Cause::Event => "event",
            Cause::Systemd => "systemd",
            Cause::Periodic => "periodic",
            Cause::Backoff => "backoff",
        }
    }
}

/// What one reconcile saw and did about the waker socket.
#[derive(Debug, Clone)]
pub struct Reconciled {
    /// What was observed.
    pub view: SiteView,
    /// The waker socket was re-armed.
    pub rearmed: bool,
    /// The waker socket needed re-arming and was left as it is (held back).
    pub rearm_held: bool,
}

impl<R: ContainerRuntime, S: ServiceManager> Ctx<'_, R, S> {
    /// Reads everything about a site ([`fpm_state::observe`]).
    pub async fn observe(&self, site: &Site) -> SiteView {
        fpm_state::observe(self.layout, self.docker, self.systemd, site).await
    }

    /// Carries out one action ([`fpm_state::apply`]).
    pub async fn apply(&self, site: &Site, action: Action) -> Result<(), ApplyError> {
        fpm_state::apply(self.layout, self.systemd, site, action).await
    }

    /// Observes a site, applies what its diff asks for and logs each action with its cause;
    /// returns what it observed.
    pub async fn reconcile(&self, site: &Site, cause: Cause) -> SiteView {
        self.reconcile_holding(site, cause, false).await.view
    }

    /// Like [`Ctx::reconcile`]; with `hold_rearm`, a waker socket that needs re-arming is left
    /// as it is (the daemon backs off a socket that keeps failing), and the answer says so.
    pub async fn reconcile_holding(
        &self,
        site: &Site,
        cause: Cause,
        hold_rearm: bool,
    ) -> Reconciled {
        let view = self.observe(site).await;
        self.metrics
            .observed(site, cause.as_str(), &view, std::time::Instant::now());
        tracing::debug!(site = %site, cause = cause.as_str(), ?view, "observed");
        if let (
            ContainerState::NotRunning(_) | ContainerState::Missing,
            SocketState::Unknown(why),
        ) = (&view.container, &view.fpm_socket)
        {
            // A stale socket may be left behind, and nothing will be removed: say why.
            let container = self.layout.container(site);
            tracing::warn!(site = %site, %container, cause = cause.as_str(), "cannot judge php-fpm.sock of a stopped site: {why}");
        }
        let mut actions = diff(&view);
        let wants_rearm = actions.contains(&Action::RearmWakerSocket);
        if hold_rearm {
            actions.retain(|a| *a != Action::RearmWakerSocket);
        }
        // The actions are independent of each other: applied together, so that marking the unit
        // inactive does not wait for the waker's stop.
        let applied = actions
            .into_iter()
            .map(|action| self.apply_logged(site, action, cause));
        futures::future::join_all(applied).await;
        Reconciled {
            view,
            rearmed: wants_rearm && !hold_rearm,
            rearm_held: wants_rearm && hold_rearm,
        }
    }

    /// Carries out one action and logs its outcome as soon as it is known.
    async fn apply_logged(&self, site: &Site, action: Action, cause: Cause) {
        let result = self.apply(site, action).await;
        self.metrics.acted(action, result.is_ok());
        let container = self.layout.container(site);
        let unit = self.layout.fpm_unit(site);
        let what = action.describe();
        match &result {
            Ok(()) => {
                tracing::info!(site = %site, %unit, %container, cause = cause.as_str(), "{what}: done")
            }
            Err(e) => {
                tracing::warn!(site = %site, %unit, %container, cause = cause.as_str(), error = %Chain(e), "{what}: failed")
            }
        }
    }
}
