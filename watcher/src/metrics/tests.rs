//! Unit tests of `metrics` (the watcher crate).
use super::*;
use fpm_shared::events::RefusalReason;
use fpm_shared::socket_folder::SocketState;

fn site(id: &str) -> Site {
    Site::new(id).unwrap()
}

fn view(container: ContainerState, fpm_unit: UnitState) -> SiteView {
    SiteView {
        container,
        fpm_unit,
        waker_socket: UnitState::Active,
        waker_service: UnitState::Inactive,
        fpm_socket: SocketState::Absent,
    }
}

fn running() -> ContainerState {
    ContainerState::Running { started_at: None }
}

/// The value of the sample `name` (with its labels, as encoded) in `text`.
fn value(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

#[test]
fn the_cause_of_a_stop_follows_what_was_seen_around_it() {
    let f = StopFacts::default;
    let cases = [
        (
            StopFacts {
                unit_active: false,
                reaper: true,
                ..f()
            },
            StopCause::reaper,
        ),
        (
            StopFacts {
                unit_active: false,
                evicted: true,
                ..f()
            },
            StopCause::evicted,
        ),
        // Stopped for room while the container went behind systemd's back: not the admission's.
        (
            StopFacts {
                unit_active: true,
                evicted: true,
                killed: true,
                ..f()
            },
            StopCause::out_of_band,
        ),
        (
            StopFacts {
                unit_active: false,
                ..f()
            },
            StopCause::systemd,
        ),
        (
            StopFacts {
                unit_active: false,
                killed: true,
                ..f()
            },
            StopCause::systemd,
        ),
        (
            StopFacts {
                unit_active: true,
                killed: true,
                ..f()
            },
            StopCause::out_of_band,
        ),
        (
            StopFacts {
                unit_active: true,
                reaper: true,
                killed: true,
                ..f()
            },
            StopCause::out_of_band,
        ),
        (
            StopFacts {
                unit_active: true,
                ..f()
            },
            StopCause::died,
        ),
        (
            StopFacts {
                unit_active: true,
                oom: true,
                ..f()
            },
            StopCause::oom_killed,
        ),
        (
            StopFacts {
                unit_active: false,
                oom: true,
                reaper: true,
                ..f()
            },
            StopCause::oom_killed,
        ),
    ];
    for (facts, want) in cases {
        assert_eq!(stop_cause(facts), want, "{facts:?}");
    }
}

#[test]
fn each_stop_is_counted_once_under_its_cause() {
    let m = Metrics::new();
    let blog = site("blog");
    let t0 = Instant::now();
    let all = |_: &Site| true;
    // The reaper announces its stop; the die comes while the unit deactivates.
    m.event(
        Event::ReaperStopping {
            site: Site::new("blog").unwrap(),
        },
        all,
        t0,
    );
    m.container_event(&blog, "kill", 1, &UnitState::Deactivating, t0);
    m.container_event(&blog, "die", 2, &UnitState::Deactivating, t0);
    // The same die replayed after a reconnect is not counted again.
    m.container_event(&blog, "die", 2, &UnitState::Inactive, t0);
    // docker stop behind systemd's back, then a crash, then the OOM killer.
    m.container_event(&blog, "kill", 3, &UnitState::Active, t0);
    m.container_event(&blog, "die", 4, &UnitState::Active, t0);
    m.container_event(&blog, "die", 5, &UnitState::Active, t0);
    m.container_event(&blog, "oom", 6, &UnitState::Active, t0);
    m.container_event(&blog, "die", 7, &UnitState::Active, t0);
    // An operator's systemctl stop; a reaper announcement too old to count.
    m.event(
        Event::ReaperStopping {
            site: Site::new("blog").unwrap(),
        },
        all,
        t0,
    );
    let later = t0 + RECENT + Duration::from_secs(1);
    m.container_event(&blog, "die", 8, &UnitState::Deactivating, later);
    let text = m.encode(later);
    for (cause, n) in [
        ("reaper", 1.0),
        ("out_of_band", 1.0),
        ("died", 1.0),
        ("oom_killed", 1.0),
        ("systemd", 1.0),
    ] {
        let name = format!("fpm_ondemand_stops_total{{site=\"blog\",cause=\"{cause}\"}}");
        assert_eq!(value(&text, &name), Some(n), "{cause}\n{text}");
    }
}

#[test]
fn awake_time_and_the_awake_gauge_follow_what_the_watcher_sees() {
    let m = Metrics::new();
    let t0 = Instant::now();
    let secs = Duration::from_secs;
    let managed = ["a", "b", "c"].map(site).into_iter().collect();
    m.set_sites(&managed);
    m.observed(
        &site("a"),
        "startup",
        &view(running(), UnitState::Active),
        t0,
    );
    m.observed(
        &site("b"),
        "startup",
        &view(running(), UnitState::Active),
        t0,
    );
    m.observed(
        &site("c"),
        "startup",
        &view(
            ContainerState::NotRunning("exited".into()),
            UnitState::Inactive,
        ),
        t0,
    );
    let text = m.encode(t0 + secs(5));
    assert_eq!(value(&text, "fpm_ondemand_sites"), Some(3.0));
    assert_eq!(value(&text, "fpm_ondemand_sites_awake"), Some(2.0));
    assert_eq!(
        value(&text, "fpm_ondemand_awake_seconds_total{site=\"a\"}"),
        Some(5.0)
    );
    // a stops at 8 s; b runs on; seen again (a periodic look) it is not counted twice.
    m.observed(
        &site("a"),
        "event",
        &view(
            ContainerState::NotRunning("exited".into()),
            UnitState::Active,
        ),
        t0 + secs(8),
    );
    m.observed(
        &site("b"),
        "periodic",
        &view(running(), UnitState::Active),
        t0 + secs(9),
    );
    let text = m.encode(t0 + secs(10));
    assert_eq!(
        value(&text, "fpm_ondemand_awake_seconds_total{site=\"a\"}"),
        Some(8.0)
    );
    assert_eq!(
        value(&text, "fpm_ondemand_awake_seconds_total{site=\"b\"}"),
        Some(10.0)
    );
    assert_eq!(value(&text, "fpm_ondemand_sites_awake"), Some(1.0));
    assert_eq!(
        value(
            &text,
            "fpm_ondemand_watcher_reconciles_total{cause=\"startup\"}"
        ),
        Some(3.0)
    );
    // b's conf goes: it is forgotten, and every series labelled with it is dropped.
    m.event(
        Event::Wake {
            site: Site::new("b").unwrap(),
            held_seconds: 0.5,
        },
        |_| true,
        t0 + secs(10),
    );
    m.event(
        Event::Refusal {
            site: Site::new("b").unwrap(),
            reason: RefusalReason::NoRoom,
        },
        |_| true,
        t0 + secs(10),
    );
    m.budget().gave_up(&site("b"));
    let text = m.encode(t0 + secs(10));
    assert!(text.contains("site=\"b\""), "{text}");
    let managed = ["a", "c"].map(site).into_iter().collect();
    m.set_sites(&managed);
    let text = m.encode(t0 + secs(11));
    assert_eq!(value(&text, "fpm_ondemand_sites_awake"), Some(0.0));
    assert_eq!(value(&text, "fpm_ondemand_sites"), Some(2.0));
    assert!(!text.contains("site=\"b\""), "{text}");
    assert!(text.contains("site=\"a\""), "{text}");
}

#[test]
fn wakes_replays_refusals_and_reaper_runs_are_counted_from_events() {
    let m = Metrics::new();
    let t0 = Instant::now();
    let known = |s: &Site| s.as_str() == "blog";
    for held in [0.05, 0.8, 12.0] {
        m.event(
            Event::Wake {
                site: Site::new("blog").unwrap(),
                held_seconds: held,
            },
            known,
            t0,
        );
    }
    m.event(
        Event::Replay {
            site: Site::new("blog").unwrap(),
        },
        known,
        t0,
    );
    let refusal = |reason| Event::Refusal {
        site: Site::new("blog").unwrap(),
        reason,
    };
    m.event(refusal(RefusalReason::StartTimeout), known, t0);
    m.event(
        Event::ReaperRun {
            checked: 7,
            stopped: 2,
            errors: 1,
            duration_seconds: 0.25,
        },
        known,
        t0,
    );
    // Rejected: a site without a conf, a bad id, an unknown reason, a negative or NaN wait.
    m.event(
        Event::Wake {
            site: Site::new("other").unwrap(),
            held_seconds: 1.0,
        },
        known,
        t0,
    );
    // A bad id is not an event at all: `Site` reads only valid ids.
    assert!(Event::parse(br#"{"event":"replay","site":"../etc"}"#).is_err());
    m.rejected();
    // An unknown reason is not an event at all: the events reader counts it as rejected.
    let unknown = br#"{"event":"refusal","site":"blog","reason":"because"}"#;
    assert!(Event::parse(unknown).is_err());
    m.rejected();
    m.event(
        Event::Wake {
            site: Site::new("blog").unwrap(),
            held_seconds: -1.0,
        },
        known,
        t0,
    );
    m.event(
        Event::Wake {
            site: Site::new("blog").unwrap(),
            held_seconds: f64::NAN,
        },
        known,
        t0,
    );
    m.rejected();
    let text = m.encode(t0);
    let want = [
        ("fpm_ondemand_wakes_total{site=\"blog\"}", 3.0),
        ("fpm_ondemand_cold_start_seconds_count", 3.0),
        ("fpm_ondemand_cold_start_seconds_bucket{le=\"0.1\"}", 1.0),
        ("fpm_ondemand_cold_start_seconds_bucket{le=\"1.0\"}", 2.0),
        ("fpm_ondemand_cold_start_seconds_bucket{le=\"10.0\"}", 2.0),
        ("fpm_ondemand_cold_start_seconds_bucket{le=\"15.0\"}", 3.0),
        ("fpm_ondemand_waker_replays_total{site=\"blog\"}", 1.0),
        (
            "fpm_ondemand_waker_refusals_total{site=\"blog\",reason=\"start_timeout\"}",
            1.0,
        ),
        ("fpm_ondemand_reaper_runs_total", 1.0),
        ("fpm_ondemand_reaper_stopped_sites_total", 2.0),
        ("fpm_ondemand_reaper_last_run_sites", 7.0),
        ("fpm_ondemand_reaper_last_run_errors", 1.0),
        ("fpm_ondemand_reaper_last_run_duration_seconds", 0.25),
        ("fpm_ondemand_events_rejected_total", 6.0),
    ];
    for (name, n) in want {
        assert_eq!(value(&text, name), Some(n), "{name}\n{text}");
    }
    assert!(!text.contains("site=\"other\""), "{text}");
}

#[test]
fn the_prometheus_text_names_counters_with_their_suffix_and_drops_openmetrics_lines() {
    let m = Metrics::new();
    m.event(
        Event::Replay {
            site: Site::new("blog").unwrap(),
        },
        |_| true,
        Instant::now(),
    );
    let text = prometheus_text(&m.encode(Instant::now()));
    for line in [
        "# HELP fpm_ondemand_waker_replays_total Requests the waker sent to php-fpm again after an unanswered reset.",
        "# TYPE fpm_ondemand_waker_replays_total counter",
        "fpm_ondemand_waker_replays_total{site=\"blog\"} 1",
        "# TYPE fpm_ondemand_sites gauge",
        "# TYPE fpm_ondemand_cold_start_seconds histogram",
        // Prometheus' text format has no info type: a gauge of 1.
        "# TYPE fpm_ondemand_build_info gauge",
    ] {
        assert!(text.lines().any(|l| l == line), "{line}\n{text}");
    }
    assert!(
        !text.contains("# UNIT") && !text.contains("# EOF"),
        "{text}"
    );
}

/// Every sample name the endpoint exports: counters and gauges by name, histograms by their
/// `_bucket`, `_sum` and `_count` series.
fn exported() -> std::collections::BTreeSet<String> {
    // A family shows once it has a series: one of each.
    let m = Metrics::new();
    let (t0, all, blog) = (Instant::now(), |_: &Site| true, site("blog"));
    m.event(
        Event::Wake {
            site: Site::new("blog").unwrap(),
            held_seconds: 1.0,
        },
        all,
        t0,
    );
    m.event(
        Event::Replay {
            site: Site::new("blog").unwrap(),
        },
        all,
        t0,
    );
    m.event(
        Event::Refusal {
            site: Site::new("blog").unwrap(),
            reason: RefusalReason::Unanswered,
        },
        all,
        t0,
    );
    m.observed(&blog, "startup", &view(running(), UnitState::Active), t0);
    m.container_event(&blog, "die", 1, &UnitState::Active, t0);
    m.acted(Action::StopFpmUnit, true);
    m.budget().gave_up(&blog);
    let text = prometheus_text(&m.encode(t0));
    let mut names = std::collections::BTreeSet::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let (name, kind) = rest.split_once(' ').unwrap();
        match kind {
            "histogram" => {
                names.extend(["_bucket", "_sum", "_count"].map(|s| format!("{name}{s}")))
            }
            _ => drop(names.insert(name.to_owned())),
        }
    }
    names
}

#[test]
fn every_query_of_the_grafana_dashboard_names_only_exported_metrics() {
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../../deploy/grafana/fpm-ondemand.json")).unwrap();
    let exported = exported();
    let mut used = std::collections::BTreeSet::new();
    let panels = dashboard["panels"].as_array().unwrap();
    for panel in panels {
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "panel {} has no query", panel["title"]);
        for target in targets {
            let expr = target["expr"].as_str().unwrap();
            let names: Vec<&str> = expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("fpm_ondemand_"))
                .collect();
            assert!(!names.is_empty(), "{expr}: no fpm-ondemand metric");
            for name in names {
                assert!(
                    exported.contains(name),
                    "{expr}: {name} is not exported; exported: {exported:?}"
                );
                used.insert(name.to_owned());
            }
        }
    }
    // What the dashboard is for: awake sites over time, wakes per site, cold-start p50/p95,
    // stops by cause.
    for needed in [
        "fpm_ondemand_sites_awake",
        "fpm_ondemand_wakes_total",
        "fpm_ondemand_cold_start_seconds_bucket",
        "fpm_ondemand_stops_total",
    ] {
        assert!(used.contains(needed), "the dashboard shows {needed}");
    }
}

#[test]
fn every_shipped_alert_rule_names_only_exported_metrics() {
    let rules = include_str!("../../../deploy/prometheus/fpm-ondemand.rules.yml");
    let exported = exported();
    let mut alerts = 0;
    for line in rules.lines().map(str::trim) {
        alerts += usize::from(line.starts_with("- alert: "));
        let Some(expr) = line.strip_prefix("expr: ") else {
            continue;
        };
        for name in expr
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("fpm_ondemand_"))
        {
            assert!(exported.contains(name), "{expr}: {name} is not exported");
        }
    }
    assert_eq!(
        alerts, 5,
        "watcher down, reaper not run, wake failures, slow cold starts, budget refusing"
    );
}

#[test]
fn the_dashboard_provisions_from_a_file_and_follows_its_host_and_site_variables() {
    let text = include_str!("../../../deploy/grafana/fpm-ondemand.json");
    // An import input (`${DS_...}`) is never filled when Grafana provisions from a file.
    assert!(
        !text.contains("${DS_"),
        "the dashboard names an import input"
    );
    let dashboard: serde_json::Value = serde_json::from_str(text).unwrap();
    assert!(dashboard.get("__inputs").is_none(), "no import inputs");
    let vars = dashboard["templating"]["list"].as_array().unwrap();
    let var = |name: &str| vars.iter().find(|v| v["name"] == name).cloned();
    assert_eq!(var("datasource").unwrap()["type"], "datasource");
    assert_eq!(var("datasource").unwrap()["query"], "prometheus");
    for name in ["instance", "site"] {
        let v = var(name).unwrap_or_else(|| panic!("no {name} variable"));
        assert_eq!(
            (v["type"].as_str(), v["multi"].as_bool()),
            (Some("query"), Some(true))
        );
        assert_eq!(v["datasource"]["uid"], "${datasource}");
    }
    for panel in dashboard["panels"].as_array().unwrap() {
        assert_eq!(
            panel["datasource"]["uid"], "${datasource}",
            "{}",
            panel["title"]
        );
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let selectors = expr.matches("fpm_ondemand_").count();
            assert_eq!(
                expr.matches("instance=~\"$instance\"").count(),
                selectors,
                "every metric of {expr} follows the host variable"
            );
        }
    }
}

#[test]
fn the_dashboard_opens_on_a_fleet_row_with_a_series_per_host() {
    let text = include_str!("../../../deploy/grafana/fpm-ondemand.json");
    let dashboard: serde_json::Value = serde_json::from_str(text).unwrap();
    let panels = dashboard["panels"].as_array().unwrap();
    let fleet: Vec<&serde_json::Value> = panels.iter().filter(|p| p["gridPos"]["y"] == 0).collect();
    let titles: Vec<&str> = fleet.iter().map(|p| p["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "Fleet: awake sites per host",
            "Fleet: wakes and cold starts per host",
            "Fleet: budget refusals per host"
        ]
    );
    for panel in fleet {
        for target in panel["targets"].as_array().unwrap() {
            let (expr, legend) = (target["expr"].as_str().unwrap(), &target["legendFormat"]);
            assert!(expr.starts_with("sum by (instance) ("), "{expr}");
            assert!(legend.as_str().unwrap().contains("{{instance}}"), "{expr}");
        }
    }
    // Below the fleet row, nothing overlaps it.
    assert!(panels
        .iter()
        .filter(|p| p["gridPos"]["y"] != 0)
        .all(|p| p["gridPos"]["y"].as_u64().unwrap() >= 8));
}
