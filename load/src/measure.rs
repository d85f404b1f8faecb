//! The measurements: wrk's load, and idle connections held open.

use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use stage_check::client::{Method, answer_complete, read_response, shown};
use stage_check::tools::median;
use stage_check::wait::poll_until;

use crate::{Contender, Mode, Plan};

/// How long one connection or one fresh request may take before it counts
/// as a failure; and how long a server may take to take in, or let go of,
/// a batch of idle connections.
const DEADLINE: Duration = Duration::from_secs(30);

/// How long a fresh request may wait for its answer while idle connections
/// are held, before it counts as unanswered (and no more are tried): twenty
/// times the pool's look-up for a waiting connection (100 ms), and far below
/// the read timeout (`READ_TIMEOUT`, 600 s) after which a worker held by a
/// silent client would be free again.
const FRESH_DEADLINE: Duration = Duration::from_secs(2);

/// How many idle connections are opened at a time.
pub const BATCH: usize = 100;

/// What wrk measured in one run against one server.
#[derive(Debug, Clone, Copy, Default)]
pub struct Load {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    /// Socket errors: connect, read, write, and requests over wrk's timeout.
    pub socket_errors: u64,
    /// Answers whose status was not 2xx.
    pub not_2xx: u64,
}

impl fmt::Display for Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.0} requests/s, p50 {:.3} ms, p99 {:.3} ms ({} requests, {} socket errors, {} not 2xx)",
            self.requests_per_second,
            self.p50_ms,
            self.p99_ms,
            self.requests,
            self.socket_errors,
            self.not_2xx
        )
    }
}

/// What we saw of a server while it held idle connections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Idle {
    pub threads: u64,
    /// The memory of the server's processes, as their proportional set size
    /// (PSS): the pages they hold in memory, with those they share (such as
    /// the C library's code) divided among the processes that share them.
    /// For one process it is close to its resident size (RSS); for nginx's
    /// two, it does not count their common pages twice.
    pub memory_mib: f64,
    /// What each idle connection added to that memory: its growth over the
    /// server's at rest (a server started for this measurement, which has
    /// answered a few requests), divided by the number of idle connections,
    /// in KiB.
    pub per_connection_kib: f64,
    /// How many of the idle connections the server still held open when it
    /// was measured: those it had neither closed nor refused. A thread per
    /// connection holds them all; a pool lets idle ones go when others wait.
    pub held: u64,
    /// How many it refused at once, with a `503`: its queue was full.
    pub refused: u64,
    /// The median time of a fresh request: connect, send, read to the
    /// close; infinite when one got no 2xx answer (see `fresh_missed`).
    pub fresh_ms: f64,
    /// The slowest fresh request's time, infinite as above.
    pub fresh_slowest_ms: f64,
    /// What a fresh request got instead of an answer, if one did: the
    /// requests after it were not tried.
    pub fresh_missed: Option<Missed>,
}

impl fmt::Display for Idle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} threads, {:.1} MiB ({:.2} KiB per connection), {} held, {} refused, ",
            self.threads, self.memory_mib, self.per_connection_kib, self.held, self.refused
        )?;
        match self.fresh_missed {
            Some(missed) => write!(f, "fresh request {}", missed.text()),
            None => write!(
                f,
                "fresh request {:.3} ms (slowest {:.3} ms)",
                self.fresh_ms, self.fresh_slowest_ms
            ),
        }
    }
}

/// What a fresh request got, made while idle connections were held, when
/// it was not a 2xx answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    /// A `503`: the server's queue was full.
    Refused,
    /// Nothing within [`FRESH_DEADLINE`]: every worker was busy with an
    /// idle connection, and the request waited in the queue.
    Unanswered,
}

impl Missed {
    /// What a table says in place of the time.
    pub fn text(self) -> String {
        match self {
            Missed::Refused => "refused (503)".into(),
            Missed::Unanswered => format!("no answer within {} s", FRESH_DEADLINE.as_secs()),
        }
    }

    /// What a sentence says of the request: "A fresh request …".
    pub fn said(self) -> String {
        match self {
            Missed::Refused => "was refused with a `503`".into(),
            Missed::Unanswered => format!("got no answer within {} s", FRESH_DEADLINE.as_secs()),
        }
    }
}

/// wrk's version line, which also proves it runs.
pub fn wrk_version() -> anyhow::Result<String> {
    // wrk prints its version with its usage, on standard output, and exits 1.
    let output = Command::new("wrk").arg("--version").output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().next().unwrap_or_default();
    Ok(line.split(" Copyright").next().unwrap_or(line).to_string())
}

/// Raises this process's limit of open files (its "soft" limit) to the
/// most the system lets it (the "hard" limit), as `ulimit -n $(ulimit -Hn)`
/// would in a shell, and returns it; an error if that is fewer than
/// `needed`. The servers it starts inherit it.
pub fn raise_open_files_limit(needed: u64) -> anyhow::Result<u64> {
    use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if hard < needed {
        bail!("the limit of open files is {hard}, and {needed} are needed: raise it (ulimit -Hn)");
    }
    // "No limit" is no number a soft limit of open files may take: then
    // what is needed is enough.
    let most = match hard == RLIM_INFINITY {
        true => needed.max(soft),
        false => hard,
    };
    if soft < most {
        setrlimit(Resource::RLIMIT_NOFILE, most, hard)?;
    }
    Ok(most)
}

/// Runs wrk against `contender` with `connections` at once, using them as
/// `mode` says.
pub fn load(
    contender: &Contender,
    connections: u32,
    mode: Mode,
    plan: &Plan,
    script: &Path,
) -> anyhow::Result<Load> {
    let url = format!("http://{}/", contender.server.addr());
    let output = Command::new("wrk")
        // One thread of wrk: it keeps up, and leaves the other core to the
        // server.
        .args(["--threads", "1", "--timeout", "5s"])
        .arg(format!("--connections={connections}"))
        .arg(format!("--duration={}s", plan.seconds))
        .arg("--script")
        .arg(script)
        .arg(&url)
        .env(
            "LOAD_EVERY_STATUS",
            if plan.every_status { "1" } else { "0" },
        )
        .env(
            "LOAD_CONNECTION",
            match mode {
                Mode::Close => "close",
                Mode::KeepAlive => "",
            },
        )
        .output()
        .context("cannot run wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let Some(json) = text.lines().find_map(|line| line.strip_prefix("LOAD ")) else {
        bail!(
            "wrk against {url} printed no figures: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let figures: serde_json::Value = serde_json::from_str(json)?;
    let count = |name: &str| figures[name].as_u64().unwrap_or(0);
    let requests = count("requests");
    let seconds = count("duration_us") as f64 / 1e6;
    Ok(Load {
        requests_per_second: requests as f64 / seconds.max(1e-9),
        p50_ms: count("p50_us") as f64 / 1e3,
        p99_ms: count("p99_us") as f64 / 1e3,
        requests,
        socket_errors: count("connect") + count("read") + count("write") + count("timeout"),
        not_2xx: count("not_2xx"),
    })
}

/// What an idle connection did before it fell quiet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quiet {
    /// Nothing: it connected, and never sent a byte. The server waits for
    /// its first request.
    Silent,
    /// One request, answered, and the server kept the connection open for a
    /// next one that never comes: an idle keep-alive connection.
    KeptAlive,
}

/// How many requests a server started for a measurement answers before its
/// memory at rest is taken: enough for each of nginx's workers to have
/// served one, most likely, and for every server to have run its code for
/// a request once.
const WARM_UP: usize = 4;

/// Holds `count` idle connections open to a server of `contender`'s own,
/// started for it, quiet as `quiet` says, and measures the server
/// meanwhile; its memory is compared with its memory at rest, before the
/// first idle connection.
pub fn idle(contender: &Contender, count: u32, quiet: Quiet, plan: &Plan) -> anyhow::Result<Idle> {
    let server = &contender.launch.start()?;
    let name = contender.name.as_str();
    let before = settled_open_files(name, server)?;
    for _ in 0..WARM_UP {
        if let Fresh::Missed(missed) = fresh_request(name, server)? {
            bail!(
                "{name}, just started, answered a request with {}",
                missed.text()
            );
        }
    }
    // Answered is not yet closed on the server's side (a stage's lingering
    // close reads until the client's end): at rest, it holds none of them.
    wait_until(name, || server.open_files() <= before)?;
    let rest_kib = server.memory_kib()?;
    let count = count as usize;
    let mut clients: Vec<Client> = Vec::with_capacity(count);
    while clients.len() < count {
        // In batches smaller than the stages' accept queue (128 connections,
        // see their `serve_forever`), each taken in before the next: a full
        // queue drops a new connection, which its client retries a second
        // later. What is measured here is holding connections, not that.
        let batch = BATCH.min(count - clients.len());
        let opened = clients.len();
        for _ in 0..batch {
            let conn = TcpStream::connect_timeout(&server.addr(), DEADLINE).with_context(|| {
                format!(
                    "{} took no connection {}",
                    contender.name,
                    clients.len() + 1
                )
            })?;
            clients.push(Client {
                conn,
                refused: false,
            });
        }
        if quiet == Quiet::KeptAlive {
            // Every request of the batch is sent before the first answer
            // is read, so that the server answers them side by side. A
            // server that has closed the connection already (a pool's
            // refusal) makes the write fail: its answer is read all the same.
            for client in &mut clients[opened..] {
                let _ = client.conn.write_all(REQUEST);
            }
            for client in &mut clients[opened..] {
                client.refused = answered(&contender.name, &mut client.conn)? == Fate::Refused;
            }
        }
        for client in &clients[opened..] {
            // From here on, looking costs nothing and waits for nothing.
            client.conn.set_nonblocking(true)?;
        }
        // Connected is not yet accepted: wait until the server holds every
        // connection it has not let go of (a pool closes idle ones while
        // others wait, and refuses those its queue has no room for).
        wait_until(&contender.name, || {
            server.open_files() >= before + held(&clients)
        })?;
    }
    let fates: Vec<Fate> = clients.iter().map(Client::fate).collect();
    let tally = |fate: Fate| fates.iter().filter(|&&f| f == fate).count() as u64;
    let threads = server.thread_count()? as u64;
    let memory_kib = server.memory_kib()?;
    let mut times = Vec::with_capacity(plan.fresh_requests);
    let mut fresh_missed = None;
    for _ in 0..plan.fresh_requests {
        match fresh_request(name, server)? {
            Fresh::Answered(ms) => times.push(ms),
            Fresh::Missed(missed) => {
                // One is enough to know: each would wait as long again.
                fresh_missed = Some(missed);
                break;
            }
        }
    }
    // The server, dropped at the end of this function, is stopped.
    drop(clients);
    let slowest = times.iter().copied().fold(0.0, f64::max);
    let (fresh_ms, fresh_slowest_ms) = match fresh_missed {
        Some(_) => (f64::INFINITY, f64::INFINITY),
        None => (median(&mut times), slowest),
    };
    Ok(Idle {
        threads,
        memory_mib: memory_kib as f64 / 1024.0,
        per_connection_kib: (memory_kib as f64 - rest_kib as f64) / count as f64,
        held: tally(Fate::Held),
        refused: tally(Fate::Refused),
        fresh_ms,
        fresh_slowest_ms,
        fresh_missed,
    })
}

/// One idle connection, from the client's side.
struct Client {
    conn: TcpStream,
    /// Whether its request was answered with a `503` (idle keep-alive
    /// connections only: the answer was read, and is no longer there to see).
    refused: bool,
}

/// What became of an idle connection, as its client sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Open, with nothing to read: the server holds it.
    Held,
    /// Answered with a `503`, unasked or to its request: the server's queue
    /// was full.
    Refused,
    /// Closed by the server, or answered and then closed.
    Closed,
}

impl Client {
    /// Looks, without reading, whether the server has let this connection
    /// go. The connection must be non-blocking: "nothing yet" is then an
    /// error of its own kind instead of a wait.
    fn fate(&self) -> Fate {
        if self.refused {
            return Fate::Refused;
        }
        let mut first = [0; REFUSAL.len()];
        match self.conn.peek(&mut first) {
            Err(error) if error.kind() == ErrorKind::WouldBlock => Fate::Held,
            Ok(n) if first[..n] == *REFUSAL => Fate::Refused,
            // An end of file, bytes a quiet connection was not sent (a
            // `408` after a read timeout), or a reset: the server let go.
            _ => Fate::Closed,
        }
    }
}

/// How a refusal begins: the status line of a `503 Service Unavailable`.
const REFUSAL: &[u8] = b"HTTP/1.1 503";

/// How many of `clients` the server has not let go of, as far as they see.
fn held(clients: &[Client]) -> usize {
    clients.iter().filter(|c| c.fate() == Fate::Held).count()
}

/// The request an idle keep-alive connection sends before it falls quiet:
/// HTTP/1.1, which keeps the connection open unless a side says otherwise.
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

/// More than the page's answer, many times over: a server that sends more
/// is not answering [`REQUEST`].
const MAX_ANSWER: usize = 64 * 1024;

/// Reads the answer to [`REQUEST`] on `conn`, and says what became of the
/// connection: kept open after a 2xx ([`Fate::Held`]), closed after it (a
/// pool says `Connection: close` while others wait), or refused with a
/// `503`. Any other answer is an error.
fn answered(name: &str, conn: &mut TcpStream) -> anyhow::Result<Fate> {
    conn.set_read_timeout(Some(DEADLINE))?;
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    // Until the answer is whole by its own framing (its `Content-Length`);
    // each read waits at most `DEADLINE`, and the loop ends at the close.
    let mut closed = false;
    while !answer_complete(&received, Method::Other) && !closed && received.len() < MAX_ANSWER {
        match conn.read(&mut buffer) {
            Ok(n) => {
                received.extend_from_slice(&buffer[..n]);
                closed = n == 0;
            }
            // A server that closes with our request unread resets the
            // connection: the kernel may drop what it had sent before.
            Err(error) if error.kind() == ErrorKind::ConnectionReset => closed = true,
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("{name} did not answer: {}", shown(&received)));
            }
        }
    }
    if received.is_empty() && closed {
        return Ok(Fate::Closed);
    }
    let response =
        read_response(&received, Method::Other).map_err(|why| anyhow!("{name}: {why}"))?;
    let closes = response
        .header("Connection")
        .is_some_and(|value| value.eq_ignore_ascii_case("close"));
    match response.status {
        503 => Ok(Fate::Refused),
        200..300 if closes || closed => Ok(Fate::Closed),
        200..300 => Ok(Fate::Held),
        _ => bail!(
            "{name} answered {}; expected a 2xx answer, or a 503 refusal",
            shown(&received)
        ),
    }
}

/// What a fresh request got.
enum Fresh {
    /// A 2xx answer, after so many milliseconds.
    Answered(f64),
    Missed(Missed),
}

/// One request on a new connection, timed from the connect to the close.
/// It asks for the close, which a server that keeps connections open would
/// otherwise not make.
fn fresh_request(name: &str, server: &stage_check::Server) -> anyhow::Result<Fresh> {
    let start = Instant::now();
    let mut conn = TcpStream::connect_timeout(&server.addr(), DEADLINE)?;
    conn.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut answer = Vec::new();
    let mut buffer = [0; 4096];
    // Until the close; each read waits at most what is left of the deadline.
    loop {
        let left = FRESH_DEADLINE.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Ok(Fresh::Missed(Missed::Unanswered));
        }
        conn.set_read_timeout(Some(left))?;
        match conn.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(Fresh::Missed(Missed::Unanswered));
            }
            Err(error) => return Err(error.into()),
        }
    }
    let elapsed = start.elapsed();
    if answer.starts_with(REFUSAL) {
        return Ok(Fresh::Missed(Missed::Refused));
    }
    if !answer.starts_with(b"HTTP/1.1 200 ") {
        bail!(
            "{name} answered a fresh request with {:?}",
            String::from_utf8_lossy(&answer[..answer.len().min(40)])
        );
    }
    Ok(Fresh::Answered(elapsed.as_secs_f64() * 1e3))
}

/// How many polls in a row, [`STEADY_EVERY`] apart, find the same count
/// of open files before a server just started is taken as settled.
const STEADY_POLLS: u32 = 5;
const STEADY_EVERY: Duration = Duration::from_millis(20);

/// The server's open files once their count has held still for
/// [`STEADY_POLLS`] polls: a server that takes connections may still be
/// opening files (nginx's master listens, then starts its workers, each with
/// files of its own), and what it holds at rest is counted from there.
fn settled_open_files(name: &str, server: &stage_check::Server) -> anyhow::Result<usize> {
    let mut last = server.open_files();
    let mut same = 0;
    poll_until(DEADLINE, STEADY_EVERY, || {
        let now = server.open_files();
        match now == last {
            true => same += 1,
            false => (last, same) = (now, 0),
        }
        (same >= STEADY_POLLS).then_some(now)
    })
    .with_context(|| format!("{name}'s open files did not settle within {DEADLINE:?}"))
}

/// Polls `done` every few milliseconds until it holds, for at most [`DEADLINE`].
fn wait_until(name: &str, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    poll_until(DEADLINE, Duration::from_millis(10), || done().then_some(())).with_context(|| {
        format!("{name} did not take in, or let go of, its idle connections within {DEADLINE:?}")
    })
}
