//! The replay rule and the client-gone rule, on real unix sockets.

use super::*;
use crate::fcgi::tests::request;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::UnixListener;

/// php-fpm's socket in a temporary folder; `going_away` is what the unit would say.
struct TestUp {
    path: PathBuf,
    going_away: bool,
    connects: AtomicUsize,
}

impl TestUp {
    fn new(dir: &tempfile::TempDir, going_away: bool) -> TestUp {
        TestUp {
            path: dir.path().join("php-fpm.sock"),
            going_away,
            connects: AtomicUsize::new(0),
        }
    }
}

impl Upstream for TestUp {
    async fn connect(&self) -> Result<UnixStream, Unreachable> {
        self.connects.fetch_add(1, Ordering::SeqCst);
        loop {
            match UnixStream::connect(&self.path).await {
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    tokio::time::sleep(Duration::from_millis(5)).await
                }
                r => return r.map_err(Unreachable::Failed),
            }
        }
    }
    async fn going_away(&self) -> bool {
        self.going_away
    }
}

/// Sends `method` through the proxy to a php-fpm that resets it unaccepted (its listener closes
/// with the connection in the backlog), then a new php-fpm answers whatever arrives.
async fn reset_once(method: &str, going_away: bool) -> (io::Result<Outcome>, usize, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let up = TestUp::new(&dir, going_away);
    let dying = std::os::unix::net::UnixListener::bind(&up.path).unwrap();
    let (client, mut nginx) = UnixStream::pair().unwrap();
    let req = request(method);
    nginx.write_all(&req).await.unwrap();
    let path = up.path.clone();
    let php = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        std::fs::remove_file(&path).unwrap();
        let live = UnixListener::bind(&path).unwrap();
        drop(dying);
        let accepted = tokio::time::timeout(Duration::from_millis(500), live.accept()).await;
        if let Ok(Ok((mut php, _))) = accepted {
            let mut got = vec![0u8; req.len()];
            php.read_exact(&mut got).await.unwrap();
            assert_eq!(got, req, "the request is replayed whole");
            php.write_all(b"REPLY").await.unwrap();
        }
    });
    let outcome = proxy(client, &up).await;
    php.await.unwrap();
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(1), nginx.read_to_end(&mut reply)).await;
    (outcome, up.connects.load(Ordering::SeqCst), reply)
}

#[tokio::test]
async fn a_get_reset_by_a_stopping_php_fpm_is_replayed() {
    let (outcome, connects, reply) = reset_once("GET", true).await;
    assert_eq!(outcome.unwrap(), Outcome::Answered { replays: 1 });
    assert_eq!((connects, reply.as_slice()), (2, b"REPLY".as_slice()));
}

#[tokio::test]
async fn a_post_is_never_sent_twice() {
    let (outcome, connects, reply) = reset_once("POST", true).await;
    assert_eq!(
        outcome.unwrap(),
        Outcome::ResetNotReplayed {
            method: Some("POST".into()),
            why: "method is not idempotent"
        }
    );
    assert_eq!(connects, 1, "one connection, no replay");
    assert!(reply.is_empty(), "nginx sees the connection end unanswered");
}

#[tokio::test]
async fn a_get_reset_while_php_fpm_stays_up_is_not_replayed() {
    let (outcome, connects, _) = reset_once("GET", false).await;
    assert!(
        matches!(outcome.unwrap(), Outcome::ResetNotReplayed { why, .. } if why.contains("not stopping"))
    );
    assert_eq!(connects, 1);
}

#[tokio::test]
async fn an_orderly_close_without_answer_is_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let up = TestUp::new(&dir, true);
    let listener = UnixListener::bind(&up.path).unwrap();
    let (client, mut nginx) = UnixStream::pair().unwrap();
    let req = request("GET");
    nginx.write_all(&req).await.unwrap();
    let task = tokio::spawn(async move { proxy(client, &up).await.map(|o| (o, up.connects)) });
    let (mut php, _) = listener.accept().await.unwrap();
    let mut got = vec![0u8; req.len()];
    php.read_exact(&mut got).await.unwrap();
    drop(php); // read the request, then closed: it may have run; never run it twice
    let mut reply = Vec::new();
    nginx.read_to_end(&mut reply).await.unwrap();
    assert!(reply.is_empty());
    let (outcome, connects) = task.await.unwrap().unwrap();
    assert_eq!(outcome, Outcome::ClosedUnanswered);
    assert_eq!(
        connects.load(Ordering::SeqCst),
        1,
        "one connection, no replay"
    );
}

#[tokio::test]
async fn a_client_that_gives_up_while_held_is_never_forwarded() {
    let dir = tempfile::tempdir().unwrap();
    let up = TestUp::new(&dir, true); // nothing listens yet: the site is starting
    let (client, mut nginx) = UnixStream::pair().unwrap();
    nginx.write_all(&request("POST")).await.unwrap();
    let path = up.path.clone();
    let task = tokio::spawn(async move { proxy(client, &up).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(nginx); // nginx gave up (its connect timeout, or the visitor left)
    let outcome = tokio::time::timeout(Duration::from_secs(1), task).await;
    assert_eq!(outcome.unwrap().unwrap().unwrap(), Outcome::ClientGone);
    let php = UnixListener::bind(&path).unwrap();
    let reached = tokio::time::timeout(Duration::from_millis(200), php.accept()).await;
    assert!(
        reached.is_err(),
        "the abandoned request never reached php-fpm"
    );
}

/// A request with `method` forwarded through the proxy to a php-fpm that has read it whole:
/// nginx's end, php-fpm's end, and the proxy's task.
async fn forwarded(
    method: &str,
) -> (
    UnixStream,
    UnixStream,
    tokio::task::JoinHandle<io::Result<Outcome>>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let up = TestUp::new(&dir, true);
    let listener = UnixListener::bind(&up.path).unwrap();
    let (client, mut nginx) = UnixStream::pair().unwrap();
    let req = request(method);
    nginx.write_all(&req).await.unwrap();
    let task = tokio::spawn(async move { proxy(client, &up).await });
    let (mut php, _) = listener.accept().await.unwrap();
    let mut got = vec![0u8; req.len()];
    php.read_exact(&mut got).await.unwrap();
    assert_eq!(got, req);
    (nginx, php, task, dir)
}

#[tokio::test]
async fn a_client_that_gives_up_frees_a_php_fpm_that_never_answers() {
    let (nginx, mut php, task, _dir) = forwarded("GET").await;
    drop(nginx); // fastcgi_read_timeout: nginx closes; php-fpm never answered
    let outcome = tokio::time::timeout(Duration::from_secs(1), task).await;
    assert_eq!(outcome.unwrap().unwrap().unwrap(), Outcome::ClientGone);
    let mut rest = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(1), php.read_to_end(&mut rest)).await;
    assert_eq!(n.unwrap().unwrap(), 0, "php-fpm's connection was closed");
}

#[tokio::test]
async fn an_answer_is_relayed_and_the_connection_ends_with_php_fpm_s_close() {
    let (mut nginx, mut php, task, _dir) = forwarded("POST").await;
    let answer = tokio::spawn(async move {
        php.write_all(&vec![b'x'; 600_000]).await.unwrap();
    });
    let mut reply = Vec::new();
    nginx.read_to_end(&mut reply).await.unwrap();
    answer.await.unwrap();
    assert_eq!(reply.len(), 600_000);
    assert_eq!(
        task.await.unwrap().unwrap(),
        Outcome::Answered { replays: 0 }
    );
}

/// A site that cannot start for want of room, after holding the request a moment.
struct NoRoomUp;

impl Upstream for NoRoomUp {
    async fn connect(&self) -> Result<UnixStream, Unreachable> {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err(Unreachable::NoRoom {
            retry_after_secs: 17,
        })
    }
    async fn going_away(&self) -> bool {
        unreachable!("nothing was sent to php-fpm")
    }
}

#[tokio::test]
async fn a_request_with_no_room_to_start_its_site_is_answered_503_with_retry_after() {
    let (client, mut nginx) = UnixStream::pair().unwrap();
    let mut req = request("POST");
    req[2..4].copy_from_slice(&3u16.to_be_bytes());
    nginx.write_all(&req).await.unwrap();
    let outcome = proxy(client, &NoRoomUp).await.unwrap();
    assert_eq!(outcome, Outcome::AnsweredBusy);
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(1), nginx.read_to_end(&mut reply))
        .await
        .expect("the answer ends the connection")
        .unwrap();
    assert_eq!(
        reply,
        fcgi::busy_answer(3, 17),
        "a whole answer to request 3"
    );
}
