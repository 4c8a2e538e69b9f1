//! Just enough FastCGI to read a request's method from the bytes nginx sent (FCGI_PARAMS records),
//! so that a replay can follow nginx's own rule: a non-idempotent request is never sent twice;
//! and to answer a request itself when the host has no room to start its site (503).
//! (About fifty lines: the FastCGI crates are whole clients or servers, not record decoders.)

/// FastCGI record type of the request's parameters.
const FCGI_PARAMS: u8 = 4;
/// FastCGI record types of an answer: its output, and its end.
const FCGI_STDOUT: u8 = 6;
const FCGI_END_REQUEST: u8 = 3;

/// The request id of the request in `bytes` (its first record's), or 1 (nginx's) if unread.
pub fn request_id(bytes: &[u8]) -> u16 {
    match bytes.get(..4) {
        Some(&[1, _, hi, lo]) => u16::from_be_bytes([hi, lo]),
        _ => 1,
    }
}

/// A complete FastCGI answer to request `id`: HTTP 503 with `Retry-After: retry_after_secs`,
/// not to be cached, and a short page saying so; nginx passes it to the visitor as it is.
pub fn busy_answer(id: u16, retry_after_secs: u64) -> Vec<u8> {
    let page = format!(
        "<!doctype html><title>Busy</title><h1>This site is starting up</h1>\
         <p>The server is busy. Please try again in {retry_after_secs} seconds.</p>\n"
    );
    let head = format!(
        "Status: 503 Service Unavailable\r\nRetry-After: {retry_after_secs}\r\n\
         Cache-Control: no-store\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\n\r\n",
        page.len()
    );
    let mut out = Vec::new();
    let mut record = |kind: u8, content: &[u8]| {
        let len = u16::try_from(content.len()).expect("a short record");
        out.extend_from_slice(&[1, kind]);
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(content);
    };
    record(FCGI_STDOUT, format!("{head}{page}").as_bytes());
    record(FCGI_STDOUT, &[]);
    // appStatus 0, protocolStatus FCGI_REQUEST_COMPLETE.
    record(FCGI_END_REQUEST, &[0; 8]);
    out
}

/// The request's `REQUEST_METHOD`, if the bytes hold the parameter records up to it.
pub fn request_method(bytes: &[u8]) -> Option<String> {
    let params = params_content(bytes);
    let mut rest = params.as_slice();
    while !rest.is_empty() {
        let (name_len, r) = length(rest)?;
        let (value_len, r) = length(r)?;
        let name = r.get(..name_len)?;
        let value = r.get(name_len..name_len.checked_add(value_len)?)?;
        if name == b"REQUEST_METHOD" {
            return std::str::from_utf8(value).ok().map(str::to_owned);
        }
        rest = &r[name_len + value_len..];
    }
    None
}

/// Whether a request with this method may be sent again (RFC 9110's idempotent methods; nginx
/// itself never passes POST, PATCH or LOCK on once sent). An unknown method is not.
pub fn is_idempotent(method: &str) -> bool {
    matches!(
        method,
        "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT" | "DELETE"
    )
}

/// The FCGI_PARAMS records' contents, concatenated, up to the empty record that ends them or the
/// end of the bytes.
fn params_content(mut bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while bytes.len() >= 8 {
        let kind = bytes[1];
        let len = u16::from_be_bytes([bytes[4], bytes[5]]) as usize;
        let padding = bytes[6] as usize;
        let end = (8 + len).min(bytes.len());
        if kind == FCGI_PARAMS {
            if len == 0 {
                break;
            }
            out.extend_from_slice(&bytes[8..end]);
        }
        bytes = bytes.get(8 + len + padding..).unwrap_or_default();
    }
    out
}

/// A name-value pair's length: one byte below 128, else four with the high bit set.
fn length(b: &[u8]) -> Option<(usize, &[u8])> {
    match *b.first()? {
        n if n < 0x80 => Some((n as usize, &b[1..])),
        _ => {
            let four: [u8; 4] = b.get(..4)?.try_into().ok()?;
            Some(((u32::from_be_bytes(four) & 0x7fff_ffff) as usize, &b[4..]))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
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
}
