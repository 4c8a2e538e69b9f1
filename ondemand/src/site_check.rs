//! `fpm-ondemand site check SITE`: the whole chain of one site checked like `nginx -t` checks a
//! config, one line per check, each failure with what to run to fix it. [`gather`] reads the facts
//! (conf, Docker, systemd, the socket folder, `nginx -T`); [`judge`] is the pure verdict.

pub mod nginx;
pub mod pool;
pub mod reach;
pub mod upstream;

pub(crate) use nginx::names_path;
#[cfg(test)]
use nginx::names_path_under;
use nginx::nginx_check;
pub use nginx::{nginx_block, nginx_config};

use fpm_docker::{ContainerRuntime, ContainerState, DockerClient, Setup};
use fpm_shared::conf::{self, SiteConf};
use fpm_shared::duration::human;
use fpm_shared::error::chain;
use fpm_shared::socket_folder::{self, SocketState};
use fpm_shared::{Layout, ServiceManager, Site, Systemd, UnitState};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Everything `site check` looks at, read once.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The site's conf, or why it cannot be used (naming file, line and value).
    pub conf: Result<SiteConf, String>,
    /// The container's state and setup; `None` when there is no such container.
    pub container: Result<Option<(ContainerState, Setup)>, String>,
    /// The waker socket's `UnitFileState` (`enabled`, `disabled`, ...).
    pub waker_enabled: Result<String, String>,
    /// The waker socket's state.
    pub waker_socket: UnitState,
    /// The paths the waker socket unit listens on, as systemd loaded it (drop-ins included).
    pub waker_paths: Result<Vec<PathBuf>, String>,
    /// What is at php-fpm's socket path.
    pub fpm_socket: SocketState,
    /// When it is live: what nginx's user and the waker's met connecting to it with their ids.
    pub fpm_reach: Vec<reach::Reach>,
    /// Its owner, group and mode, when it is there.
    pub fpm_socket_ids: Option<(u32, u32, u32)>,
    /// `nginx -T`'s output, or why it could not be run.
    pub nginx: Result<String, String>,
    /// What php-fpm reads in the site's container (`None`: no container), or why it is unknown.
    pub pool: Result<Option<pool::PoolFacts>, String>,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Holds; what was found.
    Ok(String),
    /// Does not hold: what is wrong, and what to run to fix it.
    Fail {
        /// What was found.
        found: String,
        /// What to run.
        fix: String,
    },
}

/// One line of `site check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What is checked.
    pub what: &'static str,
    /// How it came out.
    pub outcome: Outcome,
}

fn ok(what: &'static str, found: String) -> Check {
    Check {
        what,
        outcome: Outcome::Ok(found),
    }
}

fn fail(what: &'static str, found: String, fix: String) -> Check {
    Check {
        what,
        outcome: Outcome::Fail { found, fix },
    }
}

/// Judges every link of the site's chain from the facts.
pub fn judge(layout: &Layout, site: &Site, facts: &Facts) -> Vec<Check> {
    let mut checks = vec![conf_check(layout, site, &facts.conf)];
    checks.extend(container_checks(layout, site, &facts.container));
    let inside = match &facts.container {
        Ok(Some((_, setup))) => mount_inside(layout, site, setup),
        _ => None,
    };
    checks.extend(pool::judge(layout, site, inside, &facts.pool));
    checks.push(waker_check(layout, site, facts));
    checks.push(socket_check(layout, site, facts));
    checks.push(nginx_check(layout, site, facts));
    checks
}

fn conf_check(layout: &Layout, site: &Site, conf: &Result<SiteConf, String>) -> Check {
    match conf {
        Ok(c) => ok(
            "conf",
            format!("{}: window {}", c.path.display(), human(c.window)),
        ),
        Err(why) => fail(
            "conf",
            why.clone(),
            format!(
                "write line 1 of {}: '# Amount of time to pause the container after: 20m'",
                layout.conf_dir.join(format!("{site}.conf")).display()
            ),
        ),
    }
}

fn container_checks(
    layout: &Layout,
    site: &Site,
    container: &Result<Option<(ContainerState, Setup)>, String>,
) -> Vec<Check> {
    let name = layout.container(site);
    let (state, setup) = match container {
        Err(why) => return vec![fail("container", why.clone(), "check that Docker runs: systemctl status docker".into())],
        Ok(None) => {
            return vec![fail(
                "container",
                format!("no container named {name}"),
                format!("create it: docker create --name {name} --stop-signal SIGQUIT --log-driver json-file --log-opt max-size=10m --log-opt max-file=3 -v {}:/run/php IMAGE (php-fpm listening on /run/php/{})", layout.socket_dir(site).display(), layout.fpm_socket),
            )]
        }
        Ok(Some(found)) => found,
    };
    let recreate = format!("recreate {name} with");
    vec![
        ok("container", format!("{name}, {}", state.label())),
        mount_check(layout, site, setup, &recreate),
        signal_check(setup, &recreate),
        log_check(setup, &recreate),
        restart_check(setup, &name),
    ]
}

fn restart_check(setup: &Setup, name: &str) -> Check {
    let policy = setup.restart_policy.as_deref().unwrap_or("no");
    match policy {
        "no" => ok(
            "restart",
            "no: only systemd starts the site (Docker's default)".into(),
        ),
        "unless-stopped" => ok(
            "restart",
            "unless-stopped: an engine restart brings back only a site that was awake".into(),
        ),
        _ => fail(
            "restart",
            format!("{policy}: Docker starts the site behind systemd's back (on every engine restart, a sleeping site wakes)"),
            format!("docker update --restart no {name}"),
        ),
    }
}

/// Where the container mounts the site's socket folder.
fn mount_inside<'a>(layout: &Layout, site: &Site, setup: &'a Setup) -> Option<&'a str> {
    let folder = layout.socket_dir(site);
    setup
        .binds
        .iter()
        .find(|(source, _)| same_run_path(source, &folder))
        .map(|(_, inside)| inside.as_str())
}

fn mount_check(layout: &Layout, site: &Site, setup: &Setup, recreate: &str) -> Check {
    let folder = layout.socket_dir(site);
    match mount_inside(layout, site, setup) {
        Some(inside) => ok(
            "socket folder",
            format!(
                "{} mounted at {inside}: php-fpm must listen on {inside}/{}",
                folder.display(),
                layout.fpm_socket
            ),
        ),
        None => fail(
            "socket folder",
            format!(
                "{} does not mount {}",
                layout.container(site),
                folder.display()
            ),
            format!(
                "{recreate} -v {}:/run/php (php-fpm listening on /run/php/{})",
                folder.display(),
                layout.fpm_socket
            ),
        ),
    }
}

fn signal_check(setup: &Setup, recreate: &str) -> Check {
    let signal = setup
        .stop_signal
        .as_deref()
        .unwrap_or("SIGTERM (Docker's default)");
    if matches!(signal, "SIGQUIT" | "QUIT" | "3") {
        ok(
            "stop signal",
            "SIGQUIT: php-fpm finishes its requests".into(),
        )
    } else {
        fail(
            "stop signal",
            format!("{signal}: php-fpm stops at once and drops its requests"),
            format!("{recreate} --stop-signal SIGQUIT"),
        )
    }
}

fn log_check(setup: &Setup, recreate: &str) -> Check {
    let driver = setup.log_driver.as_deref().unwrap_or("unknown");
    match driver {
        "json-file" if !setup.log_options.contains_key("max-size") => fail(
            "logs",
            "json-file without max-size: the log grows without bound".into(),
            format!("{recreate} --log-opt max-size=10m --log-opt max-file=3 (or set log-opts in /etc/docker/daemon.json for new containers)"),
        ),
        "json-file" => ok(
            "logs",
            format!(
                "json-file, rotated at {}: the reaper reads the log file",
                setup.log_options["max-size"]
            ),
        ),
        "local" | "journald" => ok(
            "logs",
            format!("{driver}: the reaper asks Docker for the last line"),
        ),
        _ => fail(
            "logs",
            format!(
                "{driver}: the reaper cannot tell when the site was last busy and never stops it"
            ),
            format!("{recreate} --log-driver json-file"),
        ),
    }
}

/// Whether two paths name the same place under `/run` (`/var/run` is a link to it).
fn same_run_path(a: &Path, b: &Path) -> bool {
    under_run(a) == under_run(b)
}

/// `/var/run/...` as `/run/...`; any other path as it is.
fn under_run(p: &Path) -> PathBuf {
    match p.strip_prefix("/var/run") {
        Ok(rest) => Path::new("/run").join(rest),
        Err(_) => p.to_path_buf(),
    }
}

fn waker_check(layout: &Layout, site: &Site, facts: &Facts) -> Check {
    let unit = layout.waker_socket_unit(site);
    let enabled = facts.waker_enabled.as_deref().unwrap_or("unknown");
    let fix = format!("systemctl enable --now {unit}");
    match (&facts.waker_socket, enabled) {
        (UnitState::Active, "enabled" | "enabled-runtime" | "linked") => {
            ok("waker socket", format!("{unit} {enabled}, listening"))
        }
        (UnitState::Active, _) => fail(
            "waker socket",
            format!("{unit} listening but {enabled}: it will not listen after a reboot"),
            fix,
        ),
        (state, _) => fail(
            "waker socket",
            format!(
                "{unit} {}, {enabled}: requests to the site get 502",
                state.label()
            ),
            fix,
        ),
    }
}

fn socket_check(layout: &Layout, site: &Site, facts: &Facts) -> Check {
    let path = layout.fpm_socket_path(site);
    match &facts.fpm_socket {
        SocketState::Live => reach_check(layout, site, facts),
        SocketState::Absent => ok("php-fpm.sock", "absent: the site sleeps".into()),
        SocketState::Stale => fail(
            "php-fpm.sock",
            format!("{} is stale (nobody listens)", path.display()),
            format!("fpm-ondemand renew {site}"),
        ),
        SocketState::NotSocket(kind) => fail(
            "php-fpm.sock",
            format!(
                "{} is {kind}, not php-fpm's socket: the site's container put it there",
                path.display()
            ),
            format!("inspect what the container put there, then: fpm-ondemand renew {site}"),
        ),
        SocketState::Unknown(why) => fail(
            "php-fpm.sock",
            why.clone(),
            format!("check {}", layout.socket_dir(site).display()),
        ),
    }
}

/// A live socket: whether nginx's user and the waker's may connect to it, as they would.
fn reach_check(layout: &Layout, site: &Site, facts: &Facts) -> Check {
    let refused: Vec<_> = facts
        .fpm_reach
        .iter()
        .filter_map(|r| Some((&r.identity, r.result.as_ref().err()?)))
        .collect();
    let Some((first, why)) = refused.first() else {
        let who: Vec<&str> = facts
            .fpm_reach
            .iter()
            .map(|r| r.identity.who.as_str())
            .collect();
        return ok(
            "php-fpm.sock",
            format!("live: the site is awake; {} may connect", who.join(" and ")),
        );
    };
    let ids = facts
        .fpm_socket_ids
        .map_or_else(String::new, |(uid, gid, mode)| {
            format!(" (the socket is {uid}:{gid}, mode {:04o})", mode & 0o7777)
        });
    fail(
        "php-fpm.sock",
        format!(
            "live, but {} ({}:{}) may not connect: {why}{ids}; nginx answers 502",
            first.who, first.uid, first.gid
        ),
        format!(
            "in the site's php-fpm pool: listen.group = {}, listen.mode = 0660 (the number: the container's www-data may not be the host's), then systemctl restart {}",
            first.gid,
            layout.fpm_unit(site)
        ),
    )
}

/// Reads the facts about `site` from its conf, Docker, systemd, its socket folder and nginx.
pub async fn gather(
    layout: &Layout,
    docker: &DockerClient,
    systemd: &Systemd,
    site: &Site,
) -> Facts {
    let unit = layout.waker_socket_unit(site);
    let fpm_path = layout.fpm_socket_path(site);
    let fpm_socket = socket_folder::probe(&fpm_path).await;
    let nginx = nginx_config();
    let inspected = docker.inspect(&layout.container(site)).await;
    let pool = match &inspected {
        Ok(i) if i.state != ContainerState::Missing => pool::gather(docker, i).await.map(Some),
        _ => Ok(None),
    };
    let container = match inspected {
        Ok(i) if i.state == ContainerState::Missing => Ok(None),
        Ok(i) => Ok(Some((i.state, i.setup))),
        Err(e) => Err(chain(&e)),
    };
    Facts {
        conf: read_conf(layout, site),
        container,
        pool,
        waker_enabled: systemd.unit_file_state(&unit).await.map_err(|e| chain(&e)),
        waker_socket: systemd
            .active_state(&unit)
            .await
            .unwrap_or_else(|e| UnitState::Unknown(chain(&e))),
        waker_paths: systemd.socket_paths(&unit).await.map_err(|e| chain(&e)),
        fpm_socket: fpm_socket.clone(),
        fpm_reach: if fpm_socket == SocketState::Live {
            reach_of(&fpm_path, nginx.as_deref().unwrap_or(""))
        } else {
            Vec::new()
        },
        fpm_socket_ids: std::fs::symlink_metadata(&fpm_path)
            .ok()
            .map(|m| (m.uid(), m.gid(), m.mode())),
        nginx,
    }
}

/// What nginx's user and the waker's meet connecting to php-fpm's socket at `path`.
fn reach_of(path: &Path, nginx: &str) -> Vec<reach::Reach> {
    let (user, group) = reach::nginx_user(nginx);
    let nginx_id = reach::identity(format!("nginx ({user})"), &user, &group);
    let (user, group) = fpm_shared::layout::WAKER_USER;
    let waker_id = reach::identity(format!("the waker ({user})"), user, group);
    [nginx_id, waker_id]
        .into_iter()
        .flatten()
        .map(|id| reach::connect_as(path, &id))
        .collect()
}

fn read_conf(layout: &Layout, site: &Site) -> Result<SiteConf, String> {
    let path = conf::conf_of(layout, site)
        .map_err(|e| chain(&e))?
        .ok_or_else(|| format!("no conf for {site} in {}", layout.conf_dir.display()))?;
    conf::read_conf(&path).map_err(|e| chain(&e))
}

/// The lines `site check` prints, one per check, and its exit status: 0 when every check holds.
pub fn print(site: &Site, checks: &[Check]) -> u8 {
    let mut failed = 0;
    for c in checks {
        match &c.outcome {
            Outcome::Ok(found) => println!("ok    {:<14} {found}", c.what),
            Outcome::Fail { found, fix } => {
                failed += 1;
                println!("FAIL  {:<14} {found}\n      {:<14} fix: {fix}", c.what, "");
            }
        }
    }
    if failed == 0 {
        println!("site {site}: every check passed");
        0
    } else {
        println!("site {site}: {failed} of {} checks failed", checks.len());
        1
    }
}

#[cfg(test)]
mod tests;
