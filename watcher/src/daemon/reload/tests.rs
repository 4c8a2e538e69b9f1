use super::*;

#[test]
fn a_new_budget_is_live_and_nothing_waits_for_a_restart() {
    let running = Layout::default();
    let mut read = Layout::default();
    read.budget.max_awake = 3;
    let got = changes(&running, &read);
    assert_eq!(got.budget.map(|b| b.max_awake), Some(3));
    assert!(got.on_restart.is_empty(), "{:?}", got.on_restart);
}

#[test]
fn other_keys_are_named_for_the_next_restart() {
    let running = Layout::default();
    let read = Layout {
        conf_dir: "/srv/confs".into(),
        docker_timeout_secs: 5,
        ..Layout::default()
    };
    let got = changes(&running, &read);
    assert_eq!(got.budget, None);
    assert_eq!(got.on_restart, ["conf_dir", "docker_timeout_secs"]);
}

#[test]
fn the_same_config_changes_nothing() {
    let got = changes(&Layout::default(), &Layout::default());
    assert_eq!(
        got,
        Changes {
            budget: None,
            on_restart: vec![]
        }
    );
}
