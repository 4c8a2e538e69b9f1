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
pub(crate) mod tests;
