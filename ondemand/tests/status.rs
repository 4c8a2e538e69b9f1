//! `fpm-ondemand status` and `renew` in a real systemd host against the real Docker engine:
//! what they say of a site left inconsistent, and the repair; `site list` beside them.

use fpm_tests::names;
use fpm_tests::watched::Watched;
use fpm_tests::{docker, require_docker, Containers};
use std::os::unix::net::UnixListener;

#[test]
fn status_names_inconsistencies_and_renew_repairs_a_site() {
    require_docker();
    let w = Watched::boot("renew", &["a"]);
    let mut c = Containers::default();
    c.run(&w.container("a"), &["--init"], "exec sleep 3600");
    let stale = w.socket_dir("a").join("php-fpm.sock");
    drop(UnixListener::bind(&stale).unwrap());
    docker(&["stop", "--time", "5", &w.container("a")]);
    // No watcher runs: the container is stopped, the stale socket stays, the waker socket is off.
    let status = w.host.exec(&["fpm-ondemand", "status"]);
    let table = String::from_utf8_lossy(&status.stdout);
    assert_eq!(status.status.code(), Some(1), "{table}");
    let row = table.lines().find(|l| l.starts_with(&w.site("a"))).unwrap();
    assert!(
        row.contains("stopped") && row.contains("stale") && row.contains("re-arm the waker socket"),
        "{table}"
    );

    let renew = w.host.exec(&["fpm-ondemand", "renew", &w.site("a")]);
    let out = String::from_utf8_lossy(&renew.stdout);
    assert_eq!(
        renew.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&renew.stderr)
    );
    assert!(
        out.contains("remove stale")
            && out.contains(&format!("start {}", names::waker_socket(&w.site("a")))),
        "{out}"
    );
    assert!(!stale.exists(), "stale socket removed");
    assert_eq!(
        w.host.active_state(&names::waker_socket(&w.site("a"))),
        "active"
    );
    // The socket is there again (no connection: this host has no waker to start).
    let socket = names::waker_socket_path(&w.site("a"));
    assert!(
        w.host.exec(&["test", "-S", &socket]).status.success(),
        "systemd listens again at {socket}"
    );
    let status = w.host.exec(&["fpm-ondemand", "status"]);
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );

    // One site as JSON, its container started behind systemd's back (no watcher runs).
    docker(&["start", &w.container("a")]);
    let out = w
        .host
        .exec(&["fpm-ondemand", "status", "--format", "json", &w.site("a")]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(doc["version"], 1);
    let sites = doc["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 1, "{doc}");
    let a = &sites[0];
    assert_eq!(a["site"], w.site("a"));
    assert_eq!(a["container"], "running");
    let started = docker(&[
        "inspect",
        "--format",
        "{{.State.StartedAt}}",
        &w.container("a"),
    ]);
    let started: chrono::DateTime<chrono::Utc> = started.trim().parse().unwrap();
    let since: chrono::DateTime<chrono::Utc> = a["awake_since"].as_str().unwrap().parse().unwrap();
    assert_eq!(since, started, "{doc}");
    assert!(a["idle_secs"].as_u64().unwrap() < 60, "{doc}");
    assert_eq!(
        a["inconsistent"],
        serde_json::json!(["mark fpm unit active: container runs"]),
        "{doc}"
    );
    // `site list` reads the same conf folder: the one site, its window.
    let list = w.host.ok(&["fpm-ondemand", "site", "list"]);
    let row = list.lines().find(|l| l.starts_with(&w.site("a"))).unwrap();
    assert!(row.contains(" 1h ") && row.ends_with(".conf"), "{list}");
    let unknown = w.host.exec(&["fpm-ondemand", "status", "no-such-site"]);
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert_eq!(unknown.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no-such-site is not a managed site: no conf for it in"),
        "{err}"
    );
}
