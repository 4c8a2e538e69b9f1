//! The stop-or-keep decision against a fixed clock.

use super::*;
use chrono::TimeZone;

const MIN: Duration = Duration::from_secs(60);

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

fn ago(secs: i64) -> DateTime<Utc> {
    now() - chrono::Duration::seconds(secs)
}

fn running(started_secs_ago: i64) -> ContainerState {
    ContainerState::Running {
        started_at: Some(ago(started_secs_ago)),
    }
}

#[test]
fn stops_a_site_quiet_for_its_window() {
    let d = decide(20 * MIN, &running(7200), &LastLog::At(ago(1500)), now());
    assert_eq!(d.verdict, Verdict::Stop);
    assert_eq!(d.last_activity, Some(ago(1500)));
    assert_eq!(d.idle, Some(Duration::from_secs(1500)));
    assert_eq!(d.reason, "idle for 25m (last log line), window 20m");
}

#[test]
fn stops_exactly_at_the_window_and_keeps_just_before() {
    assert_eq!(
        decide(20 * MIN, &running(7200), &LastLog::At(ago(1200)), now()).verdict,
        Verdict::Stop
    );
    assert_eq!(
        decide(20 * MIN, &running(7200), &LastLog::At(ago(1199)), now()).verdict,
        Verdict::Keep
    );
}

#[test]
fn keeps_a_site_that_logged_recently() {
    let d = decide(20 * MIN, &running(7200), &LastLog::At(ago(30)), now());
    assert_eq!(d.verdict, Verdict::Keep);
    assert_eq!(d.reason, "last log line 30s ago, within window 20m");
}

#[test]
fn a_fresh_start_after_a_long_quiet_time_counts_as_activity() {
    let d = decide(20 * MIN, &running(10), &LastLog::At(ago(86_400)), now());
    assert_eq!(d.verdict, Verdict::Keep);
    assert_eq!(d.last_activity, Some(ago(10)));
    assert_eq!(d.reason, "started 10s ago, within window 20m");
}

#[test]
fn a_container_that_never_logged_is_idle_since_its_start() {
    assert_eq!(
        decide(MIN, &running(61), &LastLog::Never, now()).verdict,
        Verdict::Stop
    );
    assert_eq!(
        decide(MIN, &running(59), &LastLog::Never, now()).verdict,
        Verdict::Keep
    );
}

#[test]
fn skips_paused_stopped_and_missing_containers() {
    let log = LastLog::At(ago(99_999));
    for (state, reason) in [
        (ContainerState::Paused, "container is paused"),
        (
            ContainerState::NotRunning("exited".into()),
            "container is not running (exited)",
        ),
        (ContainerState::Missing, "container does not exist"),
    ] {
        let d = decide(MIN, &state, &log, now());
        assert_eq!((d.verdict, d.reason.as_str()), (Verdict::Skip, reason));
        assert_eq!((d.idle, d.last_activity), (None, None));
    }
}

#[test]
fn never_stops_when_anything_is_unknown() {
    let cases = [
        (
            running(9999),
            LastLog::Unreadable("log driver cannot be read".into()),
            Verdict::Keep,
        ),
        (
            running(9999),
            LastLog::Unknown("timeout".into()),
            Verdict::Error,
        ),
        (
            ContainerState::Running { started_at: None },
            LastLog::Never,
            Verdict::Keep,
        ),
        (
            ContainerState::Unknown("refused".into()),
            LastLog::Never,
            Verdict::Error,
        ),
        (
            running(9999),
            LastLog::At(now() + chrono::Duration::seconds(5)),
            Verdict::Keep,
        ),
    ];
    for (state, log, verdict) in cases {
        let d = decide(Duration::from_millis(1), &state, &log, now());
        assert_eq!(d.verdict, verdict, "{state:?} {log:?}: {}", d.reason);
        assert_eq!(d.idle, None);
    }
}

#[test]
fn reasons_name_the_unknown() {
    let d = decide(
        MIN,
        &running(9999),
        &LastLog::Unreadable("log driver \"none\" cannot be read".into()),
        now(),
    );
    assert_eq!(
        d.reason,
        "idle time unknown: log driver \"none\" cannot be read"
    );
    let d = decide(
        MIN,
        &ContainerState::Unknown("connection refused".into()),
        &LastLog::Never,
        now(),
    );
    assert_eq!(d.reason, "cannot inspect container: connection refused");
}
