//! The watcher in a real systemd host, against the real Docker engine: every out-of-band change
//! to a managed container ends with systemd, the sockets and the container in agreement.

use fpm_tests::host::container_status;
use fpm_tests::names;
use fpm_tests::watched::Watched;
use fpm_tests::{docker, require_docker, wait_until, Containers};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn out_of_band_changes_are_mirrored_within_a_second() {
    require_docker();
    let w = Watched::boot("watch", &["stop", "kill", "exits", "start"]);
    let mut c = Containers::default();
    for tag in ["stop", "kill"] {
        c.run(&w.container(tag), &["--init"], "exec sleep 3600");
    }
    c.run(&w.container("exits"), &["--init"], "sleep 8; exit 3");
    c.create(&w.container("start"), "exec sleep 3600");
    // A container that looks like a site but has no conf: never touched.
    let other = names::container(&format!("{}-other", w.prefix));
    c.run(&other, &["--init"], "exec sleep 3600");
    for tag in ["stop", "kill", "exits"] {
        w.host.ok(&["systemctl", "start", &w.unit(tag)]);
    }
    // The kill case: php-fpm's socket left behind, nobody listening on it any more.
    let stale = w.socket_dir("kill").join("php-fpm.sock");
    drop(UnixListener::bind(&stale).unwrap());
    w.start_watcher();
    assert_eq!(
        w.host.active_state(&w.unit("stop")),
        "active",
        "nothing to fix at startup"
    );

    docker(&["stop", "--time", "5", &w.container("stop")]);
    let took = w.expect_state(&w.unit("stop"), "inactive", SECOND);
    eprintln!("docker stop mirrored in {took:?}");

    docker(&["kill", &w.container("kill")]);
    w.expect_state(&w.unit("kill"), "inactive", SECOND);
    wait_until(SECOND, "the stale php-fpm.sock to be removed", || {
        !stale.exists()
    });
    assert!(
        w.socket_dir("kill").is_dir(),
        "the socket folder itself stays"
    );

    docker(&["start", &w.container("start")]);
    w.expect_state(&w.unit("start"), "active", SECOND);
    assert_eq!(container_status(&w.container("start")), "running");

    docker(&["stop", "--time", "5", &other]);
    docker(&["start", &other]);
    std::thread::sleep(SECOND);
    assert_eq!(
        w.host
            .active_state(&names::fpm_unit(&format!("{}-other", w.prefix))),
        "inactive"
    );
    assert_eq!(
        container_status(&other),
        "running",
        "an unmanaged container is left alone"
    );

    wait_until(
        Duration::from_secs(15),
        "the exits container to exit by itself",
        || container_status(&w.container("exits")) == "exited",
    );
    w.expect_state(&w.unit("exits"), "inactive", SECOND);

    let status = w.host.exec(&["fpm-ondemand", "status"]);
    let table = String::from_utf8_lossy(&status.stdout);
    assert_eq!(
        status.status.code(),
        Some(0),
        "{table}{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(table.contains("4 sites, 0 inconsistent"), "{table}");

    let journal = w.journal();
    let site = w.site("stop");
    // Docker's die event and systemd's signal about the same site race; either may carry it.
    assert!(
        journal.lines().any(|l| l.contains("mark fpm unit inactive")
            && l.contains(&site)
            && (l.contains("cause=\"event\"") || l.contains("cause=\"systemd\""))),
        "each action is logged with site and cause:\n{journal}"
    );
    assert!(
        !journal.contains(&other),
        "the unmanaged container is not even logged:\n{journal}"
    );
    // The same lines carry native journal fields: `journalctl SITE=...` finds them.
    let native = w.host.ok(&[
        "journalctl",
        "--no-pager",
        "-o",
        "cat",
        &format!("SITE={site}"),
        "_SYSTEMD_UNIT=fpm-watcher.service",
    ]);
    assert!(
        native
            .lines()
            .any(|l| l.starts_with("mark fpm unit inactive")),
        "journalctl SITE={site}:\n{native}"
    );
}

#[test]
fn sigterm_during_the_first_reconcile_exits_cleanly() {
    require_docker();
    let sites: Vec<String> = (0..40).map(|i| format!("s{i}")).collect();
    let tags: Vec<&str> = sites.iter().map(String::as_str).collect();
    let w = Watched::boot("term", &tags);
    w.host
        .ok(&["systemctl", "start", "--no-block", "fpm-watcher.service"]);
    // Mid-reconcile: it has acted on a first site (40 take seconds). Not merely "activating":
    // systemd says so from the fork, while the sandbox is still being set up before the exec.
    w.expect_journal("re-arm the waker socket: done", Duration::from_secs(10));
    assert_eq!(w.host.active_state("fpm-watcher.service"), "activating");
    w.host.ok(&["systemctl", "stop", "fpm-watcher.service"]);
    let show = w.host.ok(&[
        "systemctl",
        "show",
        "-p",
        "Result",
        "-p",
        "ExecMainStatus",
        "fpm-watcher.service",
    ]);
    assert!(
        show.contains("Result=success") && show.contains("ExecMainStatus=0"),
        "{show}\n{}",
        w.journal()
    );
    assert!(w.journal().contains("SIGTERM"), "{}", w.journal());
}

#[test]
fn a_stopped_or_failed_waker_socket_is_rearmed_within_a_second() {
    require_docker();
    let w = Watched::boot("rearm", &["gone", "broken"]);
    for tag in ["gone", "broken"] {
        w.host
            .ok(&["systemctl", "start", &names::waker_socket(&w.site(tag))]);
    }
    w.start_watcher();

    // Vanished: someone stopped the socket unit.
    let gone = names::waker_socket(&w.site("gone"));
    w.host.ok(&["systemctl", "stop", &gone]);
    w.expect_state(&gone, "active", SECOND);

    // Failed: the waker cannot start (no binary in this host), so systemd re-triggers it until
    // the start limit fails the socket; nothing listens any more until the watcher re-arms it.
    let broken = names::waker_socket(&w.site("broken"));
    let sock = names::waker_socket_path(&w.site("broken"));
    assert!(w.host.accepts(&sock), "systemd listens");
    w.expect_journal(
        &format!("re-arm the waker socket: done site={}", w.site("broken")),
        Duration::from_secs(15),
    );
    let journal = w.journal();
    assert!(journal.contains("cause=\"systemd\""), "{journal}");
    w.expect_state(&broken, "active", SECOND);
    assert!(w.host.accepts(&sock), "systemd listens again");
}

#[test]
fn hostile_socket_folders_are_never_followed_or_emptied() {
    use std::os::unix::fs::PermissionsExt;
    require_docker();
    let tags = ["link", "file", "shared", "owned"];
    let w = Watched::boot("sockfold", &tags);
    let mut c = Containers::default();
    for tag in tags {
        w.run_site(&mut c, tag);
    }
    // The watcher's first reconcile arms the waker sockets, whose start hands each folder to
    // root:www-data 0750 (tmpfiles): the folders turn hostile afterwards.
    w.start_watcher();
    for tag in tags {
        w.expect_journal(
            &format!("re-arm the waker socket: done site={}", w.site(tag)),
            SECOND,
        );
    }
    // php-fpm.sock replaced by a symlink to a stale socket outside the socket folder.
    let elsewhere = tempfile::tempdir().unwrap();
    let target = elsewhere.path().join("victim.sock");
    drop(UnixListener::bind(&target).unwrap());
    let link = w.socket_dir("link").join("php-fpm.sock");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    // A regular file in its place.
    let file = w.socket_dir("file").join("php-fpm.sock");
    std::fs::write(&file, "not a socket").unwrap();
    // A real stale socket, but in a folder that others may write to.
    let shared = w.socket_dir("shared");
    let stale = shared.join("php-fpm.sock");
    drop(UnixListener::bind(&stale).unwrap());
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    // And one in a folder that is not root's.
    let owned = w.socket_dir("owned");
    let owned_stale = owned.join("php-fpm.sock");
    drop(UnixListener::bind(&owned_stale).unwrap());
    std::os::unix::fs::chown(&owned, Some(1000), Some(1000)).unwrap();

    for tag in tags {
        docker(&["kill", &w.container(tag)]);
    }
    for tag in tags {
        w.expect_state(&w.unit(tag), "inactive", SECOND);
    }
    w.expect_journal("writable by group or others", SECOND);
    w.expect_journal("is owned by uid 1000, not root", SECOND);
    std::thread::sleep(SECOND);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the symlink stays"
    );
    assert!(target.exists(), "what it points to is never followed");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a socket");
    assert!(
        stale.exists() && owned_stale.exists(),
        "nothing is removed from a folder others may write to"
    );
    let journal = w.journal();
    assert!(
        journal.contains(&format!(
            "cannot judge php-fpm.sock of a stopped site: socket folder /var/run/docker-apps/{}: is writable by group or others (mode 777): nothing in it is removed site={}",
            w.site("shared"),
            w.site("shared")
        )),
        "the refusal is logged for the site:\n{journal}"
    );
}

#[test]
fn a_dbus_restart_restarts_the_watcher_and_it_catches_up() {
    require_docker();
    let w = Watched::boot("dbusdrop", &["site"]);
    let mut c = Containers::default();
    w.run_site(&mut c, "site");
    w.start_watcher();
    let pid = || {
        w.host.ok(&[
            "systemctl",
            "show",
            "-p",
            "MainPID",
            "--value",
            "fpm-watcher",
        ])
    };
    let first = pid();

    w.host.ok(&["systemctl", "restart", "dbus.service"]);
    w.expect_journal(
        "lost the D-Bus connection to systemd",
        Duration::from_secs(5),
    );
    wait_until(
        Duration::from_secs(15),
        "systemd to restart the watcher",
        || {
            let now = pid();
            now != first && now != "0" && w.host.active_state("fpm-watcher.service") == "active"
        },
    );

    docker(&["stop", "--time", "5", &w.container("site")]);
    w.expect_state(&w.unit("site"), "inactive", SECOND);
}

#[test]
fn marking_a_unit_inactive_never_stops_a_container_started_again_meanwhile() {
    require_docker();
    let w = Watched::boot("restarted", &["site"]);
    let mut c = Containers::default();
    c.run(&w.container("site"), &["--init"], "exec sleep 3600");
    docker(&["stop", &w.container("site")]);
    w.host.ok(&["systemctl", "start", &w.unit("site")]);
    // Behind systemd's back, faster than any watcher: stopped, then started again.
    docker(&["stop", "--time", "5", &w.container("site")]);
    std::thread::sleep(Duration::from_millis(50));
    docker(&["start", &w.container("site")]);
    // What the watcher does for the stop: mark the unit inactive. Its ExecStop leaves the new run.
    w.host.ok(&["systemctl", "stop", &w.unit("site")]);
    assert_eq!(container_status(&w.container("site")), "running");
    let log = w.host.ok(&[
        "journalctl",
        "-u",
        &w.unit("site"),
        "--no-pager",
        "-o",
        "cat",
    ]);
    assert!(log.contains("left running: started again"), "{log}");
    // `journalctl -u` finds that line even when stop-container exits before journald reads its
    // cgroup (seen missing once): it names its unit itself, as root.
    let by_field = w.host.ok(&[
        "journalctl",
        &format!("OBJECT_SYSTEMD_UNIT={}", w.unit("site")),
        "_UID=0",
        "--no-pager",
        "-o",
        "cat",
    ]);
    assert!(
        by_field.contains("left running: started again"),
        "{by_field}"
    );

    // The watcher then marks the unit active again: it and the container agree.
    w.start_watcher();
    w.expect_state(&w.unit("site"), "active", SECOND);
    assert_eq!(container_status(&w.container("site")), "running");
    // And an ordinary stop through the unit still stops the container.
    w.host.ok(&["systemctl", "stop", &w.unit("site")]);
    let log = w.host.ok(&[
        "journalctl",
        "-u",
        &w.unit("site"),
        "--no-pager",
        "-o",
        "short-precise",
    ]);
    assert_eq!(
        container_status(&w.container("site")),
        "exited",
        "{log}\n{}",
        w.journal()
    );
}

#[test]
fn the_reaper_and_an_out_of_band_stop_racing_on_one_site_end_consistent() {
    require_docker();
    let reaper = PathBuf::from(env!("CARGO_BIN_EXE_fpm-watcher")).with_file_name("fpm-reaper");
    assert!(
        reaper.exists(),
        "{} is not built; run `cargo build --workspace` (scripts/test.sh does)",
        reaper.display()
    );
    let w = Watched::boot_with(
        "race",
        &["site"],
        &[(&reaper, "/usr/bin/fpm-reaper", true)],
        "",
    );
    w.confs.add(&w.site("site"), &fpm_tests::header("1s"));
    let mut c = Containers::default();
    c.run(
        &w.container("site"),
        &["--init"],
        "echo up; exec sleep 3600",
    );
    w.host.ok(&["systemctl", "start", &w.unit("site")]);
    w.start_watcher();
    for round in 0..4u64 {
        std::thread::sleep(Duration::from_millis(1500));
        // The reaper stops the idle site while someone stops it behind systemd's back.
        let out = std::thread::scope(|s| {
            let reaper = s.spawn(|| w.host.exec(&["fpm-reaper", "--format", "json"]));
            std::thread::sleep(Duration::from_millis(round * 15));
            docker(&["stop", "--time", "5", &w.container("site")]);
            reaper.join().unwrap()
        });
        let report = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "round {round}: {report}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        w.expect_state(&w.unit("site"), "inactive", SECOND);
        assert_eq!(container_status(&w.container("site")), "exited");
        // Woken again out of band for the next round; the watcher marks the unit active.
        docker(&["start", &w.container("site")]);
        w.expect_state(&w.unit("site"), "active", SECOND);
    }
    let status = w.host.exec(&["fpm-ondemand", "status"]);
    let table = String::from_utf8_lossy(&status.stdout);
    assert!(table.contains("1 site, 0 inconsistent"), "{table}");
}
