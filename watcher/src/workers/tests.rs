//! Unit tests of `workers` (the watcher crate).
use super::*;

fn p(pid: &str, wchan: &str, command: &str) -> Process {
    Process {
        pid: pid.into(),
        wchan: wchan.into(),
        command: command.into(),
    }
}

const MASTER: &str = "php-fpm: master process (/etc/php-site.conf)";
const WORKER: &str = "php-fpm: pool www";

#[test]
fn workers_waiting_in_accept_are_idle_and_any_other_holds_a_request() {
    let idle = [
        p("1", "do_epoll_wait", MASTER),
        p("2", "skb_wait_for_more_packets", WORKER),
        p("3", "inet_csk_accept", WORKER),
        p("4", "__skb_wait_for_more_packets", WORKER),
    ];
    assert_eq!(workers(&idle), Workers::Idle);
    let busy = [
        p("1", "do_epoll_wait", MASTER),
        p("2", "hrtimer_nanosleep", WORKER),
        p("3", "-", WORKER),
        p("4", "skb_wait_for_more_packets", WORKER),
    ];
    assert_eq!(workers(&busy), Workers::Busy(vec!["2".into(), "3".into()]));
    // Not php-fpm (an init, a shell), or no worker at all: nothing to wait for.
    assert_eq!(
        workers(&[p("1", "do_wait", "sh -c sleep 1; exec php-fpm")]),
        Workers::Idle
    );
    assert_eq!(workers(&[]), Workers::Idle);
}

#[test]
fn a_list_without_any_kernel_function_cannot_tell() {
    let hidden = [p("1", "-", MASTER), p("2", "-", WORKER)];
    assert_eq!(workers(&hidden), Workers::Unknown);
}
