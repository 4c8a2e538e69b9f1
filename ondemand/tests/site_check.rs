//! `fpm-ondemand site check SITE` in a real systemd host with nginx, against real containers: a site
//! whose chain holds passes every check (exit 0), and sites each broken in one way fail exactly
//! that check (exit 1) with the fix to run. The containers are never started: every check but
//! php-fpm.sock reads how they are set up, and the socket check reads the host's socket folder.

use fpm_tests::host::repo_root;
use fpm_tests::stack::Stack;
use fpm_tests::{docker, images, require_docker, TEST_LABEL};
use std::os::unix::net::UnixListener;
use std::path::Path;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fpm-ondemand"))
}

const SITES: [&str; 10] = [
    "good",
    "conf",
    "gone",
    "nomount",
    "sigterm",
    "nolog",
    "unbounded",
    "always",
    "nowaker",
    "stale",
];

/// `site check` of the site of `tag`: its exit code, and the names of the checks that failed.
fn check(s: &Stack, tag: &str) -> (Option<i32>, Vec<String>, String) {
    let out = s
        .host
        .exec(&["fpm-ondemand", "site", "check", &s.site(tag)]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let failed = text
        .lines()
        .filter_map(|l| l.strip_prefix("FAIL  "))
        .map(|l| l[..14].trim().to_owned())
        .collect();
    (out.status.code(), failed, text)
}

/// `site check` of the site of `tag` fails its nginx check alone, and says `says`.
fn nginx_alone_fails(s: &Stack, tag: &str, says: &str) {
    let (code, failed, text) = check(s, tag);
    assert_eq!(
        (code, failed),
        (Some(1), vec!["nginx".to_owned()]),
        "{text}"
    );
    assert!(text.contains(says), "{text}");
}

/// Replaces the site's container with one made by `docker create` with `options` (a busybox
/// that sleeps; never started).
fn recreate(s: &mut Stack, tag: &str, options: &[&str]) {
    let name = s.container(tag);
    docker(&["rm", "-f", &name]);
    let mut args = vec!["create", "--name", &name, "--label", TEST_LABEL];
    args.extend_from_slice(options);
    args.extend_from_slice(&[images::busybox(), "sleep", "3600"]);
    docker(&args);
    s.containers.track(&name);
}

#[test]
fn site_check_passes_a_whole_chain_and_fails_each_broken_link_alone() {
    require_docker();
    let mut s = Stack::boot("sitecheck", &SITES, "20m", bin());
    for tag in SITES {
        // Set up as a host would: the socket folder mounted from its host path, SIGQUIT, a
        // bounded json-file log; each broken site lacks one of these, or restarts by itself.
        let folder = format!("/run/docker-apps/{}:/run/php", s.site(tag));
        let (mount, signal, log) = (
            vec!["-v", folder.as_str()],
            vec!["--stop-signal", "SIGQUIT"],
            vec!["--log-driver", "json-file", "--log-opt", "max-size=1m"],
        );
        let options: Vec<&str> = match tag {
            "nomount" => [signal, log].concat(),
            "sigterm" => [mount, log].concat(),
            "nolog" => [mount, signal, vec!["--log-driver", "none"]].concat(),
            "unbounded" => [mount, signal, vec!["--log-driver", "json-file"]].concat(),
            "always" => [mount, signal, log, vec!["--restart", "always"]].concat(),
            _ => [mount, signal, log].concat(),
        };
        recreate(&mut s, tag, &options);
        let socket = s.waker_socket(tag);
        if tag == "nowaker" {
            s.host.ok(&["systemctl", "disable", "--now", &socket]);
        } else {
            s.host.ok(&["systemctl", "enable", &socket]);
        }
    }
    docker(&["rm", "-f", &s.container("gone")]);
    std::fs::write(
        s.confs.path().join(format!("{}.conf", s.site("conf"))),
        "# no colon here\n",
    )
    .unwrap();
    drop(UnixListener::bind(s.sockets.path().join(s.site("stale")).join("php-fpm.sock")).unwrap());

    let (code, failed, text) = check(&s, "good");
    assert_eq!((code, failed.len()), (Some(0), 0), "{text}");
    assert!(text.contains("every check passed"), "{text}");
    for (tag, want) in [
        ("conf", "conf"),
        ("gone", "container"),
        ("nomount", "socket folder"),
        ("sigterm", "stop signal"),
        ("nolog", "logs"),
        ("unbounded", "logs"),
        ("always", "restart"),
        ("nowaker", "waker socket"),
        ("stale", "php-fpm.sock"),
    ] {
        let (code, failed, text) = check(&s, tag);
        assert_eq!(code, Some(1), "{tag}: {text}");
        assert_eq!(failed, [want], "{tag}: {text}");
        assert!(text.contains("fix: "), "{tag}: {text}");
    }

    // The good site's upstream lets nginx mark its waker socket down (the backup without
    // max_fails=0, as the template had it): only the nginx check fails, and says which line.
    let nginx = s.files().join("nginx.conf");
    let routed = std::fs::read_to_string(&nginx).unwrap();
    let good = s.site("good");
    let wake = fpm_tests::names::waker_socket_path(&good);
    let waker_line = format!("{wake} backup max_fails=0;");
    assert!(routed.contains(&waker_line), "{routed}");
    std::fs::write(
        &nginx,
        routed.replace(&waker_line, &format!("{wake} backup;")),
    )
    .unwrap();
    nginx_alone_fails(
        &s,
        "good",
        &format!("upstream fpm_{good}: server unix:{wake} has max_fails=1"),
    );

    // Its upstream sends to the shell-script host's waker path, in the site's folder: nothing
    // listens there, and site check says so.
    let seed = format!("/var/run/docker-apps/{good}/vhost-waker.sock");
    std::fs::write(&nginx, routed.replace(&wake, &seed)).unwrap();
    nginx_alone_fails(&s, "good", "where nothing listens");
    // With the seed-path drop-in, systemd listens there too: the check passes, and names the risk.
    let dropin = s
        .host
        .copy_in(&repo_root().join("deploy/seed-path/seed-path.conf"));
    s.host
        .ok(&["mkdir", "-p", "/etc/systemd/system/fpm-waker@.socket.d"]);
    s.host
        .ok(&["mv", &dropin, "/etc/systemd/system/fpm-waker@.socket.d/"]);
    s.host.ok(&["systemctl", "daemon-reload"]);
    s.host
        .ok(&["systemctl", "restart", &s.waker_socket("good")]);
    assert!(s.host.accepts(&seed), "systemd listens at {seed}");
    let (code, failed, text) = check(&s, "good");
    assert_eq!((code, failed.len()), (Some(0), 0), "{text}");
    assert!(text.contains("tenant's folder"), "{text}");

    // nginx no longer routes anything to the good site: only that check fails.
    std::fs::write(s.files().join("nginx.conf"), "# nothing\n").unwrap();
    nginx_alone_fails(
        &s,
        "good",
        &format!("fix: fpm-ondemand site nginx {}", s.site("good")),
    );

    for tag in SITES {
        let _ = std::fs::remove_dir(format!("/run/docker-apps/{}", s.site(tag)));
    }
}

/// `site add` onboards a site in one command: conf, container (from an image, with what the
/// chain needs), waker socket enabled and listening, the nginx block; `site check` then passes.
/// A second `site add` of the same site changes nothing and says why.
#[test]
fn site_add_onboards_a_site_that_site_check_passes() {
    require_docker();
    let mut s = Stack::boot("siteadd", &[], "20m", bin());
    let site = format!("{}-new", s.prefix);
    let container = format!("{site}.fpm");
    s.containers.track(&container);
    let add = [
        "fpm-ondemand",
        "site",
        "add",
        &site,
        "--window",
        "5m",
        "--image",
        images::busybox(),
        // busybox has no php-fpm: nothing to override (the images with one: any_image.rs).
        "--no-pool-override",
        "--",
        "sleep",
        "3600",
    ];
    let out = s.host.exec(&add);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(&format!("upstream fpm_{site} {{")), "{text}");
    assert!(
        text.contains(&format!("next: fpm-ondemand site check {site}")),
        "{text}"
    );

    let conf = std::fs::read_to_string(s.confs.path().join(format!("{site}.conf"))).unwrap();
    assert_eq!(conf, "# Amount of time to pause the container after: 5m\n");
    let inspect = |format: &str| docker(&["inspect", "--format", format, &container]);
    assert_eq!(inspect("{{.Config.StopSignal}}").trim(), "SIGQUIT");
    assert_eq!(
        inspect("{{.HostConfig.LogConfig.Type}}").trim(),
        "json-file"
    );
    assert_eq!(
        inspect("{{json .HostConfig.LogConfig.Config}}").trim(),
        r#"{"max-file":"3","max-size":"10m"}"#
    );
    assert_eq!(inspect("{{.HostConfig.RestartPolicy.Name}}").trim(), "no");
    assert_eq!(
        inspect("{{json .HostConfig.Binds}}").trim(),
        format!("[\"/var/run/docker-apps/{site}:/run/php\"]")
    );
    assert_eq!(
        inspect("{{json .Config.Cmd}}").trim(),
        "[\"sleep\",\"3600\"]"
    );
    let socket = format!("fpm-waker@{site}.socket");
    assert_eq!(
        s.host.ok(&["systemctl", "is-enabled", &socket]).trim(),
        "enabled"
    );
    assert_eq!(s.host.active_state(&socket), "active");

    let (code, failed, text) = {
        let out = s.host.exec(&["fpm-ondemand", "site", "check", &site]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let failed: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with("FAIL"))
            .map(str::to_owned)
            .collect();
        (out.status.code(), failed, text)
    };
    assert_eq!((code, failed.len()), (Some(0), 0), "{text}");

    let again = s.host.exec(&add);
    let err = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("{site}.conf exists: {site} is a site already")),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(s.confs.path().join(format!("{site}.conf"))).unwrap(),
        conf,
        "the conf is untouched"
    );
    let _ = std::fs::remove_dir(format!("/run/docker-apps/{site}"));
}

/// `site check` connects to a live php-fpm.sock as nginx's user and the waker's would, not as
/// root: a pool whose socket has Alpine's www-data ids (82:82, 0660) fails with those ids and
/// the pool setting to change, while nginx indeed answers 502; the stack's pool (www-data) passes.
#[test]
fn site_check_connects_to_php_fpm_as_nginx_and_the_waker_would() {
    require_docker();
    let mut s = Stack::boot("sitereach", &["www", "alpine"], "20m", bin());
    let f = s.files().to_owned();
    let pool = std::fs::read_to_string(f.join("pool.conf")).unwrap();
    let alpine = pool
        .replace("listen.owner = www-data", "listen.owner = 82")
        .replace("listen.group = www-data", "listen.group = 82");
    assert_ne!(alpine, pool);
    std::fs::write(f.join("pool82.conf"), alpine).unwrap();
    let name = s.container("alpine");
    docker(&["rm", "-f", &name]);
    let folder = s.sockets.path().join(s.site("alpine"));
    let bind = |outer: &Path, inner: &str| format!("{}:{inner}", outer.display());
    docker(&[
        "create",
        "--name",
        &name,
        "--label",
        TEST_LABEL,
        "--stop-signal",
        "SIGQUIT",
        "--log-opt",
        "max-size=10m",
        "-v",
        &bind(&folder, "/run/php-sock"),
        "-v",
        &bind(&f.join("pool82.conf"), "/etc/php-site.conf:ro"),
        "-v",
        &bind(&f.join("www"), "/var/www:ro"),
        images::host(),
        "php-fpm",
        "-F",
        "-y",
        "/etc/php-site.conf",
    ]);
    s.containers.track(&name);

    let php_fpm_line = |tag: &str| {
        s.host.ok(&["systemctl", "start", &s.fpm_unit(tag)]);
        let socket = format!("/run/docker-apps/{}/php-fpm.sock", s.site(tag));
        fpm_tests::wait_until(
            std::time::Duration::from_secs(10),
            "php-fpm to listen",
            || s.host.exec(&["test", "-S", &socket]).status.success(),
        );
        let (_, _, text) = check(&s, tag);
        text.lines()
            .skip_while(|l| !l.contains("php-fpm.sock "))
            .take(2)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let www = php_fpm_line("www");
    assert!(
        www.starts_with("ok    php-fpm.sock")
            && www.contains("nginx (www-data) and the waker (fpm-waker) may connect"),
        "{www}"
    );
    let line = php_fpm_line("alpine");
    assert!(
        line.starts_with("FAIL  php-fpm.sock")
            && line.contains("nginx (www-data) (33:33) may not connect")
            && line.contains("the socket is 82:82, mode 0660"),
        "{line}"
    );
    assert!(
        line.contains("listen.group = 33, listen.mode = 0660"),
        "{line}"
    );
    // What nginx meets: the waker, which it falls back to, may not connect either, and says so
    // within a second or so instead of waiting out its start timeout.
    let asked = std::time::Instant::now();
    assert_eq!(s.get("alpine", "fast").0, 502, "what nginx meets");
    assert!(
        asked.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
    let journal = s.journal(&[&s.waker_service("alpine")]);
    assert!(
        journal.contains("does not let the waker's user connect (permission denied)"),
        "{journal}"
    );
}
