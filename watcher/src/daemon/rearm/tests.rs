//! Unit tests of `daemon::rearm` (the watcher crate).
use super::*;

#[test]
fn a_socket_that_keeps_failing_is_re_armed_less_and_less_often() {
    let site = Site::new("blog").unwrap();
    let mut b = Backoff::default();
    let t0 = Instant::now();
    let s = Duration::from_secs;
    assert_eq!(b.verdict(&site, t0), Verdict::Now);
    assert_eq!(b.rearmed(&site, t0), None, "a first re-arm is no loop");
    // It failed again at once: 1 s, said once; then 2 s, 4 s, ... up to 5 minutes.
    let mut now = t0 + Duration::from_millis(50);
    assert_eq!(b.verdict(&site, now), Verdict::Now);
    assert_eq!(b.rearmed(&site, now), Some(s(1)));
    let mut pauses = Vec::new();
    for _ in 0..12 {
        let Verdict::NotBefore(at) = b.verdict(&site, now) else {
            panic!("backed off")
        };
        pauses.push(at - now);
        now = at;
        assert_eq!(b.verdict(&site, now), Verdict::Now);
        assert_eq!(b.rearmed(&site, now), None, "said once");
    }
    assert_eq!(&pauses[..4], &[s(1), s(2), s(4), s(8)]);
    assert_eq!(*pauses.last().unwrap(), LONGEST_PAUSE);
    // Re-armed and then fine for long: the next failure is re-armed at once again.
    let later = now + LONGEST_PAUSE + FAILED_AGAIN_WITHIN;
    assert_eq!(b.verdict(&site, later), Verdict::Now);
    assert_eq!(b.rearmed(&site, later), None);
    assert_eq!(
        b.verdict(&site, later + s(1)),
        Verdict::Now,
        "no pause after a re-arm that held"
    );
}

#[test]
fn sites_are_backed_off_apart_and_forgotten_with_their_conf() {
    let (a, other) = (Site::new("a").unwrap(), Site::new("b").unwrap());
    let mut b = Backoff::default();
    let t0 = Instant::now();
    b.rearmed(&a, t0);
    b.rearmed(&a, t0);
    assert!(matches!(b.verdict(&a, t0), Verdict::NotBefore(_)));
    assert_eq!(b.verdict(&other, t0), Verdict::Now);
    b.retain(|s| *s != a);
    assert_eq!(b.verdict(&a, t0), Verdict::Now);
}
