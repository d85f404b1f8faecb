//! Reading the bytes a server sent as an HTTP response: a lenient reader,
//! for the checks that judge something else, and a strict judge of the
//! response's form, for the checks that judge just that.

/// The method of the request a response answers, as far as reading it goes:
/// the answer to `HEAD` has no body, whatever its head says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Head,
    /// `GET`, `POST`, and the rest.
    Other,
}

/// A response, as read from what the server sent on one connection.
#[derive(Debug, Clone)]
pub struct Response {
    /// The minor version of its status line: 1 for `HTTP/1.1`, 0 for `HTTP/1.0`.
    pub minor_version: u8,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body, framed by `Content-Length`, by chunks, or by the close.
    pub body: Vec<u8>,
    /// What came after the body, when the body's length was announced.
    pub rest: Vec<u8>,
}

impl Response {
    /// The value of the first header called `name`, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Whether its `Connection` header lists the option `name` (such as
    /// `close`), in any case, anywhere in the list: `keep-alive, Close`
    /// lists `close` (RFC 9110, section 7.6.1).
    pub fn connection_has(&self, name: &str) -> bool {
        self.headers
            .iter()
            .filter(|(header, _)| header.eq_ignore_ascii_case("Connection"))
            .flat_map(|(_, value)| value.split(','))
            .any(|option| option.trim().eq_ignore_ascii_case(name))
    }

    /// Whether the server says it keeps the connection open after this
    /// answer (RFC 9112, section 9.3): not when it says `close`; on
    /// HTTP/1.1, unless it does; on HTTP/1.0, only when it says `keep-alive`.
    pub fn keeps_connection(&self) -> bool {
        !self.connection_has("close")
            && (self.minor_version >= 1 || self.connection_has("keep-alive"))
    }

    /// Whether its body is sent in chunks: its last transfer coding is
    /// `chunked` (RFC 9112, section 6.3).
    pub fn chunked(&self) -> bool {
        self.header("Transfer-Encoding")
            .is_some_and(|coding| coding.to_ascii_lowercase().ends_with("chunked"))
    }
}

/// Whether `bytes` begin with a whole final answer to a request of `method`,
/// as its own framing tells: the head, and the body its `Content-Length` or
/// its chunks announce (none for `HEAD`, 204 or 304). An answer whose body
/// ends with the close is whole only once the server has closed.
pub fn answer_complete(bytes: &[u8], method: Method) -> bool {
    read_response(bytes, method).is_ok_and(|response| {
        method == Method::Head
            || matches!(response.status, 204 | 304)
            || response.header("Content-Length").is_some()
            || response.chunked()
    })
}

/// How many bytes the whole final answer at the start of `bytes` takes
/// (its interim answers included), once it is whole by its own framing:
/// where the answer to the next request on the connection starts.
pub fn answer_length(bytes: &[u8], method: Method) -> Option<usize> {
    if !answer_complete(bytes, method) {
        return None;
    }
    let response = read_response(bytes, method).ok()?;
    Some(bytes.len() - response.rest.len())
}

/// Reads `bytes` as the final response to one request, leniently: interim
/// `1xx` answers before it are skipped, and its body is framed by
/// `Content-Length`, by chunks, or by the close, whichever it uses. What is
/// wrong with the response's form is left to the checks that judge it
/// ([`judge_form`]); this says only what cannot be read at all.
pub fn read_response(bytes: &[u8], method: Method) -> Result<Response, String> {
    if bytes.is_empty() {
        return Err("an answer; the server closed the connection without one".into());
    }
    let mut bytes = bytes;
    loop {
        let Some(head_end) = find(bytes, b"\r\n\r\n") else {
            return Err(match status_of(bytes) {
                Some(_) => "a head that ends with an empty line (\"\\r\\n\\r\\n\"); this one \
                            never ends, so a client cannot tell where the body starts"
                    .into(),
                None => "a status line like `HTTP/1.1 200 OK`".into(),
            });
        };
        let head = String::from_utf8_lossy(&bytes[..head_end]);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let (minor_version, status) = parse_status_line(status_line)
            .ok_or_else(|| format!("a status line like `HTTP/1.1 200 OK`, not {status_line:?}"))?;
        let after = &bytes[head_end + 4..];
        // An interim answer, such as `100 Continue`: the final one follows.
        if (100..200).contains(&status) {
            bytes = after;
            if bytes.is_empty() {
                return Err(format!("a final answer after the interim {status}"));
            }
            continue;
        }
        let mut headers = Vec::new();
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                return Err(format!("header lines like `Name: value`, not {line:?}"));
            };
            headers.push((name.to_string(), value.trim().to_string()));
        }
        let mut response = Response {
            minor_version,
            status,
            headers,
            body: Vec::new(),
            rest: Vec::new(),
        };
        if method == Method::Head || matches!(status, 204 | 304) {
            // No body, whatever the head says (RFC 9112, section 6.3).
            response.rest = after.to_vec();
        } else if response.chunked() {
            let (body, rest) = dechunk(after).ok_or("a chunked body whose chunks add up")?;
            (response.body, response.rest) = (body, rest.to_vec());
        } else if let Some(length) = response.header("Content-Length") {
            let length: usize = length
                .parse()
                .map_err(|_| format!("`Content-Length` to be a number, not {length:?}"))?;
            if after.len() < length {
                return Err(format!(
                    "{length} body bytes, as `Content-Length: {length}` says; {} came",
                    after.len()
                ));
            }
            response.body = after[..length].to_vec();
            response.rest = after[length..].to_vec();
        } else {
            // No length announced: the body ends with the connection
            // (RFC 9112, section 6.3, the last rule).
            response.body = after.to_vec();
        }
        return Ok(response);
    }
}

/// A chunked body's content, and what follows its last chunk and trailers.
fn dechunk(mut bytes: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut body = Vec::new();
    loop {
        let line_end = find(bytes, b"\r\n")?;
        let size = std::str::from_utf8(&bytes[..line_end]).ok()?;
        let size = size.split(';').next()?.trim();
        let size = usize::from_str_radix(size, 16).ok()?;
        bytes = &bytes[line_end + 2..];
        if size == 0 {
            // Trailer lines, up to an empty one.
            let end = if bytes.starts_with(b"\r\n") {
                2
            } else {
                find(bytes, b"\r\n\r\n")? + 4
            };
            return Some((body, &bytes[end..]));
        }
        let chunk = bytes.get(..size)?;
        body.extend_from_slice(chunk);
        bytes = bytes.get(size..)?.strip_prefix(b"\r\n")?;
    }
}

/// Judges the form of `bytes`, all that the server sent in answer to one
/// request: exactly one response, by the rules every HTTP/1.1 server must
/// follow. Returns the response, and notes on what HTTP recommends and the
/// response does not do; or what is wrong.
///
/// The rules: a status line `HTTP/1.x NNN reason` (RFC 9112, section 4);
/// header lines `Name: value`, and an empty line that ends the head
/// (section 2.1); a body framed by `Content-Length` or chunks, or else by the
/// close (section 6.3), with nothing after it. Whether the server then
/// closes, or keeps the connection, as the answer says is
/// [`judge_close`]'s question: it takes more than the bytes.
pub fn judge_form(bytes: &[u8], method: Method) -> Result<(Response, Vec<String>), String> {
    let head_only = method == Method::Head;
    let response = read_response(bytes, method)?;
    let mut notes = Vec::new();
    for (name, _) in &response.headers {
        if name.is_empty() || name.contains([' ', '\t']) {
            return Err(format!("a header name without spaces, not {name:?}"));
        }
    }
    let framed = response.header("Content-Length").is_some()
        || response.header("Transfer-Encoding").is_some();
    if head_only {
        if !response.rest.is_empty() {
            return Err(format!(
                "no body in the answer to HEAD; {} bytes came",
                response.rest.len()
            ));
        }
    } else if framed && !response.rest.is_empty() {
        return Err(format!(
            "nothing after the body its head announces; {} more bytes came",
            response.rest.len()
        ));
    }
    if !framed && !head_only {
        notes.push(
            "no Content-Length: the body ends with the close, which HTTP allows; with it, a \
             client knows when the body is whole (RFC 9110, section 8.6, recommends it)"
                .into(),
        );
    }
    if response.status >= 400 && response.body.is_empty() && !head_only {
        notes.push(format!(
            "an empty body: a short text saying what is wrong helps whoever reads the {} \
             (RFC 9110, section 15.5, recommends one)",
            response.status
        ));
    }
    Ok((response, notes))
}

/// Judges what `response` says of the connection against what the server
/// did: `closed` when it closed after the answer. A server that closes must
/// say `Connection: close` (RFC 9112, section 9.6: one that does not keep
/// connections sends it in every answer); one that keeps the connection
/// says nothing, on HTTP/1.1, or `keep-alive`, on HTTP/1.0 (section 9.3).
/// (That a server which said `close` does close, and that one which did
/// not still answers the next request, takes a connection to prove: see
/// the checks.)
pub fn judge_close(response: &Response, closed: bool) -> Result<(), String> {
    if closed && response.keeps_connection() {
        return Err(
            "`Connection: close`: the server closed the connection after this answer, and \
             HTTP/1.1 requires a server that closes to say so (RFC 9112, section 9.6)"
                .into(),
        );
    }
    Ok(())
}

/// Where `pattern` first occurs in `bytes`.
fn find(bytes: &[u8], pattern: &[u8]) -> Option<usize> {
    bytes.windows(pattern.len()).position(|w| w == pattern)
}

/// The status code of the response in `bytes`, if they start with a
/// well-formed status line.
pub fn status_of(bytes: &[u8]) -> Option<u16> {
    let line_end = find(bytes, b"\r\n")?;
    let (_, status) = parse_status_line(std::str::from_utf8(&bytes[..line_end]).ok()?)?;
    Some(status)
}

/// The minor version and the status code of a line like `HTTP/1.1 200 OK`.
/// (The reason phrase may be empty, but the space before it is there:
/// RFC 9112, section 4.)
fn parse_status_line(line: &str) -> Option<(u8, u16)> {
    let rest = line.strip_prefix("HTTP/1.")?;
    let mut parts = rest.splitn(3, ' ');
    let minor = parts.next()?;
    let code = parts.next()?;
    let _reason = parts.next()?;
    let well_formed = minor.len() == 1
        && minor.as_bytes()[0].is_ascii_digit()
        && code.len() == 3
        && code.bytes().all(|b| b.is_ascii_digit());
    let minor = minor.as_bytes().first().map(|digit| digit - b'0');
    well_formed
        .then(|| Some((minor?, code.parse().ok()?)))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_response_is_read() {
        let (response, notes) = judge_form(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
            Method::Other,
        )
        .unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, b"hi");
        assert_eq!(response.header("content-length"), Some("2"));
        assert!(notes.is_empty());
    }

    #[test]
    fn what_http_allows_is_read_and_only_noted() {
        // Delimited by the close, with no Content-Length; an empty 400.
        let (response, notes) = judge_form(
            b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n",
            Method::Other,
        )
        .unwrap();
        assert_eq!((response.status, response.body.len()), (400, 0));
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("Content-Length") && notes[1].contains("empty body"));
        // Chunked, after an interim 100 Continue, with an empty reason.
        let (response, notes) = judge_form(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 \r\nTransfer-Encoding: chunked\r\n\
              Connection: keep-alive, close\r\n\r\n2\r\nhi\r\n1;x=y\r\n!\r\n0\r\n\r\n",
            Method::Other,
        )
        .unwrap();
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, &b"hi!"[..])
        );
        assert!(notes.is_empty());
    }

    #[test]
    fn each_rule_of_the_form_is_enforced() {
        let wrong = |bytes: &[u8], method: Method, why: &str| {
            let error = judge_form(bytes, method).unwrap_err();
            assert!(error.contains(why), "{error:?} does not say {why:?}");
        };
        wrong(b"", Method::Other, "without one");
        wrong(
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n",
            Method::Other,
            "empty line",
        );
        wrong(
            b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
            Method::Other,
            "status line",
        );
        wrong(b"HTTP/1.1 2000 OK\r\n\r\n", Method::Other, "status line");
        wrong(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nhi",
            Method::Other,
            "3 body bytes",
        );
        wrong(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi!",
            Method::Other,
            "1 more bytes",
        );
        wrong(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nhi!",
            Method::Head,
            "no body",
        );
        wrong(
            b"HTTP/1.1 200 OK\r\nBroken\r\n\r\n",
            Method::Other,
            "Name: value",
        );
    }

    #[test]
    fn a_server_that_closes_says_so_and_one_that_keeps_need_not() {
        let read = |bytes: &[u8]| read_response(bytes, Method::Other).unwrap();
        let plain = read(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert!(plain.keeps_connection());
        assert!(judge_close(&plain, false).is_ok());
        let error = judge_close(&plain, true).unwrap_err();
        assert!(error.contains("Connection: close"), "{error}");
        // `close` in any case, anywhere in the list.
        let listed = read(b"HTTP/1.1 200 OK\r\nConnection: keep-alive, CLOSE\r\n\r\n");
        assert!(!listed.keeps_connection() && judge_close(&listed, true).is_ok());
        // HTTP/1.0 closes unless it says keep-alive.
        let old = read(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert!(!old.keeps_connection() && judge_close(&old, true).is_ok());
        let kept = read(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n");
        assert!(kept.keeps_connection());
    }

    #[test]
    fn the_lenient_reader_reads_what_the_strict_one_refuses() {
        // No Connection: close, and a second answer after the first.
        let response = read_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\n\r\n",
            Method::Other,
        )
        .unwrap();
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, &b"hi"[..])
        );
        assert!(response.rest.starts_with(b"HTTP/1.1"));
        assert_eq!(status_of(b"HTTP/1.1 431 Too Large\r\nno end"), Some(431));
    }
}
