//! `fpm-ondemand config check` as an operator runs it: every problem on its line, exit 2; a good
//! config exit 0; the config it checks is one the other commands refuse to load.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fpm-ondemand"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_bad_config_is_named_line_by_line_and_a_good_one_passes() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "conf_dri = \"/x\"\ndocker_timeout_secs = 0\n[budget]\nmax_awake = 5\nmax_starting = 0\n",
    )
    .unwrap();
    let config = bad.to_str().unwrap();
    let out = run(&["--config", config, "config", "check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains(&format!("{config}:1: conf_dri: unknown key")),
        "{text}"
    );
    assert!(
        text.ends_with("1 problem(s); the tools refuse this config\n"),
        "{text}"
    );
    // Fixed, it shows the values that cannot work, all of them.
    std::fs::write(
        &bad,
        "docker_timeout_secs = 0\n[budget]\nmax_awake = 5\nmax_starting = 0\n",
    )
    .unwrap();
    let out = run(&["--config", config, "config", "check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains(&format!(
            "{config}:1: docker_timeout_secs: \"0\": must be at least 1"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{config}:4: budget.max_starting: \"0\"")),
        "{text}"
    );
    // The other commands stop at the first.
    let list = run(&["--config", config, "site", "list"]);
    assert_eq!(list.status.code(), Some(2));
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "docker_timeout_secs = 30\n").unwrap();
    let out = run(&["--config", good.to_str().unwrap(), "config", "check"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}: ok\n", good.display())
    );
}
