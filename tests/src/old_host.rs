//! The shell-script host the project replaces, installed on a fresh test host as its operators'
//! ansible did (files in `tests/fixtures/old-host/`, the old reaper from `bench/shell-reaper.sh`):
//! what the migration test migrates from.

use crate::host::{repo_root, SystemdHost};
use std::path::Path;

/// Each old file: (where it is in the repository, where it goes on the host, its mode).
const FILES: [(&str, &str, &str); 7] = [
    (
        "tests/fixtures/old-host/fpm-waker@.socket",
        "/etc/systemd/system/fpm-waker@.socket",
        "0644",
    ),
    (
        "tests/fixtures/old-host/fpm-waker@.service",
        "/etc/systemd/system/fpm-waker@.service",
        "0644",
    ),
    (
        "tests/fixtures/old-host/fpm@.service",
        "/etc/systemd/system/fpm@.service",
        "0644",
    ),
    (
        "tests/fixtures/old-host/socket-proxy.sh",
        "/usr/local/bin/socket-proxy.sh",
        "0755",
    ),
    (
        "tests/fixtures/old-host/renew-fpm-socket.sh",
        "/usr/local/bin/renew-fpm-socket.sh",
        "0755",
    ),
    (
        "bench/shell-reaper.sh",
        "/usr/local/cron/pause-on-demand-containers.sh",
        "0755",
    ),
    (
        "tests/fixtures/old-host/pause-on-demand-containers",
        "/etc/cron.d/pause-on-demand-containers",
        "0644",
    ),
];

/// Where the old host keeps each site's nginx vhost.
pub fn vhost_path(site: &str) -> String {
    format!("/etc/nginx/sites-enabled/{site}.conf")
}

/// How the old waker socket unit names the socket folders in `ListenStream=`.
#[derive(Debug, Clone, Copy)]
pub enum ListenPath {
    /// `/var/run/docker-apps/...`, as the design notes write it. systemd compares the path as
    /// written: the package's unit (`/run/docker-apps/...`) is another address, so on the
    /// switch systemd binds a new socket and the old proxy keeps the old one.
    VarRun,
    /// `/run/docker-apps/...`, the package's own path: systemd keeps the listening socket across
    /// the switch, and the old proxy goes on accepting from it until it is stopped.
    Run,
}

/// Installs the old host's units, scripts and cron entry, and a vhost for each of `sites`
/// (written in `scratch` first), then reloads systemd. The sites' waker sockets are left to
/// enable.
pub fn install(host: &SystemdHost, sites: &[String], scratch: &Path, listen: ListenPath) {
    let root = repo_root();
    for (from, to, mode) in FILES {
        let from = root.join(from);
        if to.ends_with(".socket") && matches!(listen, ListenPath::Run) {
            let unit = std::fs::read_to_string(&from).expect("old socket unit");
            let file = scratch.join("fpm-waker@.socket");
            std::fs::write(&file, unit.replace("=/var/run/", "=/run/")).unwrap();
            put(host, &file, to, mode);
        } else {
            put(host, &from, to, mode);
        }
    }
    let template =
        std::fs::read_to_string(root.join("tests/fixtures/old-host/nginx-vhost.conf.template"))
            .expect("old vhost template");
    for site in sites {
        let file = scratch.join(format!("{site}.conf"));
        std::fs::write(&file, template.replace("SITE", site)).unwrap();
        put(host, &file, &vhost_path(site), "0644");
    }
    host.ok(&["systemctl", "daemon-reload"]);
}

/// Copies `file` into the host at `to` with `mode`.
fn put(host: &SystemdHost, file: &Path, to: &str, mode: &str) {
    let copied = host.copy_in(file);
    host.ok(&["install", "-D", "-m", mode, &copied, to]);
    host.ok(&["rm", &copied]);
}
