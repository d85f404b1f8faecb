//! Starting a server under test, and reading its log.

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::Target;

/// How long a server may take to print its `Listening on …` line.
pub const START_DEADLINE: Duration = Duration::from_secs(10);

/// A server started as a child process. Dropping it stops the process, so a
/// test that fails, or panics, still leaves no server behind.
#[derive(Debug)]
pub struct Server {
    child: Child,
    addr: SocketAddr,
    log: ServerLog,
}

impl Server {
    /// Starts `command` (which must make the server print
    /// `Listening on <address>` on its standard output) and waits until it
    /// listens. Its standard output is collected as its log.
    pub fn start(mut command: Command) -> io::Result<Server> {
        let mut child = command
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()?;
        let log = ServerLog::default();
        if let Some(stdout) = child.stdout.take() {
            let log = log.clone();
            thread::spawn(move || log.collect(BufReader::new(stdout)));
        }
        let listening = log.wait_for(START_DEADLINE, |lines| {
            lines
                .iter()
                .find_map(|line| line.strip_prefix("Listening on "))
                .map(|addr| addr.trim().parse::<SocketAddr>())
        });
        let addr = match listening {
            Some(Ok(addr)) => addr,
            Some(Err(error)) => {
                return Err(stop(child, format!("bad `Listening on` line: {error}")));
            }
            None => {
                let why = format!(
                    "no `Listening on <address>` line within {} s",
                    START_DEADLINE.as_secs()
                );
                return Err(stop(child, why));
            }
        };
        Ok(Server { child, addr, log })
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's log so far and to come.
    pub fn log(&self) -> &ServerLog {
        &self.log
    }

    /// The server as a target for checks, with its log.
    pub fn target(&self) -> Target {
        Target {
            addr: self.addr,
            log: Some(self.log.clone()),
            read_timeout: None,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Errors mean the process is gone already: nothing left to stop.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Stops a child that did not start right, and says why.
fn stop(mut child: Child, why: String) -> io::Error {
    let _ = child.kill();
    let status = child
        .wait()
        .map(|status| format!(" ({status})"))
        .unwrap_or_default();
    io::Error::other(format!("the server did not start: {why}{status}"))
}

/// The lines a server printed, shared between the thread that reads them and
/// the checks that wait for them.
#[derive(Debug, Clone, Default)]
pub struct ServerLog {
    shared: Arc<(Mutex<LogLines>, Condvar)>,
}

#[derive(Debug, Default)]
struct LogLines {
    lines: Vec<String>,
    /// The server closed its standard output (it exited).
    ended: bool,
}

impl ServerLog {
    /// Reads lines until the server's output ends, waking up waiters on each.
    fn collect(&self, output: impl BufRead) {
        let (lines, changed) = &*self.shared;
        for line in output.split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line)
                .trim_end_matches('\r')
                .to_string();
            lines
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .lines
                .push(line);
            changed.notify_all();
        }
        lines.lock().unwrap_or_else(|e| e.into_inner()).ended = true;
        changed.notify_all();
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        let (lines, _) = &*self.shared;
        lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .lines
            .clone()
    }

    /// Waits until `found` finds something in the lines, for at most
    /// `within`. `None` when time ran out or the server's output ended first.
    pub fn wait_for<T>(
        &self,
        within: Duration,
        mut found: impl FnMut(&[String]) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + within;
        let (lines, changed) = &*self.shared;
        let mut guard = lines.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(value) = found(&guard.lines) {
                return Some(value);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if guard.ended || left.is_zero() {
                return None;
            }
            guard = changed
                .wait_timeout(guard, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The lines the server logged for the connection from `client`: from
    /// `Socket established with <client>.` to `Socket with <client> closed.`,
    /// leaving out other connections' opening and closing lines, and with the
    /// address written the Rust way (`127.0.0.1:5000`) even where the server
    /// wrote it the Python way (`('127.0.0.1', 5000)`). Waits at most
    /// `within` for the closing line.
    pub fn connection(&self, client: SocketAddr, within: Duration) -> Option<Vec<String>> {
        let rust = client.to_string();
        let python = format!("('{}', {})", client.ip(), client.port());
        let names_us = |line: &str| line.contains(&rust) || line.contains(&python);
        let opens = |line: &String| line.starts_with("Socket established with") && names_us(line);
        let closes = |line: &String| line.starts_with("Socket with") && names_us(line);
        self.wait_for(within, |lines| {
            let start = lines.iter().position(opens)?;
            let end = start + lines[start..].iter().position(closes)?;
            let ours = lines[start..=end]
                .iter()
                .filter(|line| !line.starts_with("Socket ") || names_us(line))
                .map(|line| line.replace(&python, &rust));
            Some(ours.collect())
        })
    }
}
