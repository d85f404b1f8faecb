//! The client side of a check: a connection that records every byte it sent
//! and received, so that a failure can show both, and a strict reader of HTTP
//! responses.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

/// How long a check waits for a connection, or for the server's next bytes,
/// unless it says otherwise.
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
}

impl Failure {
    /// A failure with no bytes to show.
    pub fn new(expected: impl Into<String>) -> Failure {
        Failure {
            expected: expected.into(),
            ..Failure::default()
        }
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
    pub fn read_to_close(&mut self, within: Duration) -> Result<(), Failure> {
        match self.read_while(within, |_| false) {
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
            Ok(true) => Err(self.fail(format!("no answer yet, {why}"))),
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

/// A response, read by the rules every stage must follow.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The value of the first header called `name`, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Reads `bytes` as exactly one HTTP/1.x response, the whole of what the
/// server sent on one connection, or says what is wrong with it. For the
/// answer to `HEAD`, `head_only` says no body may follow.
///
/// The rules: a status line `HTTP/1.x NNN reason`; header lines `Name: value`,
/// each ended by CRLF; an empty line ending the head; `Content-Length`, equal
/// to the length of the body; `Connection: close`, since the server closes.
pub fn parse_response(bytes: &[u8], head_only: bool) -> Result<Response, String> {
    if bytes.is_empty() {
        return Err("a response; the server sent nothing".into());
    }
    let Some(head_end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Err(
            "a head that ends with an empty line (\"\\r\\n\\r\\n\"); this one never ends, \
             so a client cannot tell where the body starts"
                .into(),
        );
    };
    let head =
        std::str::from_utf8(&bytes[..head_end]).map_err(|_| "a head of ASCII text".to_string())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = parse_status_line(status_line)
        .ok_or_else(|| format!("a status line like `HTTP/1.1 200 OK`, not {status_line:?}"))?;
    let mut headers = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("header lines like `Name: value`, not {line:?}"));
        };
        if name.is_empty() || name.contains([' ', '\t']) {
            return Err(format!("a header name without spaces, not {name:?}"));
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let response = Response {
        status,
        headers,
        body: bytes[head_end + 4..].to_vec(),
    };
    let Some(length) = response.header("Content-Length") else {
        return Err("a `Content-Length` header (even `Content-Length: 0`)".into());
    };
    let length: usize = length
        .parse()
        .map_err(|_| format!("`Content-Length` to be a number, not {length:?}"))?;
    let expected_body = if head_only { 0 } else { length };
    if response.body.len() != expected_body {
        return Err(format!(
            "{expected_body} body bytes{}, as `Content-Length: {length}` says; {} came",
            if head_only {
                " (the answer to HEAD has no body)"
            } else {
                ""
            },
            response.body.len()
        ));
    }
    let closes = response
        .header("Connection")
        .is_some_and(|value| value.eq_ignore_ascii_case("close"));
    if !closes {
        return Err(
            "`Connection: close`: HTTP/1.1 requires it of a server that closes after one response"
                .into(),
        );
    }
    Ok(response)
}

/// The status code of the response in `bytes`, if they start with a
/// well-formed status line.
pub fn status_of(bytes: &[u8]) -> Option<u16> {
    let line_end = bytes.windows(2).position(|w| w == b"\r\n")?;
    parse_status_line(std::str::from_utf8(&bytes[..line_end]).ok()?)
}

/// The status code of a line like `HTTP/1.1 200 OK`.
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
        let response = parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
            false,
        )
        .unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, b"hi");
        assert_eq!(response.header("content-length"), Some("2"));
    }

    #[test]
    fn each_rule_is_enforced() {
        let wrong = |bytes: &[u8], head_only: bool, why: &str| {
            let error = parse_response(bytes, head_only).unwrap_err();
            assert!(error.contains(why), "{error:?} does not say {why:?}");
        };
        wrong(b"", false, "sent nothing");
        wrong(
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n",
            false,
            "empty line",
        );
        wrong(
            b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
            false,
            "status line",
        );
        wrong(b"HTTP/1.1 2000 OK\r\n\r\n", false, "status line");
        wrong(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
            false,
            "Content-Length",
        );
        wrong(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nhi",
            false,
            "3 body bytes",
        );
        wrong(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nhi!",
            true,
            "no body",
        );
        wrong(
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            false,
            "Connection: close",
        );
        wrong(b"HTTP/1.1 200 OK\r\nBroken\r\n\r\n", false, "Name: value");
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
