//! A systemd host with the watcher, `fpm-ondemand`, their units and a conf folder, for the tests
//! of the watcher and of the operator's command.

use crate::host::{HostBuilder, SystemdHost};
use crate::names;
use crate::{header, unique, ConfDir};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The host and what it was booted with.
pub struct Watched {
    pub prefix: String,
    pub confs: ConfDir,
    pub sockets: tempfile::TempDir,
    pub host: SystemdHost,
}

impl Watched {
    /// Boots a host whose managed sites are `{prefix}-{tag}` for each tag (a conf each).
    pub fn boot(tag: &str, sites: &[&str]) -> Watched {
        Watched::boot_with(tag, sites, &[], "")
    }

    /// Like [`Watched::boot`], with more mounts and config lines.
    pub fn boot_with(
        tag: &str,
        sites: &[&str],
        extra: &[(&Path, &str, bool)],
        config_lines: &str,
    ) -> Watched {
        let prefix = unique(tag);
        let confs = ConfDir::new();
        for s in sites {
            confs.add(&format!("{prefix}-{s}"), &header("1h"));
        }
        let sockets = tempfile::tempdir().unwrap();
        let bins = workspace_bins();
        let host = extra
            .iter()
            .fold(
                HostBuilder::new(&format!("{prefix}-host"))
                    .confs(confs.path(), config_lines)
                    .sockets(sockets.path())
                    .binaries(&bins, &["fpm-watcher", "fpm-ondemand"]),
                |b, (o, i, ro)| b.mount(o, i, *ro),
            )
            .boot();
        Watched {
            prefix,
            confs,
            sockets,
            host,
        }
    }

    pub fn site(&self, tag: &str) -> String {
        format!("{}-{tag}", self.prefix)
    }

    pub fn container(&self, tag: &str) -> String {
        names::container(&self.site(tag))
    }

    pub fn unit(&self, tag: &str) -> String {
        names::fpm_unit(&self.site(tag))
    }

    /// Runs the site's container (a sleeping process) and starts its unit: a site in use.
    pub fn run_site(&self, containers: &mut crate::Containers, tag: &str) {
        containers.run(&self.container(tag), &["--init"], "exec sleep 3600");
        self.host.ok(&["systemctl", "start", &self.unit(tag)]);
    }

    /// The site's socket folder as seen from outside the host.
    pub fn socket_dir(&self, tag: &str) -> PathBuf {
        let d = self.sockets.path().join(self.site(tag));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Waits up to `limit` for `unit` to reach `state`; panics with the watcher's journal if not.
    pub fn expect_state(&self, unit: &str, state: &str, limit: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let now = self.host.active_state(unit);
            if now == state {
                return start.elapsed();
            }
            if start.elapsed() > limit {
                panic!(
                    "{unit} is {now}, not {state}, {limit:?} after the change\nwatcher journal:\n{}",
                    self.journal()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits up to `limit` for the watcher's journal to contain `needle`.
    pub fn expect_journal(&self, needle: &str, limit: Duration) {
        let start = Instant::now();
        while !self.journal().contains(needle) {
            if start.elapsed() > limit {
                panic!(
                    "no {needle:?} in the watcher's journal after {limit:?}:\n{}",
                    self.journal()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn journal(&self) -> String {
        let out = self
            .host
            .exec(&["journalctl", "-u", "fpm-watcher", "--no-pager", "-o", "cat"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn start_watcher(&self) {
        if let Ok(level) = std::env::var("WATCHER_LOG") {
            self.host
                .ok(&["systemctl", "set-environment", &format!("RUST_LOG={level}")]);
        }
        self.host.ok(&["systemctl", "start", "fpm-watcher.service"]);
        assert_eq!(
            self.host.active_state("fpm-watcher.service"),
            "active",
            "{}",
            self.journal()
        );
    }
}

/// The folder cargo builds the workspace's binaries into: the test binary's (`deps/`) parent.
fn workspace_bins() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/PROFILE/deps/TEST")
        .to_owned();
    for bin in ["fpm-watcher", "fpm-ondemand"] {
        assert!(
            dir.join(bin).is_file(),
            "{bin} is not built in {}: run `cargo build --workspace` first",
            dir.display()
        );
    }
    dir
}
