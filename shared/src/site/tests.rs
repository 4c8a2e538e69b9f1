//! Unit tests of `site` (the shared crate).
use super::*;

#[test]
fn accepts_host_style_ids() {
    for id in [
        "blog",
        "test",
        "a",
        "my-site_2.old",
        "9lives",
        &"x".repeat(64),
    ] {
        assert_eq!(Site::new(id).unwrap().as_str(), id);
    }
}

#[test]
fn rejects_empty_long_and_bad_characters() {
    assert_eq!(Site::new(""), Err(SiteError::Empty));
    assert!(matches!(
        Site::new(&"x".repeat(65)),
        Err(SiteError::TooLong(_))
    ));
    for (id, ch, at) in [
        ("-blog", '-', 0),
        (".hidden", '.', 0),
        ("_x", '_', 0),
        ("a b", ' ', 1),
        ("a/b", '/', 1),
        ("../etc", '.', 0),
        ("blög", 'ö', 2),
        ("a\nb", '\n', 1),
        ("a;rm", ';', 1),
    ] {
        assert_eq!(
            Site::new(id),
            Err(SiteError::BadChar {
                id: id.into(),
                ch,
                at
            }),
            "{id:?}"
        );
    }
}

#[test]
fn error_names_the_value() {
    let msg = Site::new("a b").unwrap_err().to_string();
    assert!(msg.contains("\"a b\""), "{msg}");
}
