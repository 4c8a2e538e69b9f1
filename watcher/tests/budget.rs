//! A budget of awake sites under real load: 100 sites, `max_awake` 20, a crawler that requests
//! every site once in random order within 10 s, then 10 busy sites under steady load while the
//! crawler passes again. Every request is answered (200, or the documented 503 with Retry-After),
//! never more than 20 site containers run (sampled every 100 ms), no busy site's request fails
//! and no busy site is stopped for room. And the visitor's side of a full host: a request that
//! finds no room within the wait gets 503 with Retry-After through nginx, in both variants.

use fpm_tests::stack::Stack;
use fpm_tests::{docker, docker_raw, require_docker, wait_until};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fpm-watcher"))
}

/// Counts the stack's running site containers every 100 ms until dropped; keeps the peak.
struct Sampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicUsize>,
    /// The machine's lowest MemAvailable seen, in kB.
    low_kb: Arc<AtomicUsize>,
    samples: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    fn start(prefix: &str) -> Sampler {
        let (stop, peak, samples) = (Arc::default(), Arc::default(), Arc::default());
        let low_kb = Arc::new(AtomicUsize::new(mem_available_kb()));
        let filter = format!("name={prefix}-");
        let thread = {
            let (stop, peak, samples): (Arc<AtomicBool>, Arc<AtomicUsize>, Arc<AtomicUsize>) =
                (Arc::clone(&stop), Arc::clone(&peak), Arc::clone(&samples));
            let low_kb = Arc::clone(&low_kb);
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let next = std::time::Instant::now() + Duration::from_millis(100);
                    let out = docker_raw(&["ps", "--format", "{{.Names}}", "--filter", &filter]);
                    assert!(out.status.success(), "docker ps failed");
                    let names = String::from_utf8_lossy(&out.stdout).into_owned();
                    let running = names.lines().filter(|n| n.ends_with(".fpm")).count();
                    peak.fetch_max(running, Ordering::SeqCst);
                    low_kb.fetch_min(mem_available_kb(), Ordering::SeqCst);
                    samples.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(next.saturating_duration_since(std::time::Instant::now()));
                }
            })
        };
        Sampler {
            stop,
            peak,
            low_kb,
            samples,
            thread: Some(thread),
        }
    }

    /// The peak and the number of samples taken.
    fn finish(mut self) -> (usize, usize) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap();
        (
            self.peak.load(Ordering::SeqCst),
            self.samples.load(Ordering::SeqCst),
        )
    }
}

/// The machine's MemAvailable, in kB.
fn mem_available_kb() -> usize {
    let info = std::fs::read_to_string("/proc/meminfo").expect("/proc/meminfo");
    info.lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .expect("MemAvailable in /proc/meminfo")
}

/// A shell loop in the host that requests each of `sites` once, in the order given, one every
/// `gap` seconds without waiting for the answers; prints `SITE CODE RETRY-AFTER SECONDS`.
fn crawl(sites: &[String], gap: f64) -> String {
    let list = sites.join(" ");
    format!(
        "for s in {list}; do \
           (curl -s -o /dev/null -m 60 -H \"Host: $s.test\" \
              -w \"$s %{{http_code}} %header{{retry-after}}- %{{time_total}}\\n\" \
              http://127.0.0.1:8080/index.php) & \
           sleep {gap}; \
         done; wait"
    )
}

/// `SITE CODE RETRY-AFTER SECONDS` lines by site.
fn answers(out: &str) -> BTreeMap<String, (u16, String)> {
    out.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let site = f.next()?.to_owned();
            let code = f.next()?.parse().ok()?;
            Some((site, (code, f.next()?.trim_end_matches('-').to_owned())))
        })
        .collect()
}

/// The sites the watcher stopped to make room, from its journal.
fn evicted(s: &Stack) -> Vec<String> {
    let journal = s
        .host
        .ok(&["journalctl", "-u", "fpm-watcher", "--no-pager", "-o", "cat"]);
    journal
        .lines()
        .filter(|l| l.starts_with("stopping the site quiet longest to make room"))
        .filter_map(|l| l.split(" site=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Every crawler answer is a 200, or a 503 with Retry-After 30; returns how many were 503.
fn check_crawl(what: &str, sites: &[String], out: &str) -> usize {
    let got = answers(out);
    assert_eq!(
        got.len(),
        sites.len(),
        "{what}: one answer per site:\n{out}"
    );
    let mut busy = 0;
    for (site, (code, retry)) in &got {
        match code {
            200 => {}
            503 => {
                assert_eq!(
                    retry, "30",
                    "{what}: {site}'s 503 says when to retry:\n{out}"
                );
                busy += 1;
            }
            _ => panic!("{what}: {site} answered {code}:\n{out}"),
        }
    }
    let slowest = out
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3)?.parse::<f64>().ok())
        .fold(0.0, f64::max);
    println!(
        "{what}: {} sites, {} answered 200, {busy} answered 503; slowest answer {slowest:.1} s",
        got.len(),
        got.len() - busy
    );
    busy
}

/// Short minimums, so that the crawler's sites turn over within the test; a busy site (a request
/// every 0.2 s) is never 5 s quiet.
const BUDGET: &str = "[budget]\nmax_awake = 20\nmax_starting = 4\nmin_awake_secs = 3\nmin_idle_secs = 5\nwait_secs = 20\nretry_after_secs = 30\n";

#[test]
fn a_crawler_over_100_sites_never_wakes_more_than_20_and_busy_sites_keep_working() {
    require_docker();
    let tags: Vec<String> = (0..100).map(|i| format!("s{i:03}")).collect();
    let tag_refs: Vec<&str> = tags.iter().map(String::as_str).collect();
    let s = Stack::boot_configured("budget", &tag_refs, "20m", bin(), BUDGET);
    s.host.ok(&["systemctl", "start", "fpm-watcher.service"]);
    let sites: Vec<String> = tags.iter().map(|t| s.site(t)).collect();
    let sampler = Sampler::start(&s.prefix);

    // The crawler: every site once, in random order, within 10 s.
    let mut order = sites.clone();
    shuffle(&mut order);
    let first = s.host.ok(&["bash", "-c", &crawl(&order, 0.1)]);
    let first_503 = check_crawl("crawler", &sites, &first);

    // A steady load on 10 busy sites (their first requests wake them, waiting for room), and
    // once each has answered, the crawler passes over the other 90 again.
    let (busy, rest) = sites.split_at(10);
    let load = busy
        .iter()
        .map(|site| {
            format!(
                "(while [ ! -e /tmp/crawl-done ]; do \
                   curl -s -o /dev/null -m 60 -H 'Host: {site}.test' -w '{site} %{{http_code}}\\n' \
                     http://127.0.0.1:8080/index.php; sleep 0.2; \
                 done) >> /tmp/busy.out 2>/dev/null </dev/null &"
            )
        })
        .collect::<String>();
    s.host.ok(&[
        "bash",
        "-c",
        &format!("rm -f /tmp/busy.out /tmp/crawl-done; {load}"),
    ]);
    wait_until(Duration::from_secs(60), "every busy site to answer", || {
        let out = s.host.ok(&["cat", "/tmp/busy.out"]);
        busy.iter().all(|site| out.contains(&format!("{site} ")))
    });
    let evicted_before = evicted(&s);
    let mut again = rest.to_vec();
    shuffle(&mut again);
    let second = s.host.ok(&["bash", "-c", &crawl(&again, 0.1)]);
    // The busy sites stay busy until the crawler is done.
    s.host.ok(&["touch", "/tmp/crawl-done"]);
    wait_until(Duration::from_secs(60), "the busy load to end", || {
        s.host
            .exec(&["pgrep", "-f", "crawl-done"])
            .stdout
            .is_empty()
    });
    let (peak, samples) = sampler.finish();
    let second_503 = check_crawl("crawler again, busy sites under load", rest, &second);

    let busy_out = s.host.ok(&["cat", "/tmp/busy.out"]);
    let busy_answers: Vec<&str> = busy_out.lines().collect();
    let failed: Vec<&&str> = busy_answers
        .iter()
        .filter(|l| !l.ends_with(" 200"))
        .collect();
    println!(
        "busy sites: {} requests, {} not 200; peak {peak} site containers in {samples} samples; \
         {} stops for room in all; 503s: {first_503} + {second_503}",
        busy_answers.len(),
        failed.len(),
        evicted(&s).len()
    );
    assert!(busy_answers.len() >= 200, "the load ran: {busy_out}");
    assert!(
        failed.is_empty(),
        "every busy request answered 200: {failed:?}"
    );
    assert!(samples >= 100, "sampled all along: {samples}");
    assert!(
        peak <= 20,
        "never more than 20 site containers running: peak {peak}"
    );
    assert!(peak >= 15, "the budget was reached: peak {peak}");
    let evicted_under_load: Vec<String> = evicted(&s)[evicted_before.len()..].to_vec();
    assert!(
        !evicted_under_load.is_empty(),
        "the second crawl needed room"
    );
    for site in busy {
        assert!(
            !evicted_under_load.contains(site),
            "busy site {site} was stopped for room: {evicted_under_load:?}"
        );
    }

    // A site stopped for room is an ordinary stopped site: unit inactive, waker socket
    // listening, and its next request wakes it.
    let gone = evicted_under_load.last().unwrap().clone();
    let tag = gone
        .strip_prefix(&format!("{}-", s.prefix))
        .unwrap()
        .to_owned();
    wait_until(
        Duration::from_secs(30),
        "the last stop for room to end",
        || s.host.active_state(&s.fpm_unit(&tag)) != "deactivating",
    );
    let status = s.host.exec(&["fpm-ondemand", "status", &gone]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains("budget: "),
        "status shows the budget:\n{text}"
    );
    if s.host.active_state(&s.fpm_unit(&tag)) == "inactive" {
        assert_eq!(s.host.active_state(&s.waker_socket(&tag)), "active");
        assert!(status.status.success(), "nothing inconsistent:\n{text}");
    }
    let (code, body) = s.get(&tag, "test");
    assert_eq!(code, 200, "{gone} wakes again: {body}");
}

#[test]
fn a_request_that_finds_no_room_within_the_wait_gets_503_with_retry_after() {
    require_docker();
    // One site may be awake and is never quiet long enough to stop: b's start waits 3 s.
    let config =
        "[budget]\nmax_awake = 1\nmin_awake_secs = 3600\nwait_secs = 3\nretry_after_secs = 45\n";
    let s = Stack::boot_configured("full", &["a", "b"], "20m", bin(), config);
    s.host.ok(&["systemctl", "start", "fpm-watcher.service"]);
    assert_eq!(s.get("a", "test").0, 200);
    for vhost in ["test", "fast"] {
        let started = std::time::Instant::now();
        // Headers and page together.
        let (code, answer) = s.fetch("b", vhost, "/index.php", &["-D", "-"]);
        let (headers, body) = (answer.to_lowercase(), answer.clone());
        assert_eq!(code, 503, "{vhost}: {body}");
        assert!(body.contains("try again in 45 seconds"), "{vhost}: {body}");
        assert!(headers.contains("retry-after: 45"), "{vhost}: {headers}");
        assert!(
            started.elapsed() >= Duration::from_secs(3),
            "{vhost}: answered after the wait"
        );
    }
    assert_eq!(s.host.active_state(&s.fpm_unit("b")), "failed");
    assert_eq!(
        s.host.active_state(&s.fpm_unit("a")),
        "active",
        "a is left awake"
    );
    let waker = s.journal(&[&s.waker_service("b")]);
    assert!(waker.contains("answering 503 with Retry-After"), "{waker}");
    let watcher = s
        .host
        .ok(&["journalctl", "-u", "fpm-watcher", "--no-pager", "-o", "cat"]);
    assert!(
        watcher.contains(&format!(
            "start gave up waiting for room: its held requests are answered 503 site={}",
            s.site("b")
        )),
        "{watcher}"
    );
    let metrics = s.host.ok(&["curl", "-s", "http://127.0.0.1:9747/metrics"]);
    assert!(
        metrics.contains(&format!(
            "fpm_ondemand_admission_gave_up_total{{site=\"{}\"}} 2",
            s.site("b")
        )),
        "{metrics}"
    );
}

#[test]
fn a_start_let_in_late_whose_php_fpm_is_slow_ends_in_its_answer_not_a_502() {
    require_docker();
    // One site may be awake; a becomes stoppable 6 s after it woke. b's start waits for that,
    // then for a's drained stop, and b's php-fpm starts 4 s after its container: about 11 s
    // in all, far past the waker's 6 s start timeout, which counts only php-fpm's 4 s.
    let config = "[budget]\nmax_awake = 1\nmin_awake_secs = 6\nmin_idle_secs = 1\nwait_secs = 30\n";
    let mut s = Stack::boot_with("late", &["a", "b"], "20m", bin(), ("6s", config));
    s.create_slow_site_container("b", 4);
    s.host.ok(&["systemctl", "start", "fpm-watcher.service"]);
    assert_eq!(s.get("a", "test").0, 200);
    let started = std::time::Instant::now();
    let (code, body) = s.get("b", "test");
    let took = started.elapsed();
    assert_eq!(code, 200, "after {took:?}: {body}");
    assert!(
        took >= Duration::from_secs(8),
        "b waited for room and for its slow php-fpm: {took:?}"
    );
    let waker = s.journal(&[&s.waker_service("b")]);
    assert!(!waker.contains("did not accept"), "{waker}");
    let watcher = s
        .host
        .ok(&["journalctl", "-u", "fpm-watcher", "--no-pager", "-o", "cat"]);
    assert!(
        watcher.contains(&format!(
            "start let in after waiting for room site={}",
            s.site("b")
        )),
        "{watcher}"
    );
    println!("b answered 200 after {took:?}");
}

#[test]
fn without_the_watcher_a_budget_never_makes_a_site_unreachable() {
    require_docker();
    let config = "[budget]\nmax_awake = 1\nwait_secs = 3\n";
    let s = Stack::boot_configured("noadmit", &["a"], "20m", bin(), config);
    // Neither the watcher nor its admission socket: nobody to ask.
    s.host.ok(&[
        "systemctl",
        "stop",
        "fpm-watcher-admission.socket",
        "fpm-watcher.service",
    ]);
    let (code, body) = s.get("a", "test");
    assert_eq!(code, 200, "{body}");
    let fpm = s.journal(&[&s.fpm_unit("a")]);
    assert!(
        fpm.contains("the watcher's admission (/run/fpm-ondemand/admission.sock) cannot be asked: starting without it"),
        "{fpm}"
    );
}

/// The watcher's CPU time so far, in clock ticks (1/100 s).
fn watcher_ticks(s: &Stack) -> u64 {
    let pid = s
        .host
        .ok(&["systemctl", "show", "-P", "MainPID", "fpm-watcher"]);
    let stat = s.host.ok(&["cat", &format!("/proc/{}/stat", pid.trim())]);
    // After the command's name in parentheses: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// What a local user and a tenant can do to the watcher, all at once: 1,200 idle connections to
/// the metrics port, and a waker socket that fails at every start (a folder where the socket
/// belongs). Docker is still mirrored at once, a sleeping site wakes under the budget, and the
/// watcher stays nearly idle. Then a watcher that hangs: a start goes ahead without it.
#[test]
fn neither_idle_metrics_connections_nor_a_failing_socket_nor_a_hung_watcher_keep_a_site_asleep() {
    require_docker();
    let config = "[budget]\nmax_awake = 10\n";
    let s = Stack::boot_configured("starve", &["a", "b", "c", "d"], "20m", bin(), config);
    s.host.ok(&["systemctl", "start", "fpm-watcher.service"]);
    assert_eq!(s.get("a", "test").0, 200);
    // A folder where d's waker socket belongs (a tenant could plant it at the seed path, which
    // the seed-path drop-in makes systemd bind too; here root does it): the next start fails.
    let planted = fpm_tests::names::waker_socket_path(&s.site("d"));
    s.host
        .ok(&["sh", "-c", &format!("rm {planted} && mkdir {planted}")]);
    let restarted = s.host.exec(&["systemctl", "restart", &s.waker_socket("d")]);
    assert!(!restarted.status.success(), "the socket cannot bind");
    // 1,200 idle connections to 127.0.0.1:9747 from user nobody, held open.
    let hold = "for i in $(seq 1 1200); do exec {fd}<>/dev/tcp/127.0.0.1/9747 || exit 1; done; \
                echo opened; sleep 120";
    s.host.ok(&[
        "systemd-run",
        "--unit",
        "test-idle-scrapers",
        "-p",
        "User=nobody",
        "-p",
        "LimitNOFILE=4096",
        "bash",
        "-c",
        hold,
    ]);
    wait_until(Duration::from_secs(30), "1,200 idle connections", || {
        s.journal(&["test-idle-scrapers"]).contains("opened")
    });
    let pid = s
        .host
        .ok(&["systemctl", "show", "-P", "MainPID", "fpm-watcher"]);
    let fds = s
        .host
        .ok(&["sh", "-c", &format!("ls /proc/{}/fd | wc -l", pid.trim())]);
    let fds: usize = fds.trim().parse().unwrap();
    assert!(fds < 200, "the watcher holds {fds} descriptors");

    // Under both, Docker is mirrored at once and a sleeping site wakes.
    docker(&["stop", &s.container("a")]);
    let stopped = std::time::Instant::now();
    wait_until(
        Duration::from_secs(5),
        "fpm@a to be mirrored inactive",
        || s.host.active_state(&s.fpm_unit("a")) == "inactive",
    );
    let mirrored = stopped.elapsed();
    let (code, body) = s.get("b", "test");
    assert_eq!(code, 200, "{body}");
    // And what the two cost the watcher over ten seconds (a debug build, as every test runs).
    let rearms = || {
        let journal = s
            .host
            .ok(&["journalctl", "-u", "fpm-watcher", "--no-pager", "-o", "cat"]);
        let done = format!("re-arm the waker socket: done site={}", s.site("d"));
        let failed = format!("re-arm the waker socket: failed site={}", s.site("d"));
        journal
            .lines()
            .filter(|l| l.starts_with(&done) || l.starts_with(&failed))
            .count()
    };
    let (ticks_before, rearms_before) = (watcher_ticks(&s), rearms());
    std::thread::sleep(Duration::from_secs(10));
    let (cpu_ticks, rearmed) = (watcher_ticks(&s) - ticks_before, rearms() - rearms_before);
    println!(
        "watcher: {fds} descriptors; docker stop mirrored in {mirrored:?}; over 10 s \
         {cpu_ticks} ticks of CPU and {rearmed} re-arms of the failing socket ({} in all)",
        rearms()
    );
    assert!(
        mirrored < Duration::from_secs(1),
        "mirrored in {mirrored:?}"
    );
    assert!(
        cpu_ticks < 20,
        "the watcher used {cpu_ticks}/100 s of CPU in 10 s"
    );
    assert!(rearmed <= 8, "{rearmed} re-arms in 10 s: not backed off");
    let watcher = s
        .host
        .ok(&["journalctl", "-u", "fpm-watcher", "--no-pager", "-o", "cat"]);
    assert_eq!(
        watcher.matches("re-arming it backed off").count(),
        1,
        "said once:\n{watcher}"
    );
    // The idle connections go; then the endpoint answers at once again.
    s.host.ok(&["systemctl", "stop", "test-idle-scrapers"]);
    let metrics = s
        .host
        .ok(&["curl", "-s", "-m", "20", "http://127.0.0.1:9747/metrics"]);
    assert!(
        metrics.contains(&format!(
            "fpm_ondemand_watcher_rearms_held_total{{site=\"{}\"}}",
            s.site("d")
        )),
        "{metrics}"
    );

    // The watcher hangs (its socket still takes connections): a start goes ahead without it
    // after a few seconds, instead of waiting out wait_secs and answering 503.
    s.host
        .ok(&["systemctl", "kill", "-s", "SIGSTOP", "fpm-watcher.service"]);
    let (code, body) = s.get("c", "test");
    s.host
        .ok(&["systemctl", "kill", "-s", "SIGCONT", "fpm-watcher.service"]);
    assert_eq!(code, 200, "{body}");
    let fpm = s.journal(&[&s.fpm_unit("c")]);
    assert!(
        fpm.contains("cannot be asked: starting without it")
            && fpm.contains("did not take the request within 3s"),
        "{fpm}"
    );
    let _ = std::fs::remove_dir(&planted);
}

/// The benchmark (bench/budget.sh): the crawler's pass over 100 sleeping sites with and without
/// the budget, each on a fresh stack: peak site containers, the machine's peak memory use over
/// its level before the pass (MemAvailable), the answers, and the wait of each request (p50,
/// p99), printed as a Markdown table.
#[test]
#[ignore = "a benchmark: bash bench/budget.sh"]
fn bench_crawler_with_and_without_the_budget() {
    require_docker();
    let mut rows = Vec::new();
    for (what, config) in [("no budget", ""), ("max_awake = 20", BUDGET)] {
        let tags: Vec<String> = (0..100).map(|i| format!("b{i:03}")).collect();
        let tag_refs: Vec<&str> = tags.iter().map(String::as_str).collect();
        let s = Stack::boot_configured("bench", &tag_refs, "20m", bin(), config);
        s.host.ok(&["systemctl", "start", "fpm-watcher.service"]);
        let mut order: Vec<String> = tags.iter().map(|t| s.site(t)).collect();
        shuffle(&mut order);
        std::thread::sleep(Duration::from_secs(2));
        let before_kb = mem_available_kb();
        let sampler = Sampler::start(&s.prefix);
        let out = s.host.ok(&["bash", "-c", &crawl(&order, 0.1)]);
        std::thread::sleep(Duration::from_secs(1));
        let low_kb = sampler.low_kb.load(Ordering::SeqCst);
        let (peak, _) = sampler.finish();
        let mut waits: Vec<f64> = out
            .lines()
            .filter_map(|l| l.split_whitespace().nth(3)?.parse().ok())
            .collect();
        waits.sort_by(f64::total_cmp);
        let pct = |p: f64| waits[((waits.len() - 1) as f64 * p).round() as usize];
        let answered = answers(&out);
        let ok = answered.values().filter(|a| a.0 == 200).count();
        let busy = answered.values().filter(|a| a.0 == 503).count();
        rows.push(format!(
            "| {what} | {peak} | {} MB | {ok} | {busy} | {} | {:.2} s | {:.2} s |",
            before_kb.saturating_sub(low_kb) / 1024,
            answered.len() - ok - busy,
            pct(0.5),
            pct(0.99)
        ));
    }
    println!("| crawler pass over 100 sleeping sites | peak site containers | peak memory used | 200 | 503 | other | wait p50 | wait p99 |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for row in rows {
        println!("{row}");
    }
}

/// Fisher-Yates with a clock-seeded xorshift: a different order each run, printed on failure
/// through the answers.
fn shuffle(v: &mut [String]) {
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
}
