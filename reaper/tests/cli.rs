//! The reaper's command line: exit codes, the lock, `--site`, and errors that say what went wrong.

mod common;

use common::{audit, entry, reaper};
use fpm_tests::names;
use fpm_tests::{header, require_docker, unique, ConfDir, Containers};
use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::process::Command;

#[test]
fn help_documents_flags_and_exit_codes() {
    let run = reaper(&["--help"]);
    assert_eq!(run.code, 0);
    for word in [
        "--dry-run",
        "--format",
        "--conf-dir",
        "--site",
        "--config",
        "--concurrency",
        "--log-file",
        "Exit status",
    ] {
        assert!(
            run.stdout.contains(word),
            "--help lacks {word}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn missing_conf_folder_exits_2_and_says_which() {
    let run = reaper(&["--dry-run", "--conf-dir", "/nonexistent/on-demand"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("/nonexistent/on-demand"),
        "{}",
        run.stderr
    );
}

#[test]
fn unreachable_docker_exits_2_and_says_where() {
    let confs = ConfDir::new();
    confs.add("blog", &header("1m"));
    let config = confs.path().join("config.toml");
    std::fs::write(&config, "docker_socket = \"/nonexistent/docker.sock\"\n").unwrap();
    let run = reaper(&[
        "--dry-run",
        "--config",
        config.to_str().unwrap(),
        "--conf-dir",
        confs.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("/nonexistent/docker.sock"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_config_exits_2_naming_file_and_key() {
    let confs = ConfDir::new();
    let config = confs.path().join("config.toml");
    std::fs::write(&config, "fpm_unit = \"fpm.service\"\n").unwrap();
    let run = reaper(&["--dry-run", "--config", config.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("config.toml") && run.stderr.contains("fpm_unit"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_second_acting_reaper_says_so_and_exits_0() {
    let confs = ConfDir::new();
    let lock = confs.path().join("fpm-reaper/reaper.lock");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(lock.parent().unwrap())
        .unwrap();
    let config = confs.path().join("config.toml");
    std::fs::write(
        &config,
        format!("reaper_lock = {:?}\n", lock.to_str().unwrap()),
    )
    .unwrap();
    let held = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock)
        .unwrap();
    held.lock().unwrap();
    let run = reaper(&[
        "--config",
        config.to_str().unwrap(),
        "--conf-dir",
        confs.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("another reaper holds") && run.stderr.contains("reaper.lock"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "nothing was judged: {}", run.stdout);
}

#[test]
fn an_unprivileged_user_cannot_hold_or_block_the_lock() {
    let top = tempfile::tempdir().unwrap();
    std::fs::set_permissions(top.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let lock = top.path().join("fpm-reaper/lock");
    let confs = ConfDir::new();
    let config = confs.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "reaper_lock = {:?}\ndocker_socket = \"/nonexistent/docker.sock\"\n",
            lock.to_str().unwrap()
        ),
    )
    .unwrap();
    let args = [
        "--config",
        config.to_str().unwrap(),
        "--conf-dir",
        confs.path().to_str().unwrap(),
    ];
    let run = reaper(&args);
    assert!(
        run.stderr.contains("/nonexistent/docker.sock"),
        "{}",
        run.stderr
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().mode() & 0o777;
    assert_eq!(
        (mode(lock.parent().unwrap()), mode(&lock)),
        (0o700, 0o600),
        "the lock is root's alone"
    );
    // What issue #17 did with the old /run/fpm-reaper.lock (0644): `flock -n` as nobody.
    let nobody = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "flock",
            "-n",
        ])
        .arg(&lock)
        .args(["sleep", "5"])
        .output()
        .expect("setpriv and flock (util-linux)");
    assert!(
        !nobody.status.success()
            && String::from_utf8_lossy(&nobody.stderr).contains("Permission denied"),
        "an unprivileged user took the lock: {nobody:?}"
    );
    let run = reaper(&args);
    assert!(
        !run.stderr.contains("another reaper holds"),
        "the run was not blocked: {}",
        run.stderr
    );

    std::fs::set_permissions(
        lock.parent().unwrap(),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let run = reaper(&args);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("fpm-reaper: lock") && run.stderr.contains("mode 755"),
        "a lock folder others can reach is refused, naming it: {}",
        run.stderr
    );
}

#[test]
fn site_filter_limits_the_run_and_reports_unknown_sites() {
    require_docker();
    let p = unique("filter");
    let confs = ConfDir::new();
    let mut c = Containers::default();
    c.run(&names::container(&format!("{p}-a")), &[], "exec sleep 3600");
    confs.add(&format!("{p}-a"), &header("1h"));
    confs.add(&format!("{p}-b"), &header("nonsense"));
    let a = format!("{p}-a");
    let ghost = format!("{p}-ghost");
    let (code, sites, _) = audit(confs.path(), &["--site", &a, "--site", &ghost]);
    assert_eq!(sites.len(), 2, "b is not selected: {sites:#?}");
    assert_eq!(entry(&sites, &a)["decision"], "keep");
    let e = entry(&sites, &ghost);
    assert_eq!(e["decision"], "error");
    assert!(
        e["reason"].as_str().unwrap().contains("no conf for site"),
        "{e}"
    );
    assert_eq!(code, 1);

    let run = reaper(&["--dry-run", "--site", "../etc"]);
    assert_eq!(run.code, 2, "clap rejects a bad site id");
    assert!(run.stderr.contains("../etc"), "{}", run.stderr);
}

#[test]
fn text_report_is_a_table_with_a_summary() {
    require_docker();
    let p = unique("text");
    let confs = ConfDir::new();
    confs.add(&p, &header("20m"));
    let run = reaper(&["--dry-run", "--conf-dir", confs.path().to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].starts_with("SITE")
            && lines[0].contains("DECISION")
            && lines[0].ends_with("REASON"),
        "{}",
        run.stdout
    );
    assert!(
        lines[1].starts_with(&p) && lines[1].contains("missing") && lines[1].contains("skip"),
        "{}",
        run.stdout
    );
    assert_eq!(lines[2], "1 sites: 0 stop, 0 keep, 1 skip, 0 error");
}
