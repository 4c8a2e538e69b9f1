use super::*;

const CONFIG: &str = "# /etc/x: paths.\n# Every key at its default.\n\n\
# The engine's socket.\n# docker_socket = \"/var/run/docker.sock\"\n\n\
# A budget.\n# [budget]\n# max_awake = 0           # 0: no budget\n";

#[test]
fn each_setting_is_a_tagged_paragraph_with_its_comment() {
    let (header, groups) = groups(CONFIG);
    assert_eq!(header, "/etc/x: paths. Every key at its default.");
    assert_eq!(
        groups,
        [
            Group {
                text: "The engine's socket.".into(),
                settings: vec!["docker_socket = \"/var/run/docker.sock\"".into()],
            },
            Group {
                text: "A budget.".into(),
                settings: vec![
                    "[budget]".into(),
                    "max_awake = 0           # 0: no budget".into()
                ],
            },
        ]
    );
}

#[test]
fn the_page_is_roff_with_every_key() {
    let page = render(CONFIG, "1.2.3");
    assert!(page.starts_with(".TH FPM\\-ONDEMAND.TOML 5"), "{page}");
    assert!(
        page.contains(".TP\n.B docker_socket = \"/var/run/docker.sock\"\nThe engine's socket.\n"),
        "{page}"
    );
    assert!(
        page.contains(".B [budget]\n.TP\n.B max_awake = 0"),
        "{page}"
    );
}

#[test]
fn the_shipped_config_names_every_key_on_the_page() {
    let config = include_str!("../../config.toml");
    let page = render(config, "0");
    for key in [
        "conf_dir",
        "docker_timeout_secs",
        "pool_dir",
        "max_awake",
        "retry_after_secs",
    ] {
        assert!(page.contains(&format!(".B {key} = ")), "{key}");
    }
}
