//! `systemctl reload fpm-watcher` (SIGHUP): the config is read again; the budget, the one live
//! setting, goes to the admission at once, without touching the events stream; every other
//! changed key is named as taking effect at the next restart. A config that cannot be used
//! changes nothing.

use fpm_shared::budget::Budget;
use fpm_shared::Layout;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Reads the config again, as the daemon read it at its start (`--config`, `--conf-dir`).
pub type LoadConfig = Box<dyn Fn() -> anyhow::Result<Layout> + Send + Sync>;

/// What a reload changes.
#[derive(Debug, PartialEq, Eq)]
pub struct Changes {
    /// The new budget, when it differs from the one in force.
    pub budget: Option<Budget>,
    /// The keys (of the config's top level) that differ and take effect at the next restart.
    pub on_restart: Vec<String>,
}

/// Compares the settings in force (`running`, with the budget in force) with the config just read.
pub fn changes(running: &Layout, read: &Layout) -> Changes {
    let table = |layout: &Layout| toml::Table::try_from(layout).unwrap_or_default();
    let (old, new) = (table(running), table(read));
    let on_restart = new
        .iter()
        .filter(|(key, value)| *key != "budget" && old.get(*key) != Some(*value))
        .map(|(key, _)| key.clone())
        .collect();
    Changes {
        budget: (running.budget != read.budget).then(|| read.budget.clone()),
        on_restart,
    }
}

/// On each SIGHUP until `token` is cancelled: reads the config with `load`, hands a changed
/// budget to `budget`'s receivers, and logs what was done and what waits for a restart.
pub async fn on_hangup(
    load: LoadConfig,
    mut running: Layout,
    budget: watch::Sender<Budget>,
    token: CancellationToken,
) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hangup) = signal(SignalKind::hangup()) else {
        tracing::error!("cannot install the SIGHUP handler: reload does nothing");
        return;
    };
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            _ = hangup.recv() => {}
        }
        let read = match load() {
            Ok(layout) => layout,
            Err(e) => {
                tracing::error!(
                    error = format!("{e:#}"),
                    "reload refused: the config cannot be used; the running settings stay"
                );
                continue;
            }
        };
        let changes = changes(&running, &read);
        if !changes.on_restart.is_empty() {
            tracing::warn!(
                keys = changes.on_restart.join(","),
                "reload: these settings changed and take effect when fpm-watcher restarts"
            );
        }
        match changes.budget {
            Some(new) => {
                // The admission logs the whole budget as it takes it.
                tracing::info!(
                    max_awake = new.max_awake,
                    "reload: budget of awake sites re-read and in force"
                );
                running.budget = new.clone();
                budget.send_replace(new);
            }
            None => tracing::info!("reload: config re-read; the budget is unchanged"),
        }
    }
}

#[cfg(test)]
mod tests;
