//! A systemd stand-in for the waker's unit tests: it plays what systemd does to `fpm@SITE.service`
//! (starts, and a stop coming in between); the waker never stops a unit or asks more of it.

use fpm_shared::{ServiceManager, SystemdError, UnitState};
use futures::stream::BoxStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the stand-in does on the Nth start (from 0), besides marking the unit active.
type OnStart = dyn Fn(usize, &Arc<Mutex<UnitState>>) + Send + Sync;

/// The unit's state, and a script for its starts.
#[derive(Clone)]
pub struct FakeSystemd {
    /// How many starts were asked for.
    pub starts: Arc<AtomicUsize>,
    state: Arc<Mutex<UnitState>>,
    on_start: Arc<OnStart>,
    /// How long a start job takes (a wait for room under a budget, a slow engine).
    start_takes: Duration,
}

impl FakeSystemd {
    /// A unit in `state` whose Nth start runs `on_start(n, state)`.
    pub fn new(
        state: UnitState,
        on_start: impl Fn(usize, &Arc<Mutex<UnitState>>) + Send + Sync + 'static,
    ) -> FakeSystemd {
        FakeSystemd {
            starts: Arc::default(),
            state: Arc::new(Mutex::new(state)),
            on_start: Arc::new(on_start),
            start_takes: Duration::ZERO,
        }
    }

    /// Each start job takes `d` before it is done.
    pub fn with_start_taking(mut self, d: Duration) -> FakeSystemd {
        self.start_takes = d;
        self
    }
}

impl ServiceManager for FakeSystemd {
    async fn stop_unit(&self, _: &str) -> Result<(), SystemdError> {
        unreachable!("the waker never stops a unit")
    }
    async fn start_unit(&self, _: &str) -> Result<(), SystemdError> {
        *self.state.lock().unwrap() = UnitState::Activating;
        tokio::time::sleep(self.start_takes).await;
        *self.state.lock().unwrap() = UnitState::Active;
        let n = self.starts.fetch_add(1, Ordering::SeqCst);
        (self.on_start)(n, &self.state);
        Ok(())
    }
    async fn active_state(&self, _: &str) -> Result<UnitState, SystemdError> {
        Ok(self.state.lock().unwrap().clone())
    }
    async fn active_since(
        &self,
        _: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, SystemdError> {
        unreachable!("the waker never asks")
    }
    async fn exit_status(&self, _: &str) -> Result<i32, SystemdError> {
        unreachable!("asked only after a failed start, which the stand-in never has")
    }
    async fn reset_failed(&self, _: &str) -> Result<(), SystemdError> {
        unreachable!("the waker never asks")
    }
    async fn unit_changes(&self) -> Result<BoxStream<'static, String>, SystemdError> {
        unreachable!("the waker never asks")
    }
}

/// The backend of test site `t`, started with `fpm@t.service` as the default layout names it,
/// reached at `socket`.
pub fn backend_t<S: ServiceManager>(
    systemd: S,
    socket: std::path::PathBuf,
    start_timeout: Duration,
) -> crate::backend::Backend<S> {
    let site = fpm_shared::Site::new("t").unwrap();
    let unit = fpm_shared::Layout::default().fpm_unit(&site);
    crate::backend::Backend::new(systemd, site, unit, socket, start_timeout)
}
