//! One site at a time: observe Docker, systemd and the socket folder, then apply the diff.

use fpm_shared::conf;
use fpm_shared::sockets;
use fpm_shared::{
    diff, Action, ContainerRuntime, ContainerState, Layout, ServiceManager, Site, SiteView,
    SocketState, UnitState,
};

/// The external systems and the layout, borrowed for one reconcile.
pub struct Ctx<'a, R, S> {
    /// Paths and names.
    pub layout: &'a Layout,
    /// The Docker engine.
    pub docker: &'a R,
    /// systemd.
    pub systemd: &'a S,
}

impl<R, S> Clone for Ctx<'_, R, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R, S> Copy for Ctx<'_, R, S> {}

/// What one action did.
#[derive(Debug)]
pub struct Outcome {
    /// The action.
    pub action: Action,
    /// Ok, or the error as text.
    pub result: Result<(), String>,
}

/// The sites that have a conf (whatever its header says): the only ones ever acted on.
pub fn managed_sites(layout: &Layout) -> Result<Vec<Site>, conf::ListError> {
    Ok(conf::list_confs(layout)?
        .iter()
        .filter_map(|path| conf::site_of_conf(path).ok())
        .collect())
}

impl<R: ContainerRuntime, S: ServiceManager> Ctx<'_, R, S> {
    async fn unit_state(&self, unit: &str) -> UnitState {
        match self.systemd.active_state(unit).await {
            Ok(word) => UnitState::from_active_state(&word),
            Err(e) => UnitState::Unknown(e.to_string()),
        }
    }

    /// Reads everything about a site.
    pub async fn observe(&self, site: &Site) -> SiteView {
        let l = self.layout;
        let container = match self.docker.state(&l.container(site)).await {
            Ok(state) => state,
            Err(e) => ContainerState::Unknown(e.to_string()),
        };
        SiteView {
            container,
            fpm_unit: self.unit_state(&l.fpm_unit(site)).await,
            waker_socket: self.unit_state(&l.waker_socket_unit(site)).await,
            waker_service: self.unit_state(&l.waker_service_unit(site)).await,
            fpm_socket: sockets::probe(&l.fpm_socket_path(site)).await,
        }
    }

    /// Carries out one action.
    pub async fn apply(&self, site: &Site, action: Action) -> Result<(), String> {
        let l = self.layout;
        let sd = self.systemd;
        let r = match action {
            Action::StopWakerService => sd.stop_unit(&l.waker_service_unit(site)).await,
            Action::StopFpmUnit => sd.stop_unit(&l.fpm_unit(site)).await,
            Action::StartFpmUnit => {
                let unit = l.fpm_unit(site);
                let _ = sd.reset_failed(&unit).await;
                sd.start_unit(&unit).await
            }
            Action::RearmWakerSocket => {
                // The service's start-limit counter too, or the socket fails again at once.
                let _ = sd.reset_failed(&l.waker_service_unit(site)).await;
                let unit = l.waker_socket_unit(site);
                let _ = sd.reset_failed(&unit).await;
                sd.start_unit(&unit).await
            }
            Action::RemoveStaleSocket => {
                let r = sockets::remove_stale(&l.socket_dir(site), &l.fpm_socket_path(site)).await;
                return r.map_err(|e| e.to_string());
            }
        };
        r.map_err(|e| e.to_string())
    }

    /// Observes a site, applies what its diff asks for and logs each action with its cause.
    pub async fn reconcile(&self, site: &Site, cause: &str) -> Vec<Outcome> {
        let view = self.observe(site).await;
        tracing::debug!(site = %site, cause, ?view, "observed");
        if let (
            ContainerState::NotRunning(_) | ContainerState::Missing,
            SocketState::Unknown(why),
        ) = (&view.container, &view.fpm_socket)
        {
            // A stale socket may be left behind, and nothing will be removed: say why.
            let container = self.layout.container(site);
            tracing::warn!(site = %site, container, cause, "cannot judge php-fpm.sock of a stopped site: {why}");
        }
        // The actions are independent of each other: applied together, so that marking the unit
        // inactive does not wait for the waker's stop.
        let applied = diff(&view)
            .into_iter()
            .map(|action| self.apply_logged(site, action, cause));
        futures::future::join_all(applied).await
    }

    /// Carries out one action and logs its outcome as soon as it is known.
    async fn apply_logged(&self, site: &Site, action: Action, cause: &str) -> Outcome {
        let result = self.apply(site, action).await;
        let container = self.layout.container(site);
        let unit = self.layout.fpm_unit(site);
        let what = action.describe();
        match &result {
            Ok(()) => tracing::info!(site = %site, unit, container, cause, "{what}: done"),
            Err(e) => {
                tracing::warn!(site = %site, unit, container, cause, error = %e, "{what}: failed")
            }
        }
        Outcome { action, result }
    }
}
