//! A real systemd host: systemd as PID 1 in a container of the host image, sharing the outer
//! Docker engine through its socket. Removed when dropped.

use crate::{docker, docker_raw, wait_until};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// The debootstrap image with systemd, dbus, nginx and php-fpm (`scripts/build-test-images.sh`).
pub const HOST_IMAGE: &str = "fpm-ondemand-test/host:3";

/// A running systemd host container.
pub struct SystemdHost {
    name: String,
}

/// A bind mount into the host: `(outer path, inner path, read-only)`.
pub type Mount<'a> = (&'a Path, &'a str, bool);

impl SystemdHost {
    /// Boots systemd in a new container with the Docker socket, the project's files
    /// ([`project_files`]) and `mounts`, waits until it runs, and installs the project
    /// ([`INSTALL_STEPS`]).
    pub fn boot(name: &str, mounts: &[Mount]) -> SystemdHost {
        let out = docker_raw(&["image", "inspect", "--format", "{{.Id}}", HOST_IMAGE]);
        assert!(
            out.status.success(),
            "host image {HOST_IMAGE} is missing; run scripts/build-test-images.sh (scripts/test.sh does)"
        );
        let mut args: Vec<String> = [
            "run",
            "-d",
            "--name",
            name,
            "--label",
            crate::TEST_LABEL,
            "--cap-add=ALL",
            "--cap-drop=SYS_RESOURCE",
            "--security-opt",
            "seccomp=unconfined",
            "--cgroupns=host",
            "--stop-signal",
            "SIGRTMIN+3",
            "-e",
            "container=docker",
            "-v",
            "/sys/fs/cgroup:/sys/fs/cgroup:rw",
            "--tmpfs",
            "/run",
            "--tmpfs",
            "/run/lock",
            "--tmpfs",
            "/tmp",
            "-v",
            "/var/run/docker.sock:/var/run/docker.sock",
        ]
        .map(str::to_owned)
        .to_vec();
        let project = project_files();
        let project = project.iter().map(|(o, i)| (o.as_path(), i.as_str(), true));
        for (outer, inner, ro) in project.chain(mounts.iter().copied()) {
            let outer = outer
                .canonicalize()
                .unwrap_or_else(|e| panic!("{}: {e}", outer.display()));
            args.push("-v".into());
            args.push(format!(
                "{}:{inner}{}",
                outer.display(),
                if ro { ":ro" } else { "" }
            ));
        }
        args.extend([HOST_IMAGE.to_owned(), "/lib/systemd/systemd".to_owned()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        docker(&args);
        let host = SystemdHost {
            name: name.to_owned(),
        };
        wait_until(
            Duration::from_secs(60),
            "systemd in the host container to boot",
            || {
                let out = host.exec(&["systemctl", "is-system-running"]);
                matches!(
                    String::from_utf8_lossy(&out.stdout).trim(),
                    "running" | "degraded"
                )
            },
        );
        for step in INSTALL_STEPS {
            host.ok(step);
        }
        host
    }

    /// Runs a command inside the host.
    pub fn exec(&self, cmd: &[&str]) -> Output {
        let mut args = vec!["exec", self.name.as_str()];
        args.extend_from_slice(cmd);
        docker_raw(&args)
    }

    /// Runs a command inside the host and returns stdout; panics on failure.
    pub fn ok(&self, cmd: &[&str]) -> String {
        let out = self.exec(cmd);
        assert!(
            out.status.success(),
            "{cmd:?} in {} failed: {}{}",
            self.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// `systemctl is-active UNIT` as a word (active, inactive, failed, ...).
    pub fn active_state(&self, unit: &str) -> String {
        let out = self.exec(&["systemctl", "is-active", unit]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for SystemdHost {
    fn drop(&mut self) {
        let _ = docker_raw(&["rm", "-f", "-v", &self.name]);
    }
}

/// The container's `State.Status` (running, exited, ...), or `missing`.
pub fn container_status(name: &str) -> String {
    let out = docker_raw(&["inspect", "--format", "{{.State.Status}}", name]);
    if out.status.success() {
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    } else {
        "missing".to_owned()
    }
}

/// Every file the project installs on a host, as (repository file, path in the host): the units
/// of `deploy/systemd/` and `cron/`, the sysusers, tmpfiles and polkit files, the nginx snippet.
pub fn project_files() -> Vec<(PathBuf, String)> {
    let root = repo_root();
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(root.join("deploy/systemd"))
        .expect("deploy/systemd")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .chain(["fpm-reaper.service".into(), "fpm-reaper.timer".into()])
        .map(|unit| {
            let from = if unit.starts_with("fpm-reaper.") {
                root.join("cron").join(&unit)
            } else {
                root.join("deploy/systemd").join(&unit)
            };
            (from, format!("/etc/systemd/system/{unit}"))
        })
        .collect();
    for (from, to) in [
        (
            "deploy/sysusers.d/fpm-ondemand.conf",
            "/etc/sysusers.d/fpm-ondemand.conf",
        ),
        (
            "deploy/tmpfiles.d/fpm-ondemand.conf",
            "/etc/tmpfiles.d/fpm-ondemand.conf",
        ),
        (
            "deploy/polkit/50-fpm-waker.rules",
            "/etc/polkit-1/rules.d/50-fpm-waker.rules",
        ),
        (
            "deploy/nginx/fpm-waker.conf",
            "/etc/nginx/snippets/fpm-waker.conf",
        ),
    ] {
        files.push((root.join(from), to.to_owned()));
    }
    files.sort();
    files
}

/// What installing the project does on a booted host, after its files are in place: the waker's
/// user, the socket folders, and the socket-folder mount where no symlink is followed.
pub const INSTALL_STEPS: [&[&str]; 3] = [
    &["systemd-sysusers"],
    &[
        "systemd-tmpfiles",
        "--create",
        "/etc/tmpfiles.d/fpm-ondemand.conf",
    ],
    &["systemctl", "start", "fpm-socket-folders.service"],
];

/// The repository's root folder.
pub fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}
