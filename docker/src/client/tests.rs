//! Unit tests of `client` (the docker crate).
use super::*;
use bollard::models::{ContainerState as Raw, ContainerStateStatusEnum as S};

#[test]
fn reads_the_timestamp_before_the_line() {
    let t = log_time("c", b"2026-11-25T01:20:42.123456789Z GET /index.php 200\n").unwrap();
    assert_eq!(t.to_rfc3339(), "2026-11-25T01:20:42.123456789+00:00");
    let t = log_time("c", b"2026-11-25T01:20:42Z").unwrap();
    assert_eq!(t.timestamp(), 1795569642);
    let e = log_time("web.fpm", b"hello world").unwrap_err().to_string();
    assert!(e.contains("web.fpm") && e.contains("hello"), "{e}");
}

#[test]
fn maps_docker_states() {
    let raw = |status, started: Option<&str>| Raw {
        status: Some(status),
        started_at: started.map(str::to_owned),
        ..Default::default()
    };
    let s = state_of(raw(S::RUNNING, Some("2026-11-25T01:00:00.5Z")));
    let ContainerState::Running {
        started_at: Some(t),
    } = s
    else {
        panic!("{s:?}")
    };
    assert_eq!(t.timestamp_millis(), 1795568400500);
    assert_eq!(
        state_of(raw(S::RUNNING, Some("0001-x"))),
        ContainerState::Running { started_at: None }
    );
    assert_eq!(state_of(raw(S::PAUSED, None)), ContainerState::Paused);
    assert_eq!(
        state_of(raw(S::EXITED, None)),
        ContainerState::NotRunning("exited".into())
    );
    assert_eq!(state_of(raw(S::CREATED, None)).label(), "stopped");
}
