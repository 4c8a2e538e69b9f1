//! Test harness: the real Docker engine, the project's test image, and containers that clean up after themselves.
//!
//! Nothing here mocks Docker. When the engine or the image is missing, tests fail with a message that
//! says how to get them (`scripts/test.sh` installs and starts everything).

pub mod cut;
pub mod docker29;
pub mod host;
pub mod images;
pub mod names;
pub mod old_host;
pub mod sockets;
pub mod stack;
pub mod watched;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Label put on every container a test creates, so leftovers can be found and removed.
pub const TEST_LABEL: &str = "fpm-ondemand.test=1";

/// The Docker socket the tests use.
pub const DOCKER_SOCKET: &str = "/var/run/docker.sock";

/// Runs the docker CLI and returns its output; panics with the command and stderr on failure.
pub fn docker(args: &[&str]) -> String {
    let out = docker_raw(args);
    assert!(
        out.status.success(),
        "docker {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Runs the docker CLI and returns whatever happened.
pub fn docker_raw(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run the docker CLI ({e}); run scripts/test.sh, which installs it")
        })
}

/// Panics with a clear message unless the Docker engine answers and the test image exists.
pub fn require_docker() {
    let out = docker_raw(&["version", "--format", "{{.Server.Version}}"]);
    assert!(
        out.status.success(),
        "these tests need a running Docker engine at {DOCKER_SOCKET}: {}\n\
         run scripts/test.sh, which installs and starts it",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let out = docker_raw(&["image", "inspect", "--format", "{{.Id}}", images::busybox()]);
    assert!(
        out.status.success(),
        "test image {} is missing; run scripts/build-test-images.sh (scripts/test.sh does)",
        images::busybox()
    );
}

/// A name prefix unique to this process and call, so parallel tests never share containers.
pub fn unique(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "t{}x{}-{tag}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Containers created by a test; all are removed (forcefully) when this is dropped.
#[derive(Default)]
pub struct Containers {
    names: Vec<String>,
}

impl Containers {
    /// Runs `docker run -d --name NAME [extra...] BUSYBOX sh -c SCRIPT` and remembers the name.
    pub fn run(&mut self, name: &str, extra: &[&str], script: &str) -> String {
        self.names.push(name.to_owned());
        let mut args = vec!["run", "-d", "--name", name, "--label", TEST_LABEL];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[images::busybox(), "sh", "-c", script]);
        docker(&args)
    }

    /// Removes this container with the others when dropped.
    pub fn track(&mut self, name: &str) {
        self.names.push(name.to_owned());
    }

    /// Runs `docker create` like [`Containers::run`], without starting it.
    pub fn create(&mut self, name: &str, script: &str) -> String {
        self.names.push(name.to_owned());
        docker(&[
            "create",
            "--name",
            name,
            "--label",
            TEST_LABEL,
            images::busybox(),
            "sh",
            "-c",
            script,
        ])
    }
}

impl Drop for Containers {
    fn drop(&mut self) {
        if !self.names.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(self.names.iter().map(String::as_str));
            let _ = docker_raw(&args);
        }
    }
}

/// Waits until `cond` holds, up to `limit`; panics with `what` if it never does.
pub fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The container's `docker logs` line count (including stderr).
pub fn log_line_count(name: &str) -> usize {
    let out = docker_raw(&["logs", name]);
    String::from_utf8_lossy(&out.stdout).lines().count()
        + String::from_utf8_lossy(&out.stderr).lines().count()
}

/// A folder of conf files for a test.
pub struct ConfDir {
    dir: tempfile::TempDir,
}

/// Where conf folders are made: not under /tmp, which the hardened units see privately
/// (PrivateTmp=yes), so that a conf folder mounted into a test host is seen by the watcher too.
pub const CONF_ROOT: &str = "/var/lib/fpm-ondemand-test";

impl ConfDir {
    /// An empty conf folder (root's, mode 0755, as on a host).
    pub fn new() -> ConfDir {
        std::fs::create_dir_all(CONF_ROOT).expect("conf root");
        let dir = tempfile::Builder::new()
            .prefix("confs")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .tempdir_in(CONF_ROOT)
            .expect("temporary folder");
        ConfDir { dir }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `SITE.conf` with the given first line (plus a body like the host's confs).
    pub fn add(&self, site: &str, header: &str) -> PathBuf {
        let path = self.path().join(format!("{site}.conf"));
        std::fs::write(&path, format!("{header}\nlocation ~ \\.php$ {{ }}\n")).unwrap();
        path
    }
}

impl Default for ConfDir {
    fn default() -> Self {
        ConfDir::new()
    }
}

/// The header line a host's conf starts with.
pub fn header(window: &str) -> String {
    format!("# Amount of time to pause the container after: {window}")
}

/// Stops the Docker engine, runs `while_down`, starts it again ([`start_engine`]), and
/// waits until it answers. Containers survive only with live-restore, which setup.sh turns on.
/// Every other test is disturbed meanwhile: only call it from a test run on its own.
pub fn restart_engine(while_down: impl FnOnce()) {
    require_live_restore();
    signal("TERM", &dockerd_pid());
    wait_for_engine_exit();
    while_down();
    start_engine();
}

/// Kills the Docker engine at once (SIGKILL, as a crash or an OOM kill would; also when frozen)
/// and waits until it is gone; the caller starts it again with [`start_engine`]. Containers
/// survive when [`require_live_restore`] passed beforehand.
/// Every other test is disturbed meanwhile: only call it from a test run on its own.
pub fn crash_engine(pid: &str) {
    signal("KILL", pid);
    // Until its parent reaps it, dockerd's pid file names a live process and a new dockerd
    // refuses to start.
    let proc = PathBuf::from(format!("/proc/{pid}"));
    wait_until(Duration::from_secs(30), "dockerd to be gone", || {
        !proc.exists()
    });
}

/// Starts the engine in use (`scripts/engine.sh start`: the system's, or Debian 13's) and waits
/// until it answers.
pub fn start_engine() {
    let script = host::repo_root().join("scripts/engine.sh");
    let status = Command::new("bash")
        .arg(&script)
        .arg("start")
        .status()
        .unwrap();
    assert!(status.success(), "{} start failed", script.display());
    wait_until(Duration::from_secs(30), "dockerd to answer again", || {
        docker_raw(&["version"]).status.success()
    });
}

/// Fails unless the engine runs with live-restore, so that containers outlive its restart.
pub fn require_live_restore() {
    let out = docker(&["info", "--format", "{{.LiveRestoreEnabled}}"]);
    assert_eq!(
        out, "true",
        "the engine runs without live-restore; run scripts/setup.sh"
    );
}

fn wait_for_engine_exit() {
    wait_until(Duration::from_secs(30), "dockerd to stop", || {
        !Command::new("pidof")
            .arg("dockerd")
            .status()
            .unwrap()
            .success()
    });
}

/// Freezes the Docker engine (SIGSTOP to dockerd: every request hangs, containers keep running),
/// runs `while_frozen`, and thaws it again, also when `while_frozen` panics.
/// Every other test is disturbed meanwhile: only call it from a test run on its own.
pub fn freeze_engine<T>(while_frozen: impl FnOnce() -> T) -> T {
    struct Thaw(String);
    impl Drop for Thaw {
        fn drop(&mut self) {
            // Gone already when a test crashed the engine meanwhile.
            let _ = Command::new("kill")
                .args(["-CONT", &self.0])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
    let pid = dockerd_pid();
    let thaw = Thaw(pid.clone());
    signal("STOP", &pid);
    let out = while_frozen();
    drop(thaw);
    out
}

/// The Docker engine's process id.
pub fn dockerd_pid() -> String {
    let out = Command::new("pidof")
        .arg("dockerd")
        .output()
        .expect("pidof");
    let pid = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(!pid.is_empty(), "no dockerd process");
    pid
}

/// Sends `SIG{name}` to `pid`.
pub fn signal(name: &str, pid: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), pid])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name} {pid}");
}

/// A running container's main process id, to kill it from outside as a crash would.
pub fn container_pid(name: &str) -> String {
    docker(&["inspect", "--format", "{{.State.Pid}}", name])
}
