//! The conf folder as people and other tools leave it: every odd entry is reported for its own
//! file, nothing blocks, and the ordinary sites beside them are still judged.

mod common;

use common::{run_within, Run};
use fpm_tests::names;
use fpm_tests::{header, require_docker, unique, ConfDir, Containers};
use serde_json::Value;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Runs a dry audit of `dir` without CAP_DAC_OVERRIDE (so that root, too, meets a file it may not
/// read), within `limit`: a blocked reaper fails the test.
fn audit_within(dir: &Path, extra: &[&str], limit: Duration) -> (Run, Vec<Value>) {
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--inh-caps=-all",
        "--bounding-set=-dac_override,-dac_read_search",
        "--",
        env!("CARGO_BIN_EXE_fpm-reaper"),
        "--dry-run",
        "--format",
        "json",
        "--conf-dir",
    ])
    .arg(dir)
    .args(extra);
    let run = run_within(cmd, limit);
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", run.stdout, run.stderr));
    let sites = report["sites"].as_array().unwrap().clone();
    (run, sites)
}

/// The report entry of the conf at `path`.
fn of<'a>(sites: &'a [Value], path: &Path) -> &'a Value {
    let shown = path.display().to_string();
    sites
        .iter()
        .find(|e| e["conf"] == shown.as_str())
        .unwrap_or_else(|| panic!("no entry for {shown} in {sites:#?}"))
}

/// Asserts an entry is an error whose reason names its file and says `why`.
fn refused(sites: &[Value], path: &Path, why: &str) {
    let e = of(sites, path);
    let reason = e["reason"].as_str().unwrap();
    assert_eq!(e["decision"], "error", "{e}");
    assert!(
        reason.contains(&path.display().to_string()) && reason.contains(why),
        "{path:?}: expected {why:?} in {e}"
    );
}

#[test]
fn odd_conf_entries_are_reported_one_by_one_and_never_block() {
    require_docker();
    let p = unique("odd");
    let confs = ConfDir::new();
    let d = confs.path();
    let mut c = Containers::default();
    // Two ordinary idle sites: one with a conf file, one through a symlink (the sites-enabled habit).
    c.run(
        &names::container(&format!("{p}-plain")),
        &[],
        "echo up; exec sleep 3600",
    );
    let plain = confs.add(&format!("{p}-plain"), &header("1s"));
    c.run(
        &names::container(&format!("{p}-linked")),
        &[],
        "echo up; exec sleep 3600",
    );
    let available = tempfile::tempdir().unwrap();
    let real = available.path().join("linked.conf");
    std::fs::write(&real, header("1s")).unwrap();
    let linked = d.join(format!("{p}-linked.conf"));
    std::os::unix::fs::symlink(&real, &linked).unwrap();

    let dangling = d.join(format!("{p}-dangling.conf"));
    std::os::unix::fs::symlink(available.path().join("gone.conf"), &dangling).unwrap();
    let fifo = d.join(format!("{p}-fifo.conf"));
    mk(&["mkfifo", fifo.to_str().unwrap()]);
    let device = d.join(format!("{p}-device.conf"));
    mk(&["mknod", device.to_str().unwrap(), "c", "1", "3"]);
    // 1 GiB (sparse) after a good header: only line 1 is read.
    let huge = confs.add(&format!("{p}-huge"), &header("45s"));
    std::fs::OpenOptions::new()
        .append(true)
        .open(&huge)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let locked = confs.add(&format!("{p}-locked"), &header("1s"));
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    let mut name = format!("{p}-caf").into_bytes();
    name.extend_from_slice(b"\xe9.conf");
    let latin1: PathBuf = d.join(OsStr::from_bytes(&name));
    std::fs::write(&latin1, header("1s")).unwrap();
    let empty = confs.add(&format!("{p}-empty"), "");
    let newline = confs.add(&format!("{p}-newline"), "\n");
    let binary = d.join(format!("{p}-binary.conf"));
    std::fs::write(&binary, b"\x00\xff\xfe: 5m\n").unwrap();
    // A conf linked to a secret (as /etc/shadow would be): refused without echoing its text.
    let secret_dir = tempfile::tempdir().unwrap();
    let shadow = secret_dir.path().join("shadow");
    std::fs::write(&shadow, "root:$y$j9T$SECRETHASH:19000:0:99999:7:::\n").unwrap();
    let leak = d.join(format!("{p}-leak.conf"));
    std::os::unix::fs::symlink(&shadow, &leak).unwrap();
    // A conf anyone may rewrite: its window is not the operator's.
    let writable = confs.add(&format!("{p}-writable"), &header("1s"));
    std::fs::set_permissions(
        &writable,
        std::os::unix::fs::PermissionsExt::from_mode(0o666),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));

    let (run, sites) = audit_within(d, &[], Duration::from_secs(20));
    assert_eq!(
        run.code, 1,
        "broken confs make the run exit 1\n{}",
        run.stderr
    );
    assert_eq!(sites.len(), 13, "{sites:#?}");
    for path in [&plain, &linked] {
        let e = of(&sites, path);
        assert_eq!(
            (e["container"].as_str(), e["decision"].as_str()),
            (Some("running"), Some("stop")),
            "still judged beside the broken ones: {e}"
        );
    }
    assert_eq!(of(&sites, &linked)["site"], format!("{p}-linked").as_str());
    let e = of(&sites, &huge);
    assert_eq!(
        (e["window_secs"].as_u64(), e["container"].as_str()),
        (Some(45), Some("missing")),
        "a 1 GiB conf is read by its first line: {e}"
    );
    refused(&sites, &dangling, "No such file");
    refused(&sites, &fifo, "not a regular file (a FIFO)");
    refused(&sites, &device, "not a regular file (a device)");
    refused(&sites, &locked, "Permission denied");
    refused(&sites, &latin1, "file name is not valid UTF-8");
    let not_a_comment =
        "line 1 is not the '# Amount of time to pause the container after: WINDOW' comment";
    for path in [&empty, &newline, &binary, &leak] {
        refused(&sites, path, not_a_comment);
    }
    assert!(
        !run.stdout.contains("SECRET") && !run.stderr.contains("SECRET"),
        "the linked file's text is never shown:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    refused(
        &sites,
        &writable,
        "not used: writable by group or others (mode 666; chmod go-w)",
    );
    assert!(
        run.stderr.contains(&format!("{}:1:", empty.display())),
        "each error is logged with file and line:\n{}",
        run.stderr
    );
}

#[test]
fn two_confs_for_one_site_leave_it_alone() {
    require_docker();
    let p = unique("dup");
    let confs = ConfDir::new();
    let mut c = Containers::default();
    c.run(&names::container(&p), &[], "echo up; exec sleep 3600");
    // With a glob that takes every file, `SITE` and `SITE.conf` both name the site.
    let bare = confs.path().join(&p);
    std::fs::write(&bare, header("1s")).unwrap();
    let dotted = confs.add(&p, &header("1h"));
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), "conf_glob = \"*\"\n").unwrap();
    std::thread::sleep(Duration::from_millis(1500));

    let config_arg = config.path().to_str().unwrap();
    let (run, sites) = audit_within(
        confs.path(),
        &["--config", config_arg],
        Duration::from_secs(20),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(sites.len(), 2, "{sites:#?}");
    refused(
        &sites,
        &bare,
        &format!("also has the conf {}", dotted.display()),
    );
    refused(
        &sites,
        &dotted,
        &format!("also has the conf {}", bare.display()),
    );
}

fn mk(cmd: &[&str]) {
    let st = Command::new(cmd[0]).args(&cmd[1..]).status().unwrap();
    assert!(st.success(), "{cmd:?}");
}
