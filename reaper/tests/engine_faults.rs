//! The reaper against a Docker engine that hangs, crashes or cuts an answer short: every request
//! is bounded, the error says so, and nothing is judged idle on what could not be read.
//!
//! Freezing or crashing the engine disturbs every other test, so those are `#[ignore]`d in the
//! parallel run and `scripts/test.sh` runs them on their own afterwards (`--ignored`).

mod common;

use common::{audit, entry, run_within};
use fpm_tests::cut::CuttingProxy;
use fpm_tests::names;
use fpm_tests::{
    crash_engine, dockerd_pid, freeze_engine, header, require_docker, require_live_restore,
    start_engine, unique, ConfDir, Containers, DOCKER_SOCKET,
};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
#[ignore = "freezes the Docker engine: scripts/test.sh runs it alone with --ignored"]
fn a_hung_engine_bounds_the_run_and_stops_nothing() {
    require_docker();
    let confs = ConfDir::new();
    let mut c = Containers::default();
    let p = site(&confs, &mut c, "frozen", &[], QUIET);
    let config = confs.path().join("config.toml");
    std::fs::write(&config, "docker_timeout_secs = 2\n").unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let dir = confs.path().to_str().unwrap();
    let args = ["--config", config.to_str().unwrap(), "--conf-dir", dir];

    let (took, run) = freeze_engine(|| {
        let start = Instant::now();
        let run = run_within(dry_run(&args), Duration::from_secs(30));
        (start.elapsed(), run)
    });
    assert!(
        took < Duration::from_secs(10),
        "the run took {took:?} against a hung engine"
    );
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("no answer from Docker within 2s")
            || run.stderr.contains("cannot reach the Docker engine"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stdout.contains("\"stop\""),
        "nothing judged idle: {}",
        run.stdout
    );

    // Thawed, the same run judges the site idle: the frozen run really had something to stop.
    let (code, sites, stderr) = audit(confs.path(), &["--config", args[1]]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(entry(&sites, &p)["decision"], "stop");
}

/// Busy after 1.5 s of silence: started longer ago than a 1 s window, in use by its log.
const BUSY: &str = "sleep 1.5; while true; do echo tick; sleep 0.2; done";

/// One line at start, then silence: idle once its 1 s window has passed.
const QUIET: &str = "echo up; exec sleep 3600";

/// Runs a site's container (`docker run` arguments, shell script) and adds its conf with a 1 s
/// window; returns the site id.
fn site(confs: &ConfDir, c: &mut Containers, prefix: &str, args: &[&str], script: &str) -> String {
    let p = unique(prefix);
    c.run(&names::container(&p), args, script);
    confs.add(&p, &header("1s"));
    p
}

/// The audit of `confs`, with the reaper talking to the engine through `proxy`.
fn audit_through(confs: &ConfDir, proxy: &CuttingProxy) -> (i32, Vec<serde_json::Value>, String) {
    let config = confs.path().join("config.toml");
    let socket = proxy.path().display();
    std::fs::write(&config, format!("docker_socket = \"{socket}\"\n")).unwrap();
    audit(confs.path(), &["--config", config.to_str().unwrap()])
}

/// A dry run of the reaper with JSON output and the given arguments.
fn dry_run(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fpm-reaper"));
    cmd.args(["--dry-run", "--format", "json"]).args(args);
    cmd
}

#[test]
fn a_json_file_log_is_read_from_its_file_without_asking_the_engine() {
    require_docker();
    let confs = ConfDir::new();
    let mut c = Containers::default();
    let busy = site(&confs, &mut c, "filebusy", &[], BUSY);
    let quiet = site(&confs, &mut c, "filequiet", &[], QUIET);
    std::thread::sleep(Duration::from_millis(2500));

    // Every logs request would be cut: the right answers show none was made.
    let proxy = CuttingProxy::start(Path::new(DOCKER_SOCKET), "/logs");
    let (code, sites, stderr) = audit_through(&confs, &proxy);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(proxy.cut_count(), 0, "a logs request was made:\n{stderr}");
    // Started before its window: only its log, read from the file, says it is in use.
    assert_eq!(entry(&sites, &busy)["decision"], "keep");
    let e = entry(&sites, &quiet);
    assert_eq!(e["decision"], "stop", "{e}");
    assert!(e["reason"].as_str().unwrap().starts_with("idle for"), "{e}");
}

#[test]
fn a_log_answer_cut_short_is_an_error_not_an_idle_site() {
    require_docker();
    let confs = ConfDir::new();
    let mut c = Containers::default();
    // Started longer ago than its window and busy since: only its log says it is in use. The
    // `local` log driver keeps no file the reaper reads itself: the engine must be asked.
    let p = site(&confs, &mut c, "cutlog", &["--log-driver", "local"], BUSY);
    std::thread::sleep(Duration::from_millis(2500));

    // The engine's answer to the logs request ends right after its headers, as when it crashes.
    let proxy = CuttingProxy::start(Path::new(DOCKER_SOCKET), "/logs");
    let (code, sites, stderr) = audit_through(&confs, &proxy);
    assert!(proxy.cut_count() >= 1, "no answer was cut:\n{stderr}");
    let e = entry(&sites, &p);
    assert_eq!(e["decision"], "error", "{e}\n{stderr}");
    let reason = e["reason"].as_str().unwrap();
    assert!(reason.contains("cannot read logs"), "{e}");
    assert_eq!(code, 1, "{stderr}");

    // Read in full, the same site is in use.
    let (code, sites, stderr) = audit(confs.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(entry(&sites, &p)["decision"], "keep");
}

#[test]
#[ignore = "crashes the Docker engine: scripts/test.sh runs it alone with --ignored"]
fn an_engine_crash_during_a_run_stops_nothing_and_the_containers_live_on() {
    require_docker();
    let confs = ConfDir::new();
    let mut c = Containers::default();
    let p = site(&confs, &mut c, "crash", &[], QUIET);
    std::thread::sleep(Duration::from_millis(1500));

    // The run's first request is in flight when the engine is killed; it comes back meanwhile.
    require_live_restore();
    let pid = dockerd_pid();
    let run = freeze_engine(|| {
        std::thread::scope(|s| {
            let run = s.spawn(|| {
                let dir = confs.path().to_str().unwrap();
                run_within(dry_run(&["--conf-dir", dir]), Duration::from_secs(60))
            });
            std::thread::sleep(Duration::from_secs(1));
            crash_engine(&pid);
            start_engine();
            run.join().unwrap()
        })
    });
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("cannot reach the Docker engine"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fpm_tests::host::container_status(&names::container(&p)),
        "running",
        "the container outlived the engine (live-restore) and was not stopped"
    );

    // The engine back, the same site is judged idle: the run really had something to stop.
    let (code, sites, stderr) = audit(confs.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(entry(&sites, &p)["decision"], "stop");
}

#[test]
fn an_engine_older_than_supported_is_refused_with_both_versions() {
    require_docker();
    let confs = ConfDir::new();
    let mut c = Containers::default();
    site(&confs, &mut c, "oldapi", &[], QUIET);
    let proxy = CuttingProxy::older_api(Path::new(DOCKER_SOCKET));
    let config = confs.path().join("config.toml");
    let socket = proxy.path().display().to_string();
    std::fs::write(&config, format!("docker_socket = \"{socket}\"\n")).unwrap();
    let dir = confs.path().to_str().unwrap();
    let args = ["--config", config.to_str().unwrap(), "--conf-dir", dir];
    let run = run_within(dry_run(&args), Duration::from_secs(30));
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty(), "nothing judged: {}", run.stdout);
    assert!(
        run.stderr.contains(&socket)
            && run.stderr.contains("speaks API 0.")
            && run.stderr.contains("oldest this supports, 1.41"),
        "{}",
        run.stderr
    );
    assert_eq!(
        proxy.cut_count(),
        1,
        "the version answer was the one changed"
    );
}
