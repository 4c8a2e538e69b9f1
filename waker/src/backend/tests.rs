//! The start path against a systemd stand-in that plays a stop coming between the start and
//! php-fpm accepting; php-fpm is a real unix listener.

use super::*;
use crate::fake_systemd::{backend_t, FakeSystemd};
use std::os::unix::net::UnixListener;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex as StdMutex};

/// systemd whose first start of the unit is stopped again before php-fpm listens (the stop
/// moved its socket away); php-fpm listens after the second start.
fn stopped_once(socket: PathBuf, php: Arc<StdMutex<Option<UnixListener>>>) -> FakeSystemd {
    FakeSystemd::new(UnitState::Inactive, move |n, state| {
        if n == 1 {
            *php.lock().unwrap() = Some(UnixListener::bind(&socket).unwrap());
        } else {
            // The stop comes a little later and finds php-fpm still starting.
            let state = state.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                *state.lock().unwrap() = UnitState::Inactive;
            });
        }
    })
}

#[tokio::test]
async fn a_stop_before_php_fpm_accepts_is_followed_by_a_new_start() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("php-fpm.sock");
    let php = Arc::default();
    let systemd = stopped_once(socket.clone(), Arc::clone(&php));
    let timeout = Duration::from_secs(10);
    let backend = backend_t(systemd.clone(), socket, timeout);
    let begun = Instant::now();
    let connected = backend.connect().await;
    assert!(connected.is_ok(), "{connected:?}");
    assert_eq!(systemd.starts.load(Ordering::SeqCst), 2);
    assert!(
        begun.elapsed() < Duration::from_secs(2),
        "started again at once, not after the start timeout: {:?}",
        begun.elapsed()
    );
}

/// php-fpm of a unit whose start job takes `job` (a wait for room, the engine's start) and
/// which listens `after` once the job is done.
fn slow_start(
    socket: PathBuf,
    job: Duration,
    after: Duration,
) -> (FakeSystemd, Arc<StdMutex<Option<UnixListener>>>) {
    let php: Arc<StdMutex<Option<UnixListener>>> = Arc::default();
    let listening = Arc::clone(&php);
    let systemd = FakeSystemd::new(UnitState::Inactive, move |_, _| {
        let (socket, php) = (socket.clone(), Arc::clone(&listening));
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            *php.lock().unwrap() = Some(UnixListener::bind(&socket).unwrap());
        });
    })
    .with_start_taking(job);
    (systemd, php)
}

#[tokio::test]
async fn the_start_timeout_runs_from_the_containers_start_not_from_the_wait_for_room() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("php-fpm.sock");
    // The job (a wait for room) takes longer than the whole start timeout; php-fpm then
    // accepts well within it.
    let job = Duration::from_millis(900);
    let (systemd, _php) = slow_start(socket.clone(), job, Duration::from_millis(300));
    let timeout = Duration::from_millis(600);
    let backend = backend_t(systemd, socket, timeout);
    let begun = Instant::now();
    let connected = backend.connect().await;
    assert!(connected.is_ok(), "{connected:?}");
    assert!(begun.elapsed() >= job + Duration::from_millis(300));
}

#[tokio::test]
async fn php_fpm_that_never_accepts_times_out_the_start_timeout_after_its_container_started() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("php-fpm.sock");
    let job = Duration::from_millis(700);
    let never = Duration::from_secs(3600);
    let (systemd, _php) = slow_start(socket.clone(), job, never);
    let timeout = Duration::from_millis(400);
    let backend = backend_t(systemd, socket, timeout);
    let begun = Instant::now();
    let connected = backend.connect().await;
    let took = begun.elapsed();
    match connected {
        Err(e @ BackendError::Timeout { .. }) => {
            assert!(e.to_string().contains("of its container's start"), "{e}")
        }
        other => panic!("expected a start timeout: {other:?}"),
    }
    assert!(
        took >= job + timeout && took < job + timeout + Duration::from_millis(500),
        "the timeout ran from the end of the start job: {took:?}"
    );
}
