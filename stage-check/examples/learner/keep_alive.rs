//! The same learner's server, grown to keep its connections open, as part
//! 9 teaches (RFC 9112, section 9.3), and serving part 8's application.
//!
//! A session reads requests one after the other from one connection: it
//! takes every complete request at the front of what it received, answers
//! them in order, then reads on. An HTTP/1.1 connection stays open unless
//! a request says `Connection: close`; an HTTP/1.0 one closes unless the
//! request asks `keep-alive`. An answer says `Connection: close` exactly
//! when the server closes after it. A connection idle for
//! `--keep-alive-timeout` seconds after an answer is closed without a word;
//! a request stalled for `--read-timeout` seconds is answered 408.
//!
//! Each `broken-*` example of part 9 swaps one step out through [`Steps`]:
//! where a request ends, what it asks of the connection, which waiting
//! request to answer next, and what to do after an answer.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;

use super::{Head, MAX_BODY, MAX_HEAD, PAGE, Refusal, SESSION_LIMIT};

/// The command line of a part 9 server: the earlier one's, and two more.
#[derive(Parser)]
pub struct KeepAliveOptions {
    /// `--port` and `--read-timeout`, as before (`flatten` takes in the
    /// options of another struct).
    #[command(flatten)]
    pub earlier: super::Options,
    /// Close a connection idle this long after an answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub keep_alive_timeout: u64,
    /// Close a connection after this many answers; the last says so.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_requests: usize,
}

/// What an answer says of the connection, and so what the server does
/// after it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Connection {
    /// Says `Connection: close`, and the server closes after it.
    Close,
    /// Says nothing: an HTTP/1.1 connection stays open unless told.
    Open,
    /// Says `Connection: keep-alive`: the HTTP/1.0 client asked for it.
    KeepAlive,
}

/// A complete request: its head, and its body.
pub struct Request {
    pub head: Head,
    pub body: Vec<u8>,
}

/// A request waiting for its answer, or one refused (its answer closes).
pub type Pending = Result<Request, Refusal>;

/// The steps of a keep-alive session. All are plain functions, so `Steps`
/// is `Copy`: each connection's thread gets a copy of its own.
#[derive(Clone, Copy)]
pub struct Steps {
    /// Where a request ends, counted from the start of its head: the head
    /// and all of its body, whether the route reads it or not.
    pub request_length: fn(head: &Head, head_length: usize) -> usize,
    /// What the request asks of the connection.
    pub persistence: fn(head: &Head) -> Connection,
    /// Takes the next request to answer from those waiting, in the order
    /// they came.
    pub next_to_answer: fn(waiting: &mut VecDeque<Pending>) -> Option<Pending>,
    /// What the server does after an answer that said `said`.
    pub after_answer: fn(said: Connection) -> Connection,
}

/// Every step done right.
pub const RIGHT: Steps = Steps {
    request_length,
    persistence,
    next_to_answer,
    after_answer,
};

/// The right `request_length`: the body is part of the request, read (and
/// dropped, if no one needs it) before the next request starts.
pub fn request_length(head: &Head, head_length: usize) -> usize {
    head_length + head.content_length
}

/// The right `persistence` (RFC 9112, section 9.3): `close`, in any case,
/// anywhere in the list, closes; HTTP/1.0 closes unless it asks
/// `keep-alive`; HTTP/1.1 stays open.
pub fn persistence(head: &Head) -> Connection {
    let asks = |token: &str| head.connection.iter().any(|t| t == token);
    if asks("close") {
        Connection::Close
    } else if head.version == "HTTP/1.0" {
        if asks("keep-alive") {
            Connection::KeepAlive
        } else {
            Connection::Close
        }
    } else {
        Connection::Open
    }
}

/// The right `next_to_answer`: the oldest first, as a queue (Python's
/// `collections.deque.popleft()`), since pipelined answers carry no name
/// of their request: the client matches them by order (section 9.3.2).
pub fn next_to_answer(waiting: &mut VecDeque<Pending>) -> Option<Pending> {
    waiting.pop_front()
}

/// The right `after_answer`: do what the answer said.
pub fn after_answer(said: Connection) -> Connection {
    said
}

/// Serves part 8's application with `steps`, a thread per client, until
/// stopped.
pub fn serve(steps: Steps) -> io::Result<()> {
    let options = KeepAliveOptions::parse();
    let listener = TcpListener::bind(("127.0.0.1", options.earlier.port))?;
    let limits = Limits {
        read_timeout: Duration::from_secs(options.earlier.read_timeout.max(1)),
        keep_alive_timeout: Duration::from_secs(options.keep_alive_timeout.max(1)),
        max_requests: options.max_requests.max(1),
    };
    println!("Listening on {}", listener.local_addr()?);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        thread::spawn(move || {
            super::connection(stream, limits.read_timeout, |stream| {
                session(&steps, &limits, stream)
            })
        });
    }
    Ok(())
}

/// The session's timers and its count, from the command line.
#[derive(Clone, Copy)]
struct Limits {
    read_timeout: Duration,
    keep_alive_timeout: Duration,
    max_requests: usize,
}

/// What the front of the received bytes holds.
pub enum Front {
    /// Not a whole request yet; `Some(head)` once its head is in.
    Partial(Option<Head>),
    /// A whole request, and how many bytes it took.
    Whole(Request, usize),
    Refused(Refusal),
}

/// Serves requests on one connection until one side closes it. When this
/// returns `Ok`, [`super::connection`] closes it gently.
fn session(steps: &Steps, limits: &Limits, stream: &mut TcpStream) -> io::Result<()> {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut waiting = VecDeque::new();
    let mut answered = 0;
    let mut continued = false;
    // A write that cannot finish (a client that never reads) fails, and
    // ends the session, rather than block its thread forever.
    stream.set_write_timeout(Some(limits.read_timeout))?;
    while started.elapsed() < SESSION_LIMIT {
        // Take every complete request at the front: a pipelining client
        // may have sent several in one go (section 9.3.2).
        let mut partial = None;
        while partial.is_none() {
            match front(steps, &mut received) {
                Front::Whole(request, length) => {
                    received.drain(..length);
                    waiting.push_back(Ok(request));
                    continued = false;
                }
                Front::Refused(refusal) => {
                    // Nothing after a request we cannot read can be
                    // trusted to start where we think: it is dropped.
                    received.clear();
                    waiting.push_back(Err(refusal));
                    break;
                }
                Front::Partial(head) => partial = Some(head),
            }
        }
        while let Some(pending) = (steps.next_to_answer)(&mut waiting) {
            answered += 1;
            let (answer, mut said) = match &pending {
                Ok(request) => (app(request), (steps.persistence)(&request.head)),
                Err((status, why)) => (Answer::text(*status, why), Connection::Close),
            };
            if answered >= limits.max_requests {
                said = Connection::Close;
            }
            write_answer(stream, &answer, said)?;
            log!("Response sent.");
            if (steps.after_answer)(said) == Connection::Close {
                return Ok(());
            }
        }
        // "Go on, send the body", once the answers before it are out.
        if let Some(Some(head)) = &partial
            && head.expects_continue
            && !continued
        {
            stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            continued = true;
        }
        // Between requests the keep-alive timeout runs, within one the
        // read timeout (the first request has the read timeout too).
        let idle = received.is_empty() && answered > 0;
        let timeout = if idle {
            limits.keep_alive_timeout
        } else {
            limits.read_timeout
        };
        stream.set_read_timeout(Some(timeout))?;
        match super::receive(stream, &mut received) {
            Ok(true) => {}
            // The client is done: everything it sent has its answer, and a
            // request it cut short gets none.
            Ok(false) => return Ok(()),
            Err(error) if super::is_timeout(&error) && idle => return Ok(()),
            Err(error) if super::is_timeout(&error) => {
                let answer = Answer::text(408, "Too slow.");
                return write_answer(stream, &answer, Connection::Close);
            }
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Reads what the front of `received` holds, with the session's framing.
pub fn front(steps: &Steps, received: &mut Vec<u8>) -> Front {
    // An empty line before a request is skipped (RFC 9112, section 2.2):
    // some clients send one after a body.
    while received.starts_with(b"\r\n") {
        received.drain(..2);
    }
    let Some(head_length) = super::find(received, b"\r\n\r\n").map(|end| end + 4) else {
        if received.len() > MAX_HEAD {
            return Front::Refused((431, "Head too large."));
        }
        return Front::Partial(None);
    };
    // A whole head can come in one read, too large all the same.
    if head_length > MAX_HEAD {
        return Front::Refused((431, "Head too large."));
    }
    let head = match super::parse_head(&super::RIGHT, &received[..head_length]) {
        Ok(head) => head,
        Err(refusal) => return Front::Refused(refusal),
    };
    if head.content_length > MAX_BODY {
        return Front::Refused((413, "Body too large."));
    }
    let length = (steps.request_length)(&head, head_length);
    if received.len() < length {
        return Front::Partial(Some(head));
    }
    log!("Received request completely.");
    let body = received[head_length..length].to_vec();
    Front::Whole(Request { head, body }, length)
}

/// An answer to write.
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// The `Allow` header of a 405.
    pub allow: Option<&'static str>,
    /// Leave the body out (the answer to `HEAD`), but still say its length.
    pub head_only: bool,
}

impl Answer {
    /// A plain text answer.
    pub fn text(status: u16, text: &str) -> Answer {
        Answer::new(
            status,
            "text/plain; charset=utf-8",
            text.as_bytes().to_vec(),
        )
    }

    fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> Answer {
        Answer {
            status,
            content_type,
            body,
            allow: None,
            head_only: false,
        }
    }
}

/// Writes `answer`, saying what `said` says of the connection.
pub fn write_answer(stream: &mut TcpStream, answer: &Answer, said: Connection) -> io::Result<()> {
    // One write per answer, so that a pipelined answer is never split
    // among the writes of another.
    stream.write_all(&answer_bytes(answer, said))
}

/// The bytes of `answer`, saying what `said` says of the connection.
pub fn answer_bytes(answer: &Answer, said: Connection) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
        answer.status,
        super::reason(answer.status),
        answer.content_type,
        answer.body.len()
    );
    if let Some(methods) = answer.allow {
        head += &format!("Allow: {methods}\r\n");
    }
    head += match said {
        Connection::Close => "Connection: close\r\n",
        Connection::Open => "",
        Connection::KeepAlive => "Connection: keep-alive\r\n",
    };
    head += "\r\n";
    let mut bytes = head.into_bytes();
    if !answer.head_only {
        bytes.extend_from_slice(&answer.body);
    }
    bytes
}

/// Part 8's application: its routes, and what each answers. `HEAD` is
/// answered as `GET`, without the body.
pub fn app(request: &Request) -> Answer {
    let head = &request.head;
    let (path, query) = head.url.split_once('?').unwrap_or((&head.url, ""));
    let method = if head.method == "HEAD" {
        "GET"
    } else {
        &head.method
    };
    let mut answer = match (method, path) {
        ("GET", "/") => Answer::text(200, &format!("Query: {:?}\n", pairs(query))),
        ("GET", "/index.html") => Answer::new(200, "text/html; charset=utf-8", PAGE.to_vec()),
        ("POST", "/create") => {
            let media_type = head.content_type.as_deref().unwrap_or("no Content-Type");
            let body = String::from_utf8_lossy(&request.body);
            Answer::text(200, &format!("Created from {media_type}: {body}\n"))
        }
        ("POST", "/some_json") => {
            Answer::new(200, "application/json", br#"{"hello":"world"}"#.to_vec())
        }
        (_, "/" | "/index.html") => not_allowed("GET, HEAD"),
        (_, "/create" | "/some_json") => not_allowed("POST"),
        _ => Answer::text(404, &format!("Not found: {path}\n")),
    };
    answer.head_only = head.method == "HEAD";
    answer
}

/// A 405, with the methods the path takes.
fn not_allowed(methods: &'static str) -> Answer {
    Answer {
        allow: Some(methods),
        ..Answer::text(405, "Method not allowed.\n")
    }
}

/// A query string's pairs, form-decoded: `a=1&b` is `[("a", "1"), ("b", "")]`.
fn pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// Undoes the form encoding: `+` is a space, `%C3%BC` the bytes of `ü`.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|digits| digits.iter().all(u8::is_ascii_hexdigit))
            .and_then(|digits| u8::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'+', _) => decoded.push(b' '),
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 2;
            }
            (byte, _) => decoded.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}
