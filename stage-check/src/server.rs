//! Starting a server under test, reading its log, and stopping it.
//!
//! Two ways in: [`Server::start`] runs one of our stages, which prints
//! `Listening on <address>`; [`Server::exec`] runs a learner's command line,
//! in any language, on a free port, and also notices that it listens when it
//! prints nothing at all.
//!
//! Stopping a server is the other half. A command line such as
//! `cargo run -- --port 5001` or `npm start` is a process that starts the
//! real server as a child of its own, so killing the process we started is
//! not enough: on Unix each server gets a process group of its own, and the
//! whole group is killed, when the [`Server`] is dropped and on Ctrl-C.
//!
//! A check that needs a server of its own (to count its threads, to fill
//! its queue, to send it a signal) starts a fresh one by its [`Launch`]:
//! the way the server under test was started, with options of its choosing.

use std::fmt;
use std::io::{self, BufRead, BufReader};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::Target;

mod process;

/// How long a server may take to start listening, unless told otherwise.
pub const START_DEADLINE: Duration = Duration::from_secs(10);

/// How often to look again whether a starting server listens.
const POLL: Duration = Duration::from_millis(50);

/// How many of the server's last lines on standard error a failure shows.
pub const SHOWN_LINES: usize = 10;

/// How many lines a server that did not start shows from its first `error`
/// line on: enough for a compiler's error, its `-->` place and the code.
const ERROR_LINES: usize = 30;

/// The timers a server started with `--exec` is told of on its command
/// line, each when given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// `--read-timeout SECONDS`: how long it waits for a quiet client.
    pub read: Option<Duration>,
    /// `--keep-alive-timeout SECONDS` (part 9 on): how long it keeps an
    /// idle connection open between requests.
    pub keep_alive: Option<Duration>,
}

/// How to start the server under test again, as a fresh instance: for the
/// checks that need one of their own ([`Needs::OwnServer`](crate::Needs::OwnServer)),
/// since they change its state (fill its queue, shut it down) or watch its
/// process (count its threads), and choose its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// A command line run by the shell from the folder `dir`, as `--exec`
    /// and `grade` start a server ([`Server::exec_in`]), given `within` to
    /// listen.
    Shell {
        dir: PathBuf,
        command_line: String,
        within: Duration,
    },
    /// A program of this workspace (a stage's binary), which takes
    /// `--port 0` and prints its `Listening on` line: the harness's.
    Program(PathBuf),
}

impl Launch {
    /// Starts a fresh instance with `args` (such as `["--workers", "4"]`)
    /// appended to its command line, and told of `timeouts`. Dropping the
    /// [`Server`] stops it. (The arguments are appended as words of a shell
    /// command line: options and numbers, which need no quoting.)
    pub fn start(&self, args: &[&str], timeouts: Timeouts) -> io::Result<Server> {
        let mut server = self.start_anew(args, timeouts)?;
        server.launch = Some(self.clone());
        Ok(server)
    }

    /// Starts it, as [`start`](Launch::start) says, with no note yet of
    /// how.
    fn start_anew(&self, args: &[&str], timeouts: Timeouts) -> io::Result<Server> {
        match self {
            Launch::Shell {
                dir,
                command_line,
                within,
            } => {
                let line = [command_line.as_str()]
                    .into_iter()
                    .chain(args.iter().copied())
                    .collect::<Vec<_>>()
                    .join(" ");
                Server::exec_in(dir, &line, timeouts, *within)
            }
            Launch::Program(program) => {
                let mut command = Command::new(program);
                command.args(["--port", "0"]).args(args);
                let seconds = |timeout: Duration| timeout.as_secs().to_string();
                if let Some(read) = timeouts.read {
                    command.args(["--read-timeout", &seconds(read)]);
                }
                if let Some(keep_alive) = timeouts.keep_alive {
                    command.args(["--keep-alive-timeout", &seconds(keep_alive)]);
                }
                Server::start(command)
            }
        }
    }

    /// How long a fresh instance may take to listen.
    pub fn within(&self) -> Duration {
        match self {
            Launch::Shell { within, .. } => *within,
            Launch::Program(_) => START_DEADLINE,
        }
    }
}

/// A server started as a child process. Dropping it stops the process (and
/// what it started), so a test that fails, or panics, leaves no server behind.
#[derive(Debug)]
pub struct Server {
    child: Child,
    addr: SocketAddr,
    log: ServerLog,
    stderr: ServerLog,
    /// How it was started, when by a [`Launch`]: its [`target`](Server::target)
    /// can then start another.
    launch: Option<Launch>,
}

impl Server {
    /// Starts `command` (which must make the server print
    /// `Listening on <address>` on its standard output) and waits until it
    /// listens. Its standard output is collected as its log.
    pub fn start(command: Command) -> io::Result<Server> {
        Server::start_with(command, None, START_DEADLINE)
    }

    /// Starts a learner's server from `command_line`, run by the shell, on a
    /// free port of 127.0.0.1: the line gets `--port N` appended, or `N` in
    /// place of each `{port}` it holds. A `read_timeout` is passed on the
    /// same way, as `--read-timeout SECONDS` or in place of `{read_timeout}`.
    /// Waits at most `within` until the server listens: until it prints
    /// `Listening on <address>`, or else until a connection to that port
    /// succeeds.
    pub fn exec(
        command_line: &str,
        read_timeout: Option<Duration>,
        within: Duration,
    ) -> io::Result<Server> {
        let timeouts = Timeouts {
            read: read_timeout,
            keep_alive: None,
        };
        Server::exec_in(Path::new("."), command_line, timeouts, within)
    }

    /// The same, run from inside the folder `dir` (a submission's, when a
    /// class is graded), with both of its `timeouts` passed on.
    pub fn exec_in(
        dir: &Path,
        command_line: &str,
        timeouts: Timeouts,
        within: Duration,
    ) -> io::Result<Server> {
        let port = free_port()?;
        let command_line = with_options(command_line, port, timeouts)?;
        let mut command = shell(&command_line);
        command.current_dir(dir);
        // Python buffers what it prints when its output is a pipe, as here:
        // without this, its log would come in late, or never.
        command.env("PYTHONUNBUFFERED", "1");
        Server::start_with(command, Some(port), within)
    }

    /// Starts `command` and waits until it listens: `port`, when given, is
    /// where it should, and lets a server that prints nothing be found.
    fn start_with(mut command: Command, port: Option<u16>, within: Duration) -> io::Result<Server> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = group::spawn(&mut command)?;
        let log = ServerLog::collect_from(child.stdout.take());
        let stderr = ServerLog::collect_from(child.stderr.take());
        // From here on, returning early drops `server`, which stops it.
        let mut server = Server {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port.unwrap_or(0))),
            log,
            stderr,
            launch: None,
        };
        let deadline = Instant::now() + within;
        loop {
            // The line our stages print. With a port to fall back on, a line
            // we cannot read (such as Python's `('127.0.0.1', 5000)`) is
            // passed over; without, it is an error.
            let line = server
                .log
                .wait_for(POLL, |lines| listening_line(lines, port.is_none()));
            match line {
                Some(Ok(addr)) => {
                    server.addr = loopback(addr);
                    return Ok(server);
                }
                Some(Err(why)) => return Err(server.not_started(why)),
                None => {}
            }
            // Some servers print nothing: try the port. (A connection we
            // close at once is a client that leaves: a server must take it.)
            if let Some(port) = port {
                let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
                if TcpStream::connect_timeout(&addr, POLL).is_ok() {
                    return Ok(server);
                }
            }
            if let Some(status) = server.child.try_wait()? {
                return Err(server.not_started(format!("it exited ({status}) before listening")));
            }
            if Instant::now() >= deadline {
                let why = match port {
                    Some(port) => format!(
                        "nothing listened on 127.0.0.1:{port} within {} s (does it take \
                         `--port {port}`? Put `{{port}}` where your command takes the port)",
                        within.as_secs_f32()
                    ),
                    None => format!(
                        "no `Listening on <address>` line within {} s",
                        within.as_secs_f32()
                    ),
                };
                return Err(server.not_started(why));
            }
            if server.log.has_ended() {
                // Its output is closed, so `wait_for` above no longer waits:
                // pace the polling here instead.
                thread::sleep(POLL);
            }
        }
    }

    /// The error for a server that did not start, with its words on
    /// standard error (see [`NotStarted`]). Consumes the server, which
    /// stops it.
    fn not_started(mut self, why: String) -> io::Error {
        let exited = self.exit_status().is_some();
        if exited {
            // It exited just now: its last lines may still be in the pipe.
            self.stderr.wait_for(POLL * 10, |_| None::<()>);
        }
        let said = worth_showing(&self.stderr.lines());
        io::Error::other(NotStarted { why, exited, said })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's log (its standard output) so far and to come.
    pub fn log(&self) -> &ServerLog {
        &self.log
    }

    /// What the server printed on its standard error: tracebacks, panics.
    pub fn stderr(&self) -> &ServerLog {
        &self.stderr
    }

    /// How many threads the server runs now: its process and all it
    /// started (a shell, `cargo run`, nginx's workers), as Linux's `/proc`
    /// says (elsewhere, an error).
    pub fn thread_count(&self) -> io::Result<usize> {
        process::threads(self.pid())
    }

    /// How much memory the server holds now, its processes' proportional
    /// set size (PSS), in KiB, from `/proc`.
    pub fn memory_kib(&self) -> io::Result<u64> {
        process::memory_kib(self.pid())
    }

    /// How many files, sockets among them, the server's processes hold
    /// open now, from `/proc` (0 where there is none).
    pub fn open_files(&self) -> usize {
        process::open_files(self.pid())
    }

    /// How the server ended, if it has.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Asks the server to shut down, as `kill` does: SIGTERM to every
    /// process of its group, the way Ctrl-C in a terminal reaches every
    /// process of the foreground group (`cargo run` and the server it
    /// started, say). What it does then is its own; [`exit_status`]
    /// tells when it has ended. Only on Unix, which has signals.
    ///
    /// [`exit_status`]: Server::exit_status
    pub fn terminate(&self) -> io::Result<()> {
        group::terminate(&self.child)
    }

    /// The server as a target for checks, with its log, and, when a
    /// [`Launch`] started it, how to start another.
    pub fn target(&self) -> Target {
        Target {
            addr: self.addr,
            log: Some(self.log.clone()),
            read_timeout: None,
            keep_alive_timeout: None,
            persistent: false,
            part: 0,
            launch: self.launch.clone(),
        }
    }
}

/// Why a server did not start, inside the [`io::Error`] that
/// [`Server::exec`] returns: `error.get_ref()` and `downcast_ref` find it,
/// as Python's `except NotStarted as e` would.
#[derive(Debug)]
pub struct NotStarted {
    /// What went wrong, such as "it exited (exit status: 2) before listening".
    pub why: String,
    /// Whether it exited (rather than ran on without listening).
    pub exited: bool,
    /// What it said on standard error, the part worth showing.
    pub said: Vec<String>,
}

impl fmt::Display for NotStarted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the server did not start: {}", self.why)?;
        if !self.said.is_empty() {
            write!(f, "; it said:\n{}", self.said.join("\n"))?;
        }
        Ok(())
    }
}

impl std::error::Error for NotStarted {}

/// The lines of a server's standard error worth showing when it did not
/// start: from its first line that starts with `error` (a compiler's
/// `error[E0425]: …`, then its `-->` place and the code, which
/// `cargo run` prints before a tail of notes), or else its last lines.
fn worth_showing(lines: &[String]) -> Vec<String> {
    match lines.iter().position(|line| line.starts_with("error")) {
        Some(first) => lines[first..].iter().take(ERROR_LINES).cloned().collect(),
        None => lines[lines.len().saturating_sub(SHOWN_LINES)..].to_vec(),
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        group::stop(&mut self.child);
    }
}

/// A port of 127.0.0.1 that no one listens on: the system picks one for a
/// listener of ours, which we close again at once.
fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// `command_line` told to listen on `port`, and of its `timeouts`: each in
/// place of its `{port}`, `{read_timeout}` or `{keep_alive_timeout}`, or
/// else appended as an option.
fn with_options(command_line: &str, port: u16, timeouts: Timeouts) -> io::Result<String> {
    let mut line = command_line.to_string();
    let seconds = |timeout: Option<Duration>| timeout.map(|t| t.as_secs().to_string());
    let options = [
        ("{port}", "--port", Some(port.to_string())),
        ("{read_timeout}", "--read-timeout", seconds(timeouts.read)),
        (
            "{keep_alive_timeout}",
            "--keep-alive-timeout",
            seconds(timeouts.keep_alive),
        ),
    ];
    for (placeholder, option, value) in options {
        match value {
            Some(value) if line.contains(placeholder) => line = line.replace(placeholder, &value),
            Some(value) => line = format!("{line} {option} {value}"),
            None if line.contains(placeholder) => {
                return Err(io::Error::other(format!(
                    "the command says {placeholder}: give its value with {option}"
                )));
            }
            None => {}
        }
    }
    Ok(line)
}

/// A command that runs `command_line` the way a terminal would.
///
/// On Unix, the shell is told to wait out a SIGTERM (`trap : TERM`): it
/// shares the server's process group, which [`Server::terminate`] signals,
/// as Ctrl-C signals a terminal's foreground group, where no shell is. So
/// the shell lets the server shut down, and then ends with the server's
/// exit status, not with the signal. (A trap, unlike an ignored signal, is
/// not passed on to the programs the shell starts.)
fn shell(command_line: &str) -> Command {
    let mut command;
    if cfg!(windows) {
        command = Command::new("cmd");
        command.arg("/C").arg(command_line);
    } else {
        command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("trap : TERM; {command_line}"));
    }
    command
}

/// The address in a `Listening on <address>` line, once there is one. With
/// `strict`, a line that is not an address is an error; otherwise it is
/// passed over.
fn listening_line(lines: &[String], strict: bool) -> Option<Result<SocketAddr, String>> {
    lines
        .iter()
        .filter_map(|line| line.strip_prefix("Listening on "))
        .map(|addr| {
            addr.trim()
                .parse::<SocketAddr>()
                .map_err(|error| format!("bad `Listening on` line: {error}"))
        })
        .find(|parsed| strict || parsed.is_ok())
}

/// Whether `line` is one a server logs of a connection, naming its client's
/// address: its opening and closing lines, and a pool's (part 10 on) line
/// on the worker (part 12: the task) that serves it, or on its refusal.
fn names_a_connection(line: &str) -> bool {
    ["Socket ", "Worker ", "Task ", "Refused "]
        .iter()
        .any(|prefix| line.starts_with(prefix))
}

/// Where to connect to a server that says it listens on `addr`: the
/// loopback address, on its port. Checks stay on this machine, and a server
/// listening on every address (`0.0.0.0`) is reached there too.
fn loopback(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(v4) => (Ipv4Addr::LOCALHOST, v4.port()).into(),
        SocketAddr::V6(v6) => (Ipv6Addr::LOCALHOST, v6.port()).into(),
    }
}

/// Process groups, on Unix: each server runs in a group of its own, so that
/// stopping it stops everything it started; the groups still running are
/// kept in a list, which a Ctrl-C handler empties before we exit.
#[cfg(unix)]
mod group {
    use std::io;
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command};
    use std::sync::{Mutex, Once};

    use nix::sys::signal::{Signal, killpg};
    use nix::sys::wait::waitpid;
    use nix::unistd::Pid;

    /// The process groups of the servers running now. A group is named by
    /// the process id of the process that leads it: the one we started.
    static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

    /// Starts `command` as the leader of a new group, and notes the group as
    /// running. The first call sets up Ctrl-C (and `kill`, and a closed
    /// terminal) to stop every running group, then exit.
    pub fn spawn(command: &mut Command) -> io::Result<Child> {
        static HANDLER: Once = Once::new();
        HANDLER.call_once(|| {
            // An error means the program set a handler of its own already.
            let _ = ctrlc::set_handler(|| {
                let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
                for leader in running.drain(..) {
                    kill(leader);
                    // Wait for the leader, so that it is gone, not a zombie.
                    let _ = waitpid(pid(leader), None);
                }
                // 130 = 128 + SIGINT, what a shell reports for Ctrl-C.
                std::process::exit(130);
            });
        });
        // Holding the list from before the start until the group is on it,
        // so that a Ctrl-C in between waits for it, and then stops it too.
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        let child = command.process_group(0).spawn()?;
        running.push(child.id());
        Ok(child)
    }

    /// Stops the group `child` leads, and waits for `child` to end.
    pub fn stop(child: &mut Child) {
        let leader = child.id();
        // Kill, then wait: until the wait, the id stays ours (the process
        // is a zombie at worst), so the signal cannot reach a stranger.
        kill(leader);
        RUNNING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|&running| running != leader);
        let _ = child.wait();
    }

    /// Sends SIGTERM to the group `child` leads: its processes may then
    /// shut down as they see fit.
    pub fn terminate(child: &Child) -> io::Result<()> {
        killpg(pid(child.id()), Signal::SIGTERM).map_err(io::Error::from)
    }

    fn kill(leader: u32) {
        // An error means the group is gone already: nothing left to stop.
        let _ = killpg(pid(leader), Signal::SIGKILL);
    }

    fn pid(id: u32) -> Pid {
        Pid::from_raw(id as i32)
    }
}

/// Elsewhere, only the process we started can be stopped.
#[cfg(not(unix))]
mod group {
    use std::io;
    use std::process::{Child, Command};

    pub fn spawn(command: &mut Command) -> io::Result<Child> {
        command.spawn()
    }

    pub fn stop(child: &mut Child) {
        let _ = child.kill();
        let _ = child.wait();
    }

    pub fn terminate(_child: &Child) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "no signals here: only Unix has them",
        ))
    }
}

/// The lines a server printed, shared between the thread that reads them and
/// the checks that wait for them.
#[derive(Debug, Clone, Default)]
pub struct ServerLog {
    shared: Arc<(Mutex<LogLines>, Condvar)>,
}

/// The most lines a log keeps: a server that prints in a loop (as the
/// original does when a client leaves) must not fill our memory. Past twice
/// this many, the oldest half is dropped.
const KEPT_LINES: usize = 100_000;

#[derive(Debug, Default)]
struct LogLines {
    lines: Vec<String>,
    /// How many lines came in all, dropped ones included.
    count: usize,
    /// The server closed this output (it exited).
    ended: bool,
}

impl ServerLog {
    /// A log of `output`, filled by a thread of its own until it ends.
    fn collect_from(output: Option<impl io::Read + Send + 'static>) -> ServerLog {
        let log = ServerLog::default();
        match output {
            Some(output) => {
                let log = log.clone();
                thread::spawn(move || log.collect(BufReader::new(output)));
            }
            None => log.end(),
        }
        log
    }

    /// Reads lines until the server's output ends, waking up waiters on each.
    fn collect(&self, output: impl BufRead) {
        let (lines, changed) = &*self.shared;
        for line in output.split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line)
                .trim_end_matches('\r')
                .to_string();
            let mut guard = lines.lock().unwrap_or_else(|e| e.into_inner());
            guard.lines.push(line);
            guard.count += 1;
            if guard.lines.len() > 2 * KEPT_LINES {
                guard.lines.drain(..KEPT_LINES);
            }
            drop(guard);
            changed.notify_all();
        }
        self.end();
    }

    /// Notes that no more lines will come, and wakes up waiters.
    fn end(&self) {
        let (lines, changed) = &*self.shared;
        lines.lock().unwrap_or_else(|e| e.into_inner()).ended = true;
        changed.notify_all();
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.tail(usize::MAX)
    }

    /// The last `n` lines so far.
    pub fn tail(&self, n: usize) -> Vec<String> {
        let (lines, _) = &*self.shared;
        let guard = lines.lock().unwrap_or_else(|e| e.into_inner());
        guard.lines[guard.lines.len().saturating_sub(n)..].to_vec()
    }

    /// How many lines came so far, counting those no longer kept.
    pub fn count(&self) -> usize {
        let (lines, _) = &*self.shared;
        lines.lock().unwrap_or_else(|e| e.into_inner()).count
    }

    /// Whether the output ended: the server closed it, most likely by exiting.
    pub fn has_ended(&self) -> bool {
        let (lines, _) = &*self.shared;
        lines.lock().unwrap_or_else(|e| e.into_inner()).ended
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
    /// leaving out the lines that name other connections (their opening and
    /// closing lines; a pool's `Worker N serves …` or `Task N serves …`, and `Refused …`), and with the
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
                .filter(|line| !names_a_connection(line) || names_us(line))
                .map(|line| line.replace(&python, &rust));
            Some(ours.collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_and_timeouts_go_where_the_command_says() {
        let with = |line: &str, timeout: Option<u64>| {
            let timeouts = Timeouts {
                read: timeout.map(Duration::from_secs),
                keep_alive: None,
            };
            with_options(line, 5001, timeouts)
        };
        assert_eq!(
            with("python3 server.py", None).unwrap(),
            "python3 server.py --port 5001"
        );
        assert_eq!(
            with("node server.js -p {port}", None).unwrap(),
            "node server.js -p 5001"
        );
        assert_eq!(
            with("python3 server.py", Some(3)).unwrap(),
            "python3 server.py --port 5001 --read-timeout 3"
        );
        assert_eq!(
            with("server -t {read_timeout} -p {port}", Some(3)).unwrap(),
            "server -t 3 -p 5001"
        );
        assert!(with("server -t {read_timeout}", None).is_err());
        let both = Timeouts {
            read: Some(Duration::from_secs(3)),
            keep_alive: Some(Duration::from_secs(2)),
        };
        assert_eq!(
            with_options("server", 5001, both).unwrap(),
            "server --port 5001 --read-timeout 3 --keep-alive-timeout 2"
        );
        assert_eq!(
            with_options("server -k {keep_alive_timeout}", 5001, both).unwrap(),
            "server -k 2 --port 5001 --read-timeout 3"
        );
        let none = Timeouts::default();
        assert!(with_options("server -k {keep_alive_timeout}", 5001, none).is_err());
    }

    #[test]
    fn a_connection_s_lines_leave_out_those_naming_others() {
        let log = ServerLog::default();
        let text = "Socket established with 127.0.0.1:1.\n\
            Worker 1 serves 127.0.0.1:1.\n\
            Socket established with 127.0.0.1:2.\n\
            Worker 2 serves 127.0.0.1:2.\n\
            Task 7 serves 127.0.0.1:2.\n\
            Received url: b'/'\n\
            Socket established with 127.0.0.1:3.\n\
            Refused 127.0.0.1:3: every worker is busy and the queue is full.\n\
            Socket with 127.0.0.1:3 closed: the queue was full.\n\
            Socket with 127.0.0.1:1 closed: the client closed it.\n";
        log.collect(text.as_bytes());
        let client = "127.0.0.1:1".parse().unwrap();
        assert_eq!(
            log.connection(client, Duration::ZERO).unwrap(),
            [
                "Socket established with 127.0.0.1:1.",
                "Worker 1 serves 127.0.0.1:1.",
                "Received url: b'/'",
                "Socket with 127.0.0.1:1 closed: the client closed it.",
            ]
        );
    }

    /// The shell that runs a command line waits out a SIGTERM, and ends
    /// with the status of what it ran: here a program that exits 0 on it.
    #[cfg(unix)]
    #[test]
    fn a_server_told_to_terminate_ends_with_its_own_status() {
        let command = "sh -c 'trap \"exit 0\" TERM; echo Listening on 127.0.0.1:{port}; \
                       while :; do sleep 0.05; done'";
        let mut server = Server::exec(command, None, START_DEADLINE).unwrap();
        server.terminate().unwrap();
        let status = crate::wait::poll_until(START_DEADLINE, POLL, || server.exit_status());
        assert!(status.is_some_and(|status| status.success()), "{status:?}");
    }

    #[test]
    fn a_compile_error_is_shown_from_its_first_error_line() {
        let lines = |text: &str| text.lines().map(String::from).collect::<Vec<_>>();
        let mut cargo = lines(
            "   Compiling server v0.1.0\nerror[E0425]: cannot find value `x`\n --> src/main.rs:3:5",
        );
        cargo.extend((0..40).map(|i| format!("note {i}")));
        let shown = worth_showing(&cargo);
        assert_eq!(shown[0], "error[E0425]: cannot find value `x`");
        assert_eq!(shown[1], " --> src/main.rs:3:5");
        assert_eq!(shown.len(), ERROR_LINES);
        // No `error` line: the last lines, where a traceback ends.
        let python = lines("Traceback\n  File \"server.py\"\nNameError: x");
        assert_eq!(worth_showing(&python), python);
    }

    #[test]
    fn listening_lines_are_read_strictly_or_not() {
        let lines = |text: &str| vec!["hello".to_string(), format!("Listening on {text}")];
        let python = lines("('127.0.0.1', 5000)");
        assert!(matches!(listening_line(&python, true), Some(Err(_))));
        assert_eq!(listening_line(&python, false), None);
        let ours = lines("127.0.0.1:5000");
        assert_eq!(
            listening_line(&ours, false),
            Some(Ok("127.0.0.1:5000".parse().unwrap()))
        );
        for (announced, reached) in [
            ("0.0.0.0:80", "127.0.0.1:80"),
            ("192.168.1.5:80", "127.0.0.1:80"),
            ("[::]:80", "[::1]:80"),
        ] {
            assert_eq!(
                loopback(announced.parse().unwrap()),
                reached.parse().unwrap()
            );
        }
    }
}
