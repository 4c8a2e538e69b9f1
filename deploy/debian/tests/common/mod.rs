//! What the package's tests share: the package to install.
#![allow(dead_code)] // each test file uses a different part

use std::path::PathBuf;
use std::process::Command;

/// The package `scripts/package.sh` built for this version and this machine's architecture.
pub fn package() -> PathBuf {
    let native = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    package_for(native)
}

/// The package `scripts/package.sh --arch ARCH` built for this version.
pub fn package_for(arch: &str) -> PathBuf {
    let dir = fpm_tests::host::repo_root().join("target/debian");
    let name = format!("fpm-ondemand_{}-1_{arch}.deb", env!("CARGO_PKG_VERSION"));
    let deb = dir.join(&name);
    assert!(
        deb.is_file(),
        "no {name} in {}: run `bash scripts/package.sh --arch {arch}` (scripts/test.sh does)",
        dir.display()
    );
    deb
}

/// Runs `cmd`; panics with its output unless it succeeds.
pub fn run(cmd: &mut Command) {
    let out = cmd.output().expect("runs");
    assert!(out.status.success(), "{cmd:?}: {out:?}");
}
