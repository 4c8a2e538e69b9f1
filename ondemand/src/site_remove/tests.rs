//! `site remove`'s verdict and what it reads from nginx, from plain data.

use super::*;

fn site() -> Site {
    Site::new("blog").unwrap()
}

const VHOSTS: &str = "\
# configuration file /etc/nginx/sites-enabled/default:
server {
    server_name blog.example;
    location ~ \\.php$ {
        fastcgi_pass fpm_blog;
    }
    location /old { fastcgi_pass unix:/var/run/docker-apps/blog/vhost-waker.sock; }
    # fastcgi_pass fpm_blog;
    location /shop { fastcgi_pass fpm_blogshop; }
}
upstream own { server unix:/run/docker-apps/blog/php-fpm.sock; }
# configuration file /etc/nginx/conf.d/fpm-blog.conf:
# nginx for on-demand site blog (fpm-ondemand site nginx blog): php-fpm's socket
upstream fpm_blog {
    server unix:/var/run/docker-apps/blog/php-fpm.sock max_fails=0;
}
";

#[test]
fn nginx_lines_that_pass_php_to_the_site_are_found_by_upstream_or_path() {
    let l = Layout::default();
    let outside = outside_file(VHOSTS, Path::new("/etc/nginx/conf.d/fpm-blog.conf"), true);
    let found = routes(&outside, &l, &site());
    assert_eq!(
        found,
        [
            "fastcgi_pass fpm_blog;",
            "location /old { fastcgi_pass unix:/var/run/docker-apps/blog/vhost-waker.sock; }",
            "upstream own { server unix:/run/docker-apps/blog/php-fpm.sock; }",
        ]
    );
    assert!(routes(VHOSTS, &l, &Site::new("shop").unwrap()).is_empty());
}

#[test]
fn the_upstream_file_site_nginx_wrote_is_left_out_and_nothing_else() {
    let file = Path::new("/etc/nginx/conf.d/fpm-blog.conf");
    let out = outside_file(VHOSTS, file, true);
    assert!(!out.contains("upstream fpm_blog"), "{out}");
    assert!(out.contains("fastcgi_pass fpm_blog;"), "{out}");
    assert_eq!(outside_file(VHOSTS, file, false), VHOSTS);
}

#[test]
fn a_site_still_routed_or_with_a_running_waker_is_refused_and_says_what_to_do() {
    let l = Layout::default();
    let idle = Traffic {
        waker_running: false,
        routed_by: Vec::new(),
    };
    assert_eq!(refusal(&site(), &l, &idle), None);
    let routed = Traffic {
        routed_by: vec!["fastcgi_pass fpm_blog;".into()],
        ..idle.clone()
    };
    let why = refusal(&site(), &l, &routed).unwrap();
    assert!(
        why.contains("fastcgi_pass fpm_blog;") && why.contains("remove that vhost"),
        "{why}"
    );
    let held = Traffic {
        waker_running: true,
        ..idle
    };
    let why = refusal(&site(), &l, &held).unwrap();
    assert!(
        why.contains("fpm-waker@blog.service runs") && why.contains("--force"),
        "{why}"
    );
}
