//! A connection to the server under test that records every byte it sent
//! and received, so that a [`Failure`] can show both, and the notes a check
//! makes on what HTTP only recommends.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use super::response::{Method, answer_complete};

/// How long a check waits for a connection, or for the server's next bytes,
/// unless it says otherwise. (The crate's documentation lists every
/// deadline next to the server's timer it keeps clear of.)
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

    /// The same, unless it names a check to see already: that one, which
    /// judges what the failure is about (an answer's form), comes first.
    pub fn or_see(mut self, basis: &'static str) -> Failure {
        self.see.get_or_insert(basis);
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
    ///
    /// When the server has already answered and closed, the send fails
    /// (`Broken pipe`, or a reset): what it answered is read then, so that
    /// the failure shows it and says what happened.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        if let Err(error) = self.stream.write_all(bytes) {
            let _ = self.read_while(IO_TIMEOUT, |_| false);
            if self.closed && !self.received.is_empty() {
                return Err(self.fail(
                    "the whole request read before an answer; the server answered, and closed, \
                     before the request was all sent",
                ));
            }
            return Err(self.fail(format!("to send {} bytes, but: {error}", bytes.len())));
        }
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
        self.read_to_close_after(Method::Other, within)
    }

    /// The same, for the answer to a request of `method`: the answer to
    /// `HEAD` is whole once its head is, whatever its `Content-Length` says.
    pub fn read_to_close_after(&mut self, method: Method, within: Duration) -> Result<(), Failure> {
        let started = Instant::now();
        if let Ok(true) = self.read_while(within, |received| answer_complete(received, method))
            && !self.closed
        {
            self.finish_sending();
        }
        let left = within.saturating_sub(started.elapsed());
        let read = self.read_while(left, |_| false);
        let unfinished = format!(
            "the server to close the connection within {} s after its answer",
            within.as_secs_f32()
        );
        self.judge_read(read, within, unfinished)
    }

    /// Reads until a whole final answer to a request of `method` is in, by
    /// its own framing (`Content-Length` or chunks), or until the server
    /// closes, for at most `within`. Whether the server closes afterwards is
    /// not asked: for the checks that judge only which answer came.
    pub fn read_answer(&mut self, method: Method, within: Duration) -> Result<(), Failure> {
        self.read_answer_from(0, method, within)
    }

    /// The same, for the answer that starts at byte `start` of what was
    /// received: the answer to a later request on a kept connection.
    pub fn read_answer_from(
        &mut self,
        start: usize,
        method: Method,
        within: Duration,
    ) -> Result<(), Failure> {
        let whole = |received: &[u8]| answer_complete(received.get(start..).unwrap_or(&[]), method);
        let read = self.read_while(within, whole);
        let unfinished = format!(
            "the rest of the answer within {} s, or the close that ends it",
            within.as_secs_f32()
        );
        // What came before `start` is not this answer.
        let nothing_yet = self.received.len() <= start;
        match read {
            Ok(false) if nothing_yet && start > 0 => Err(self.fail(format!(
                "an answer to the next request within {} s; the server sent nothing more",
                within.as_secs_f32()
            ))),
            Ok(true) if nothing_yet && start > 0 => Err(self
                .fail("an answer to the next request; the server closed the connection instead")),
            _ => self.judge_read(read, within, unfinished),
        }
    }

    /// Waits `period` for the server to close, and expects no bytes
    /// meanwhile; returns how long it took, or `None` when it stayed open.
    pub fn expect_silent_close(&mut self, period: Duration) -> Result<Option<Duration>, Failure> {
        let before = self.received.len();
        let started = Instant::now();
        let read = self.read_while(period, |received| received.len() > before);
        let took = started.elapsed();
        match read {
            Err(error) => Err(self.fail(format!("to read, but: {error}"))),
            Ok(_) if self.received.len() > before => {
                let _ = self.read_while(IO_TIMEOUT, |_| false);
                Err(self.fail("no bytes on an idle connection; the server sent some"))
            }
            Ok(true) => Ok(Some(took)),
            Ok(false) => Ok(None),
        }
    }

    /// The failure, if any, of a read of an answer that took at most
    /// `within`: time ran out before anything came, or, said by
    /// `unfinished`, before the answer was done.
    fn judge_read(
        &self,
        read: io::Result<bool>,
        within: Duration,
        unfinished: String,
    ) -> Result<(), Failure> {
        match read {
            Ok(true) => Ok(()),
            Ok(false) if self.received.is_empty() => Err(self.fail(format!(
                "an answer within {} s; the server sent nothing and kept the connection open",
                within.as_secs_f32()
            ))),
            Ok(false) => Err(self.fail(unfinished)),
            Err(error) => Err(self.fail(format!("to read the answer, but: {error}"))),
        }
    }

    /// Reads what has come already, without waiting: to see whether the
    /// server sent or closed anything meanwhile ([`received`](Conn::received)
    /// and [`closed`](Conn::closed) say). A socket set non-blocking answers
    /// "nothing yet" (`WouldBlock`) at once where a read would wait.
    pub fn glance(&mut self) {
        if self.stream.set_nonblocking(true).is_ok() {
            let _ = self.read_while(IO_TIMEOUT, |_| false);
            let _ = self.stream.set_nonblocking(false);
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

    /// A server that reads once, answers and closes: the client's next
    /// piece meets a closed socket, and the failure shows the answer.
    #[test]
    fn an_answer_before_the_request_was_all_sent_is_shown() {
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let _ = stream.read(&mut [0u8; 64]);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            // Dropped here: closed, with what comes next unread.
        });
        let mut conn = Conn::open(addr).unwrap();
        conn.send(b"GET /ind").unwrap();
        server.join().unwrap();
        // The first piece after the close may still be taken in by the
        // system; a later one is refused. A few tries, 20 ms apart.
        let failure = (0..50)
            .find_map(|_| {
                std::thread::sleep(Duration::from_millis(20));
                conn.send(b"ex.html HTTP/1.1\r\n").err()
            })
            .expect("a send to a closed connection fails");
        assert!(
            failure
                .expected
                .contains("the server answered, and closed, before the request was all sent"),
            "{}",
            failure.expected
        );
        assert!(failure.received.starts_with(b"HTTP/1.1 200 OK"));
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
