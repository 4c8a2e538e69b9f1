//! Unit tests of `cli` (the waker crate).
use super::*;

#[test]
fn the_default_start_timeout_is_the_one_the_longest_wake_counts() {
    let args = Args::parse_from(["fpm-waker", "blog"]);
    assert_eq!(args.start_timeout, fpm_shared::budget::WAKER_START_TIMEOUT);
}
