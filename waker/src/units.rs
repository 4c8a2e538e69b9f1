//! systemd as a site's waker uses it: unit state read over D-Bus (reads need no right), and its
//! site's start asked of the start socket (`fpm-start.socket`), so that the waker's user holds no
//! right on systemd's D-Bus API at all: it cannot start another unit, stop one, or pick a job
//! mode (no polkit rule).

use fpm_shared::{ServiceManager, Site, Systemd, SystemdError, UnitState};
use futures::stream::BoxStream;
use std::path::PathBuf;
use std::time::Duration;

/// One site's units, as its waker reaches them.
pub struct SiteUnits {
    systemd: Systemd,
    start_socket: PathBuf,
    site: Site,
    start_guard: Duration,
}

impl SiteUnits {
    /// `site`'s units: read through `systemd`, started through the start socket at
    /// `start_socket`; a start whose answer takes over `start_guard` fails (systemd itself ends
    /// the job at the unit's `TimeoutStartSec`: this only guards against an answer never coming).
    pub fn new(systemd: Systemd, start_socket: PathBuf, site: Site, start_guard: Duration) -> Self {
        SiteUnits {
            systemd,
            start_socket,
            site,
            start_guard,
        }
    }
}

impl ServiceManager for SiteUnits {
    async fn stop_unit(&self, unit: &str) -> Result<(), SystemdError> {
        Err(SystemdError::Refused {
            unit: unit.to_owned(),
            why: "a waker stops no unit".into(),
        })
    }

    /// Starts the site's unit through the start socket; `unit` only names it in errors (the
    /// socket starts the site's own unit, whatever is asked).
    async fn start_unit(&self, unit: &str) -> Result<(), SystemdError> {
        let asked = fpm_shared::start::ask(&self.start_socket, &self.site, unit);
        tokio::time::timeout(self.start_guard, asked)
            .await
            .map_err(|_| SystemdError::Refused {
                unit: unit.to_owned(),
                why: format!(
                    "no answer from {} within {:?}",
                    self.start_socket.display(),
                    self.start_guard
                ),
            })?
    }

    async fn active_state(&self, unit: &str) -> Result<UnitState, SystemdError> {
        self.systemd.active_state(unit).await
    }

    async fn active_since(
        &self,
        unit: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, SystemdError> {
        self.systemd.active_since(unit).await
    }

    async fn exit_status(&self, unit: &str) -> Result<i32, SystemdError> {
        self.systemd.exit_status(unit).await
    }

    async fn reset_failed(&self, unit: &str) -> Result<(), SystemdError> {
        Err(SystemdError::Refused {
            unit: unit.to_owned(),
            why: "a waker resets no unit".into(),
        })
    }

    async fn unit_changes(&self) -> Result<BoxStream<'static, String>, SystemdError> {
        self.systemd.unit_changes().await
    }
}
