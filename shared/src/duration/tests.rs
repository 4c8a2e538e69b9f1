//! Unit tests of `duration` (the shared crate).
#[test]
fn durations_read_the_way_an_operator_reads_them() {
    assert_eq!(human(Duration::from_millis(500)), "500ms");
    assert_eq!(human(Duration::from_secs(42)), "42s");
    assert_eq!(human(Duration::from_secs(1503)), "25m3s");
    assert_eq!(human(Duration::from_secs(3900)), "1h5m");
}

use super::*;

#[test]
fn accepts_what_docker_logs_since_accepts() {
    let d = |s| parse_duration(s).unwrap();
    assert_eq!(d("20m"), Duration::from_secs(1200));
    assert_eq!(d("90s"), Duration::from_secs(90));
    assert_eq!(d("1h30m"), Duration::from_secs(5400));
    assert_eq!(d("1.5h"), Duration::from_secs(5400));
    assert_eq!(d("500ms"), Duration::from_millis(500));
    assert_eq!(d(".5s"), Duration::from_millis(500));
    assert_eq!(d("2.s"), Duration::from_secs(2));
    assert_eq!(d("1h0m1s"), Duration::from_secs(3601));
    assert_eq!(d("+3m"), Duration::from_secs(180));
    assert_eq!(d("  20m \t"), Duration::from_secs(1200));
    assert_eq!(d("1us"), Duration::from_micros(1));
    assert_eq!(d("1µs"), Duration::from_micros(1));
    assert_eq!(d("7ns"), Duration::from_nanos(7));
}

#[test]
fn rejects_everything_else_with_a_reason() {
    use DurationError::*;
    assert_eq!(parse_duration(""), Err(Empty));
    assert_eq!(parse_duration("   "), Err(Empty));
    assert_eq!(parse_duration("20"), Err(MissingUnit("20".into())));
    assert_eq!(parse_duration("1h30"), Err(MissingUnit("30".into())));
    assert_eq!(parse_duration("20 m"), Err(UnknownUnit(" m".into())));
    assert_eq!(parse_duration("20min"), Err(UnknownUnit("min".into())));
    assert_eq!(parse_duration("2d"), Err(UnknownUnit("d".into())));
    assert_eq!(parse_duration("-5m"), Err(Negative));
    assert_eq!(parse_duration("0s"), Err(Zero));
    assert_eq!(parse_duration("0"), Err(MissingUnit("0".into())));
    assert_eq!(parse_duration("m"), Err(BadNumber("m".into())));
    assert_eq!(parse_duration(".m"), Err(BadNumber(".m".into())));
    assert_eq!(parse_duration("1e3s"), Err(UnknownUnit("e".into())));
    assert_eq!(
        parse_duration("99999999999999999999999999999999999999999h"),
        Err(TooLarge)
    );
    assert_eq!(parse_duration("9999999999999999999h"), Err(TooLarge));
}
