//! Unit tests of `systemd` (the shared crate).
use super::*;

#[test]
fn unit_and_job_words_map() {
    assert_eq!(UnitState::from_word("active"), UnitState::Active);
    assert_eq!(
        UnitState::from_word("deactivating"),
        UnitState::Deactivating
    );
    assert_eq!(
        UnitState::from_word("maintenance"),
        UnitState::Other("maintenance".into())
    );
    assert_eq!(JobResult::from_word("done"), None);
    assert_eq!(JobResult::from_word("canceled"), Some(JobResult::Canceled));
    assert_eq!(JobResult::from_word("odd").unwrap().word(), "odd");
}

#[test]
fn unit_paths_decode_to_names() {
    let name = |p: &str| unit_name_of_path(&format!("{UNIT_PATH_PREFIX}{p}"));
    assert_eq!(
        name("fpm_2dwaker_40blog_2esocket").as_deref(),
        Some("fpm-waker@blog.socket")
    );
    assert_eq!(
        name("fpm_40my_5fsite_2eservice").as_deref(),
        Some("fpm@my_site.service")
    );
    assert_eq!(name("bad_zz"), None);
    assert_eq!(name("cut_2"), None);
    assert_eq!(unit_name_of_path("/org/freedesktop/systemd1/job/5"), None);
}
