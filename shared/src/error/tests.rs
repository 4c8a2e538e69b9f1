//! Unit tests of `error` (the shared crate).
use super::*;

#[derive(Debug, thiserror::Error)]
#[error("stop fpm@blog.service")]
struct Outer(#[source] std::io::Error);

#[test]
fn prints_each_cause_once() {
    let e = Outer(std::io::Error::other("bus gone"));
    assert_eq!(chain(&e), "stop fpm@blog.service: bus gone");
}
