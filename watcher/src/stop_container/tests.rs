//! Unit tests of `stop_container` (the watcher crate).
use super::*;

fn ago(secs: i64) -> DateTime<Utc> {
    "2026-11-25T12:00:00Z".parse::<DateTime<Utc>>().unwrap() - chrono::Duration::seconds(secs)
}

fn running(started_secs_ago: i64) -> ContainerState {
    ContainerState::Running {
        started_at: Some(ago(started_secs_ago)),
    }
}

#[test]
fn a_stop_waits_for_the_socket_only_while_php_fpm_may_be_starting() {
    let now = ago(0);
    assert_eq!(socket_wait(&running(0), now), PHP_FPM_STARTS_WITHIN);
    assert_eq!(socket_wait(&running(10), now), Duration::from_secs(20));
    assert_eq!(socket_wait(&running(30), now), Duration::ZERO);
    assert_eq!(socket_wait(&running(600), now), Duration::ZERO);
    // The engine's clock a little ahead of ours: still the whole wait, and a bit more.
    assert_eq!(socket_wait(&running(-2), now), Duration::from_secs(32));
    let unknown_start = ContainerState::Running { started_at: None };
    assert_eq!(socket_wait(&unknown_start, now), Duration::ZERO);
    assert_eq!(socket_wait(&ContainerState::Paused, now), Duration::ZERO);
}

#[test]
fn a_unit_stop_stops_only_the_run_the_unit_knows() {
    // Started by the waker: docker start returned, then the unit became active.
    assert_eq!(unit_stop(&running(600), Some(ago(599))), UnitStop::Stop);
    // Started again behind the unit's back after it became active: not the unit's run.
    assert_eq!(
        unit_stop(&running(1), Some(ago(600))),
        UnitStop::StartedLater {
            started_at: ago(1),
            unit_active_since: ago(600)
        }
    );
    // Unsure when either happened: the stop that was asked for goes ahead.
    let unknown_start = ContainerState::Running { started_at: None };
    assert_eq!(unit_stop(&unknown_start, Some(ago(600))), UnitStop::Stop);
    assert_eq!(unit_stop(&running(1), None), UnitStop::Stop);
    assert_eq!(
        unit_stop(&ContainerState::Paused, Some(ago(600))),
        UnitStop::Stop
    );
    let unknown = ContainerState::Unknown("timeout".into());
    assert_eq!(unit_stop(&unknown, Some(ago(600))), UnitStop::Stop);
    for down in [
        ContainerState::Missing,
        ContainerState::NotRunning("exited".into()),
    ] {
        assert_eq!(unit_stop(&down, Some(ago(600))), UnitStop::AlreadyDown);
    }
}
