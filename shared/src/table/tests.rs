//! Unit tests of `table` (the shared crate).
use super::*;

#[test]
fn columns_align_to_the_widest_cell_and_the_last_is_not_padded() {
    let rows = vec![
        vec!["SITE".into(), "STATE".into(), "WHY".into()],
        vec!["a-long-site".into(), "ok".into(), "fine".into()],
    ];
    assert_eq!(
        aligned(&rows),
        "SITE         STATE  WHY\na-long-site  ok     fine\n"
    );
}
