//! The client side of a check: a connection that records every byte it sent
//! and received, so that a failure can show both, and two readers of HTTP
//! responses: a strict one for the checks that judge a response's form, and
//! a lenient one for every other check, which judges only its own property.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

/// How long a check waits for a connection, or for the server's next bytes,
/// unless it says otherwise.
///
/// No deadline of a check may equal a timer of the server it judges, or the
/// verdict goes to whichever fires first, and on a busy machine that is a
/// coin toss. The timers, and how the checks keep clear of them:
///
/// | the server's timer | what stage-check waits, next to it |
/// | --- | --- |
/// | its read timeout, for a client that stops halfway (our stages: 30 s, 3 s in tests, [`TEST_READ_TIMEOUT`](crate::harness::TEST_READ_TIMEOUT)) | the longest pause inside a request is 0.5 s, a sixth of it; the timeout check waits the timeout and 5 s more |
/// | its lingering close after an answer sent before the request was read (our stages: 0.5 s idle, 2 s in all; nginx: 5 s) | a refusal is read by its own framing, not to the close; after a whole answer, our side closes its half, which ends any lingering at once |
/// | nginx's and Node's keep-alive timers (off in `servers/`) | none: they close after each answer |
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// How many bytes of what was sent or received a report shows.
const SHOWN_BYTES: usize = 600;

/// Why a check failed: what it expected, and what crossed the connection.
#[derive(Debug, Clone, Default)]
pub struct Failure {
    /// What the server should have done, such as "a `400` status line".
    pub expected: String,
    /// What the check sent.
    pub sent: Vec<u8>,
    /// What the server sent back.
    pub received: Vec<u8>,
    /// The more basic check that judges what went wrong here (a response
    /// that cannot be read, say), if that is what went wrong. When that
    /// check failed earlier in the run, this one is not judged.
    pub see: Option<&'static str>,
}

impl Failure {
    /// A failure with no bytes to show.
    pub fn new(expected: impl Into<String>) -> Failure {
        Failure {
            expected: expected.into(),
            ..Failure::default()
        }
    }

    /// The same failure, judged by the check `basis` if that one failed.
    pub fn see(mut self, basis: &'static str) -> Failure {
        self.see = Some(basis);
        self
    }

    /// The failure in words for a person, closing with `hint`.
    pub fn report(&self, hint: &str) -> String {
        let mut report = String::new();
        if !self.sent.is_empty() {
            let _ = writeln!(report, "sent:     {}", shown(&self.sent));
        }
        let _ = writeln!(report, "received: {}", shown(&self.received));
        let _ = writeln!(report, "expected: {}", self.expected);
        let _ = write!(report, "hint:     {hint}");
        report
    }
}

/// Bytes as escaped text, `b"…"`, cut to a readable length.
pub fn shown(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing".into();
    }
    let cut = &bytes[..bytes.len().min(SHOWN_BYTES)];
    let mut text = format!("b\"{}\"", cut.escape_ascii());
    if cut.len() < bytes.len() {
        let _ = write!(text, "… ({} bytes in all)", bytes.len());
    }
    text
}

/// One client connection to the server under test.
pub struct Conn {
    stream: TcpStream,
    sent: Vec<u8>,
    received: Vec<u8>,
    /// The server closed its side: no more bytes will come.
    closed: bool,
}

impl Conn {
    /// Connects to `addr`, giving up after [`IO_TIMEOUT`].
    pub fn open(addr: SocketAddr) -> Result<Conn, Failure> {
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
            .map_err(|error| Failure::new(format!("to connect to {addr}, but: {error}")))?;
        // Send each write at once, so that pieces of a request arrive apart.
        let _ = stream.set_nodelay(true);
        stream
            .set_write_timeout(Some(IO_TIMEOUT))
            .map_err(|error| Failure::new(format!("to set up the connection, but: {error}")))?;
        Ok(Conn {
            stream,
            sent: Vec::new(),
            received: Vec::new(),
            closed: false,
        })
    }

    /// Our side's address, which the server's log names.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.stream.local_addr().ok()
    }

    /// Everything received so far.
    pub fn received(&self) -> &[u8] {
        &self.received
    }

    /// Whether the server closed its side.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// A failure showing this connection's bytes.
    pub fn fail(&self, expected: impl Into<String>) -> Failure {
        Failure {
            expected: expected.into(),
            sent: self.sent.clone(),
            received: self.received.clone(),
            see: None,
        }
    }

    /// Sends all of `bytes`.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.stream
            .write_all(bytes)
            .map_err(|error| self.fail(format!("to send {} bytes, but: {error}", bytes.len())))?;
        self.sent.extend_from_slice(bytes);
        Ok(())
    }

    /// Sends what it can of `bytes`, for when the server may rightly stop
    /// reading early (say, after refusing a head that is too large).
    pub fn send_lenient(&mut self, bytes: &[u8]) {
        if self.stream.write_all(bytes).is_ok() {
            self.sent.extend_from_slice(bytes);
        }
    }

    /// Tells the server we will send nothing more (a half close).
    pub fn finish_sending(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Reads whatever arrives within `within`; false when time ran out.
    /// Stops early once `enough` is true of what was received.
    fn read_while(&mut self, within: Duration, enough: impl Fn(&[u8]) -> bool) -> io::Result<bool> {
        let deadline = Instant::now() + within;
        let mut buffer = [0u8; 16 * 1024];
        while !self.closed && !enough(&self.received) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            self.stream.set_read_timeout(Some(left))?;
            match self.stream.read(&mut buffer) {
                Ok(0) => self.closed = true,
                Ok(n) => self.received.extend_from_slice(&buffer[..n]),
                Err(error) if is_timeout(&error) => return Ok(false),
                // A reset after the server sent its answer is a close too.
                Err(error) if error.kind() == io::ErrorKind::ConnectionReset => {
                    self.closed = true;
                }
                Err(error) => return Err(error),
            }
        }
        Ok(true)
    }

    /// Reads until the server closes the connection, for at most `within`.
    ///
    /// Once a whole answer is in, by its own framing, we close our sending
    /// side: a server that lingers, reading what a client may still send
    /// before it closes (nginx waits up to 5 s), then sees that nothing more
    /// will come, and closes at once. What it does then is still its own.
    pub fn read_to_close(&mut self, within: Duration) -> Result<(), Failure> {
        let started = Instant::now();
        if let Ok(true) =
            self.read_while(within, |received| answer_complete(received, Method::Other))
            && !self.closed
        {
            self.finish_sending();
        }
        let left = within.saturating_sub(started.elapsed());
        match self.read_while(left, |_| false) {
            Ok(true) => Ok(()),
            Ok(false) if self.received.is_empty() => Err(self.fail(format!(
                "an answer within {} s; the server sent nothing and kept the connection open",
                within.as_secs_f32()
            ))),
            Ok(false) => Err(self.fail(format!(
                "the server to close the connection within {} s after its answer",
                within.as_secs_f32()
            ))),
            Err(error) => Err(self.fail(format!("to read the answer, but: {error}"))),
        }
    }

    /// Reads until a whole final answer to a request of `method` is in, by
    /// its own framing (`Content-Length` or chunks), or until the server
    /// closes, for at most `within`. Whether the server closes afterwards is
    /// not asked: for the checks that judge only which answer came.
    pub fn read_answer(&mut self, method: Method, within: Duration) -> Result<(), Failure> {
        match self.read_while(within, |received| answer_complete(received, method)) {
            Ok(true) => Ok(()),
            Ok(false) if self.received.is_empty() => Err(self.fail(format!(
                "an answer within {} s; the server sent nothing and kept the connection open",
                within.as_secs_f32()
            ))),
            Ok(false) => Err(self.fail(format!(
                "the rest of the answer within {} s, or the close that ends it",
                within.as_secs_f32()
            ))),
            Err(error) => Err(self.fail(format!("to read the answer, but: {error}"))),
        }
    }

    /// Reads until `pattern` was received, for at most `within`.
    pub fn read_until(&mut self, pattern: &[u8], within: Duration) -> Result<(), Failure> {
        let found = |received: &[u8]| received.windows(pattern.len()).any(|w| w == pattern);
        match self.read_while(within, found) {
            Ok(_) if found(&self.received) => Ok(()),
            Ok(_) => Err(self.fail(format!(
                "{} within {} s",
                shown(pattern),
                within.as_secs_f32()
            ))),
            Err(error) => Err(self.fail(format!("to read, but: {error}"))),
        }
    }

    /// Reads until `length` bytes in all were received, for at most `within`.
    pub fn read_until_length(&mut self, length: usize, within: Duration) -> Result<(), Failure> {
        match self.read_while(within, |received| received.len() >= length) {
            Ok(_) if self.received.len() >= length => Ok(()),
            Ok(_) => Err(self.fail(format!(
                "{length} bytes in all within {} s",
                within.as_secs_f32()
            ))),
            Err(error) => Err(self.fail(format!("to read, but: {error}"))),
        }
    }

    /// Expects the server to send nothing and keep the connection open for
    /// `period`: it must still be waiting for the rest of the request.
    pub fn expect_silence(&mut self, period: Duration, why: &str) -> Result<(), Failure> {
        match self.read_while(period, |received| !received.is_empty()) {
            Ok(false) => Ok(()),
            Ok(true) if self.received.is_empty() => Err(self.fail(format!(
                "the connection to stay open, {why}; the server closed it"
            ))),
            Ok(true) => {
                // Take in the rest of the early answer, so that the report
                // shows all of it, however the server cut its writes.
                let _ = self.read_while(IO_TIMEOUT, |_| false);
                Err(self.fail(format!("no answer yet, {why}")))
            }
            Err(error) => {
                Err(self.fail(format!("the connection to stay open, {why}, but: {error}")))
            }
        }
    }
}

/// Whether a read failed because its timeout passed.
fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

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
        let status = parse_status_line(status_line)
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
            status,
            headers,
            body: Vec::new(),
            rest: Vec::new(),
        };
        if method == Method::Head {
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

/// Judges the form of `bytes`, all that the server sent on one connection
/// before it closed: exactly one response, by the rules every HTTP/1.1
/// server must follow. Returns the response, and notes on what HTTP
/// recommends and the response does not do; or what is wrong.
///
/// The rules: a status line `HTTP/1.x NNN reason` (RFC 9112, section 4);
/// header lines `Name: value`, and an empty line that ends the head
/// (section 2.1); a body framed by `Content-Length` or chunks, or else by the
/// close (section 6.3), with nothing after it; `Connection: close`, since the
/// server closes after one response (section 9.6).
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
    let closes = response.header("Connection").is_some_and(|value| {
        value
            .split(',')
            .any(|option| option.trim().eq_ignore_ascii_case("close"))
    });
    if !closes {
        return Err(
            "`Connection: close`: HTTP/1.1 requires it of a server that closes \
                    after one response (RFC 9112, section 9.6)"
                .into(),
        );
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

/// Where `pattern` first occurs in `bytes`.
fn find(bytes: &[u8], pattern: &[u8]) -> Option<usize> {
    bytes.windows(pattern.len()).position(|w| w == pattern)
}

/// The status code of the response in `bytes`, if they start with a
/// well-formed status line.
pub fn status_of(bytes: &[u8]) -> Option<u16> {
    let line_end = find(bytes, b"\r\n")?;
    parse_status_line(std::str::from_utf8(&bytes[..line_end]).ok()?)
}

/// The status code of a line like `HTTP/1.1 200 OK`. (The reason phrase may
/// be empty, but the space before it is there: RFC 9112, section 4.)
fn parse_status_line(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("HTTP/1.")?;
    let mut parts = rest.splitn(3, ' ');
    let minor = parts.next()?;
    let code = parts.next()?;
    let _reason = parts.next()?;
    let well_formed = minor.len() == 1
        && minor.as_bytes()[0].is_ascii_digit()
        && code.len() == 3
        && code.bytes().all(|b| b.is_ascii_digit());
    well_formed.then(|| code.parse().ok()).flatten()
}

thread_local! {
    /// The notes of the check running on this thread.
    static NOTES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Notes what HTTP recommends and the server did not do: shown with the
/// check's result, never a failure.
pub fn note(text: String) {
    NOTES.with(|notes| notes.borrow_mut().push(text));
}

/// The notes made on this thread so far, which are forgotten here.
pub fn take_notes() -> Vec<String> {
    NOTES.with(|notes| std::mem::take(&mut *notes.borrow_mut()))
}

/// Whether the `curl` command can be run.
pub fn curl_available() -> bool {
    Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
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
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            Method::Other,
            "Connection: close",
        );
        wrong(
            b"HTTP/1.1 200 OK\r\nBroken\r\n\r\n",
            Method::Other,
            "Name: value",
        );
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

    #[test]
    fn reports_cut_long_bytes() {
        let long = vec![b'a'; 2000];
        let text = shown(&long);
        assert!(text.ends_with("… (2000 bytes in all)"));
        assert!(text.len() < 700);
        assert_eq!(shown(b"\r\n\x00"), "b\"\\r\\n\\x00\"");
    }
}
