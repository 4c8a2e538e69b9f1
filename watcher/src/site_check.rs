//! `fpm-watcher site check SITE`: the whole chain of one site checked like `nginx -t` checks a
//! config, one line per check, each failure with what to run to fix it. [`gather`] reads the facts
//! (conf, Docker, systemd, the socket folder, `nginx -T`); [`judge`] is the pure verdict.

pub mod upstream;

use crate::socket_folder::{self, SocketState};
use fpm_shared::conf::{self, SiteConf};
use fpm_shared::docker::{ContainerRuntime, ContainerState, Setup};
use fpm_shared::duration::human;
use fpm_shared::error::chain;
use fpm_shared::{Layout, ServiceManager, Site, Systemd, UnitState};
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
    /// `nginx -T`'s output, or why it could not be run.
    pub nginx: Result<String, String>,
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
    checks.push(waker_check(layout, site, facts));
    checks.push(socket_check(layout, site, &facts.fpm_socket));
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

fn mount_check(layout: &Layout, site: &Site, setup: &Setup, recreate: &str) -> Check {
    let folder = layout.socket_dir(site);
    let mount = setup
        .binds
        .iter()
        .find(|(source, _)| same_run_path(source, &folder));
    match mount {
        Some((_, inside)) => ok(
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

fn socket_check(layout: &Layout, site: &Site, state: &SocketState) -> Check {
    let path = layout.fpm_socket_path(site);
    match state {
        SocketState::Live => ok("php-fpm.sock", "live: the site is awake".into()),
        SocketState::Absent => ok("php-fpm.sock", "absent: the site sleeps".into()),
        SocketState::Stale => fail(
            "php-fpm.sock",
            format!("{} is stale (nobody listens)", path.display()),
            format!("fpm-watcher renew {site}"),
        ),
        SocketState::NotSocket(kind) => fail(
            "php-fpm.sock",
            format!(
                "{} is {kind}, not php-fpm's socket: the site's container put it there",
                path.display()
            ),
            format!("inspect what the container put there, then: fpm-watcher renew {site}"),
        ),
        SocketState::Unknown(why) => fail(
            "php-fpm.sock",
            why.clone(),
            format!("check {}", layout.socket_dir(site).display()),
        ),
    }
}

fn nginx_check(layout: &Layout, site: &Site, facts: &Facts) -> Check {
    let text = match &facts.nginx {
        Ok(text) => text,
        Err(why) => return fail("nginx", why.clone(), "nginx -t".into()),
    };
    let rewrite = format!(
        "fpm-watcher site nginx {site} > {} && nginx -t && systemctl reload nginx",
        layout.nginx_upstream_file(site).display()
    );
    let wake = layout.waker_socket_path(site);
    // Where the waker listens; what the shipped unit says when systemd cannot be asked.
    let waker_paths = match &facts.waker_paths {
        Ok(paths) if !paths.is_empty() => paths.clone(),
        _ => vec![wake.clone()],
    };
    let seed = layout.seed_waker_socket_path(site);
    let seed_listens = waker_paths.iter().any(|p| same_run_path(p, &seed));
    let folder = layout.socket_dir(site);
    let reaches = |address: &str| {
        names_path_under(address, &folder) || waker_paths.iter().any(|p| names_path(address, p))
    };
    if let Some(found) = marked_down(text, &reaches) {
        return fail(
            "nginx",
            found,
            format!("add max_fails=0 to that server line, or: {rewrite}"),
        );
    }
    let code = || text.lines().filter(|l| !l.trim_start().starts_with('#'));
    if !seed_listens && code().any(|l| names_path(l, &seed)) {
        return fail(
            "nginx",
            format!(
                "a vhost sends PHP to {} (the shell-script host's waker socket), where nothing listens: the waker socket is {}, and requests to the sleeping site get 502",
                seed.display(),
                wake.display()
            ),
            format!("{rewrite} (or keep the old path: README, \"Keeping the seed's vhosts\")"),
        );
    }
    if seed_listens && code().any(|l| names_path(l, &seed)) {
        ok("nginx", format!("a vhost sends PHP to {}, the seed's path in the tenant's folder (README, \"Security model\"); {rewrite} moves it to {}", seed.display(), wake.display()))
    } else if code().any(reaches) {
        ok(
            "nginx",
            format!(
                "a vhost sends PHP to {} or {} (nginx -T)",
                layout.fpm_socket_path(site).display(),
                wake.display()
            ),
        )
    } else if text.contains("fpm-waker.conf") {
        ok("nginx", "only the generic waker vhost (server_name → $fpm_site) may route to it: check its server_name matches".into())
    } else {
        fail(
            "nginx",
            format!(
                "no vhost in nginx -T sends PHP to {} or {}",
                layout.fpm_socket_path(site).display(),
                wake.display()
            ),
            rewrite,
        )
    }
}

/// Whether `text` names `path` (or its `/var/run` twin) as a whole path: not as the start of a
/// longer name (`blog.sock` is not `blog.sock2`).
pub(crate) fn names_path(text: &str, path: &Path) -> bool {
    let run = under_run(path);
    let var = Path::new("/var").join(run.strip_prefix("/").unwrap_or(&run));
    [run, var].iter().any(|p| {
        let p = p.display().to_string();
        text.match_indices(&p).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + p.len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || "/._-".contains(c))
                && !after.is_some_and(|c| c.is_alphanumeric() || "/._-".contains(c))
        })
    })
}

/// Whether `text` names a path inside `folder` (or its `/var/run` twin).
fn names_path_under(text: &str, folder: &Path) -> bool {
    let run = under_run(folder);
    let var = Path::new("/var").join(run.strip_prefix("/").unwrap_or(&run));
    [run, var].iter().any(|f| {
        let f = format!("{}/", f.display());
        text.match_indices(&f).any(|(at, _)| {
            !text[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || "/._-".contains(c))
        })
    })
}

/// The first server of an upstream block that reaches the site (`reaches` its address) and that
/// nginx may mark down after one failed request, said as `site check` prints it.
fn marked_down(nginx: &str, reaches: &dyn Fn(&str) -> bool) -> Option<String> {
    upstream::upstreams(nginx).into_iter().find_map(|block| {
        let count = block.servers.len();
        let server = block
            .servers
            .into_iter()
            .find(|s| reaches(&s.address) && s.may_be_marked_down(count))?;
        let max_fails = server.max_fails.as_deref().unwrap_or("1 (nginx's default)");
        Some(format!(
            "upstream {}: server {} has max_fails={max_fails}: one failed request marks it down \
             for its fail_timeout (10 s by default), and the site's requests get 502 meanwhile",
            block.name, server.address
        ))
    })
}

/// Reads the facts about `site` from its conf, Docker, systemd, its socket folder and nginx.
pub async fn gather<R: ContainerRuntime>(
    layout: &Layout,
    docker: &R,
    systemd: &Systemd,
    site: &Site,
) -> Facts {
    let unit = layout.waker_socket_unit(site);
    Facts {
        conf: read_conf(layout, site),
        container: match docker.inspect(&layout.container(site)).await {
            Ok(i) if i.state == ContainerState::Missing => Ok(None),
            Ok(i) => Ok(Some((i.state, i.setup))),
            Err(e) => Err(chain(&e)),
        },
        waker_enabled: systemd.unit_file_state(&unit).await.map_err(|e| chain(&e)),
        waker_socket: systemd
            .active_state(&unit)
            .await
            .unwrap_or_else(|e| UnitState::Unknown(chain(&e))),
        waker_paths: systemd.socket_paths(&unit).await.map_err(|e| chain(&e)),
        fpm_socket: socket_folder::probe(&layout.fpm_socket_path(site)).await,
        nginx: nginx_config(),
    }
}

fn read_conf(layout: &Layout, site: &Site) -> Result<SiteConf, String> {
    let path = conf::conf_of(layout, site)
        .map_err(|e| chain(&e))?
        .ok_or_else(|| format!("no conf for {site} in {}", layout.conf_dir.display()))?;
    conf::read_conf(&path).map_err(|e| chain(&e))
}

/// `nginx -T` (run directly, no shell): the whole configuration nginx would load.
pub(crate) fn nginx_config() -> Result<String, String> {
    let out = std::process::Command::new("nginx")
        .arg("-T")
        .output()
        .map_err(|e| format!("cannot run nginx -T: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "nginx -T failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The nginx upstream for `site` (`deploy/nginx/fpm-upstream.conf.template`, which the package
/// also ships), with the location block that uses it; with `seed_path`, its backup is the seed's
/// waker socket in the site's folder instead of the wake folder's.
pub fn nginx_block(layout: &Layout, site: &Site, seed_path: bool) -> String {
    let template = include_str!("../../deploy/nginx/fpm-upstream.conf.template");
    let mut body = template
        .lines()
        .skip_while(|l| l.starts_with('#'))
        .map(|l| format!("{}\n", l.replace("SITE", site.as_str())))
        .collect::<String>();
    if seed_path {
        let wake = format!("unix:{} backup", layout.waker_socket_path(site).display());
        let seed = format!(
            "unix:{} backup",
            layout.seed_waker_socket_path(site).display()
        );
        body = body.replace(&wake, &seed);
    }
    format!("# nginx for on-demand site {site} (fpm-watcher site nginx {site}): php-fpm's socket\n# first, the waker socket when the site sleeps.\n{body}")
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
