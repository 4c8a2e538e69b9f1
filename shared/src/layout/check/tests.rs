//! Unit tests of `layout::check` (the shared crate): every problem at once, each on its line.

use super::*;

#[test]
fn a_good_config_and_an_empty_one_have_no_problem() {
    assert_eq!(problems(""), vec![]);
    assert_eq!(
        problems("docker_timeout_secs = 30\n[budget]\nmax_awake = 20\n"),
        vec![]
    );
}

#[test]
fn every_unknown_key_and_bad_value_is_named_with_its_line() {
    let text = "conf_dir = \"/srv/confs\"\nconf_dri = \"/x\"\ndocker_timeout_secs = \"ten\"\nfpm_unit = \"x@{site}\"\n[budget]\nmax_awak = 3\nwait_secs = -1\n";
    let found = problems(text);
    let line = |key: &str| {
        found
            .iter()
            .find(|p| p.key == key)
            .map(|p| (p.line, p.why.clone()))
    };
    let (l, why) = line("conf_dri").expect("unknown key");
    assert_eq!(l, 2);
    assert!(why.starts_with("unknown key (known: conf_dir,"), "{why}");
    let (l, why) = line("docker_timeout_secs").expect("bad type");
    assert_eq!(l, 3);
    assert!(why.contains("\"ten\""), "{why}");
    assert_eq!(line("fpm_unit").map(|p| p.0), Some(4));
    assert_eq!(line("budget.max_awak").map(|p| p.0), Some(6));
    assert_eq!(line("budget.wait_secs").map(|p| p.0), Some(7));
    assert_eq!(found.len(), 5, "{found:?}");
}

#[test]
fn values_that_cannot_work_are_all_named_once_the_types_are_right() {
    let text =
        "container = \"fpm\"\ndocker_timeout_secs = 0\n[budget]\nmax_awake = 5\nmax_starting = 0\n";
    let found = problems(text);
    let keys: Vec<(&str, usize)> = found.iter().map(|p| (p.key.as_str(), p.line)).collect();
    assert_eq!(
        keys,
        [
            ("container", 1),
            ("docker_timeout_secs", 2),
            ("budget.max_starting", 5)
        ]
    );
    assert!(found[0].why.contains("\"fpm\"") && found[0].why.contains("{site}"));
}

#[test]
fn a_file_that_is_not_toml_is_named_with_the_line_of_the_error() {
    let found = problems("conf_dir = \"/x\"\n\nbudget = [\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].key, "");
    assert!(found[0].line >= 3, "{found:?}");
}

#[test]
fn the_shipped_config_has_no_problem() {
    let text = include_str!("../../../../deploy/debian/config.toml");
    assert_eq!(problems(text), vec![]);
    // With every commented setting taken as written, it still has none.
    let uncommented: String = text
        .lines()
        .map(|l| {
            l.strip_prefix("# ")
                .filter(|l| l.contains(" = ") || l.starts_with('['))
                .unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(problems(&uncommented), vec![], "{uncommented}");
}
