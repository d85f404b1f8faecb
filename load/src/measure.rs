//! The measurements: wrk's load, and idle connections held open.

use std::fmt;
use std::io::{Read, Write};
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

/// How many idle connections are opened at a time.
const BATCH: usize = 100;

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
    /// The median time of a fresh request: connect, send, read to the close.
    pub fresh_ms: f64,
}

impl fmt::Display for Idle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} threads, {:.1} MiB, fresh request {:.3} ms",
            self.threads, self.memory_mib, self.fresh_ms
        )
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

/// Raises this process's limit of open files to at least `needed`, as far
/// as the system's hard limit allows.
pub fn raise_open_files_limit(needed: usize) -> anyhow::Result<()> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    let needed = needed as u64;
    if soft >= needed {
        return Ok(());
    }
    if hard < needed {
        bail!("the limit of open files is {hard}, and {needed} are needed: raise it (ulimit -Hn)");
    }
    setrlimit(Resource::RLIMIT_NOFILE, needed, hard)?;
    Ok(())
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

/// Holds `count` idle connections to `contender` open, quiet as `quiet`
/// says, and measures the server meanwhile.
pub fn idle(contender: &Contender, count: u32, quiet: Quiet, plan: &Plan) -> anyhow::Result<Idle> {
    let server = &contender.server;
    let count = count as usize;
    let before = server.open_files();
    let mut held = Vec::with_capacity(count);
    while held.len() < count {
        // In batches smaller than the stages' accept queue (128 connections,
        // see their `serve_forever`), each taken in before the next: a full
        // queue drops a new connection, which its client retries a second
        // later. What is measured here is holding connections, not that.
        let batch = BATCH.min(count - held.len());
        let opened = held.len();
        for _ in 0..batch {
            let conn = TcpStream::connect_timeout(&server.addr(), DEADLINE).with_context(|| {
                format!("{} took no connection {}", contender.name, held.len() + 1)
            })?;
            held.push(conn);
        }
        if quiet == Quiet::KeptAlive {
            // Every request of the batch is sent before the first answer
            // is read, so that the server answers them side by side.
            for conn in &mut held[opened..] {
                conn.write_all(REQUEST)?;
            }
            for conn in &mut held[opened..] {
                kept_open_after_answer(&contender.name, conn)?;
            }
        }
        // Connected is not yet accepted: wait until the server holds them.
        wait_until(&contender.name, || {
            server.open_files() >= before + held.len()
        })?;
    }
    let threads = server.thread_count()? as u64;
    let memory_kib = server.memory_kib()?;
    let mut times = Vec::with_capacity(plan.fresh_requests);
    for _ in 0..plan.fresh_requests {
        times.push(fresh_request(contender)?);
    }
    drop(held);
    // The server lets go of them before the next measurement.
    wait_until(&contender.name, || server.open_files() <= before)?;
    Ok(Idle {
        threads,
        memory_mib: memory_kib as f64 / 1024.0,
        fresh_ms: median(&mut times),
    })
}

/// The request an idle keep-alive connection sends before it falls quiet:
/// HTTP/1.1, which keeps the connection open unless a side says otherwise.
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

/// More than the page's answer, many times over: a server that sends more
/// is not answering [`REQUEST`].
const MAX_ANSWER: usize = 64 * 1024;

/// Reads the answer to [`REQUEST`] on `conn`, and fails unless it is a 2xx
/// after which the server keeps the connection open.
fn kept_open_after_answer(name: &str, conn: &mut TcpStream) -> anyhow::Result<()> {
    conn.set_read_timeout(Some(DEADLINE))?;
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    // Until the answer is whole by its own framing (its `Content-Length`);
    // each read waits at most `DEADLINE`, and the loop ends at the close.
    let mut closed = false;
    while !answer_complete(&received, Method::Other) && !closed && received.len() < MAX_ANSWER {
        let n = conn
            .read(&mut buffer)
            .with_context(|| format!("{name} did not answer: {}", shown(&received)))?;
        received.extend_from_slice(&buffer[..n]);
        closed = n == 0;
    }
    let response =
        read_response(&received, Method::Other).map_err(|why| anyhow!("{name}: {why}"))?;
    let closes = response
        .header("Connection")
        .is_some_and(|value| value.eq_ignore_ascii_case("close"));
    if !(200..300).contains(&response.status) || closes || closed {
        bail!(
            "{name} answered {}; expected a 2xx answer, and the connection kept open after it",
            shown(&received)
        );
    }
    Ok(())
}

/// One request on a new connection, timed from the connect to the close.
/// It asks for the close, which a server that keeps connections open would
/// otherwise not make.
fn fresh_request(contender: &Contender) -> anyhow::Result<f64> {
    let start = Instant::now();
    let mut conn = TcpStream::connect_timeout(&contender.server.addr(), DEADLINE)?;
    conn.set_read_timeout(Some(DEADLINE))?;
    conn.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer)?;
    let elapsed = start.elapsed();
    if !answer.starts_with(b"HTTP/1.1 200 ") {
        bail!(
            "{} answered a fresh request with {:?}",
            contender.name,
            String::from_utf8_lossy(&answer[..answer.len().min(40)])
        );
    }
    Ok(elapsed.as_secs_f64() * 1e3)
}

/// Polls `done` every few milliseconds until it holds, for at most [`DEADLINE`].
fn wait_until(name: &str, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    poll_until(DEADLINE, Duration::from_millis(10), || done().then_some(())).with_context(|| {
        format!("{name} did not take in, or let go of, its idle connections within {DEADLINE:?}")
    })
}
