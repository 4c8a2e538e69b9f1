//! A real systemd host: systemd as PID 1 in a container of the host image, sharing the outer
//! Docker engine through its socket. Removed when dropped.

use crate::{docker, docker_raw, images, wait_until};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// A running systemd host container.
pub struct SystemdHost {
    name: String,
    /// Files written for this host (its config): kept as long as it runs.
    _files: Option<tempfile::TempDir>,
}

/// The one way a systemd test host is made, by the tests and (through `fpm-test-host`) by the
/// scripts: systemd as PID 1 in [`images::host`] with the Docker socket, the project's files
/// ([`project_files`]) and whatever is added here, then installed ([`INSTALL_STEPS`]).
pub struct HostBuilder {
    name: String,
    label: String,
    mounts: Vec<(PathBuf, String, bool)>,
    config: Option<String>,
    project: bool,
}

impl HostBuilder {
    /// A host named `name`, labelled [`crate::TEST_LABEL`].
    pub fn new(name: &str) -> HostBuilder {
        HostBuilder {
            name: name.to_owned(),
            label: crate::TEST_LABEL.to_owned(),
            mounts: Vec::new(),
            config: None,
            project: true,
        }
    }

    /// Nothing of the project in it: a fresh host of the image, for installing the package.
    pub fn fresh(mut self) -> HostBuilder {
        self.project = false;
        self
    }

    /// Labels the host's container `label` (`key=value`) instead.
    pub fn label(mut self, label: &str) -> HostBuilder {
        self.label = label.to_owned();
        self
    }

    /// Mounts `outer` at `inner`.
    pub fn mount(mut self, outer: &Path, inner: &str, read_only: bool) -> HostBuilder {
        // The same folder by its real path: Docker 28 refuses to copy into a container (docker
        // cp) one of whose mounts lies under a link of its image, as /var/run is ("path escapes
        // from parent").
        let inner = match inner.strip_prefix("/var/run/") {
            Some(rest) => format!("/run/{rest}"),
            None => inner.to_owned(),
        };
        self.mounts.push((outer.to_owned(), inner, read_only));
        self
    }

    /// Installs the binaries `names` from the folder `dir` in `/usr/bin` (where the units
    /// run them); each must be built.
    pub fn binaries(mut self, dir: &Path, names: &[&str]) -> HostBuilder {
        for b in names {
            let path = dir.join(b);
            assert!(
                path.exists(),
                "{} is not built; run `cargo build --workspace` (scripts/test.sh does)",
                path.display()
            );
            self = self.mount(&path, &format!("/usr/bin/{b}"), true);
        }
        self
    }

    /// Mounts the conf folder `dir` at the same path and writes a config naming it, with `extra`
    /// TOML lines.
    pub fn confs(mut self, dir: &Path, extra: &str) -> HostBuilder {
        let inner = dir.to_str().expect("UTF-8 conf folder").to_owned();
        self.config = Some(format!("conf_dir = {inner:?}\n{extra}"));
        self.mount(dir, &inner, false)
    }

    /// Mounts `dir` where the sites' socket folders live (the parent of `Layout`'s socket folder).
    pub fn sockets(self, dir: &Path) -> HostBuilder {
        let root = crate::sockets::inner_root();
        self.mount(dir, root.to_str().expect("UTF-8"), false)
    }

    /// The `docker run` arguments.
    fn run_args(&self, config: Option<&Path>) -> Vec<String> {
        let mut args: Vec<String> = [
            "run",
            "-d",
            "--name",
            &self.name,
            "--label",
            &self.label,
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
            // (by its real path: see mount)
            "/var/run/docker.sock:/run/docker.sock",
        ]
        .map(str::to_owned)
        .to_vec();
        args.extend(all_capabilities().iter().map(|s| s.to_string()));
        let project = if self.project {
            project_files()
        } else {
            Vec::new()
        };
        let project = project.into_iter().map(|(o, i)| (o, i, true));
        let config = config.map(|c| {
            (
                c.to_owned(),
                "/etc/fpm-ondemand/config.toml".to_owned(),
                true,
            )
        });
        for (outer, inner, ro) in project.chain(self.mounts.iter().cloned()).chain(config) {
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
        args.extend([images::host().to_owned(), "/lib/systemd/systemd".to_owned()]);
        args
    }

    /// Boots systemd, waits until it runs, and installs the project.
    pub fn boot(self) -> SystemdHost {
        let out = docker_raw(&["image", "inspect", "--format", "{{.Id}}", images::host()]);
        assert!(
            out.status.success(),
            "host image {} is missing; run scripts/build-test-images.sh (scripts/test.sh does)",
            images::host()
        );
        let files = self.config.as_ref().map(|text| {
            let dir = tempfile::tempdir().expect("temporary folder");
            std::fs::write(dir.path().join("config.toml"), text).expect("config");
            dir
        });
        let config = files.as_ref().map(|d| d.path().join("config.toml"));
        let args = self.run_args(config.as_deref());
        docker(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let host = SystemdHost {
            name: self.name,
            _files: files,
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
        if self.project {
            for step in INSTALL_STEPS {
                host.ok(step);
            }
        }
        host
    }
}

impl SystemdHost {
    /// The host's /etc/fpm-ondemand/config.toml, as the builder wrote it (None without one).
    pub fn config(&self) -> Option<String> {
        let path = self._files.as_ref()?.path().join("config.toml");
        Some(std::fs::read_to_string(path).expect("the host's config"))
    }

    /// Rewrites the host's config.toml in place (the same file, so the host sees the change).
    pub fn write_config(&self, text: &str) {
        let dir = self._files.as_ref().expect("a host booted with a config");
        std::fs::write(dir.path().join("config.toml"), text).expect("the host's config");
    }

    /// Leaves the host running when this is dropped (for the scripts' sandboxes); its config
    /// file stays too.
    pub fn keep(mut self) -> String {
        if let Some(files) = self._files.take() {
            // The config must outlive this process: the host reads it as long as it runs.
            let kept = files.keep();
            eprintln!("fpm-test-host: config kept in {}", kept.display());
        }
        let name = std::mem::take(&mut self.name);
        std::mem::forget(self);
        name
    }

    /// The host's container name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Copies `file` into the host's /var/tmp (with its mode) and returns its path there. It goes
    /// through `docker exec` and `cat`, not `docker cp`: Docker 28 refuses an archive copy into a
    /// container one of whose mounts lies on a link of its image (the nginx site the hosts mount
    /// over `sites-enabled/default`, a link in Debian's nginx) with "path escapes from parent".
    pub fn copy_in(&self, file: &Path) -> String {
        let name = file
            .file_name()
            .expect("a file name")
            .to_str()
            .expect("UTF-8");
        let inner = format!("/var/tmp/{name}");
        let input = std::fs::File::open(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mode = {
            use std::os::unix::fs::PermissionsExt as _;
            let m = input.metadata().expect("metadata").permissions().mode();
            format!("{:o}", m & 0o7777)
        };
        let script = "cat > \"$1\" && chmod \"$2\" \"$1\"";
        let out = std::process::Command::new("docker")
            .args([
                "exec", "-i", &self.name, "sh", "-c", script, "sh", &inner, &mode,
            ])
            .stdin(input)
            .output()
            .expect("docker exec");
        assert!(
            out.status.success(),
            "copying {} into {}: {}",
            file.display(),
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        inner
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

    /// Whether something in the host accepts a connection on the unix socket `path` (socat, as
    /// root; the connection is closed at once).
    pub fn accepts(&self, path: &str) -> bool {
        let target = format!("UNIX-CONNECT:{path}");
        self.exec(&["socat", "-u", "/dev/null", &target])
            .status
            .success()
    }

    /// Whether a unix socket listens at `path` (`ss`, without connecting: a connection to a waker
    /// socket would wake its site).
    pub fn listening(&self, path: &str) -> bool {
        self.ok(&["ss", "-Hxl"])
            .lines()
            .any(|l| l.split_whitespace().any(|word| word == path))
    }

    /// `systemctl is-active UNIT` as a word (active, inactive, failed, ...).
    pub fn active_state(&self, unit: &str) -> String {
        let out = self.exec(&["systemctl", "is-active", unit]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for SystemdHost {
    fn drop(&mut self) {
        // Best effort: a host left behind carries the test label, which scripts/test.sh sweeps.
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

/// The flags that give the host every capability this engine can grant. systemd as PID 1 wants
/// them all, but these machines lack CAP_SYS_RESOURCE: Docker 20.10 then refuses `--cap-add=ALL`
/// unless it is dropped, and Docker 26 refuses dropping a capability it cannot grant. So the
/// engine is asked once, with a throwaway container, which of the two it takes.
pub fn all_capabilities() -> &'static [&'static str] {
    static FLAGS: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
    FLAGS.get_or_init(|| {
        let candidates: [&'static [&'static str]; 2] = [
            &["--cap-add=ALL"],
            &["--cap-add=ALL", "--cap-drop=SYS_RESOURCE"],
        ];
        let mut refusals = Vec::new();
        for flags in candidates {
            let mut args = vec!["run", "--rm", "--network", "none"];
            args.extend_from_slice(flags);
            args.extend_from_slice(&[images::busybox(), "true"]);
            let out = docker_raw(&args);
            if out.status.success() {
                return flags;
            }
            refusals.push(format!(
                "{flags:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        panic!(
            "the engine grants no full capability set:\n{}",
            refusals.join("\n")
        )
    })
}

/// Every file the project installs on a host, as (repository file, path in the host): the units
/// of `deploy/systemd/`, the sysusers and tmpfiles files, the nginx snippet.
pub fn project_files() -> Vec<(PathBuf, String)> {
    let root = repo_root();
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(root.join("deploy/systemd"))
        .expect("deploy/systemd")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .map(|unit| {
            let from = root.join("deploy/systemd").join(&unit);
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
