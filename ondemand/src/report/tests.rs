//! Unit tests of `report` (the ondemand crate).
use super::*;
use chrono::TimeZone;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

fn site(id: &str) -> Site {
    Site::new(id).unwrap()
}

fn now(id: &str, running: bool, memory: Option<u64>) -> SiteNow {
    SiteNow {
        site: site(id),
        running,
        memory,
    }
}

fn unit(id: &str, at: i64, up: bool) -> UnitRecord {
    UnitRecord {
        site: site(id),
        at: t(at),
        up,
    }
}

fn wake(id: &str, at: i64, ms: u64) -> WakeRecord {
    WakeRecord {
        site: site(id),
        at: t(at),
        took: Duration::from_millis(ms),
    }
}

#[test]
fn awake_time_runs_from_each_start_to_the_next_stop_within_the_period() {
    let sites = [
        now("twice", false, None),
        now("before", false, None),
        now("still", true, None),
        now("always", true, None),
        now("never", false, None),
    ];
    let units = [
        // Up 100..200 and 300..350.
        unit("twice", 100, true),
        unit("twice", 200, false),
        unit("twice", 300, true),
        unit("twice", 350, false),
        // Awake since before the period: the first record is its stop at 50.
        unit("before", 50, false),
        // Started at 900, runs on at the end (1000).
        unit("still", 900, true),
        // Outside the period, and another site's: left out.
        unit("never", -10, true),
        unit("never", 1010, true),
    ];
    let r = compute(t(0), t(1000), &sites, &units, &[]);
    let by = by_site(&r);
    for (id, secs) in [
        ("twice", 150.0),
        ("before", 50.0),
        ("still", 100.0),
        ("always", 1000.0),
        ("never", 0.0),
    ] {
        assert_eq!(by[id].awake_secs, secs, "{id}");
        assert_eq!(by[id].awake_share, secs / 1000.0, "{id}");
    }
    assert_eq!(r.host.sites, 5);
    assert!((r.host.awake_site_hours - 1300.0 / 3600.0).abs() < 1e-9);
    assert!((r.host.always_on_site_hours - 5000.0 / 3600.0).abs() < 1e-9);
}

#[test]
fn cold_starts_give_wakes_percentiles_the_longest_and_the_last() {
    let wakes: Vec<WakeRecord> = (1..=20)
        .map(|i| wake("blog", i * 10, i as u64 * 100))
        .chain([wake("blog", -5, 99_000), wake("other", 50, 1)])
        .collect();
    let r = compute(t(0), t(1000), &[now("blog", false, None)], &[], &wakes);
    let l = &r.sites[0];
    assert_eq!(l.wakes, 20);
    assert_eq!(l.cold_start_p50_secs, Some(1.0));
    assert_eq!(l.cold_start_p95_secs, Some(1.9));
    assert_eq!(l.cold_start_max_secs, Some(2.0));
    assert_eq!(l.last_wake, Some(t(200)));
    let none = compute(t(0), t(1000), &[now("quiet", false, None)], &[], &wakes);
    assert_eq!(
        (none.sites[0].wakes, none.sites[0].cold_start_p50_secs),
        (0, None)
    );
}

#[test]
fn memory_saved_is_each_sites_memory_times_the_part_it_slept() {
    const MIB: u64 = 1024 * 1024;
    // a: 100 MiB, awake all the time (saves nothing); b: 60 MiB measured now, awake half;
    // c: asleep now, never awake: counted at the measured mean (80 MiB), all of it saved.
    let sites = [
        now("a", true, Some(100 * MIB)),
        now("b", true, Some(60 * MIB)),
        now("c", false, None),
    ];
    let units = [unit("b", 500, true)];
    let r = compute(t(0), t(1000), &sites, &units, &[]);
    assert_eq!(r.host.memory_measured_sites, 2);
    assert_eq!(r.host.memory_saved_bytes, Some(30 * MIB + 80 * MIB));
    let unmeasured = compute(t(0), t(1000), &[now("c", false, None)], &[], &[]);
    assert_eq!(unmeasured.host.memory_saved_bytes, None);
    let text = r.to_text();
    assert!(text.contains("110.0 MiB"), "{text}");
    assert!(text.contains("3 sites"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["sites"][1]["awake_share"], 0.5);
}

#[test]
fn journal_entries_become_records_and_everything_else_is_left_out() {
    let layout = fpm_shared::Layout::default();
    let entry = |pairs: &[(&str, &str)]| {
        serde_json::Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
                .collect(),
        )
    };
    let at = ("__REALTIME_TIMESTAMP", "1795827773028247");
    let started = entry(&[
        ("_PID", "1"),
        ("JOB_TYPE", "start"),
        ("JOB_RESULT", "done"),
        ("UNIT", "fpm@blog.service"),
        at,
    ]);
    let u = journal::unit_record(&layout, &started).unwrap();
    assert_eq!((u.site.as_str(), u.up), ("blog", true));
    assert_eq!(u.at.timestamp_micros(), 1_795_827_773_028_247);
    for not in [
        entry(&[
            ("_PID", "1"),
            ("JOB_TYPE", "start"),
            ("JOB_RESULT", "failed"),
            ("UNIT", "fpm@blog.service"),
            at,
        ]),
        entry(&[
            ("_PID", "77"),
            ("JOB_TYPE", "stop"),
            ("JOB_RESULT", "done"),
            ("UNIT", "fpm@blog.service"),
            at,
        ]),
        entry(&[
            ("_PID", "1"),
            ("JOB_TYPE", "stop"),
            ("JOB_RESULT", "done"),
            ("UNIT", "nginx.service"),
            at,
        ]),
    ] {
        assert_eq!(journal::unit_record(&layout, &not), None, "{not}");
    }
    let accepted = entry(&[
        ("MESSAGE", "php-fpm accepts site=\"blog\" took_ms=812"),
        ("SITE", "blog"),
        ("TOOK_MS", "812"),
        at,
    ]);
    let w = journal::wake_record(&accepted).unwrap();
    assert_eq!(
        (w.site.as_str(), w.took),
        ("blog", Duration::from_millis(812))
    );
    let other = entry(&[("MESSAGE", "waker exiting"), ("SITE", "blog"), at]);
    assert_eq!(journal::wake_record(&other), None);
    let bad_site = entry(&[
        ("MESSAGE", "php-fpm accepts"),
        ("SITE", "../x"),
        ("TOOK_MS", "1"),
        at,
    ]);
    assert_eq!(journal::wake_record(&bad_site), None);
}
