//! The whole request path for end-to-end tests: a systemd host running nginx with the project's
//! units and binaries, and php-fpm site containers (Debian's php-fpm) on the real Docker engine.

use crate::host::{repo_root, HostBuilder, SystemdHost};
use crate::images;
use crate::old_host::ListenPath;
use crate::sockets::SocketRoot;
use crate::{docker, header, unique, ConfDir, Containers};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where [`Stack::boot_for_engine_restart`]'s host sees the machine's /run.
pub const OUTER_RUN: &str = "/outer-run";

/// The waker's idle timeout in the test host (the unit's default is 60 s).
pub const TEST_IDLE_TIMEOUT: &str = "3s";

/// The waker's start timeout in the test host: the unit's default (php-fpm's own start, counted
/// from its container's).
pub const TEST_START_TIMEOUT: &str = "30s";

/// A short start timeout, for the tests of what happens when it runs out.
pub const SHORT_START_TIMEOUT: &str = "5s";

/// How a site's container runs php-fpm: in the foreground, with the stack's pool.
const PHP_FPM: &[&str] = &["php-fpm", "-F", "-y", "/etc/php-site.conf"];

const BINARIES: [&str; 4] = ["fpm-waker", "fpm-watcher", "fpm-reaper", "fpm-ondemand"];

/// A booted stack; sites are `{prefix}-{tag}`.
pub struct Stack {
    /// Unique prefix of every name.
    pub prefix: String,
    /// The conf folder (mounted at the same path in the host).
    pub confs: ConfDir,
    /// The socket root, mounted as /run/docker-apps in the host and per site in its container.
    pub sockets: SocketRoot,
    files: tempfile::TempDir,
    /// The systemd host.
    pub host: SystemdHost,
    /// The site containers.
    pub containers: Containers,
    _pools: Option<MachinePools>,
}

/// The machine's folder of pool overrides (the default layout's `pool_dir`), mounted at the same
/// path in hosts whose `site add` creates containers on the machine's engine (which reads the
/// override there); the files of this stack's sites are removed with it.
struct MachinePools {
    prefix: String,
}

impl MachinePools {
    fn dir() -> PathBuf {
        fpm_shared::Layout::default().pool_dir
    }

    fn new(prefix: &str) -> MachinePools {
        std::fs::create_dir_all(MachinePools::dir()).unwrap();
        MachinePools {
            prefix: format!("{prefix}-"),
        }
    }
}

impl Drop for MachinePools {
    fn drop(&mut self) {
        for entry in std::fs::read_dir(MachinePools::dir())
            .into_iter()
            .flatten()
            .flatten()
        {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(&self.prefix)
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Copies the Debian package `deb` into the host and installs it with apt (its dependencies are
/// in the host image already: nothing is downloaded).
pub fn install_package(host: &SystemdHost, deb: &Path) {
    let inner = host.copy_in(deb);
    host.ok(&[
        "env",
        "DEBIAN_FRONTEND=noninteractive",
        "apt-get",
        "install",
        "-y",
        "--no-install-recommends",
        &inner,
    ]);
}

/// The folder of the workspace's built binaries.
fn bin_dir(any_bin: &Path) -> &Path {
    any_bin.parent().expect("binary folder")
}

/// Boots the host `builder` describes and sets it up as `install` says: the project's binaries
/// and `confs` mounted, or the package installed, or the old scripts; nginx started.
fn boot_host(
    builder: HostBuilder,
    install: Install,
    confs: &ConfDir,
    config: &str,
    ids: &[String],
    f: &Path,
) -> SystemdHost {
    let default_confs = fpm_shared::Layout::default().conf_dir;
    let default_confs = default_confs.to_str().expect("UTF-8");
    let host = match install {
        Install::Project(any_bin) | Install::ProjectForSiteAdd(any_bin, false) => builder
            .confs(confs.path(), config)
            .binaries(bin_dir(any_bin), &BINARIES),
        Install::ProjectForSiteAdd(any_bin, true) => builder
            .mount(Path::new("/run"), OUTER_RUN, true)
            .confs(
                confs.path(),
                &format!("docker_socket = \"{OUTER_RUN}/docker.sock\"\n{config}"),
            )
            .binaries(bin_dir(any_bin), &BINARIES),
        Install::Package(_) | Install::Bare | Install::OldStyle(_) => {
            builder.fresh().mount(confs.path(), default_confs, false)
        }
    }
    .boot();
    match install {
        Install::Project(_) | Install::ProjectForSiteAdd(_, false) => {}
        Install::ProjectForSiteAdd(_, true) => {
            let env = format!("DOCKER_HOST=unix://{OUTER_RUN}/docker.sock");
            host.ok(&["systemctl", "set-environment", &env]);
        }
        Install::Package(deb) => install_package(&host, deb),
        Install::Bare => {}
        Install::OldStyle(listen) => crate::old_host::install(&host, ids, f, listen),
    }
    // Without the package its nginx snippet is missing: what installs it starts nginx.
    if !matches!(install, Install::Bare) {
        host.ok(&["systemctl", "start", "nginx.service"]);
    }
    host
}

/// What a stack's host runs.
#[derive(Clone, Copy)]
enum Install<'a> {
    /// The workspace's binaries (the folder of this `CARGO_BIN_EXE_*` path) and the project's
    /// files, mounted in; a temporary socket root.
    Project(&'a Path),
    /// Like `Project`, with the machine's socket root: `fpm-ondemand site add` in the host creates
    /// containers that bind the host's socket folders. With `true`, the host reaches the engine
    /// through the machine's /run (mounted at /outer-run), so that it still does after an engine
    /// restart recreates the socket file.
    ProjectForSiteAdd(&'a Path, bool),
    /// Nothing of the project: the Debian package `deb`, installed with apt; the machine's
    /// socket root.
    Package(&'a Path),
    /// Like `Package`, with nothing installed: for a tool that installs the package itself
    /// (the Ansible role).
    Bare,
    /// The shell-script host the project replaces ([`crate::old_host`]), its waker sockets
    /// listening on this path; the machine's socket root.
    OldStyle(ListenPath),
}

impl Stack {
    /// Boots the stack with one stopped site per tag (conf window `window`). `any_bin` is a
    /// `CARGO_BIN_EXE_*` path; the other binaries are taken from the same folder.
    pub fn boot(tag: &str, sites: &[&str], window: &str, any_bin: &Path) -> Stack {
        Stack::boot_with(tag, sites, window, any_bin, (TEST_START_TIMEOUT, ""))
    }

    /// Like [`Stack::boot`], with the waker's `--start-timeout` and `config` added to the host's
    /// config.toml.
    pub fn boot_with(
        tag: &str,
        sites: &[&str],
        window: &str,
        any_bin: &Path,
        (start_timeout, config): (&str, &str),
    ) -> Stack {
        let install = Install::Project(any_bin);
        Stack::assemble(tag, sites, window, start_timeout, install, config)
    }

    /// Like [`Stack::boot`], with `config` added to the host's config.toml (e.g. a `[budget]`).
    pub fn boot_configured(
        tag: &str,
        sites: &[&str],
        window: &str,
        any_bin: &Path,
        config: &str,
    ) -> Stack {
        Stack::boot_with(tag, sites, window, any_bin, (TEST_START_TIMEOUT, config))
    }

    /// Like [`Stack::boot`] on a fresh host ([`HostBuilder::fresh`]) where the Debian package
    /// `deb` is installed with apt instead: the default layout, the conf folder mounted where it
    /// is by default, the machine's socket root (so that `fpm-ondemand site add` in the host
    /// creates containers that bind the host's socket folders).
    pub fn boot_packaged(tag: &str, sites: &[&str], window: &str, deb: &Path) -> Stack {
        let install = Install::Package(deb);
        Stack::assemble(tag, sites, window, TEST_START_TIMEOUT, install, "")
    }

    /// Like [`Stack::boot_packaged`] with no site and without the package: a fresh host for the
    /// Ansible role to install and onboard.
    pub fn boot_bare(tag: &str) -> Stack {
        Stack::assemble(tag, &[], "20m", TEST_START_TIMEOUT, Install::Bare, "")
    }

    /// Like [`Stack::boot`] with no site, for sites that `fpm-ondemand site add` onboards
    /// ([`Stack::site_add`]): the machine's socket root, so that the containers it creates
    /// bind the host's socket folders.
    pub fn boot_for_site_add(tag: &str, any_bin: &Path) -> Stack {
        let install = Install::ProjectForSiteAdd(any_bin, false);
        Stack::assemble(tag, &[], "20m", TEST_START_TIMEOUT, install, "")
    }

    /// Like [`Stack::boot_for_site_add`], for a test that restarts the engine: the host and its
    /// units reach it through the machine's /run, mounted at [`OUTER_RUN`] (the engine recreates
    /// its socket file on restart: a bind of the file would go stale).
    pub fn boot_for_engine_restart(tag: &str, any_bin: &Path) -> Stack {
        let install = Install::ProjectForSiteAdd(any_bin, true);
        Stack::assemble(tag, &[], "20m", TEST_START_TIMEOUT, install, "")
    }

    /// Onboards the site of `tag` with `fpm-ondemand site add` in the host: window `window`, its
    /// container from `image` with `folders` of this stack's files bound (`(name, where[:ro])`,
    /// created if missing), `more` arguments after those; the nginx upstream `site nginx` prints
    /// routed to its `.fast` vhost. Returns what `site add` printed; panics if it failed.
    pub fn site_add(
        &mut self,
        (tag, window): (&str, &str),
        image: &str,
        folders: &[(&str, &str)],
        more: &[&str],
    ) -> String {
        let site = self.site(tag);
        self.containers.track(&self.container(tag));
        let f = self.files().to_owned();
        let binds: Vec<String> = folders
            .iter()
            .map(|(name, inside)| {
                std::fs::create_dir_all(f.join(name)).unwrap();
                format!("{}:{inside}", f.join(name).display())
            })
            .collect();
        let mut args = vec![
            "fpm-ondemand",
            "site",
            "add",
            &site,
            "--window",
            window,
            "--image",
            image,
        ];
        for bind in &binds {
            args.extend_from_slice(&["-v", bind]);
        }
        args.extend_from_slice(more);
        let added = self.host.exec(&args);
        let text = String::from_utf8_lossy(&added.stdout).into_owned();
        assert!(
            added.status.success(),
            "site add {image}: {text}{}",
            String::from_utf8_lossy(&added.stderr)
        );
        let upstream = self.host.ok(&["fpm-ondemand", "site", "nginx", &site]);
        self.route_fast(tag, &upstream);
        text
    }

    /// A host built the old way ([`crate::old_host`]), each site's waker socket enabled and
    /// listening on `listen`, nginx sending each `SITE.test` vhost to it; the conf folder and
    /// the socket root where the package expects them.
    pub fn boot_old_style(tag: &str, sites: &[&str], window: &str, listen: ListenPath) -> Stack {
        let install = Install::OldStyle(listen);
        Stack::assemble(tag, sites, window, TEST_START_TIMEOUT, install, "")
    }

    /// The stack around a host made and set up as `install` says.
    fn assemble(
        tag: &str,
        sites: &[&str],
        window: &str,
        start_timeout: &str,
        install: Install,
        config: &str,
    ) -> Stack {
        let prefix = unique(tag);
        let files = tempfile::tempdir().unwrap();
        let f = files.path();
        write_site_files(f);
        let confs = ConfDir::new();
        let ids: Vec<String> = sites.iter().map(|s| format!("{prefix}-{s}")).collect();
        for site in &ids {
            confs.add(site, &header(window));
        }
        let sockets = match install {
            Install::Project(_) => SocketRoot::temporary(),
            Install::ProjectForSiteAdd(..)
            | Install::Package(_)
            | Install::Bare
            | Install::OldStyle(_) => SocketRoot::machine(&prefix),
        };
        let mut builder = HostBuilder::new(&format!("{prefix}-host")).sockets(sockets.path());
        let pools = match install {
            Install::ProjectForSiteAdd(..) | Install::Package(_) | Install::Bare => {
                let pools = MachinePools::new(&prefix);
                let dir = MachinePools::dir();
                builder = builder.mount(&dir, dir.to_str().expect("UTF-8"), false);
                Some(pools)
            }
            Install::Project(_) | Install::OldStyle(_) => None,
        };
        if !matches!(install, Install::OldStyle(_)) {
            write_host_files(f, &ids, start_timeout);
            builder = builder
                .mount(
                    &f.join("nginx.conf"),
                    "/etc/nginx/sites-enabled/default",
                    true,
                )
                .mount(
                    &f.join("waker-test.conf"),
                    "/etc/systemd/system/fpm-waker@.service.d/test.conf",
                    true,
                );
        }
        let host = boot_host(builder, install, &confs, config, &ids, f);

        let mut stack = Stack {
            prefix,
            confs,
            sockets,
            files,
            host,
            containers: Containers::default(),
            _pools: pools,
        };
        let start = match install {
            Install::OldStyle(_) => ["systemctl", "enable", "--now"].as_slice(),
            _ => ["systemctl", "start"].as_slice(),
        };
        for s in sites {
            stack.create_site_container(s, images::host(), &[("www", "/var/www:ro")]);
            let socket = stack.waker_socket(s);
            stack.host.ok(&[start, &[socket.as_str()]].concat());
        }
        stack
    }

    /// Creates (does not start) the site's php-fpm container from `image`: the socket folder,
    /// the pool and the counting script's data folder mounted, and `extra` folders of this
    /// stack's files (`(name, where[:ro])`, created if missing). A container of that name is
    /// removed first.
    pub fn create_site_container(&mut self, tag: &str, image: &str, extra: &[(&str, &str)]) {
        self.create_container(tag, image, extra, &[], PHP_FPM);
    }

    /// Like [`Stack::create_site_container`] with the test host's image, but php-fpm starts
    /// `delay_s` seconds after its container does (a slow image, or a busy host): the container
    /// runs, its socket is not there yet. A stop in that time ends the container at once.
    pub fn create_slow_site_container(&mut self, tag: &str, delay_s: u32) {
        let script = format!("sleep {delay_s}; exec {}", PHP_FPM.join(" "));
        let www = [("www", "/var/www:ro")];
        self.create_container(
            tag,
            images::host(),
            &www,
            &["--init"],
            &["sh", "-c", &script],
        );
    }

    fn create_container(
        &mut self,
        tag: &str,
        image: &str,
        extra: &[(&str, &str)],
        options: &[&str],
        command: &[&str],
    ) {
        let site = self.site(tag);
        let sock_dir = self.sockets.path().join(&site);
        std::fs::create_dir_all(&sock_dir).unwrap();
        let name = self.container(tag);
        let _ = crate::docker_raw(&["rm", "-f", &name]);
        self.containers.track(&name);
        let f = self.files.path();
        let vol = |o: &Path, i: &str| format!("{}:{i}", o.display());
        let mut volumes = vec![
            vol(&sock_dir, "/run/php-sock"),
            vol(&f.join("pool.conf"), "/etc/php-site.conf:ro"),
            vol(&f.join("data"), "/var/data"),
        ];
        for (dir, inner) in extra {
            std::fs::create_dir_all(f.join(dir)).unwrap();
            volumes.push(vol(&f.join(dir), inner));
        }
        let mut args = vec![
            "create",
            "--name",
            &name,
            "--label",
            crate::TEST_LABEL,
            "--hostname",
            &site,
            "--stop-signal",
            "SIGQUIT",
            "--stop-timeout",
            "20",
            // A bounded log, as `site check` requires.
            "--log-opt",
            "max-size=10m",
        ];
        for v in &volumes {
            args.extend_from_slice(&["-v", v]);
        }
        args.extend_from_slice(options);
        args.push(image);
        args.extend_from_slice(command);
        docker(&args);
    }

    /// Routes the `SITE.fast` vhost of the site (the test vhost of the upstream variant) to the
    /// upstream `upstream` (nginx text, e.g. what `fpm-ondemand site nginx SITE` prints), both in
    /// one file of the host's /etc/nginx/conf.d, and reloads nginx.
    pub fn route_fast(&self, tag: &str, upstream: &str) {
        let site = self.site(tag);
        let vhost = std::fs::read_to_string(fixture("nginx-fast-vhost.conf.template")).unwrap();
        let file = self.files().join(format!("{site}.conf"));
        std::fs::write(
            &file,
            format!("{upstream}\n{}", vhost.replace("SITE", &site)),
        )
        .unwrap();
        let copied = self.host.copy_in(&file);
        let to = format!("/etc/nginx/conf.d/{site}.conf");
        self.host.ok(&["mv", &copied, &to]);
        self.host.ok(&["nginx", "-t"]);
        self.reload_nginx();
    }

    /// Reloads nginx and waits until the workers that had the old configuration are gone.
    pub fn reload_nginx(&self) {
        let workers = || {
            self.host
                .ok(&["sh", "-c", "pgrep -P \"$(cat /run/nginx.pid)\" || true"])
        };
        let old = workers();
        self.host.ok(&["systemctl", "reload", "nginx.service"]);
        crate::wait_until(Duration::from_secs(10), "nginx's old workers to go", || {
            let now = workers();
            old.lines().all(|pid| !now.lines().any(|p| p == pid))
        });
    }

    /// The site id of a tag.
    pub fn site(&self, tag: &str) -> String {
        format!("{}-{tag}", self.prefix)
    }

    /// The site's `fpm@SITE.service`.
    pub fn fpm_unit(&self, tag: &str) -> String {
        crate::names::fpm_unit(&self.site(tag))
    }

    /// The site's `fpm-waker@SITE.service`.
    pub fn waker_service(&self, tag: &str) -> String {
        crate::names::waker_service(&self.site(tag))
    }

    /// The site's `fpm-waker@SITE.socket`.
    pub fn waker_socket(&self, tag: &str) -> String {
        crate::names::waker_socket(&self.site(tag))
    }

    /// The site's container name.
    pub fn container(&self, tag: &str) -> String {
        crate::names::container(&self.site(tag))
    }

    /// The journal of these units in the host, as text (with precise timestamps).
    pub fn journal(&self, units: &[&str]) -> String {
        let mut args = vec!["journalctl", "--no-pager", "-o", "short-precise"];
        for u in units {
            args.extend_from_slice(&["-u", u]);
        }
        self.host.ok(&args)
    }

    /// GET /index.php of the site through nginx, by vhost (`test` = waker only, `fast` = upstream
    /// with backup): the status code and body, as curl in the host sees them.
    pub fn get(&self, tag: &str, vhost: &str) -> (u16, String) {
        self.fetch(tag, vhost, "/index.php", &[])
    }

    /// A request for `path` (with its query) of the site through nginx, by vhost, with more curl
    /// arguments (`-m 2`, `-d id=1`): the status code and body, as curl in the host sees them.
    pub fn fetch(&self, tag: &str, vhost: &str, path: &str, curl: &[&str]) -> (u16, String) {
        let host_header = format!("Host: {}.{vhost}", self.site(tag));
        let url = format!("http://127.0.0.1:8080{path}");
        let mut args = vec![
            "curl",
            "-s",
            "-m",
            "40",
            "-H",
            &host_header,
            "-w",
            "\n%{http_code}",
        ];
        args.extend_from_slice(curl);
        args.push(&url);
        let out = self.host.exec(&args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
        (code.trim().parse().unwrap_or(0), body.to_owned())
    }

    /// Runs a command in the site's container, as its root: what a tenant can do.
    pub fn in_site(&self, tag: &str, script: &str) -> std::process::Output {
        crate::docker_raw(&["exec", &self.container(tag), "sh", "-c", script])
    }

    /// `n` requests at once (curl --parallel); the status code of each.
    pub fn get_parallel(&self, tag: &str, n: usize) -> Vec<u16> {
        let host_header = format!("Host: {}.test", self.site(tag));
        let url = "http://127.0.0.1:8080/index.php";
        let mut args = vec![
            "curl",
            "-s",
            "-m",
            "40",
            "--parallel",
            "--parallel-immediate",
            "--parallel-max",
            "100",
            "-H",
            &host_header,
            "-w",
            "%{http_code}\n",
        ];
        for _ in 0..n {
            args.extend_from_slice(&["-o", "/dev/null", url]);
        }
        let out = self.host.exec(&args);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.trim().parse().unwrap_or(0))
            .collect()
    }

    /// Puts a busybox container that never creates php-fpm.sock in place of a site's container.
    pub fn replace_with_silent_container(&mut self, name: &str) {
        self.containers.track(name);
        docker(&[
            "create",
            "--name",
            name,
            "--label",
            crate::TEST_LABEL,
            "--init",
            images::busybox(),
            "sleep",
            "3600",
        ]);
    }

    /// The folder holding the pool and nginx files of this stack.
    pub fn files(&self) -> &Path {
        self.files.path()
    }

    /// A disturber for [`Stack::count_load`]: the acting reaper every 0.3 s on the site of
    /// `tag` (with a window of about a second, it stops the site in the load's gaps).
    pub fn reaper_stops(&self, tag: &str) -> String {
        format!(
            "n=0; while [ ! -e /tmp/stop-disturbing ]; do \
               fpm-reaper --format json --site {} | grep -q '\"action\": \"stopped\"' && n=$((n+1)) && echo $n > /tmp/stops; \
               sleep 0.3; \
             done; echo \"$n stops\" > /tmp/disturbed",
            self.site(tag)
        )
    }

    /// A load on the counting script while the host is disturbed: `rounds` rounds of
    /// [`LOAD_PER_ROUND`] concurrent requests (POST, GET, POST, ...; ids `ROUND-N`; more than
    /// the pool's 4 workers, so some wait in php-fpm's backlog) to `count.php?ms=MS` through the
    /// `vhost` kind, `gap` seconds apart (a bash expression), while `disturb` (a shell loop in the
    /// host that runs until `/tmp/stop-disturbing` exists, writes its running count of stops to
    /// `/tmp/stops` after each, and then a summary to `/tmp/disturbed`) runs beside it. The load
    /// goes on past `rounds` (up to four times as many) until the disturber has stopped the site
    /// `min_stops` times: how long a stop takes depends on the engine and the machine's load, and a
    /// load that ends first would prove less than the test says. Returns each request's answer
    /// (whole rounds, so a multiple of [`LOAD_PER_ROUND`]) and the disturber's summary.
    pub fn count_load(
        &self,
        tag: &str,
        vhost: &str,
        (rounds, ms, gap): (usize, u32, &str),
        (disturb, min_stops): (&str, usize),
    ) -> (Vec<Answer>, String) {
        let site = self.site(tag);
        self.host.ok(&[
            "rm",
            "-f",
            "/tmp/stop-disturbing",
            "/tmp/disturbed",
            "/tmp/stops",
            "/tmp/stops-in-rounds",
        ]);
        let most = rounds * 4;
        let client = format!(
            "i=0; while [ $i -lt {rounds} ] || {{ [ $i -lt {most} ] && [ \"$(cat /tmp/stops 2>/dev/null || echo 0)\" -lt {min_stops} ]; }}; do \
               i=$((i+1)); \
               for j in $(seq 1 {LOAD_PER_ROUND}); do \
                 if [ $((j % 2)) = 1 ]; then m=POST; data=\"-d id=$i-$j\"; q=''; else m=GET; data=''; q=\"&id=$i-$j\"; fi; \
                 curl -s -m 60 -o /dev/null -w \"$i-$j $m %{{http_code}}\\n\" $data \
                   -H 'Host: {site}.{vhost}' \"http://127.0.0.1:8080/count.php?ms={ms}$q\" & \
               done; wait; [ $i -eq {rounds} ] && cat /tmp/stops > /tmp/stops-in-rounds 2>/dev/null; sleep {gap}; \
             done"
        );
        let started = self.host.exec(&[
            "sh",
            "-c",
            "nohup sh -c \"$1\" >/tmp/disturber.log 2>&1 &",
            "sh",
            disturb,
        ]);
        assert!(started.status.success(), "{started:?}");
        let out = self.host.exec(&["bash", "-c", &client]);
        self.host.ok(&["touch", "/tmp/stop-disturbing"]);
        crate::wait_until(Duration::from_secs(60), "the disturber to end", || {
            self.host
                .exec(&["test", "-e", "/tmp/disturbed"])
                .status
                .success()
        });
        let in_rounds = self.host.exec(&["cat", "/tmp/stops-in-rounds"]);
        println!(
            "{site}: {} stops in the first {rounds} rounds, {} rounds run",
            String::from_utf8_lossy(&in_rounds.stdout).trim(),
            String::from_utf8_lossy(&out.stdout).lines().count() / LOAD_PER_ROUND
        );
        let answers = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                Some(Answer {
                    id: w.next()?.into(),
                    method: w.next()?.into(),
                    code: w.next()?.parse().ok()?,
                })
            })
            .collect();
        (answers, self.host.ok(&["cat", "/tmp/disturbed"]))
    }

    /// How many times the counting script ran each request id, from its log.
    pub fn count_runs(&self) -> BTreeMap<String, usize> {
        let log = std::fs::read_to_string(self.files().join("data/count.log")).unwrap_or_default();
        let mut ran = BTreeMap::new();
        for line in log.lines() {
            if let Some((_, id)) = line.split_once(' ') {
                *ran.entry(id.to_owned()).or_default() += 1;
            }
        }
        ran
    }

    /// Empties the counting script's log.
    pub fn reset_count(&self) {
        let _ = std::fs::remove_file(self.files().join("data/count.log"));
    }
}

/// Requests at once in each round of [`Stack::count_load`].
pub const LOAD_PER_ROUND: usize = 8;

/// One request of [`Stack::count_load`]: its id, method and HTTP status (0: no answer).
#[derive(Debug, Clone)]
pub struct Answer {
    /// `ROUND-N`.
    pub id: String,
    /// POST or GET.
    pub method: String,
    /// The status nginx answered.
    pub code: u16,
}

fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(name)
}

/// What the sites' php-fpm containers mount: the pool, the scripts, and a data folder the
/// sites' php (www-data) writes what count.php records to.
fn write_site_files(f: &Path) {
    std::fs::copy(fixture("php-site.conf"), f.join("pool.conf")).unwrap();
    std::fs::create_dir(f.join("www")).unwrap();
    // The official images' WORKDIR, /var/www/html: it must exist in a read-only /var/www.
    std::fs::create_dir(f.join("www/html")).unwrap();
    for script in ["index.php", "count.php"] {
        std::fs::copy(fixture(script), f.join("www").join(script)).unwrap();
    }
    std::fs::create_dir(f.join("data")).unwrap();
    std::fs::set_permissions(
        f.join("data"),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
}

/// What the host mounts: nginx's vhosts for `sites` and the waker's test drop-in.
fn write_host_files(f: &Path, sites: &[String], start_timeout: &str) {
    let mut nginx = std::fs::read_to_string(fixture("nginx-vhosts.conf")).unwrap();
    let template =
        std::fs::read_to_string(repo_root().join("deploy/nginx/fpm-upstream.conf.template"))
            .unwrap();
    let vhost = std::fs::read_to_string(fixture("nginx-fast-vhost.conf.template")).unwrap();
    for site in sites {
        nginx.push_str(&template.replace("SITE", site));
        nginx.push_str(&vhost.replace("SITE", site));
    }
    std::fs::write(f.join("nginx.conf"), nginx).unwrap();
    let dropin = format!(
        "[Service]\nExecStart=\nExecStart=/usr/bin/fpm-waker --idle-timeout {TEST_IDLE_TIMEOUT} --start-timeout {start_timeout} %i\n\
         Environment=RUST_LOG={}\n",
        std::env::var("WAKER_LOG").unwrap_or_else(|_| "info".into())
    );
    std::fs::write(f.join("waker-test.conf"), dropin).unwrap();
}
