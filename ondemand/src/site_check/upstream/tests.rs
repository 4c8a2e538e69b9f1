//! Unit tests of `site_check::upstream` (the ondemand crate).
use super::*;

const SEED: &str = "# configuration file /etc/nginx/conf.d/blog.conf:\n\
    upstream fpm_blog {\n    # php-fpm first\n    server unix:/var/run/docker-apps/blog/php-fpm.sock max_fails=0;\n    \
    server unix:/var/run/docker-apps/blog/vhost-waker.sock backup;\n}\n\
    server { listen 80; location ~ \\.php$ { fastcgi_pass fpm_blog; } }\n\
    upstream other{server 127.0.0.1:9000;}\n";

#[test]
fn upstream_blocks_are_read_with_their_servers_and_max_fails() {
    let found = upstreams(SEED);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].name, "fpm_blog");
    let servers = &found[0].servers;
    assert_eq!(
        servers[0].address,
        "unix:/var/run/docker-apps/blog/php-fpm.sock"
    );
    assert_eq!(servers[0].max_fails.as_deref(), Some("0"));
    assert_eq!(servers[1].max_fails, None);
    assert!(!servers[0].may_be_marked_down(2));
    assert!(servers[1].may_be_marked_down(2));
    // The lone server of a block is never marked down by nginx.
    assert_eq!(found[1].name, "other");
    assert!(!found[1].servers[0].may_be_marked_down(1));
}

#[test]
fn a_server_block_is_not_an_upstream_and_comments_do_not_count() {
    let text = "server { listen 80; }\n# upstream x { server unix:/a.sock; }\n";
    assert!(upstreams(text).is_empty());
}
