//! The Debian package on a fresh systemd host of the test image (Debian 12, or Debian 13 with
//! `FPM_TEST_HOST=debian13`), nothing of the project in it: installed with apt, a site onboarded
//! with `fpm-ondemand site add`, `site nginx` and `site check` answers a
//! cold and a warm request through nginx, `man` shows the pages, the shipped logrotate entry
//! rotates the reaper's log, an upgrade to a newer package (from one with its units in
//! `/lib/systemd/system`) while the site is busy fails no request, keeps every unit, leaves the site running, enables and starts a unit new to the host and leaves one the
//! operator disabled disabled, and remove then purge
//! leave none of the package's files while the site's container, conf and socket folder stay.
//! The package is the one `scripts/package.sh` built (`scripts/test.sh` builds it first).

mod common;

use common::{package, run};
use fpm_tests::host::{container_status, SystemdHost};
use fpm_tests::stack::Stack;
use fpm_tests::{docker, require_docker};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The package `deb` repacked with `suffix` appended to its version: `+upgrade1`, what an upgrade
/// installs, or `~prev1` with its units where versions before 0.1.0 put them (`/lib/systemd/system`),
/// what that upgrade starts from.
fn repacked(deb: &Path, dir: &Path, suffix: &str) -> PathBuf {
    let tree = dir.join(format!("tree{suffix}"));
    run(Command::new("dpkg-deb").arg("-R").arg(deb).arg(&tree));
    let control = tree.join("DEBIAN/control");
    let text = std::fs::read_to_string(&control).unwrap();
    let version = text
        .lines()
        .find_map(|l| l.strip_prefix("Version: "))
        .expect("Version in control");
    let bumped = text.replace(
        &format!("Version: {version}"),
        &format!("Version: {version}{suffix}"),
    );
    std::fs::write(&control, bumped).unwrap();
    if suffix.starts_with('~') {
        std::fs::create_dir_all(tree.join("lib/systemd")).unwrap();
        std::fs::rename(
            tree.join("usr/lib/systemd/system"),
            tree.join("lib/systemd/system"),
        )
        .unwrap();
    }
    let out = dir.join(format!("fpm-ondemand{suffix}.deb"));
    run(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-b"])
        .arg(&tree)
        .arg(&out));
    out
}

fn started_at(container: &str) -> String {
    docker(&["inspect", "--format", "{{.State.StartedAt}}", container])
}

#[test]
fn the_package_installs_serves_upgrades_under_load_and_goes_without_touching_sites() {
    require_docker();
    let deb = package();
    let dir = tempfile::tempdir().unwrap();
    let previous = repacked(&deb, dir.path(), "~prev1");
    let mut s = Stack::boot_packaged("pkg", &[], "20m", &previous);

    let h = &s.host;
    // Installed: the watcher runs, the reaper's timer is enabled and waiting.
    for (unit, want) in [
        ("fpm-watcher.service", "active"),
        ("fpm-reaper.timer", "active"),
        ("fpm-socket-folders.service", "active"),
        ("fpm-watcher.socket", "active"),
        ("fpm-watcher-metrics.socket", "active"),
        ("fpm-watcher-admission.socket", "active"),
        ("fpm-start.socket", "active"),
    ] {
        assert_eq!(h.active_state(unit), want, "{unit}");
    }
    assert_eq!(
        h.ok(&["systemctl", "is-enabled", "fpm-reaper.timer"])
            .trim(),
        "enabled"
    );
    for bin in ["fpm-ondemand", "fpm-reaper", "fpm-watcher", "fpm-waker"] {
        let version = h.ok(&[bin, "--version"]);
        assert_eq!(version.trim(), format!("{bin} {}", fpm_shared::VERSION));
    }
    the_shipped_logrotate_entry_rotates_the_reapers_log(h);
    // As words: man justifies lines with extra spaces and prints hyphens as U+2010.
    let page = h
        .ok(&["env", "MANWIDTH=80", "man", "-P", "cat", "fpm-reaper"])
        .replace('\u{2010}', "-")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        page.contains("fpm-reaper - Stops idle on-demand php-fpm sites"),
        "{page}"
    );
    assert!(page.contains("Exit status: 0 every site handled"), "{page}");
    assert!(page.contains("--dry-run"), "{page}");
    h.ok(&["man", "-w", "fpm-watcher-stop-container"]);
    // The operator's command: a page per subcommand at every level, and its completions; the
    // daemon's binary no longer carries the operator's subcommands.
    let add = man(h, &["fpm-ondemand-site-add"]);
    assert!(add.contains("--window"), "{add}");
    h.ok(&["man", "-w", "fpm-ondemand-status"]);
    // The config file's page, from the shipped commented config.
    let config = man(h, &["5", "fpm-ondemand.toml"]);
    for want in [
        "/etc/fpm-ondemand/config.toml",
        "max_awake = 0",
        "docker_timeout_secs = 20",
    ] {
        assert!(
            config.contains(want),
            "fpm-ondemand.toml(5) names {want}:\n{config}"
        );
    }
    // The docs where the man pages say they are, their links intact from there.
    let man = h.ok(&["env", "MANWIDTH=200", "man", "-P", "cat", "fpm-ondemand"]);
    assert!(man.contains("/usr/share/doc/fpm-ondemand/"), "{man}");
    for page in [
        "README.md",
        "BENCHMARKS.md",
        "docs/troubleshooting.md",
        "docs/migrating.md",
    ] {
        h.ok(&["test", "-s", &format!("/usr/share/doc/fpm-ondemand/{page}")]);
    }
    h.ok(&[
        "test",
        "-s",
        "/usr/share/bash-completion/completions/fpm-ondemand",
    ]);
    assert!(!h
        .exec(&["man", "-w", "fpm-watcher-status"])
        .status
        .success());
    assert!(!h.exec(&["fpm-watcher", "status"]).status.success());

    // A site onboarded with the package's commands: added, routed, checked; cold, then warm.
    onboard(&mut s, "a");
    let h = &s.host;
    let (code, body) = s.get("a", "fast");
    assert_eq!(code, 200, "cold: {body}");
    assert_eq!(s.get("a", "fast").0, 200, "warm");
    // The packaged watcher counts the wake on its packaged endpoint.
    let wakes = format!("fpm_ondemand_wakes_total{{site=\"{}\"}} 1", s.site("a"));
    fpm_tests::wait_until(std::time::Duration::from_secs(10), &wakes, || {
        h.ok(&["curl", "-s", "http://127.0.0.1:9747/metrics"])
            .lines()
            .any(|l| l == wakes)
    });
    let container = s.container("a");
    let running_since = started_at(&container);

    // Before the upgrade, as if this host's version had no reaper timer yet (never enabled, no
    // deb-systemd-helper state), and the operator had disabled the start socket.
    h.ok(&["systemctl", "disable", "--now", "fpm-reaper.timer"]);
    h.ok(&[
        "env",
        "DPKG_MAINTSCRIPT_PACKAGE=fpm-ondemand",
        "deb-systemd-helper",
        "purge",
        "fpm-reaper.timer",
    ]);
    h.ok(&["systemctl", "disable", "fpm-start.socket"]);

    // An upgrade while the site is busy: no request fails, the site is not restarted.
    let upgrade = repacked(&deb, dir.path(), "+upgrade1");
    let watcher_before = h.ok(&["systemctl", "show", "-P", "MainPID", "fpm-watcher.service"]);
    let upgrading = format!(
        "sleep 2; n=0; env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
         {} >/tmp/upgrade.log 2>&1 && n=1; echo $n > /tmp/stops; echo \"$n upgrades\" > /tmp/disturbed",
        h.copy_in(&upgrade)
    );
    let (answers, upgraded) = s.count_load("a", "fast", (10, 100, "0.2"), (&upgrading, 1));
    let log = h.ok(&["cat", "/tmp/upgrade.log"]);
    assert_eq!(upgraded.trim(), "1 upgrades", "{log}");
    let failed: Vec<_> = answers.iter().filter(|a| a.code != 200).collect();
    assert!(failed.is_empty(), "during the upgrade: {failed:?}\n{log}");
    assert_eq!(s.count_runs().len(), answers.len(), "every request ran");
    assert_eq!(
        started_at(&container),
        running_since,
        "the site was not restarted"
    );
    let version = h.ok(&["dpkg-query", "-W", "-f", "${Version}", "fpm-ondemand"]);
    assert!(version.ends_with("+upgrade1"), "{version}");
    let watcher_after = h.ok(&["systemctl", "show", "-P", "MainPID", "fpm-watcher.service"]);
    assert_ne!(
        watcher_before, watcher_after,
        "the watcher restarted on the new binary"
    );
    assert_eq!(h.active_state("fpm-watcher.service"), "active");
    // The unit new to this host is enabled and started; the operator's choice stands.
    let enabled = |unit| h.exec(&["systemctl", "is-enabled", unit]);
    let enabled = |unit| {
        String::from_utf8_lossy(&enabled(unit).stdout)
            .trim()
            .to_owned()
    };
    assert_eq!(enabled("fpm-reaper.timer"), "enabled", "new unit enabled");
    assert_eq!(
        h.active_state("fpm-reaper.timer"),
        "active",
        "new unit started"
    );
    assert_eq!(enabled("fpm-start.socket"), "disabled", "left disabled");
    // The units moved from /lib/systemd/system to /usr/lib/systemd/system, and none was lost.
    for unit in [
        "fpm-watcher.service",
        "fpm@.service",
        "fpm-waker@.socket",
        "fpm-reaper.timer",
    ] {
        let path = format!("/usr/lib/systemd/system/{unit}");
        assert!(h.exec(&["test", "-s", &path]).status.success(), "{path}");
        h.ok(&["dpkg", "-S", &path]);
    }

    // Remove, then purge: our units stop, our files go; the site stays as it was.
    let files: Vec<String> = h
        .ok(&["dpkg-query", "-L", "fpm-ondemand"])
        .lines()
        .map(str::to_owned)
        .collect();
    let socket_folder = s.sockets.path().join(s.site("a"));
    h.ok(&[
        "env",
        "DEBIAN_FRONTEND=noninteractive",
        "apt-get",
        "remove",
        "-y",
        "fpm-ondemand",
    ]);
    for unit in [
        "fpm-watcher.service",
        "fpm-watcher.socket",
        "fpm-watcher-metrics.socket",
        "fpm-watcher-admission.socket",
        "fpm-start.socket",
        "fpm-start.service",
        "fpm-reaper.timer",
        &s.waker_socket("a"),
    ] {
        assert_eq!(h.active_state(unit), "inactive", "{unit} after remove");
    }
    h.ok(&[
        "env",
        "DEBIAN_FRONTEND=noninteractive",
        "apt-get",
        "purge",
        "-y",
        "fpm-ondemand",
    ]);
    let left: Vec<&String> = files
        .iter()
        .filter(|f| !is_shared_dir(f))
        .filter(|f| h.exec(&["test", "-e", f]).status.success())
        .collect();
    assert!(left.is_empty(), "left after purge: {left:?}");
    for gone in ["/etc/fpm-ondemand", "/var/log/fpm-ondemand"] {
        assert!(!h.exec(&["test", "-e", gone]).status.success(), "{gone}");
    }
    assert_eq!(
        container_status(&container),
        "running",
        "the site's container runs on"
    );
    assert_eq!(started_at(&container), running_since);
    assert!(socket_folder.is_dir(), "the socket folder stays");
    assert!(
        s.confs
            .path()
            .join(format!("{}.conf", s.site("a")))
            .exists(),
        "the conf stays"
    );
}

/// A man page as `man` prints it 200 columns wide, its hyphens plain.
fn man(h: &SystemdHost, page: &[&str]) -> String {
    let cmd = [&["env", "MANWIDTH=200", "man", "-P", "cat"][..], page].concat();
    h.ok(&cmd).replace('\u{2010}', "-")
}

/// The reaper's `--log-file` as the shipped cron line writes it, rotated by the shipped
/// `/etc/logrotate.d/fpm-ondemand` (Debian's logrotate): each file holds one run.
fn the_shipped_logrotate_entry_rotates_the_reapers_log(h: &SystemdHost) {
    let log = "/var/log/fpm-ondemand/reaper.log";
    let reap = ["fpm-reaper", "--dry-run", "--quiet", "--log-file", log];
    h.ok(&reap);
    let first = h.ok(&["cat", log]);
    assert!(!first.is_empty(), "the reaper logs to {log}");
    let rotate = ["logrotate", "-f", "-s", "/tmp/logrotate.state"];
    h.ok(&[&rotate[..], &["/etc/logrotate.d/fpm-ondemand"]].concat());
    h.ok(&reap);
    assert_eq!(h.ok(&["cat", &format!("{log}.1")]), first, "rotated");
    let second = h.ok(&["cat", log]);
    assert!(
        !second.is_empty() && !second.contains(first.lines().next().unwrap()),
        "the next run starts the file afresh:\n{second}"
    );
}

/// Onboards the site of `tag` as the README's "Add a site" does: `fpm-ondemand site add` with the
/// image's own php-fpm pool (overridden) and the stack's scripts, its nginx upstream from `fpm-ondemand site nginx` behind the
/// site's test vhost, then `fpm-ondemand site check`, which must pass every check.
fn onboard(s: &mut Stack, tag: &str) {
    let site = s.site(tag);
    let folders = [("www", "/var/www:ro"), ("data", "/var/data")];
    let command = ["--", "php-fpm", "-F"];
    let added = s.site_add((tag, "20m"), fpm_tests::images::host(), &folders, &command);
    for step in [
        "conf",
        "container     created",
        "php-fpm pool  [www] overridden",
        "waker socket",
    ] {
        assert!(
            added.contains(step),
            "site add did not say {step:?}:\n{added}"
        );
    }
    let check = s.host.exec(&["fpm-ondemand", "site", "check", &site]);
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success() && report.contains("every check passed"),
        "site check after site add:\n{report}{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

/// Folders in the package's file list that other packages own too (/usr, /usr/bin, ...):
/// every path of ours names fpm.
fn is_shared_dir(path: &str) -> bool {
    !path.contains("fpm")
}
