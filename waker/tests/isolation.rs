//! Tenant isolation: root inside a site's container owns its socket folder and may put anything
//! there. Through our tools it reaches its own php-fpm and nothing else: not the host's Docker or
//! D-Bus, not another site. Each test plays the tenant against the real stack (nginx, systemd,
//! the hardened units, the waker as its own user, php-fpm containers).

use fpm_tests::stack::Stack;
use fpm_tests::{require_docker, wait_until};
use std::path::Path;
use std::time::{Duration, Instant};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fpm-waker"))
}

/// Plants `what` at `name` in the site's socket folder, atomically, as its root would.
fn plant(s: &Stack, tag: &str, name: &str, what: &str) {
    let script =
        format!("cd /run/php-sock && rm -rf .x && {what} && rm -rf {name} && mv .x {name}");
    let out = s.in_site(tag, &script);
    assert!(
        out.status.success(),
        "planting {what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn waker_journal(s: &Stack, tag: &str) -> String {
    s.journal(&[&s.waker_service(tag)])
}

/// Restarts the site's php-fpm: at start it replaces whatever sits at its socket path.
fn restart_site(s: &Stack, tag: &str) {
    s.host.ok(&["systemctl", "restart", &s.fpm_unit(tag)]);
    wait_until(Duration::from_secs(10), "php-fpm to listen again", || {
        s.in_site(tag, "test -S /run/php-sock/php-fpm.sock")
            .status
            .success()
    });
}

#[test]
fn a_link_to_the_docker_socket_never_reaches_the_engine() {
    require_docker();
    let s = Stack::boot("tixdock", &["a"], "20m", bin());
    assert_eq!(s.get("a", "test").0, 200);
    plant(&s, "a", "php-fpm.sock", "ln -s /var/run/docker.sock .x");
    // What issue #17 ran from inside the container, through the waker socket: that socket is no
    // longer in the container's folder, nor anywhere it can reach.
    let out = s.in_site(
        "a",
        "curl -s -m 5 --unix-socket /run/php-sock/vhost-waker.sock http://x/version; echo rc=$?",
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        !said.contains("ApiVersion") && said.contains("rc=7"),
        "the tenant reached Docker, or a waker socket: {said}"
    );
    let (code, body) = s.get("a", "test");
    assert_eq!(code, 502, "{body}");
    let (code, body) = s.get("a", "fast");
    assert_eq!(code, 502, "the upstream variant too: {body}");
    let journal = waker_journal(&s, "a");
    assert!(
        journal.contains("is a symlink, not php-fpm's socket: refused")
            && journal.contains(&format!("site={} ", s.site("a"))),
        "the waker says which site and what it found:\n{journal}"
    );
    restart_site(&s, "a");
    let (code, body) = s.get("a", "test");
    assert_eq!(
        code, 200,
        "served again once php-fpm recreated its socket: {body}"
    );
}

#[test]
fn a_link_to_another_site_never_runs_that_site_in_either_nginx_variant() {
    require_docker();
    let s = Stack::boot("tixcross", &["a", "b"], "20m", bin());
    assert_eq!(s.get("a", "test").0, 200);
    assert_eq!(s.get("b", "test").0, 200);
    let b = s.site("b");
    let other = format!("hello from {b}");
    let b_waker = fpm_tests::names::waker_socket_path(&b);
    for (name, target) in [
        ("php-fpm.sock", format!("/run/docker-apps/{b}/php-fpm.sock")),
        ("php-fpm.sock", b_waker.clone()),
        // Where the shell-script host's waker socket was: nothing of ours uses that name now.
        (
            "vhost-waker.sock",
            format!("/run/docker-apps/{b}/php-fpm.sock"),
        ),
    ] {
        plant(&s, "a", name, &format!("ln -s {target} .x"));
        for vhost in ["test", "fast"] {
            let (code, body) = s.get("a", vhost);
            assert!(
                !body.contains(&other),
                "{name} -> {target}: a's {vhost} vhost ran b's code: {code} {body}"
            );
            // A link at the old waker name reaches nothing: a's requests are served as before.
            let expected = if name == "vhost-waker.sock" { 200 } else { 502 };
            assert_eq!(code, expected, "{name} -> {target}, {vhost}: {body}");
        }
        restart_site(&s, "a");
        let (code, body) = s.get("a", "test");
        assert_eq!(
            (code, body.trim()),
            (200, format!("hello from {}", s.site("a")).as_str())
        );
    }
    assert_eq!(s.get("b", "test").0, 200, "b is untouched");
}

#[test]
fn a_file_fifo_or_folder_at_php_fpm_sock_is_refused_at_once() {
    require_docker();
    let s = Stack::boot("tixkinds", &["a"], "20m", bin());
    assert_eq!(s.get("a", "test").0, 200);
    for (make, found) in [
        ("echo x > .x", "a regular file"),
        ("mkfifo .x", "a FIFO"),
        ("mkdir .x", "a folder"),
    ] {
        plant(&s, "a", "php-fpm.sock", make);
        assert_refused_at_once(&s, found);
    }
}

/// The site's next request gets 502 at once and the waker says what it found; then the site is
/// restarted and serves again.
fn assert_refused_at_once(s: &Stack, found: &str) {
    let started = Instant::now();
    let (code, _) = s.get("a", "test");
    assert_eq!(code, 502, "{found}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{found}: refused at once, not after the start timeout ({:?})",
        started.elapsed()
    );
    let journal = waker_journal(s, "a");
    assert!(
        journal.contains(&format!("is {found}, not php-fpm's socket: refused")),
        "{found}:\n{journal}"
    );
    s.in_site("a", "rm -rf /run/php-sock/php-fpm.sock");
    restart_site(s, "a");
    assert_eq!(s.get("a", "test").0, 200, "after {found}");
}

/// Whatever the tenant puts where the shell-script host's waker socket was (a folder, a link to
/// the Docker socket, a hard link of php-fpm's socket), systemd's socket is not in its folder:
/// it restarts, and the site is served through both nginx variants as before.
#[test]
fn nothing_planted_in_the_tenants_folder_reaches_the_waker_socket() {
    require_docker();
    let s = Stack::boot("tixplant", &["a"], "20m", bin());
    let (socket, wake) = (
        s.waker_socket("a"),
        fpm_tests::names::waker_socket_path(&s.site("a")),
    );
    for make in [
        "mkdir .x",
        "ln -s /var/run/docker.sock .x",
        "ln php-fpm.sock .x",
    ] {
        assert_eq!(s.get("a", "test").0, 200, "awake before {make}");
        plant(&s, "a", "vhost-waker.sock", make);
        s.host.ok(&["systemctl", "restart", &socket]);
        assert_eq!(s.host.active_state(&socket), "active", "{make}");
        assert!(s.host.accepts(&wake), "{make}: systemd listens at {wake}");
        for vhost in ["test", "fast"] {
            let (code, body) = s.get("a", vhost);
            assert_eq!(code, 200, "{make}, {vhost}: {body}");
        }
    }
}

/// A host that keeps the shell-script host's vhosts installs the seed-path drop-in: one waker
/// takes both sockets, so a vhost on the seed path is served by the waker that a request on the
/// new path woke; and a hard link of the seed socket planted at php-fpm.sock (the waker would
/// proxy each request into itself, a thousand connections deep) is refused at once.
#[test]
fn the_seed_path_serves_old_vhosts_and_a_hard_link_of_its_socket_is_refused_at_once() {
    require_docker();
    let s = Stack::boot("tixseed", &["a"], "20m", bin());
    let (site, waker) = (s.site("a"), s.waker_service("a"));
    let dropin = s
        .host
        .copy_in(&fpm_tests::host::repo_root().join("deploy/seed-path/seed-path.conf"));
    s.host
        .ok(&["mkdir", "-p", "/etc/systemd/system/fpm-waker@.socket.d"]);
    s.host
        .ok(&["mv", &dropin, "/etc/systemd/system/fpm-waker@.socket.d/"]);
    s.host.ok(&["systemctl", "daemon-reload"]);
    s.host.ok(&["systemctl", "restart", &s.waker_socket("a")]);
    // The site's upstream variant as an old vhost: the seed path alone.
    let nginx = s.files().join("nginx.conf");
    let text = std::fs::read_to_string(&nginx).unwrap();
    let wake = fpm_tests::names::waker_socket_path(&site);
    let old = text
        .replace(
            &format!("server unix:/var/run/docker-apps/{site}/php-fpm.sock max_fails=0;"),
            &format!("server unix:/var/run/docker-apps/{site}/vhost-waker.sock;"),
        )
        .replace(&format!("server unix:{wake} backup max_fails=0;"), "");
    assert_ne!(old, text);
    std::fs::write(&nginx, old).unwrap();
    s.reload_nginx();

    assert_eq!(s.get("a", "test").0, 200, "woken through the new path");
    let pid = || s.host.ok(&["systemctl", "show", "-P", "MainPID", &waker]);
    let first = pid();
    let started = Instant::now();
    let (code, body) = s.get("a", "fast");
    assert_eq!(
        (code, body.trim()),
        (200, format!("hello from {site}").as_str())
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "served by the running waker, not one started after it ({:?})",
        started.elapsed()
    );
    assert_eq!(
        pid(),
        first,
        "the same waker took the seed path's connection"
    );

    plant(&s, "a", "php-fpm.sock", "ln vhost-waker.sock .x");
    assert_refused_at_once(&s, "a socket systemd listens on");
}

#[test]
fn the_waker_runs_as_its_own_user_and_changes_nothing_in_systemd_but_its_sites_start() {
    require_docker();
    let s = Stack::boot("tixuser", &["a"], "20m", bin());
    assert_eq!(s.get("a", "test").0, 200);
    let waker = s.waker_service("a");
    let pid = s
        .host
        .ok(&["systemctl", "show", "-p", "MainPID", "--value", &waker]);
    let who = s.host.ok(&["stat", "-c", "%U %G", &format!("/proc/{pid}")]);
    assert_eq!(
        who.split_whitespace().collect::<Vec<_>>(),
        ["fpm-waker", "www-data"],
        "the running waker"
    );
    // With a link planted anyway: what could the waker's user reach?
    let as_waker = |cmd: &[&str]| {
        let mut args = vec!["runuser", "-u", "fpm-waker", "--"];
        args.extend_from_slice(cmd);
        s.host.exec(&args)
    };
    let docker_api = as_waker(&[
        "curl",
        "-s",
        "-m",
        "5",
        "--unix-socket",
        "/var/run/docker.sock",
        "http://x/version",
    ]);
    assert!(
        !docker_api.status.success()
            && !String::from_utf8_lossy(&docker_api.stdout).contains("ApiVersion"),
        "the waker's user reached Docker: {docker_api:?}"
    );
    let manager = |method: &str, unit: &str| {
        as_waker(&[
            "busctl",
            "call",
            "org.freedesktop.systemd1",
            "/org/freedesktop/systemd1",
            "org.freedesktop.systemd1.Manager",
            method,
            "ss",
            unit,
            "replace",
        ])
    };
    let fpm = s.fpm_unit("a");
    s.host.ok(&["systemctl", "stop", &fpm]);
    for (method, unit) in [
        ("StartUnit", fpm.as_str()),
        ("StopUnit", fpm.as_str()),
        ("RestartUnit", fpm.as_str()),
        ("StartUnit", "nginx.service"),
        ("StopUnit", "nginx.service"),
        ("StartUnit", "fpm-watcher.service"),
    ] {
        let out = manager(method, unit);
        assert!(
            !out.status.success(),
            "the waker's user may {method} {unit}: {out:?}"
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("Access denied")
                || String::from_utf8_lossy(&out.stderr)
                    .contains("Interactive authentication required"),
            "{method} {unit}: {out:?}"
        );
    }
    // Nor with a job mode of its choosing (flush cancels every queued job on the host).
    let flush = as_waker(&[
        "busctl",
        "call",
        "org.freedesktop.systemd1",
        "/org/freedesktop/systemd1",
        "org.freedesktop.systemd1.Manager",
        "StartUnit",
        "ss",
        &fpm,
        "flush",
    ]);
    assert!(!flush.status.success(), "mode flush: {flush:?}");
    assert_eq!(s.host.active_state(&fpm), "inactive", "nothing was started");
    // Its one way to have something started: its site, through the start socket.
    let ask = |user: &str, line: &str| {
        let script = format!(
            "printf '%s\\n' '{line}' | socat -t 30 - UNIX-CONNECT:/run/fpm-ondemand/start.sock"
        );
        s.host
            .exec(&["runuser", "-u", user, "--", "sh", "-c", &script])
    };
    let out = ask("fpm-waker", &s.site("a"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n", "{out:?}");
    assert_eq!(s.host.active_state(&fpm), "active");
    // A name with no conf (a retired site, another unit's name) is refused; nothing starts.
    for line in ["retired", "fpm-watcher.service", "../a"] {
        let out = ask("fpm-waker", line);
        let answer = String::from_utf8_lossy(&out.stdout);
        assert!(answer.starts_with("refused: "), "{line}: {out:?}");
    }
    assert_eq!(s.host.active_state("fpm@retired.service"), "inactive");
    // Nobody else may ask.
    let out = ask("nobody", &s.site("a"));
    assert!(out.stdout.is_empty() && !out.status.success(), "{out:?}");
}

#[test]
fn a_php_fpm_that_never_answers_does_not_keep_the_waker_alive() {
    require_docker();
    let s = Stack::boot("tixhang", &["a"], "20m", bin());
    let waker = s.waker_service("a");
    // nginx gives up after 2 s (the visitor left); php would run for 10 minutes.
    let (code, _) = s.fetch("a", "test", "/count.php?id=hang&ms=600000", &["-m", "2"]);
    assert_eq!(code, 0, "curl gave up");
    // The idle timeout in the test host is 3 s.
    wait_until(
        Duration::from_secs(15),
        "the waker to exit when idle",
        || s.host.active_state(&waker) == "inactive",
    );
}

#[test]
fn the_socket_folder_and_php_fpm_sock_are_closed_to_other_users() {
    require_docker();
    let s = Stack::boot("tixmode", &["a"], "20m", bin());
    assert_eq!(s.get("a", "test").0, 200);
    let dir = format!("/run/docker-apps/{}", s.site("a"));
    let stat = |p: &str| s.host.ok(&["stat", "-c", "%a %U %G", p]);
    assert_eq!(stat(&dir), "750 root www-data");
    assert_eq!(
        stat(&format!("{dir}/php-fpm.sock")),
        "660 www-data www-data"
    );
    let wake = fpm_tests::names::waker_socket_path(&s.site("a"));
    assert_eq!(stat(&wake), "660 root www-data");
    assert_eq!(stat("/run/fpm-ondemand/wake"), "750 root www-data");
    assert_eq!(
        s.host.ok(&["ls", "-A", &dir]),
        "php-fpm.sock",
        "the tenant's folder holds php-fpm's socket and nothing of systemd's"
    );
    let nobody = s.host.exec(&[
        "runuser",
        "-u",
        "nobody",
        "--",
        "cgi-fcgi",
        "-bind",
        "-connect",
        &format!("{dir}/php-fpm.sock"),
    ]);
    assert!(
        !String::from_utf8_lossy(&nobody.stdout).contains("hello from"),
        "a local user ran the site's php: {nobody:?}"
    );
    // The topmost mount at the path is the one every lookup goes through.
    let mounts = s
        .host
        .ok(&["findmnt", "-n", "-o", "OPTIONS", "/run/docker-apps"]);
    let top = mounts.lines().last().unwrap_or_default();
    assert!(top.contains("nosymfollow"), "{mounts}");
}
