//! The watcher's diff over plain views: what is changed, and what is never touched.

use super::*;
use Action::*;

fn running() -> ContainerState {
    ContainerState::Running { started_at: None }
}

fn exited() -> ContainerState {
    ContainerState::NotRunning("exited".into())
}

/// A site in agreement: container running, units active, socket live.
fn healthy() -> SiteView {
    SiteView {
        container: running(),
        fpm_unit: UnitState::Active,
        waker_socket: UnitState::Active,
        waker_service: UnitState::Inactive,
        fpm_socket: SocketState::Live,
    }
}

/// A site asleep in agreement: container stopped, fpm unit inactive, socket listening.
fn asleep() -> SiteView {
    SiteView {
        container: exited(),
        fpm_unit: UnitState::Inactive,
        fpm_socket: SocketState::Absent,
        ..healthy()
    }
}

#[test]
fn agreement_needs_nothing() {
    assert_eq!(diff(&healthy()), []);
    assert_eq!(diff(&asleep()), []);
    assert_eq!(
        diff(&SiteView {
            container: ContainerState::Paused,
            ..healthy()
        }),
        []
    );
}

#[test]
fn a_container_stopped_behind_systemds_back_deactivates_its_unit() {
    let view = SiteView {
        container: exited(),
        ..healthy()
    };
    assert_eq!(diff(&view), [StopFpmUnit]);
    let view = SiteView {
        container: ContainerState::Missing,
        fpm_socket: SocketState::Absent,
        ..healthy()
    };
    assert_eq!(diff(&view), [StopFpmUnit]);
}

#[test]
fn a_killed_container_leaves_a_stale_socket_to_remove() {
    let view = SiteView {
        container: exited(),
        fpm_socket: SocketState::Stale,
        ..healthy()
    };
    assert_eq!(diff(&view), [StopFpmUnit, RemoveStaleSocket]);
}

#[test]
fn a_waker_left_on_a_dead_container_is_stopped_but_a_starting_one_is_not() {
    // Unit inactive, container not yet running: the waker is starting the site. Hands off.
    let view = SiteView {
        waker_service: UnitState::Active,
        ..asleep()
    };
    assert_eq!(diff(&view), []);
    let view = SiteView {
        container: exited(),
        waker_service: UnitState::Active,
        ..healthy()
    };
    assert_eq!(diff(&view), [StopWakerService, StopFpmUnit]);
}

#[test]
fn a_container_started_behind_systemds_back_activates_its_unit() {
    assert_eq!(
        diff(&SiteView {
            container: running(),
            ..asleep()
        }),
        [StartFpmUnit]
    );
    let failed = SiteView {
        container: running(),
        fpm_unit: UnitState::Failed,
        ..asleep()
    };
    assert_eq!(diff(&failed), [StartFpmUnit]);
}

#[test]
fn a_failed_or_vanished_waker_socket_is_rearmed() {
    for state in [UnitState::Failed, UnitState::Inactive] {
        assert_eq!(
            diff(&SiteView {
                waker_socket: state,
                ..asleep()
            }),
            [RearmWakerSocket]
        );
    }
}

#[test]
fn nothing_is_done_while_systemd_is_acting_or_when_unsure() {
    // The reaper's stop or the waker's start is under way.
    let stopping = SiteView {
        container: exited(),
        fpm_unit: UnitState::Deactivating,
        waker_service: UnitState::Active,
        ..healthy()
    };
    assert_eq!(diff(&stopping), []);
    let starting = SiteView {
        container: running(),
        fpm_unit: UnitState::Activating,
        ..asleep()
    };
    assert_eq!(diff(&starting), []);
    let unknown = SiteView {
        container: ContainerState::Unknown("timeout".into()),
        fpm_socket: SocketState::Stale,
        ..healthy()
    };
    assert_eq!(diff(&unknown), []);
    let unit_unknown = SiteView {
        container: exited(),
        fpm_unit: UnitState::Unknown("bus".into()),
        ..healthy()
    };
    assert_eq!(diff(&unit_unknown), []);
    let waker_unknown = SiteView {
        waker_socket: UnitState::Unknown("bus".into()),
        ..asleep()
    };
    assert_eq!(diff(&waker_unknown), []);
}

#[test]
fn a_stale_socket_of_a_running_container_is_left_to_php_fpm() {
    let view = SiteView {
        fpm_socket: SocketState::Stale,
        ..healthy()
    };
    assert_eq!(diff(&view), []);
}

#[test]
fn what_is_not_a_socket_is_never_removed() {
    let view = SiteView {
        fpm_socket: SocketState::NotSocket("a symlink"),
        ..asleep()
    };
    assert_eq!(diff(&view), []);
}
