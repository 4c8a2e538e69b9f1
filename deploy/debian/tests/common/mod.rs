//! What the package's tests share: the package to install.
#![allow(dead_code)] // each test file uses a different part

use std::path::PathBuf;
use std::process::Command;

/// The package `scripts/package.sh` built for this version.
pub fn package() -> PathBuf {
    let dir = fpm_tests::host::repo_root().join("target/debian");
    let prefix = format!("fpm-ondemand_{}-", env!("CARGO_PKG_VERSION"));
    std::fs::read_dir(&dir)
        .ok()
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(&prefix) && name.ends_with(".deb")
        })
        .unwrap_or_else(|| {
            panic!(
                "no {prefix}*.deb in {}: run `bash scripts/package.sh` (scripts/test.sh does)",
                dir.display()
            )
        })
}

/// Runs `cmd`; panics with its output unless it succeeds.
pub fn run(cmd: &mut Command) {
    let out = cmd.output().expect("runs");
    assert!(out.status.success(), "{cmd:?}: {out:?}");
}
