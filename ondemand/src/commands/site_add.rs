//! `fpm-ondemand site add SITE --window 20m [--image IMAGE]`.

use crate::cli::AddArgs;
use crate::site_add::{add, AddOptions};
use crate::site_check::nginx_block;
use anyhow::Context as _;
use fpm_shared::Layout;
use std::process::ExitCode;

/// Onboards the site, printing each step done, then its nginx block and what to run next.
pub async fn run(layout: &Layout, args: AddArgs) -> anyhow::Result<ExitCode> {
    let (docker, systemd) = (super::docker(layout).await?, super::systemd().await?);
    let site = args.site.clone();
    let opts = AddOptions::from(args);
    let mut done = |line: String| println!("ok    {line}");
    add(layout, &docker, &systemd, &site, &opts, &mut done)
        .await
        .with_context(|| format!("adding site {site}"))?;
    print!("{}", nginx_block(layout, &site, false));
    println!("# next: fpm-ondemand site check {site}");
    Ok(ExitCode::SUCCESS)
}

impl From<AddArgs> for AddOptions {
    fn from(a: AddArgs) -> AddOptions {
        AddOptions {
            window: a.window,
            image: a.image,
            php_dir: a.php_dir,
            volumes: a.volumes,
            log: (a.log_max_size, a.log_max_file),
            command: a.command,
            pool: a.pool,
            no_pool_override: a.no_pool_override,
            process_control_timeout: a.process_control_timeout,
        }
    }
}
