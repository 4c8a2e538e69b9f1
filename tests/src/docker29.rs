//! A stand-in for a Docker 29 engine, for the API range test: it answers `/version` as Docker 29
//! does (API 1.52, minimum 1.44), refuses every versioned request below 1.44 with Docker 29's
//! 400, and answers the rest as an engine without containers (404 "No such container").

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;

/// Docker 29's API version and its minimum.
pub const API: (u32, u32) = (52, 44);

/// The stand-in, listening on a socket of its own until dropped.
pub struct Docker29 {
    path: PathBuf,
    seen: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Docker29 {
    /// Starts it.
    pub fn start() -> Docker29 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let log = log.clone();
                thread::spawn(move || serve(conn, &log));
            }
        });
        Docker29 {
            path,
            seen,
            _dir: dir,
        }
    }

    /// Its socket.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The method and path of each request so far, with the status answered.
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(conn: UnixStream, log: &Mutex<Vec<String>>) {
    let mut out = conn.try_clone().unwrap();
    let mut reader = BufReader::new(conn);
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let target = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let (status, content_type, answer) = route(&target);
        log.lock().unwrap().push(format!(
            "{} {target} {status}",
            request.split(' ').next().unwrap_or("")
        ));
        // One write: a client that reads once gets the whole answer.
        let response = format!(
            "HTTP/1.1 {status}\r\nApi-Version: 1.{}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{answer}",
            API.0,
            answer.len()
        );
        if out.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// What Docker 29 answers to `target`.
fn route(target: &str) -> (&'static str, &'static str, String) {
    let json = "application/json";
    let path = target.split('?').next().unwrap_or(target);
    let (version, rest) = match path.strip_prefix("/v1.").and_then(|r| r.split_once('/')) {
        Some((minor, rest)) => (minor.parse::<u32>().ok(), format!("/{rest}")),
        None => (None, path.to_owned()),
    };
    if let Some(minor) = version.filter(|m| *m < API.1) {
        let message = format!(
            "{{\"message\":\"client version 1.{minor} is too old. Minimum supported API version is 1.{}, please upgrade your client to a newer version\"}}",
            API.1
        );
        return ("400 Bad Request", json, message);
    }
    match rest.as_str() {
        "/_ping" => ("200 OK", "text/plain", "OK".into()),
        "/version" => (
            "200 OK",
            json,
            format!(
                "{{\"Version\":\"29.0.0\",\"ApiVersion\":\"1.{}\",\"MinAPIVersion\":\"1.{}\",\"Os\":\"linux\",\"Arch\":\"amd64\"}}",
                API.0, API.1
            ),
        ),
        _ => (
            "404 Not Found",
            json,
            "{\"message\":\"No such container\"}".into(),
        ),
    }
}
