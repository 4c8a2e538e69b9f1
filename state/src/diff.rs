//! The watcher's decision: what to change so systemd and the socket folder agree with the container.
//!
//! Level-triggered: it looks at the current state only, never at which event arrived, so a
//! replayed or duplicated event is harmless.

use fpm_docker::ContainerState;
use fpm_shared::socket_folder::SocketState;
use fpm_shared::systemd::UnitState;

/// Everything the watcher observed about one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteView {
    /// The container.
    pub container: ContainerState,
    /// `fpm@SITE.service`.
    pub fpm_unit: UnitState,
    /// `fpm-waker@SITE.socket`.
    pub waker_socket: UnitState,
    /// `fpm-waker@SITE.service`.
    pub waker_service: UnitState,
    /// `php-fpm.sock` in the site's socket folder.
    pub fpm_socket: SocketState,
}

/// One change to bring a site back to agreement, in the order they are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// The container died behind systemd's back while its unit was active, and a waker still
    /// serves it: stop `fpm-waker@SITE.service`.
    StopWakerService,
    /// The container stopped behind systemd's back: stop `fpm@SITE.service` (its stop is a no-op now).
    StopFpmUnit,
    /// The container was started behind systemd's back: start `fpm@SITE.service` (a no-op start).
    StartFpmUnit,
    /// php-fpm died without removing its socket: remove the stale `php-fpm.sock`.
    RemoveStaleSocket,
    /// The waker socket failed or vanished: reset it and start it again.
    RearmWakerSocket,
}

impl Action {
    /// The action as a metric label.
    pub fn name(self) -> &'static str {
        match self {
            Action::StopWakerService => "stop_waker_service",
            Action::StopFpmUnit => "stop_fpm_unit",
            Action::StartFpmUnit => "start_fpm_unit",
            Action::RemoveStaleSocket => "remove_stale_socket",
            Action::RearmWakerSocket => "rearm_waker_socket",
        }
    }

    /// What the action does, for logs and `status`.
    pub fn describe(self) -> &'static str {
        match self {
            Action::StopWakerService => "stop the waker of a stopped container",
            Action::StopFpmUnit => "mark fpm unit inactive: container is not running",
            Action::StartFpmUnit => "mark fpm unit active: container runs",
            Action::RemoveStaleSocket => "remove stale php-fpm.sock",
            Action::RearmWakerSocket => "re-arm the waker socket",
        }
    }
}

/// The changes that make systemd's view and the socket folder agree with the container.
/// Nothing is done about a part that is unknown or in the middle of a systemd job.
pub fn diff(view: &SiteView) -> Vec<Action> {
    let mut actions = Vec::new();
    let down = matches!(
        view.container,
        ContainerState::NotRunning(_) | ContainerState::Missing
    );
    let up = matches!(view.container, ContainerState::Running { .. });
    match (&view.fpm_unit, up, down) {
        (UnitState::Active, _, true) => actions.push(Action::StopFpmUnit),
        (UnitState::Inactive | UnitState::Failed, true, _) => actions.push(Action::StartFpmUnit),
        _ => {}
    }
    // Only a container that died while its unit was active leaves a waker waiting on it: with the
    // unit inactive, an active waker is one that is about to start the site.
    if down && view.fpm_unit == UnitState::Active && view.waker_service == UnitState::Active {
        actions.push(Action::StopWakerService);
    }
    if down && view.fpm_socket == SocketState::Stale {
        actions.push(Action::RemoveStaleSocket);
    }
    if matches!(view.waker_socket, UnitState::Failed | UnitState::Inactive) {
        actions.push(Action::RearmWakerSocket);
    }
    actions.sort();
    actions
}

#[cfg(test)]
mod tests;
