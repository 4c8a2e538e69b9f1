//! `fpm-ondemand renew SITE`: the old renew script, step by step, each step's result printed.

use fpm_shared::error::Chain;
use fpm_shared::socket_folder::{self, SocketState};
use fpm_shared::{Layout, ServiceManager, Site};
use fpm_state::ApplyError;

/// One step of `renew` and what came of it.
pub struct Step {
    /// What was done.
    pub what: String,
    /// Ok, or the error.
    pub result: Result<(), ApplyError>,
}

/// Renews a site by hand: stops the waker socket and service and the fpm unit, removes a stale
/// php-fpm socket, clears failed states and starts the waker socket again.
pub async fn renew<S: ServiceManager>(l: &Layout, sd: &S, site: &Site) -> Vec<Step> {
    let (socket_unit, waker, fpm) = (
        l.waker_socket_unit(site),
        l.waker_service_unit(site),
        l.fpm_unit(site),
    );
    let mut steps = Vec::new();
    let mut step = |what: String, result: Result<(), ApplyError>| {
        match &result {
            Ok(()) => tracing::info!(site = %site, cause = "renew", "{what}: done"),
            Err(e) => {
                tracing::warn!(site = %site, cause = "renew", error = %Chain(e), "{what}: failed")
            }
        }
        steps.push(Step { what, result });
    };
    for unit in [&socket_unit, &waker, &fpm] {
        step(
            format!("stop {unit}"),
            sd.stop_unit(unit).await.map_err(ApplyError::from),
        );
    }
    let path = l.fpm_socket_path(site);
    match socket_folder::probe(&path).await {
        SocketState::Stale => step(
            format!("remove stale {}", path.display()),
            socket_folder::remove_stale(&l.socket_dir(site), &path)
                .await
                .map_err(ApplyError::from),
        ),
        other => step(
            format!("leave {} ({})", path.display(), other.label()),
            Ok(()),
        ),
    }
    for unit in [&socket_unit, &waker, &fpm] {
        step(
            format!("reset-failed {unit}"),
            sd.reset_failed(unit).await.map_err(ApplyError::from),
        );
    }
    step(
        format!("start {socket_unit}"),
        sd.start_unit(&socket_unit).await.map_err(ApplyError::from),
    );
    steps
}

/// Prints each step as `ok` or `FAILED` with its error; the exit status is 1 if any failed.
pub fn print(steps: &[Step]) -> u8 {
    for s in steps {
        match &s.result {
            Ok(()) => println!("ok      {}", s.what),
            Err(e) => println!("FAILED  {}: {}", s.what, Chain(e)),
        }
    }
    u8::from(steps.iter().any(|s| s.result.is_err()))
}
