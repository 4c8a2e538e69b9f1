//! `fpm-ondemand status [SITE...]`.

use crate::cli::Format;
use crate::status::{status, status_json, status_table};
use fpm_shared::admission::{client, BudgetView};
use fpm_shared::{Layout, Site};
use std::process::ExitCode;

/// Prints each site's state and the budget's; exit 1 when a site is inconsistent.
pub async fn run(layout: &Layout, sites: &[Site], format: Format) -> anyhow::Result<ExitCode> {
    let (docker, systemd) = (super::docker(layout).await?, super::systemd().await?);
    let rows = status(layout, &docker, &systemd, sites).await?;
    let budget = budget_view(layout).await;
    let now = chrono::Utc::now();
    match format {
        Format::Text => print!("{}", status_table(&rows, budget.as_ref(), now)),
        Format::Json => print!("{}", status_json(&rows, budget.as_ref(), now)),
    }
    Ok(ExitCode::from(u8::from(
        rows.iter().any(|r| !r.to_fix.is_empty()),
    )))
}

/// The admission's state when a budget is set and the watcher answers; why not, on stderr.
async fn budget_view(layout: &Layout) -> Option<BudgetView> {
    if !layout.budget.enabled() {
        return None;
    }
    let socket = &layout.admission_socket;
    client::status(socket)
        .await
        .inspect_err(|e| {
            eprintln!(
                "fpm-ondemand: budget state unknown: {}: {e}",
                socket.display()
            )
        })
        .ok()
}
