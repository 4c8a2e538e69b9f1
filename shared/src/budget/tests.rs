//! Unit tests of `budget` (the shared crate).
use super::*;

#[test]
fn off_by_default_and_checked_when_set() {
    let b = Budget::default();
    assert!(!b.enabled());
    assert_eq!(b.problem(), None);
    let on = Budget {
        max_awake: 20,
        ..Budget::default()
    };
    assert!(on.enabled());
    assert_eq!(on.problem(), None);
    let longest = Budget {
        wait_secs: 45,
        ..on.clone()
    };
    assert_eq!(longest.problem(), None);
    for wait_secs in [0, 46] {
        let bad = Budget {
            wait_secs,
            ..on.clone()
        };
        let (key, value, why) = bad.problem().unwrap();
        assert_eq!((key, value), ("budget.wait_secs", wait_secs.to_string()));
        assert!(why.contains("TimeoutStartSec"), "{why}");
    }
    let bad = Budget {
        max_starting: 0,
        ..on
    };
    assert_eq!(bad.problem().unwrap().0, "budget.max_starting");
}
