//! The arm64 package, cross-built by `bash scripts/package.sh --arch arm64` with Debian's cross
//! toolchain: its control says arm64, every binary in it is an AArch64 ELF, and under qemu-user
//! (Debian's qemu-user-static, with the cross libc) each answers `--version` and the reaper's
//! dry run judges a conf folder against the machine's Docker engine as the amd64 build does:
//! an idle site to stop, a missing container skipped, a broken conf named with file, line and value.

mod common;

use common::{package_for, run};
use fpm_tests::{header, names, require_docker, unique, ConfDir, Containers};
use std::path::Path;
use std::process::{Command, Output};

const TOOLS: [&str; 4] = ["fpm-ondemand", "fpm-reaper", "fpm-watcher", "fpm-waker"];

/// Runs an arm64 binary under qemu-user with the cross libc (libc6-arm64-cross).
fn qemu(bin: &Path, args: &[&str]) -> Output {
    let qemu = "/usr/bin/qemu-aarch64-static";
    assert!(
        Path::new(qemu).exists(),
        "{qemu} is missing: apt-get install qemu-user-static (scripts/setup.sh does)"
    );
    Command::new(qemu)
        .args(["-L", "/usr/aarch64-linux-gnu"])
        .arg(bin)
        .args(args)
        .output()
        .expect("qemu runs")
}

/// The ELF header's machine field: 0xB7 is AArch64.
fn elf_machine(bin: &Path) -> u16 {
    let bytes = std::fs::read(bin).unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF", "{}", bin.display());
    u16::from_le_bytes([bytes[18], bytes[19]])
}

#[test]
#[ignore = "needs the arm64 package: scripts/test.sh builds it and runs this in its default pass"]
fn the_arm64_package_runs_its_tools_under_qemu() {
    require_docker();
    let deb = package_for("arm64");
    let arch = Command::new("dpkg-deb")
        .args(["-f"])
        .arg(&deb)
        .arg("Architecture")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&arch.stdout).trim(), "arm64");
    let root = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(root.path()));
    let bin = |tool: &str| root.path().join("usr/bin").join(tool);

    for tool in TOOLS {
        assert_eq!(elf_machine(&bin(tool)), 0xB7, "{tool} is an AArch64 binary");
        let out = qemu(&bin(tool), &["--version"]);
        let version = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{tool} --version under qemu: {out:?}");
        assert_eq!(version.trim(), format!("{tool} {}", fpm_shared::VERSION));
    }

    let p = unique("arm64");
    let site = |tag: &str| format!("{p}-{tag}");
    let confs = ConfDir::new();
    let mut c = Containers::default();
    c.run(
        &names::container(&site("idle")),
        &[],
        "echo started; exec sleep 3600",
    );
    confs.add(&site("idle"), &header("1s"));
    confs.add(&site("gone"), &header("1s"));
    let broken = confs.add(&site("broken"), "# pause after 20m");
    std::thread::sleep(std::time::Duration::from_millis(1500));

    let dir = confs.path().to_str().unwrap();
    let out = qemu(&bin("fpm-reaper"), &["--dry-run", "--conf-dir", dir]);
    let (report, errors) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a broken conf: exit 1\n{report}{errors}"
    );
    let row = |tag: &str| {
        report
            .lines()
            .find(|l| l.split_whitespace().next() == Some(site(tag).as_str()))
            .unwrap_or_else(|| panic!("{tag} in the report:\n{report}"))
            .to_owned()
    };
    assert!(row("idle").contains(" stop "), "{report}");
    assert!(row("gone").contains(" skip "), "{report}");
    assert!(row("broken").contains(" error "), "{report}");
    let named = format!("{}:1", broken.display());
    assert!(
        report.contains(&named) || errors.contains(&named),
        "the broken conf is named with its line:\n{report}\n{errors}"
    );
    assert!(
        report.contains("3 sites: 1 stop, 0 keep, 1 skip, 1 error"),
        "{report}"
    );
}
