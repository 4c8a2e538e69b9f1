//! The shipped Prometheus alert rules (`deploy/prometheus/`) load in a real `promtool` and pass
//! their unit tests: each alert fires on the series it is for, and not before or on others; the
//! example configuration for many hosts (scrape job, targets file, rules) is a valid config.

use fpm_tests::host::repo_root;
use std::process::Command;

#[test]
fn the_alert_rules_load_and_pass_their_promtool_unit_tests() {
    let dir = repo_root().join("deploy/prometheus");
    for args in [
        ["check", "rules", "fpm-ondemand.rules.yml"],
        ["test", "rules", "fpm-ondemand.rules.test.yml"],
        ["check", "config", "prometheus.fleet.yml"],
    ] {
        let out = Command::new("promtool")
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run promtool ({e}): apt-get install prometheus (scripts/setup.sh does)"
                )
            });
        assert!(
            out.status.success(),
            "promtool {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
