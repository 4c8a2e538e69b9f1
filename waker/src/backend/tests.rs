//! The start path against a systemd stand-in that plays a stop coming between the start and
//! php-fpm accepting; php-fpm is a real unix listener.

use super::*;
use crate::fake_systemd::FakeSystemd;
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
    let backend = Backend::new(systemd.clone(), "fpm@t.service".into(), socket, timeout);
    let begun = Instant::now();
    let connected = backend.connect("t").await;
    assert!(connected.is_ok(), "{connected:?}");
    assert_eq!(systemd.starts.load(Ordering::SeqCst), 2);
    assert!(
        begun.elapsed() < Duration::from_secs(2),
        "started again at once, not after the start timeout: {:?}",
        begun.elapsed()
    );
}
