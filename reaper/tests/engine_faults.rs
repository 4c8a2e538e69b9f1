//! The reaper against a Docker engine that hangs: every request is bounded, the error says so,
//! and nothing is judged idle on what could not be read.
//!
//! Freezing the engine disturbs every other test, so these are `#[ignore]`d in the parallel run
//! and `scripts/test.sh` runs them on their own afterwards (`--ignored`).

mod common;

use common::{audit, entry, run_within};
use fpm_tests::{freeze_engine, header, require_docker, unique, ConfDir, Containers};
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
#[ignore = "freezes the Docker engine: scripts/test.sh runs it alone with --ignored"]
fn a_hung_engine_bounds_the_run_and_stops_nothing() {
    require_docker();
    let p = unique("frozen");
    let confs = ConfDir::new();
    let mut c = Containers::default();
    c.run(&format!("{p}.fpm"), &[], "echo up; exec sleep 3600");
    confs.add(&p, &header("1s"));
    let config = confs.path().join("config.toml");
    std::fs::write(&config, "docker_timeout_secs = 2\n").unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let dir = confs.path().to_str().unwrap();
    let args = ["--config", config.to_str().unwrap(), "--conf-dir", dir];

    let (took, run) = freeze_engine(|| {
        let start = Instant::now();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fpm-reaper"));
        cmd.args(["--dry-run", "--format", "json"]).args(args);
        let run = run_within(cmd, Duration::from_secs(30));
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
