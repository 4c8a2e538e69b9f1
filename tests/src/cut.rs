//! A fault in front of the real Docker engine: a unix-socket proxy that passes every request
//! through but cuts chosen responses off right after their headers, as an engine that crashes or
//! restarts in the middle of an answer does; or answers as an engine older than we support.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

/// What the proxy does to the answer of a marked request.
#[derive(Clone, Copy)]
enum Fault {
    /// Cut it off after its headers.
    Cut,
    /// Replace these bytes of it with as many others (so its length stays right).
    Replace(&'static [u8], &'static [u8]),
}

/// The proxy; it listens until the test process ends.
pub struct CuttingProxy {
    path: PathBuf,
    cut: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
}

impl CuttingProxy {
    /// Listens on a new socket and forwards to `engine`; a response to a request whose request
    /// line contains `cut_when` is cut after its headers (the connection closed).
    pub fn start(engine: &Path, cut_when: &'static str) -> CuttingProxy {
        CuttingProxy::with(engine, cut_when, Fault::Cut)
    }

    /// Listens on a new socket and forwards to `engine`, whose `/version` answer says it speaks
    /// API 0.x where it speaks 1.x (1.41 becomes 0.41, 1.51 0.51): an engine older than any we
    /// support, whatever the engine behind.
    pub fn older_api(engine: &Path) -> CuttingProxy {
        let fault = Fault::Replace(b"\"ApiVersion\":\"1.", b"\"ApiVersion\":\"0.");
        CuttingProxy::with(engine, "/version", fault)
    }

    fn with(engine: &Path, cut_when: &'static str, fault: Fault) -> CuttingProxy {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let cut = Arc::new(AtomicUsize::new(0));
        let engine = engine.to_owned();
        let counter = cut.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let upstream = UnixStream::connect(&engine).expect("the Docker engine's socket");
                let counter = counter.clone();
                thread::spawn(move || relay(client, upstream, cut_when, fault, &counter));
            }
        });
        CuttingProxy {
            path,
            cut,
            _dir: dir,
        }
    }

    /// The socket to point a tool at instead of the engine's.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many responses were cut (or changed) so far.
    pub fn cut_count(&self) -> usize {
        self.cut.load(Ordering::SeqCst)
    }
}

/// Pumps one connection both ways. The client sends one request at a time and waits for its
/// answer (HTTP/1.1 without pipelining), so a marked request's answer is the next bytes back.
fn relay(
    client: UnixStream,
    upstream: UnixStream,
    cut_when: &str,
    fault: Fault,
    counter: &AtomicUsize,
) {
    let marked = Arc::new(AtomicBool::new(false));
    let (mut from_client, mut to_upstream) =
        (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let mark = marked.clone();
    let needle = cut_when.as_bytes().to_vec();
    thread::spawn(move || {
        let mut buf = [0u8; 16384];
        while let Ok(n @ 1..) = from_client.read(&mut buf) {
            let line_end = buf[..n].iter().position(|&b| b == b'\n').unwrap_or(n);
            if buf[..line_end].windows(needle.len()).any(|w| w == needle) {
                mark.store(true, Ordering::SeqCst);
            }
            if to_upstream.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to_upstream.shutdown(std::net::Shutdown::Write);
    });
    let (mut from_upstream, mut to_client) = (upstream, client);
    let mut buf = [0u8; 16384];
    let mut head = Vec::new();
    while let Ok(n @ 1..) = from_upstream.read(&mut buf) {
        if !marked.load(Ordering::SeqCst) {
            if to_client.write_all(&buf[..n]).is_err() {
                break;
            }
            continue;
        }
        if let Fault::Replace(from, to) = fault {
            let mut chunk = buf[..n].to_vec();
            let mut replaced = false;
            while let Some(at) = chunk.windows(from.len()).position(|w| w == from) {
                chunk[at..at + to.len()].copy_from_slice(to);
                replaced = true;
            }
            if replaced {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            if to_client.write_all(&chunk).is_err() {
                break;
            }
            continue;
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            let _ = to_client.write_all(&head[..end + 4]);
            counter.fetch_add(1, Ordering::SeqCst);
            break;
        }
    }
    let _ = to_client.shutdown(std::net::Shutdown::Both);
    let _ = from_upstream.shutdown(std::net::Shutdown::Both);
}
