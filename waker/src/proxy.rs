//! Proxying one FastCGI connection, with a safe retry for a backend that resets it unanswered.
//!
//! When php-fpm stops gracefully, connections still waiting in its listen backlog were never
//! accepted by a worker; closing the listener resets them (ECONNRESET before any response byte).
//! Such a request never ran, so it is replayed on a new backend. An orderly close, or anything
//! after the first response byte, is never retried: a request is never run twice.

use std::future::Future;
use std::io::{self, ErrorKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Request bytes kept for a replay; a longer request (a big upload) is not retried.
pub const REPLAY_LIMIT: usize = 256 * 1024;

/// How many times an unanswered, reset request is replayed.
pub const MAX_REPLAYS: usize = 2;

enum FirstReply {
    /// The backend answered: these bytes were already forwarded to the client.
    Answered,
    /// The backend reset the connection before answering.
    Reset,
    /// The backend closed in order without answering, or the client went away.
    Closed,
}

fn is_reset(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe)
}

/// Proxies `client` to the backend `connect` gives, until either side closes.
/// `connect` is called again (it may start the site again) for a replay.
pub async fn proxy<F, Fut>(mut client: UnixStream, mut connect: F) -> io::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = io::Result<UnixStream>>,
{
    let mut sent = Vec::new();
    let mut replays = 0;
    let mut upstream = connect().await?;
    loop {
        match first_reply(&mut client, &mut upstream, &mut sent).await? {
            FirstReply::Answered => break,
            FirstReply::Reset if replays < MAX_REPLAYS && sent.len() <= REPLAY_LIMIT => {
                replays += 1;
                tracing::info!(
                    replays,
                    bytes = sent.len(),
                    "php-fpm reset an unanswered request (stopping?): replaying it"
                );
                upstream = connect().await?;
                upstream.write_all(&sent).await?;
            }
            FirstReply::Reset | FirstReply::Closed => return Ok(()),
        }
    }
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// Forwards the request (keeping a copy in `sent`) until the backend's first reply bytes.
async fn first_reply(
    client: &mut UnixStream,
    upstream: &mut UnixStream,
    sent: &mut Vec<u8>,
) -> io::Result<FirstReply> {
    let (mut cr, mut cw) = client.split();
    let (mut ur, mut uw) = upstream.split();
    let mut request = vec![0u8; 16 * 1024];
    let mut reply = vec![0u8; 16 * 1024];
    let mut client_done = false;
    loop {
        tokio::select! {
            n = cr.read(&mut request), if !client_done => {
                let n = n?;
                if n == 0 {
                    client_done = true;
                    continue;
                }
                if sent.len() <= REPLAY_LIMIT {
                    sent.extend_from_slice(&request[..n]);
                }
                match uw.write_all(&request[..n]).await {
                    Ok(()) => {}
                    Err(e) if is_reset(&e) => return Ok(FirstReply::Reset),
                    Err(e) => return Err(e),
                }
            }
            n = ur.read(&mut reply) => match n {
                Ok(0) => return Ok(FirstReply::Closed),
                Ok(n) => {
                    cw.write_all(&reply[..n]).await?;
                    return Ok(FirstReply::Answered);
                }
                Err(e) if is_reset(&e) => return Ok(FirstReply::Reset),
                Err(e) => return Err(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener as StdListener;
    use tokio::net::UnixListener;

    async fn pair() -> (UnixStream, UnixStream) {
        UnixStream::pair().unwrap()
    }

    #[tokio::test]
    async fn an_unaccepted_connection_reset_by_a_stopping_backend_is_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("php-fpm.sock");
        // First backend: accepts nothing and closes its listener: the connection is reset.
        let dying = StdListener::bind(&path).unwrap();
        let (client, mut nginx) = pair().await;
        let path2 = path.clone();
        let proxy_task = tokio::spawn(async move {
            proxy(client, move || {
                let p = path2.clone();
                async move { UnixStream::connect(&p).await }
            })
            .await
        });
        nginx.write_all(b"REQUEST").await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        std::fs::remove_file(&path).unwrap();
        let live = UnixListener::bind(&path).unwrap();
        drop(dying);
        let (mut php, _) = live.accept().await.unwrap();
        let mut got = [0u8; 7];
        php.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"REQUEST", "the request is replayed whole");
        php.write_all(b"REPLY").await.unwrap();
        drop(php);
        let mut reply = Vec::new();
        nginx.read_to_end(&mut reply).await.unwrap();
        assert_eq!(reply, b"REPLY");
        drop(nginx); // nginx closes after the response
        proxy_task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn an_orderly_close_without_answer_is_not_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("php-fpm.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let (client, mut nginx) = pair().await;
        let p = path.clone();
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let c2 = counter.clone();
        let task = tokio::spawn(proxy(client, move || {
            c2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let p = p.clone();
            async move { UnixStream::connect(&p).await }
        }));
        nginx.write_all(b"REQUEST").await.unwrap();
        let (mut php, _) = listener.accept().await.unwrap();
        let mut got = [0u8; 7];
        php.read_exact(&mut got).await.unwrap();
        drop(php); // read the request, then closed: it may have run; never run it twice
        let mut reply = Vec::new();
        nginx.read_to_end(&mut reply).await.unwrap();
        assert!(reply.is_empty());
        task.await.unwrap().unwrap();
        assert_eq!(
            counter.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "one connection, no replay"
        );
    }
}
