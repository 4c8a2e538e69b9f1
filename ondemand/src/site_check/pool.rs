//! `site check`'s look at the php-fpm pool a site's container runs, as php-fpm itself reads it
//! (in a one-off container of the site's image with the site's binds, `site add`'s override
//! among them): does a pool listen where the chain connects, does it log each request where the
//! reaper reads, how long may its own graceful stop take.

use super::{fail, ok, Check};
use crate::php_fpm::pool::{FpmConfig, OVERRIDE_NAME};
use crate::php_fpm::{self, php_fpm_command};
use fpm_docker::{DockerClient, Inspection};
use fpm_shared::error::chain;
use fpm_shared::{Layout, Site};

/// What php-fpm reads in the site's container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolFacts {
    /// php-fpm's configuration.
    pub config: FpmConfig,
    /// Where `site add`'s override is mounted in the container, when it is.
    pub override_path: Option<String>,
}

/// Reads what php-fpm reads in the site's container, inspected as `container`.
pub async fn gather(docker: &DockerClient, container: &Inspection) -> Result<PoolFacts, String> {
    let Inspection {
        image,
        command,
        setup,
        ..
    } = container;
    let argv = php_fpm_command(&[], &command.entrypoint, &command.cmd);
    let config = php_fpm::tt(docker, image, &argv, &setup.binds)
        .await
        .map_err(|e| chain(&e))?;
    let override_path = setup
        .binds
        .iter()
        .map(|(_, inside)| inside.trim_end_matches(":ro"))
        .find(|inside| inside.ends_with(&format!("/{OVERRIDE_NAME}")))
        .map(str::to_owned);
    Ok(PoolFacts {
        config,
        override_path,
    })
}

/// The `php-fpm pool` check: a pool listens on the socket folder's php-fpm.sock as the
/// container sees it (`inside`), and logs each request.
pub fn judge(
    layout: &Layout,
    site: &Site,
    inside: Option<&str>,
    pool: &Result<Option<PoolFacts>, String>,
) -> Option<Check> {
    let inside = inside?;
    let facts = match pool {
        Ok(None) => return None,
        Ok(Some(facts)) => facts,
        Err(why) => {
            return Some(ok(
                "php-fpm pool",
                format!("cannot tell what php-fpm reads: {why}"),
            ))
        }
    };
    let listen = format!("{}/{}", inside.trim_end_matches('/'), layout.fpm_socket);
    let readd = format!(
        "fpm-ondemand site remove {site} --keep-container, then fpm-ondemand site add {site} --image IMAGE (it overrides the pool); or set in the pool"
    );
    let Some((name, settings)) = facts
        .config
        .pools
        .iter()
        .find(|(_, s)| s.get("listen") == Some(&listen))
    else {
        return Some(no_pool(facts, &listen, &readd));
    };
    let log = settings
        .get("access.log")
        .map_or("undefined", String::as_str);
    if log == "undefined" || log == "/dev/null" {
        return Some(fail(
            "php-fpm pool",
            format!("pool [{name}] logs no request (access.log {log}): the reaper would stop the site while it serves"),
            format!("{readd}: access.log = /proc/self/fd/2"),
        ));
    }
    let stop = control_timeout(&facts.config);
    let source = facts
        .override_path
        .as_deref()
        .map_or("the image's own pool".to_owned(), |p| {
            format!("overridden by {p}")
        });
    Some(ok(
        "php-fpm pool",
        format!("[{name}] listens on {listen}, logs each request to {log}, {stop} ({source})"),
    ))
}

/// The failed check when no pool listens on `listen`, naming where each pool listens.
fn no_pool(facts: &PoolFacts, listen: &str, readd: &str) -> Check {
    let found: Vec<String> = facts
        .config
        .pools
        .iter()
        .map(|(n, s)| format!("[{n}] on {}", s.get("listen").map_or("?", String::as_str)))
        .collect();
    fail(
        "php-fpm pool",
        format!(
            "no pool listens on {listen} ({}): nginx would meet nothing (502)",
            found.join(", ")
        ),
        format!("{readd}: listen = {listen}"),
    )
}

/// How long php-fpm's own graceful stop may take, as the check says it.
fn control_timeout(config: &FpmConfig) -> String {
    let stop = config
        .global
        .get("process_control_timeout")
        .map_or("0s", String::as_str);
    if stop == "0s" || stop == "0" {
        "process_control_timeout 0: php-fpm's own stop ends requests at once (the drain before it waits for them)".to_owned()
    } else {
        format!("process_control_timeout {stop}")
    }
}
