//! `docs/migrating.md` run as written: a host built the old way (`tests/fixtures/old-host/`: the
//! socket, the socat proxy script, `docker start` units, the cron reaper) is moved to the package
//! by the guide's own cut-over commands while a load runs on one of its sites, then moved back by
//! its rollback commands under the same load. No request fails or runs twice in either, every
//! site passes `fpm-ondemand site check` after the cut-over, and each chain works afterwards.

mod common;

use common::package;
use fpm_tests::host::{repo_root, SystemdHost};
use fpm_tests::old_host::ListenPath;
use fpm_tests::require_docker;
use fpm_tests::stack::Stack;

/// The shell commands of one `## ` section of the guide: its `sh` blocks, in order.
fn guide(section: &str) -> String {
    let path = repo_root().join("docs/migrating.md");
    let text = std::fs::read_to_string(&path).expect("docs/migrating.md");
    let heading = format!("## {section}");
    let body: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .collect();
    let mut script = String::new();
    let mut in_block = false;
    for line in body {
        match (in_block, line) {
            (false, "```sh") => in_block = true,
            (true, "```") => in_block = false,
            (true, _) => script.extend([line, "\n"]),
            _ => {}
        }
    }
    assert!(
        script.lines().count() > 3,
        "no sh blocks under {heading:?} in {}",
        path.display()
    );
    script
}

/// Runs the guide's `section` in the host (in /var/tmp, where the package was copied) while a
/// load of POSTs and GETs runs on the site of `tag`: every request must be answered 200 and run
/// exactly once. The load lasts until the commands are done.
fn run_under_load(s: &Stack, tag: &str, section: &str) {
    let file = s.files().join(format!("{}.sh", section.replace(' ', "-")));
    std::fs::write(&file, guide(section)).unwrap();
    let script = s.host.copy_in(&file);
    let commands = format!(
        "sleep 2; n=0; cd /var/tmp && env DEBIAN_FRONTEND=noninteractive bash -eu {script} \
         >/tmp/guide.log 2>&1 && n=1; echo $n > /tmp/stops; echo \"$n runs\" > /tmp/disturbed"
    );
    s.reset_count();
    let (answers, ran) = s.count_load(tag, "test", (30, 100, "0.2"), (&commands, 1));
    let log = s.host.ok(&["cat", "/tmp/guide.log"]);
    println!("{section}:\n{log}");
    assert_eq!(ran.trim(), "1 runs", "{section} failed:\n{log}");
    let failed: Vec<_> = answers.iter().filter(|a| a.code != 200).collect();
    assert!(failed.is_empty(), "during {section}: {failed:?}\n{log}");
    let runs = s.count_runs();
    assert_eq!(runs.len(), answers.len(), "every request ran ({section})");
    assert!(runs.values().all(|n| *n == 1), "none ran twice: {runs:?}");
}

/// The program `fpm-waker@SITE.service` runs, as `systemctl show` tells it.
fn waker_program(s: &Stack, tag: &str) -> String {
    s.host.ok(&[
        "systemctl",
        "show",
        "-P",
        "ExecStart",
        &s.waker_service(tag),
    ])
}

/// Where systemd read the site's waker socket unit from.
fn socket_unit_file(s: &Stack, tag: &str) -> String {
    s.host.ok(&[
        "systemctl",
        "show",
        "-P",
        "FragmentPath",
        &s.waker_socket(tag),
    ])
}

fn exists(host: &SystemdHost, path: &str) -> bool {
    host.exec(&["test", "-e", path]).status.success()
}

/// What makes the package's waker sockets listen at the old path too, during the cut-over.
const SEED_PATH_DROP_IN: &str = "/etc/systemd/system/fpm-waker@.socket.d/seed-path.conf";

/// What only the old host has.
const OLD_FILES: [&str; 3] = [
    "/etc/systemd/system/fpm-waker@.socket",
    "/etc/cron.d/pause-on-demand-containers",
    "/usr/local/bin/socket-proxy.sh",
];

#[test]
fn the_guide_migrates_an_old_host_under_load_and_rolls_it_back() {
    migrate_and_back("migrate", ListenPath::VarRun);
}

/// The same on an old host whose socket unit names /run/docker-apps, as the package's does:
/// systemd keeps each listening socket across the switch of units, and only the order of the
/// guide (nginx past the old proxies before they stop) keeps their requests.
#[test]
fn the_guide_migrates_an_old_host_listening_on_the_same_path() {
    migrate_and_back("samepath", ListenPath::Run);
}

fn migrate_and_back(name: &str, listen: ListenPath) {
    require_docker();
    let deb = package();
    let tags = ["busy", "awake", "asleep"];
    let s = Stack::boot_old_style(name, &tags, "20m", listen);
    let h = &s.host;

    // The old host works: a cold and a warm request through its proxy.
    for tag in ["busy", "awake"] {
        assert_eq!(s.get(tag, "test").0, 200, "old host, cold: {tag}");
        assert_eq!(s.get(tag, "test").0, 200, "old host, warm: {tag}");
    }
    assert!(waker_program(&s, "busy").contains("/usr/local/bin/socket-proxy.sh"));
    h.copy_in(&deb);

    run_under_load(&s, "busy", "The cut-over");
    for tag in tags {
        let check = h.exec(&["fpm-ondemand", "site", "check", &s.site(tag)]);
        let report = String::from_utf8_lossy(&check.stdout);
        assert!(
            check.status.success() && report.contains("every check passed"),
            "{tag}: {report}"
        );
        // Debian 12's systemd finds it through /lib (a link to /usr/lib), Debian 13's in /usr/lib.
        let unit = socket_unit_file(&s, tag);
        assert!(
            unit.trim()
                .ends_with("/lib/systemd/system/fpm-waker@.socket"),
            "{tag}: the package's socket unit, not {unit}"
        );
    }
    for old in OLD_FILES {
        assert!(!exists(h, old), "{old} is gone after the cut-over");
    }
    assert!(!exists(h, SEED_PATH_DROP_IN), "the old path is closed");
    for tag in tags {
        let wake = fpm_tests::names::waker_socket_path(&s.site(tag));
        assert!(h.listening(&wake), "{tag}: systemd listens at {wake}");
    }
    assert_eq!(h.active_state("fpm-reaper.timer"), "active");
    // The new chain: the sleeping site wakes through fpm-waker, a drained stop of the busy site
    // through its unit, and its next request wakes it again.
    assert_eq!(s.get("asleep", "test").0, 200, "cold, after the cut-over");
    assert!(waker_program(&s, "asleep").contains("/usr/bin/fpm-waker"));
    h.ok(&["systemctl", "stop", &s.fpm_unit("busy")]);
    assert!(s.journal(&[&s.fpm_unit("busy")]).contains("drained"));
    assert_eq!(s.get("busy", "test").0, 200, "woken again by fpm-waker");

    // Back: the old units, vhosts and reaper, under the same load.
    run_under_load(&s, "busy", "Rolling back");
    for tag in tags {
        assert_eq!(
            socket_unit_file(&s, tag),
            "/etc/systemd/system/fpm-waker@.socket",
            "{tag}: the old socket unit again"
        );
    }
    assert!(exists(h, "/etc/cron.d/pause-on-demand-containers"));
    assert!(!exists(h, SEED_PATH_DROP_IN), "the old units alone");
    assert_eq!(h.active_state("fpm-watcher.service"), "inactive");
    h.ok(&["systemctl", "stop", &s.fpm_unit("asleep")]);
    assert_eq!(s.get("asleep", "test").0, 200, "cold, after the rollback");
    assert!(waker_program(&s, "asleep").contains("/usr/local/bin/socket-proxy.sh"));
}
