//! Unit tests of `admission` (the shared crate).
use super::*;

#[test]
fn requests_read_back_as_written() {
    let site = Site::new("blog").unwrap();
    for r in [Request::Start(site), Request::Status] {
        assert_eq!(Request::parse(&format!("{r}\n")), Some(r));
    }
    assert_eq!(Request::parse("start ../x"), None);
    assert_eq!(Request::parse("start"), None);
    assert_eq!(Request::parse("stop blog"), None);
}
