//! `fpm-ondemand site remove SITE` in a real systemd host with nginx and php-fpm containers: it
//! refuses while nginx still sends the site requests or its waker holds some, then removes what is
//! the site's (units disabled and stopped, container, conf, socket folder, the upstream file `site
//! nginx` wrote) and nothing else; `--keep-container` and `--force` do what they say.

use fpm_tests::host::{container_status, repo_root};
use fpm_tests::stack::Stack;
use fpm_tests::{require_docker, wait_until};
use std::path::Path;
use std::time::Duration;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fpm-ondemand"))
}

/// `site remove` with `args`: exit code, stdout, stderr.
fn remove(s: &Stack, args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = vec!["fpm-ondemand", "site", "remove"];
    cmd.extend_from_slice(args);
    let out = s.host.exec(&cmd);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Takes `text` out of the host's nginx vhosts file (nginx not reloaded).
fn drop_from_nginx(s: &Stack, text: &str) {
    let file = s.files().join("nginx.conf");
    let now = std::fs::read_to_string(&file).unwrap();
    assert!(now.contains(text), "{text}\nnot in\n{now}");
    std::fs::write(&file, now.replace(text, "")).unwrap();
}

fn reload_nginx(s: &Stack) {
    s.host.ok(&["nginx", "-t"]);
    s.reload_nginx();
}

fn template(name: &str, site: &str) -> String {
    std::fs::read_to_string(repo_root().join(name))
        .unwrap()
        .replace("SITE", site)
}

#[test]
fn site_remove_waits_for_traffic_to_end_then_removes_only_what_is_the_sites() {
    require_docker();
    let s = Stack::boot("siterm", &["a", "b"], "20m", bin());
    let (a, b) = (s.site("a"), s.site("b"));
    // a's upstream moves to the file the README has `site nginx` write; its vhost stays.
    drop_from_nginx(&s, &template("deploy/nginx/fpm-upstream.conf.template", &a));
    let upstream_file = format!("/etc/nginx/conf.d/fpm-{a}.conf");
    s.host.ok(&[
        "sh",
        "-c",
        &format!("fpm-ondemand site nginx {a} > {upstream_file}"),
    ]);
    reload_nginx(&s);
    assert_eq!(s.get("a", "fast").0, 200);

    let (code, _, err) = remove(&s, &[&a]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("nginx still sends PHP") && err.contains(&format!("fastcgi_pass fpm_{a};")),
        "{err}"
    );
    drop_from_nginx(
        &s,
        &template("tests/fixtures/nginx-fast-vhost.conf.template", &a),
    );
    reload_nginx(&s);
    // Through the generic vhost, which names no site: the waker now holds the site's requests.
    assert_eq!(s.get("a", "test").0, 200);
    let (code, _, err) = remove(&s, &[&a]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("{} runs", s.waker_service("a"))),
        "{err}"
    );
    wait_until(Duration::from_secs(15), "a's waker to exit", || {
        s.host.active_state(&s.waker_service("a")) == "inactive"
    });

    let (code, out, err) = remove(&s, &[&a]);
    assert_eq!(code, Some(0), "{out}{err}");
    for said in [
        "disabled and stopped",
        "stopped (drained)",
        "container     removed",
        "conf          removed",
        "socket folder removed",
        "nginx         removed",
    ] {
        assert!(out.contains(said), "{said}:\n{out}");
    }
    assert_eq!(container_status(&s.container("a")), "missing");
    assert!(!s.confs.path().join(format!("{a}.conf")).exists());
    assert!(!s.sockets.path().join(&a).exists(), "the socket folder");
    let socket = s.waker_socket("a");
    assert_eq!(s.host.active_state(&socket), "inactive");
    let enabled = s.host.exec(&["systemctl", "is-enabled", &socket]);
    assert_eq!(String::from_utf8_lossy(&enabled.stdout).trim(), "disabled");
    assert!(!s
        .host
        .exec(&["test", "-e", &upstream_file])
        .status
        .success());
    s.host.ok(&["nginx", "-t"]);
    let (code, _, err) = remove(&s, &[&a]);
    assert_eq!(code, Some(2), "a second remove: {err}");
    assert!(err.contains("no conf"), "{err}");

    // b, awake and still routed: --force goes ahead, --keep-container keeps its container
    // (stopped), and what b's container put in its folder stays, named.
    assert_eq!(s.get("b", "fast").0, 200);
    assert!(s.in_site("b", "touch /run/php-sock/notes").status.success());
    let (code, out, err) = remove(&s, &[&b, "--keep-container", "--force"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("kept"), "{out}");
    assert_eq!(container_status(&s.container("b")), "exited");
    assert!(!s.confs.path().join(format!("{b}.conf")).exists());
    let folder = s.sockets.path().join(&b);
    assert!(out.contains("left"), "{out}");
    assert!(folder.join("notes").exists() && !folder.join("php-fpm.sock").exists());
    // b's upstream is in the vhosts file, not one `site nginx` wrote: untouched.
    let vhosts = std::fs::read_to_string(s.files().join("nginx.conf")).unwrap();
    assert!(vhosts.contains(&format!("upstream fpm_{b} {{")));
}
