//! Unit tests of `metrics::serve` (the watcher crate).
use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What one `GET /metrics` on `addr` answers, or `None` when it takes over `within`.
async fn scrape(addr: std::net::SocketAddr, within: Duration) -> Option<String> {
    tokio::time::timeout(within, async {
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).await.unwrap();
        answer
    })
    .await
    .ok()
}

/// The endpoint on a TCP port of localhost, served until the token is cancelled.
async fn endpoint() -> (std::net::SocketAddr, CancellationToken) {
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let token = CancellationToken::new();
    tokio::spawn(http(
        Listener::Tcp(tcp),
        Arc::new(Metrics::new()),
        token.clone(),
    ));
    (addr, token)
}

#[tokio::test]
async fn idle_connections_beyond_the_cap_hold_no_descriptor_and_are_closed_in_time() {
    let (addr, token) = endpoint().await;
    let open_fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    let before = open_fds();
    // Idle clients, twice the cap: they send nothing.
    let mut idle = Vec::new();
    for _ in 0..2 * MAX_CONNECTIONS {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Our own client ends, each with a descriptor; the server holds at most the cap.
    let held = open_fds() - before - idle.len();
    assert!(
        held <= MAX_CONNECTIONS + 1,
        "the server holds {held} descriptors for idle clients"
    );
    // The idle ones are closed in turn, and a scrape is answered behind them.
    let answer = scrape(addr, 3 * CONNECTION_TIME + Duration::from_secs(2))
        .await
        .expect("a scrape answered once the idle connections timed out");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let mut first = idle.remove(0);
    let mut buf = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(1), first.read(&mut buf)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "an idle connection is closed after {CONNECTION_TIME:?}: {closed:?}"
    );
    token.cancel();
}

#[test]
fn each_kind_of_event_is_taken_from_its_own_sender_only() {
    let wake = Event::Wake {
        site: Site::new("blog").unwrap(),
        held_seconds: 0.4,
    };
    let run = Event::ReaperRun {
        checked: 1,
        stopped: 0,
        errors: 0,
        duration_seconds: 0.1,
    };
    let waker = Some(997);
    assert!(may_send(Some(997), waker, &wake));
    assert!(!may_send(Some(0), waker, &wake), "root is not a waker");
    assert!(!may_send(Some(1000), waker, &wake));
    assert!(may_send(Some(0), waker, &run));
    assert!(
        !may_send(Some(997), waker, &run),
        "a waker is not the reaper"
    );
    assert!(!may_send(None, waker, &wake));
    assert!(!may_send(Some(997), None, &wake));
}

#[test]
fn a_datagram_arrives_with_its_senders_uid() {
    let (rx, tx) = std::os::unix::net::UnixDatagram::pair().unwrap();
    pass_credentials(rx.as_raw_fd()).unwrap();
    tx.send(b"hello").unwrap();
    let mut buf = [0u8; 16];
    let (n, uid) = recv_with_uid(rx.as_raw_fd(), &mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello");
    // SAFETY: no preconditions.
    assert_eq!(uid, Some(unsafe { libc::geteuid() }));
}

/// What `GET path` on `addr` answers, whole.
async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut c = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    c.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    c.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test]
async fn the_landing_page_points_to_the_metrics_which_carry_the_build() {
    let (addr, token) = endpoint().await;
    let landing = get(addr, "/").await;
    assert!(landing.starts_with("HTTP/1.1 200"), "{landing}");
    assert!(landing.contains("href=\"/metrics\""), "{landing}");
    let metrics = get(addr, "/metrics").await;
    let build = format!(
        "fpm_ondemand_build_info{{version=\"{}\",commit=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        fpm_shared::COMMIT
    );
    assert!(metrics.contains(&build), "{metrics}");
    assert!(get(addr, "/other").await.starts_with("HTTP/1.1 404"));
    token.cancel();
}
