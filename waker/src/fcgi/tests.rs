//! Unit tests of `fcgi` (the waker crate).
use super::*;

fn record(kind: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len() as u16;
    let padding = (8 - content.len() % 8) % 8;
    let mut r = vec![1, kind, 0, 1, (len >> 8) as u8, len as u8, padding as u8, 0];
    r.extend_from_slice(content);
    r.extend(std::iter::repeat_n(0, padding));
    r
}

fn pair(name: &str, value: &str) -> Vec<u8> {
    let mut p = Vec::new();
    for len in [name.len(), value.len()] {
        if len < 128 {
            p.push(len as u8);
        } else {
            p.extend_from_slice(&((len as u32) | 0x8000_0000).to_be_bytes());
        }
    }
    p.extend_from_slice(name.as_bytes());
    p.extend_from_slice(value.as_bytes());
    p
}

/// A FastCGI request as nginx sends it: BEGIN_REQUEST, PARAMS (split over two records), STDIN.
pub(crate) fn request(method: &str) -> Vec<u8> {
    let mut params = pair("SCRIPT_FILENAME", "/var/www/index.php");
    params.extend(pair("LONG", &"x".repeat(300)));
    params.extend(pair("REQUEST_METHOD", method));
    let (a, b) = params.split_at(20);
    let mut r = record(1, &[0, 1, 0, 0, 0, 0, 0, 0]);
    r.extend(record(FCGI_PARAMS, a));
    r.extend(record(FCGI_PARAMS, b));
    r.extend(record(FCGI_PARAMS, &[]));
    r.extend(record(5, b"a=1"));
    r.extend(record(5, &[]));
    r
}

#[test]
fn reads_the_method_across_records_and_long_values() {
    assert_eq!(request_method(&request("POST")).as_deref(), Some("POST"));
    assert_eq!(request_method(&request("GET")).as_deref(), Some("GET"));
}

#[test]
fn a_cut_or_garbled_request_has_no_method() {
    let full = request("GET");
    for cut in [0, 7, 8, 30, 300] {
        assert_eq!(request_method(&full[..cut]), None, "cut at {cut}");
    }
    assert_eq!(request_method(b"GET / HTTP/1.1\r\n\r\n"), None);
    assert_eq!(request_method(&[0xff; 64]), None);
}

#[test]
fn only_idempotent_methods_may_be_sent_again() {
    for m in ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"] {
        assert!(is_idempotent(m), "{m}");
    }
    for m in ["POST", "PATCH", "LOCK", "get", "BREW", ""] {
        assert!(!is_idempotent(m), "{m}");
    }
}

#[test]
fn the_busy_answer_is_a_whole_fastcgi_response_to_the_same_request() {
    let mut req = request("GET");
    req[2..4].copy_from_slice(&7u16.to_be_bytes());
    assert_eq!(request_id(&req), 7);
    assert_eq!(request_id(&[]), 1);
    let answer = busy_answer(request_id(&req), 30);
    // STDOUT with the headers and page, an empty STDOUT, END_REQUEST: all for request 7.
    let mut rest = answer.as_slice();
    let mut records = Vec::new();
    while !rest.is_empty() {
        let len = u16::from_be_bytes([rest[4], rest[5]]) as usize;
        assert_eq!((rest[0], u16::from_be_bytes([rest[2], rest[3]])), (1, 7));
        records.push((rest[1], rest[8..8 + len].to_vec()));
        rest = &rest[8 + len + rest[6] as usize..];
    }
    let kinds: Vec<u8> = records.iter().map(|r| r.0).collect();
    assert_eq!(kinds, [FCGI_STDOUT, FCGI_STDOUT, FCGI_END_REQUEST]);
    let text = String::from_utf8(records[0].1.clone()).unwrap();
    let (head, page) = text.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("Status: 503 Service Unavailable\r\n"),
        "{head}"
    );
    assert!(head.contains("\r\nRetry-After: 30\r\n"), "{head}");
    assert!(
        head.contains(&format!("Content-Length: {}", page.len())),
        "{head}"
    );
    assert!(page.contains("try again in 30 seconds"), "{page}");
    assert_eq!(records[2].1, [0; 8]);
}
