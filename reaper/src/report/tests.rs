//! Unit tests of `report` (the reaper crate).
use super::*;

fn entry(site: &str, decision: Verdict, action: Option<Action>) -> SiteReport {
    SiteReport {
        site: site.into(),
        conf: format!("/c/{site}.conf"),
        window_secs: Some(Duration::from_secs(1200)),
        container: "running",
        last_activity: Some(DateTime::from_timestamp(1_795_569_642, 0).unwrap()),
        idle_secs: Some(Duration::from_millis(1_500_900)),
        decision,
        reason: "why".into(),
        action,
    }
}

#[test]
fn json_entries_have_exactly_the_documented_fields() {
    let r = Report {
        sites: vec![entry("blog", Verdict::Stop, None)],
    };
    let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    let mut top: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    top.sort();
    assert_eq!(top, ["sites", "version"]);
    assert_eq!(v["version"], JSON_VERSION);
    let e = &v["sites"][0];
    let mut keys: Vec<_> = e.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "conf",
            "container",
            "decision",
            "idle_secs",
            "last_activity",
            "reason",
            "site",
            "window_secs"
        ]
    );
    assert_eq!(e["window_secs"], 1200);
    assert_eq!(e["idle_secs"], 1500);
    assert_eq!(e["last_activity"], "2026-11-25T01:20:42.000Z");
    assert_eq!(e["decision"], "stop");
}

#[test]
fn acting_mode_adds_the_action_and_failures_give_exit_one() {
    let r = Report {
        sites: vec![
            entry("a", Verdict::Stop, Some(Action::Stopped)),
            entry("b", Verdict::Keep, Some(Action::None)),
        ],
    };
    assert_eq!(r.exit_code(), 0);
    let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(v["sites"][0]["action"], "stopped");
    let r = Report {
        sites: vec![entry("a", Verdict::Stop, Some(Action::Failed))],
    };
    assert_eq!(r.exit_code(), 1);
    let r = Report {
        sites: vec![entry("a", Verdict::Error, None)],
    };
    assert_eq!(r.exit_code(), 1);
}

#[test]
fn text_is_an_aligned_table_with_a_summary() {
    let mut long = entry("a-long-site-name", Verdict::Keep, None);
    long.window_secs = None;
    let r = Report {
        sites: vec![entry("blog", Verdict::Stop, None), long],
    };
    let text = r.to_text();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(
        lines[0],
        "SITE              CONTAINER  WINDOW  IDLE  DECISION  REASON"
    );
    assert_eq!(
        lines[1],
        "blog              running    20m     25m   stop      why"
    );
    assert_eq!(
        lines[2],
        "a-long-site-name  running    -       25m   keep      why"
    );
    assert_eq!(lines[3], "2 sites: 1 stop, 1 keep, 0 skip, 0 error");
}
