//! The paths and unit names the tools take from `Layout` are the ones the shipped files use:
//! the units, tmpfiles.d, the start socket and the nginx snippets. The config cannot change them
//! (`FIXED_KEYS`), so this is what keeps the two from drifting apart.

use fpm_shared::layout::FIXED_KEYS;
use fpm_shared::{Layout, Site};
use fpm_tests::host::repo_root;
use std::path::Path;

fn read(file: &str) -> String {
    std::fs::read_to_string(repo_root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// `/var/run` is a link to `/run` on every systemd host; the files use either.
fn run_path(p: &Path) -> String {
    let s = p.to_str().unwrap();
    s.strip_prefix("/var").unwrap_or(s).to_owned()
}

/// The default layout and a site whose id is a marker: site ids cannot hold the `%i` or
/// `$fpm_site` the files use, so names are made with the marker and [`filled`] swaps it.
fn names() -> (Layout, Site) {
    (Layout::default(), Site::new("SITEMARK").unwrap())
}

/// Fails unless the repository file `file` has a line that is exactly `want`.
fn assert_line(file: &str, want: &str) {
    let text = read(file);
    assert!(
        text.lines().any(|line| line == want),
        "{file} must have the line {want}:\n{text}"
    );
}

fn filled(text: String, id: &str) -> String {
    text.replace("SITEMARK", id)
}

#[test]
fn unit_files_are_named_as_the_layout_names_units() {
    let (l, s) = names();
    for (unit, dir) in [
        (l.fpm_unit(&s), "deploy/systemd"),
        (l.waker_socket_unit(&s), "deploy/systemd"),
        (l.waker_service_unit(&s), "deploy/systemd"),
    ] {
        let file = filled(unit.to_string(), "");
        assert!(
            repo_root().join(dir).join(&file).exists(),
            "{dir}/{file} is the unit Layout names"
        );
    }
}

#[test]
fn the_socket_unit_listens_where_the_layout_puts_the_waker_socket() {
    let (l, s) = names();
    let want = filled(run_path(&l.waker_socket_path(&s)), "%i");
    assert_line(
        "deploy/systemd/fpm-waker@.socket",
        &format!("ListenStream={want}"),
    );
}

#[test]
fn the_waker_sockets_folder_is_roots_and_the_seed_path_drop_in_names_the_seed_path() {
    let (l, s) = names();
    let wake = l.waker_socket_path(&s);
    let folder = run_path(wake.parent().unwrap());
    assert_line(
        "deploy/tmpfiles.d/fpm-ondemand.conf",
        &format!("d {folder} 0750 root www-data -"),
    );
    let folders = read("deploy/systemd/fpm-socket-folders.service");
    assert!(
        folders.contains(&format!(
            "--prefix={}",
            run_path(Path::new(&folder).parent().unwrap())
        )),
        "fpm-socket-folders.service must make {folder} before any waker socket binds:\n{folders}"
    );
    assert!(
        !wake.starts_with(run_path(l.socket_dir(&s).parent().unwrap())),
        "the waker socket must not be in the folder tree mounted into containers"
    );
    let seed = filled(run_path(&l.seed_waker_socket_path(&s)), "%i");
    assert_line(
        "deploy/seed-path/seed-path.conf",
        &format!("ListenStream={seed}"),
    );
}

#[test]
fn socket_folders_are_made_mounted_and_writable_where_the_layout_puts_them() {
    let (l, s) = names();
    let root = run_path(l.socket_dir(&s).parent().unwrap());
    let tmpfiles = read("deploy/tmpfiles.d/fpm-ondemand.conf");
    assert!(
        tmpfiles.contains(&format!("d {root} ")) && tmpfiles.contains(&format!("z {root}/* ")),
        "tmpfiles.d must make {root} and its folders:\n{tmpfiles}"
    );
    let folders = read("deploy/systemd/fpm-socket-folders.service");
    assert!(
        folders.contains(&format!("nosymfollow {root}")),
        "fpm-socket-folders.service must mount {root}:\n{folders}"
    );
    let watcher = read("deploy/systemd/fpm-watcher.service");
    assert!(
        watcher.contains(&format!("ReadWritePaths=-{root}")),
        "the watcher removes stale sockets in {root}:\n{watcher}"
    );
}

#[test]
fn nginx_reaches_the_sockets_the_layout_names() {
    let (l, s) = names();
    let snippet = read("deploy/nginx/fpm-waker.conf");
    let waker = filled(l.waker_socket_path(&s).display().to_string(), "$fpm_site");
    assert!(
        snippet.contains(&format!("fastcgi_pass unix:{waker};")),
        "fpm-waker.conf must pass to {waker}:\n{snippet}"
    );
    let upstream = read("deploy/nginx/fpm-upstream.conf.template");
    for path in [l.fpm_socket_path(&s), l.waker_socket_path(&s)] {
        let path = filled(path.display().to_string(), "SITE");
        assert!(
            upstream.contains(&format!("server unix:{path}")),
            "fpm-upstream.conf.template must name {path}:\n{upstream}"
        );
    }
}

#[test]
fn site_check_connects_as_the_user_the_waker_unit_runs_as() {
    let (user, group) = fpm_shared::layout::WAKER_USER;
    assert_line("deploy/systemd/fpm-waker@.service", &format!("User={user}"));
    assert_line(
        "deploy/systemd/fpm-waker@.service",
        &format!("Group={group}"),
    );
}

#[test]
fn the_start_socket_is_where_the_waker_asks() {
    let l = Layout::default();
    assert_line(
        "deploy/systemd/fpm-start.socket",
        &format!("ListenStream={}", l.start_socket.display()),
    );
    assert_line("deploy/systemd/fpm-start.socket", "SocketUser=fpm-waker");
    assert_line(
        "deploy/systemd/fpm-start.service",
        "ExecStart=/usr/bin/fpm-watcher start-site",
    );
}

#[test]
fn the_watchers_events_socket_is_where_the_waker_and_reaper_send() {
    let l = Layout::default();
    assert_line(
        "deploy/systemd/fpm-watcher.socket",
        &format!("ListenDatagram={}", run_path(&l.events_socket)),
    );
    // The names the watcher looks for among the sockets systemd passes.
    assert_line(
        "deploy/systemd/fpm-watcher.socket",
        "FileDescriptorName=events",
    );
    assert_line(
        "deploy/systemd/fpm-watcher-metrics.socket",
        "FileDescriptorName=metrics",
    );
    assert_line(
        "deploy/systemd/fpm-watcher-admission.socket",
        "FileDescriptorName=admission",
    );
    assert_line(
        "deploy/systemd/fpm-watcher-admission.socket",
        &format!("ListenStream={}", run_path(&l.admission_socket)),
    );
    assert_line(
        "deploy/systemd/fpm-watcher.service",
        "Sockets=fpm-watcher.socket fpm-watcher-metrics.socket fpm-watcher-admission.socket",
    );
}

#[test]
fn the_reaper_unit_makes_the_lock_folder() {
    let l = Layout::default();
    let folder = l.reaper_lock.parent().unwrap();
    assert_eq!(
        folder.parent(),
        Some(Path::new("/run")),
        "RuntimeDirectory= makes folders in /run"
    );
    let name = folder.file_name().unwrap().to_str().unwrap();
    assert_line(
        "deploy/systemd/fpm-reaper.service",
        &format!("RuntimeDirectory={name}"),
    );
}

#[test]
fn a_config_cannot_move_what_the_shipped_files_name() {
    for key in FIXED_KEYS {
        let err = Layout::from_toml(
            &format!("{key} = \"/elsewhere/{{site}}\"\n"),
            Path::new("/etc/fpm-ondemand/config.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains(key) && err.contains("config.toml"), "{err}");
    }
}

/// The packaged `/etc/fpm-ondemand/config.toml` shows every key the config may set, each at its
/// default: uncommented, it parses to the default layout, and it names no fixed key.
#[test]
fn the_packaged_config_shows_every_settable_key_at_its_default() {
    let file = "deploy/debian/config.toml";
    let text = read(file);
    let uncommented: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| l.contains(" = ") || l.starts_with('['))
        .map(|l| format!("{l}\n"))
        .collect();
    let parsed = Layout::from_toml(&uncommented, Path::new(file))
        .unwrap_or_else(|e| panic!("{file} uncommented:\n{uncommented}\n{e}"));
    assert_eq!(parsed, Layout::default(), "{file} shows the defaults");
    let keys: Vec<&str> = uncommented
        .lines()
        .filter_map(|l| l.split(" = ").next())
        .collect();
    // What the config may set: the layout's fields that serialize (the fixed ones are skipped).
    let settable = toml::to_string(&Layout::default()).unwrap();
    let settable: Vec<&str> = settable
        .lines()
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split(" = ").next())
        .collect();
    assert_eq!(
        keys, settable,
        "{file} shows each settable key once, in order"
    );
    for key in FIXED_KEYS {
        assert!(!keys.contains(&key), "{file} sets the fixed key {key}");
    }
}

/// The budget's check of `wait_secs` and the README's longest wait count on fpm@'s start
/// timeout; nginx's read timeout in the shipped snippets outlasts the longest wake, so that a
/// held request ends with the waker's answer, not nginx's 504.
#[test]
fn the_shipped_timeouts_fit_the_longest_wake() {
    use fpm_shared::budget::{FPM_START_TIMEOUT, LONGEST_WAKE};
    assert_line(
        "deploy/systemd/fpm@.service",
        &format!("TimeoutStartSec={}", FPM_START_TIMEOUT.as_secs()),
    );
    for file in [
        "deploy/nginx/fpm-waker.conf",
        "deploy/nginx/fpm-upstream.conf.template",
    ] {
        let text = read(file);
        let secs: Vec<u64> = text
            .lines()
            .filter_map(|l| {
                l.trim_start_matches([' ', '#'])
                    .strip_prefix("fastcgi_read_timeout ")
            })
            .filter_map(|v| v.trim_end_matches(';').strip_suffix('s')?.parse().ok())
            .collect();
        assert_eq!(
            secs.len(),
            1,
            "{file} sets fastcgi_read_timeout once:\n{text}"
        );
        assert!(
            secs[0] > LONGEST_WAKE.as_secs(),
            "{file}: fastcgi_read_timeout {}s must outlast the longest wake ({:?})",
            secs[0],
            LONGEST_WAKE
        );
    }
}
