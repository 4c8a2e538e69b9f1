//! `status` as an operator and a script read it, from fixed rows and a fixed `now`.

use super::*;
use fpm_shared::socket_folder::SocketState;
use fpm_shared::UnitState;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn rows() -> Vec<StatusRow> {
    let awake = StatusRow {
        site: Site::new("blog").unwrap(),
        view: SiteView {
            container: ContainerState::Running {
                started_at: Some(at("2026-11-27T10:00:00Z")),
            },
            fpm_unit: UnitState::Active,
            waker_socket: UnitState::Active,
            waker_service: UnitState::Active,
            fpm_socket: SocketState::Live,
        },
        to_fix: vec![],
        awake_since: Some(at("2026-11-27T10:00:00Z")),
        last_activity: Some(at("2026-11-27T11:55:30Z")),
    };
    let stopped_behind_our_back = StatusRow {
        site: Site::new("shop").unwrap(),
        view: SiteView {
            container: ContainerState::NotRunning("exited".into()),
            fpm_unit: UnitState::Active,
            waker_socket: UnitState::Active,
            waker_service: UnitState::Inactive,
            fpm_socket: SocketState::Stale,
        },
        to_fix: vec![Action::StopFpmUnit, Action::RemoveStaleSocket],
        awake_since: None,
        last_activity: None,
    };
    vec![awake, stopped_behind_our_back]
}

const NOW: &str = "2026-11-27T12:00:00Z";

#[test]
fn the_table_shows_since_when_a_site_is_awake_how_long_idle_and_what_is_wrong() {
    let text = status_table(&rows(), None, at(NOW));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("SITE  CONTAINER  AWAKE SINCE "),
        "{text}"
    );
    let blog: Vec<&str> = lines[1].split("  ").filter(|c| !c.is_empty()).collect();
    assert_eq!(
        blog.iter().map(|c| c.trim()).collect::<Vec<_>>(),
        [
            "blog",
            "running",
            "2026-11-27 10:00:00",
            "4m30s",
            "active",
            "active",
            "active",
            "live",
            "-"
        ],
        "{text}"
    );
    assert!(
        lines[2].starts_with("shop") && lines[2].contains("stopped"),
        "{text}"
    );
    assert!(
        lines[2].ends_with(
            "mark fpm unit inactive: container is not running; remove stale php-fpm.sock"
        ),
        "{text}"
    );
    assert_eq!(lines[3], "2 sites, 1 inconsistent");
    assert_eq!(lines.len(), 4, "no budget line without a budget:\n{text}");
}

fn budget() -> BudgetView {
    BudgetView {
        max_awake: 20,
        max_starting: 4,
        awake: Some(20),
        starting: vec!["news".into()],
        waiting: vec!["shop".into(), "wiki".into()],
        evicting: vec!["old".into()],
    }
}

#[test]
fn with_a_budget_the_table_and_the_json_say_who_waits_for_room() {
    let text = status_table(&rows(), Some(&budget()), at(NOW));
    assert_eq!(
        text.lines().last(),
        Some("budget: 20 of 20 sites awake; starting: news; waiting for room: shop, wiki; being stopped for room: old"),
        "{text}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&status_json(&rows(), Some(&budget()), at(NOW))).unwrap();
    assert_eq!(doc["budget"]["max_awake"], 20);
    assert_eq!(
        doc["budget"]["waiting"],
        serde_json::json!(["shop", "wiki"])
    );
    let none: serde_json::Value =
        serde_json::from_str(&status_json(&rows(), None, at(NOW))).unwrap();
    assert!(none.get("budget").is_none());
}

#[test]
fn the_json_document_has_a_version_and_one_entry_per_site() {
    let doc: serde_json::Value =
        serde_json::from_str(&status_json(&rows(), None, at(NOW))).unwrap();
    assert_eq!(doc["version"], JSON_VERSION);
    assert_eq!(doc["now"], NOW);
    let blog = &doc["sites"][0];
    assert_eq!(blog["site"], "blog");
    assert_eq!(blog["container"], "running");
    assert_eq!(blog["awake_since"], "2026-11-27T10:00:00Z");
    assert_eq!(blog["last_activity"], "2026-11-27T11:55:30Z");
    assert_eq!(blog["idle_secs"], 270);
    assert_eq!(blog["php_fpm_sock"], "live");
    assert_eq!(blog["inconsistent"], serde_json::json!([]));
    let shop = &doc["sites"][1];
    assert_eq!(shop["container"], "stopped");
    assert!(shop["awake_since"].is_null() && shop["idle_secs"].is_null());
    assert_eq!(shop["fpm_unit"], "active");
    assert_eq!(
        shop["inconsistent"],
        serde_json::json!([
            "mark fpm unit inactive: container is not running",
            "remove stale php-fpm.sock"
        ])
    );
}
