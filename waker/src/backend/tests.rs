//! The start path against a systemd stand-in that plays a stop coming between the start and
//! php-fpm accepting; php-fpm is a real unix listener.

use super::*;
use futures::stream::BoxStream;
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};

/// systemd whose first start of the unit is stopped again before php-fpm listens (the stop
/// moved its socket away); php-fpm listens after the second start.
#[derive(Clone)]
struct StoppedOnce {
    starts: Arc<AtomicUsize>,
    state: Arc<StdMutex<UnitState>>,
    socket: PathBuf,
    php: Arc<StdMutex<Option<UnixListener>>>,
}

impl ServiceManager for StoppedOnce {
    async fn stop_unit(&self, _: &str) -> Result<(), SystemdError> {
        unreachable!("the waker never stops a unit")
    }
    async fn start_unit(&self, _: &str) -> Result<(), SystemdError> {
        *self.state.lock().unwrap() = UnitState::Active;
        if self.starts.fetch_add(1, Ordering::SeqCst) == 1 {
            *self.php.lock().unwrap() = Some(UnixListener::bind(&self.socket).unwrap());
        } else {
            // The stop comes a little later and finds php-fpm still starting.
            let state = self.state.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                *state.lock().unwrap() = UnitState::Inactive;
            });
        }
        Ok(())
    }
    async fn active_state(&self, _: &str) -> Result<UnitState, SystemdError> {
        Ok(self.state.lock().unwrap().clone())
    }
    async fn active_since(
        &self,
        _: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, SystemdError> {
        unreachable!()
    }
    async fn reset_failed(&self, _: &str) -> Result<(), SystemdError> {
        unreachable!()
    }
    async fn unit_changes(&self) -> Result<BoxStream<'static, String>, SystemdError> {
        unreachable!()
    }
}

#[tokio::test]
async fn a_stop_before_php_fpm_accepts_is_followed_by_a_new_start() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("php-fpm.sock");
    let systemd = StoppedOnce {
        starts: Arc::default(),
        state: Arc::new(StdMutex::new(UnitState::Inactive)),
        socket: socket.clone(),
        php: Arc::default(),
    };
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
