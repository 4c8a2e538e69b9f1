//! Runs the real `fpm-reaper` binary and reads its JSON report.
#![allow(dead_code)] // each test file uses a different part

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn reaper(args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_fpm-reaper"))
        .args(args)
        .env("RUST_LOG", "info")
        .output()
        .expect("run fpm-reaper");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A dry run over `dir` as JSON: the exit code and each site's entry.
pub fn audit(dir: &Path, extra: &[&str]) -> (i32, Vec<Value>, String) {
    let dir = dir.to_str().unwrap();
    let mut args = vec!["--dry-run", "--format", "json", "--conf-dir", dir];
    args.extend_from_slice(extra);
    let run = reaper(&args);
    let report: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "report is not JSON ({e}):\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        )
    });
    let sites = report["sites"].as_array().expect("sites array").clone();
    (run.code, sites, run.stderr)
}

pub fn entry<'a>(sites: &'a [Value], site: &str) -> &'a Value {
    sites
        .iter()
        .find(|e| e["site"] == site)
        .unwrap_or_else(|| panic!("no entry for {site} in {sites:#?}"))
}

pub fn time(v: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .unwrap()
        .into()
}

/// Runs `cmd` to its end, killing it and failing the test if it takes longer than `limit`:
/// a blocked reaper fails instead of hanging the suite.
pub fn run_within(mut cmd: Command, limit: std::time::Duration) -> Run {
    use std::process::Stdio;
    let mut child = cmd
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fpm-reaper");
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("fpm-reaper did not finish within {limit:?}: something blocked it");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
