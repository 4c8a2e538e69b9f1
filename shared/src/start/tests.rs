//! Unit tests of `start` (the shared crate).
use super::*;

#[test]
fn answers_read_back_as_sent() {
    for a in [
        Answer::Done,
        Answer::Job(JobResult::Canceled),
        Answer::Job(JobResult::Failed),
        Answer::Refused("no conf for blog".into()),
    ] {
        assert_eq!(Answer::parse(&a.line()), a);
    }
    assert_eq!(
        Answer::parse(&Answer::Refused("two\nlines".into()).line()),
        Answer::Refused("two lines".into())
    );
}
