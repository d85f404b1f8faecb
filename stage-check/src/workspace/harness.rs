//! The test harness of this workspace's own stages: every check as a test of
//! its own, plus a few tests of a stage's program that only make sense for
//! ours (its command line, its threads), in each stage's
//! `tests/stage_check.rs`.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};

use crate::client::{self, Conn, IO_TIMEOUT};
use crate::server::Timeouts;
use crate::wait::poll_until;
use crate::{
    Kind, Launch, Needs, Outcome, Rules, Server, Stage, checks, report, run_check, server,
};

/// The read timeout servers run with in this workspace's tests: short, so
/// that the timeout check waits little, yet six times the longest pause a
/// check makes inside a request (0.5 s), so that on a busy machine no other
/// check meets it. (A read timeout of a second, say, would be a coin toss
/// for a request sent a byte at a time to a server that bounds the whole
/// head, as nginx and Node do.)
pub const TEST_READ_TIMEOUT: Duration = Duration::from_secs(3);

/// The keep-alive timeout a stage that keeps connections (part 9 on) runs
/// with in these tests: how long it keeps a connection idle between
/// requests. Short, so that the idle check waits little; yet four times
/// the longest a check lets a kept connection sit between an answer and its
/// next request (none pauses there on purpose: what a busy machine adds);
/// a second clear of the read timeout, so that a server that confuses the
/// two timers is seen to; and well inside [`IO_TIMEOUT`], so that a server
/// that closes an idle connection only by this timer, not when the client
/// closes its side, still closes within the wait for the close.
pub const TEST_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a stage may take to let go of every connection once its clients
/// are gone: its lingering close lasts 2 s at most, five times less.
const THREADS_END_WITHIN: Duration = Duration::from_secs(10);

/// How often a test counts a stage's threads while it waits for them to end.
const THREADS_POLL: Duration = Duration::from_millis(50);

/// Runs every check of the stage named `stage` (a crate name, such as
/// `part5-oo-session`) as a test of its own, each against a fresh server
/// started from `program`, for a stage's `tests/stage_check.rs`; then the
/// tests of the program itself. As on the command line, a stage runs the
/// checks its part introduces and those of the parts before, both kinds.
///
/// A check that would be skipped fails instead: in our own tests, everything
/// runs. The one exception is a machine without curl, outside CI: there the
/// curl checks show as "ignored" (see [`trial_needing`]), so that
/// `cargo test` needs only Rust. CI installs curl and runs them.
pub fn run_as_tests(program: &'static str, stage: &str) -> ! {
    let arguments = Arguments::from_args();
    let Some(stage) = Stage::from_name(stage) else {
        panic!("no stage called {stage}: add it to stage_check::STAGES");
    };
    let curl_here = client::curl_available();
    let mut trials: Vec<Trial> = checks(stage, Rules::All)
        .into_iter()
        .map(|check| {
            let missing = (check.needs == Needs::Curl && !curl_here).then(|| "curl".to_string());
            trial_needing(check.name, missing, move || {
                let server = start(program, stage, &[])?;
                let mut target = server.target();
                if stage.kind == Kind::Http {
                    target.read_timeout = Some(TEST_READ_TIMEOUT);
                }
                if stage.persistent {
                    target.keep_alive_timeout = Some(TEST_KEEP_ALIVE_TIMEOUT);
                    target.persistent = true;
                }
                target.part = stage.part;
                // Each check alone, against a server of its own: none is
                // "not judged" here, and our stages must pass them all.
                match run_check(check, &target).0 {
                    Outcome::Passed => Ok(()),
                    Outcome::Failed(failure) => {
                        // A panic or an error the server printed explains a lot.
                        let said = server.stderr().tail(server::SHOWN_LINES);
                        let report = failure.report(check.hint) + &report::server_said(&said);
                        Err(report.into())
                    }
                    Outcome::NotJudged { failure, .. } => Err(failure.report(check.hint).into()),
                    Outcome::Skipped(reason) => Err(format!("not run: {reason}").into()),
                }
            })
        })
        .collect();
    trials.push(Trial::test(
        "program::port_in_use_is_one_line_error",
        move || port_in_use_is_one_line_error(program),
    ));
    // These two count the server's threads, which only Linux's /proc shows.
    if cfg!(target_os = "linux") {
        trials.push(Trial::test("program::every_thread_ends", move || {
            every_thread_ends(program, stage)
        }));
        trials.push(Trial::test(
            "program::quiet_logs_nothing_per_connection",
            move || quiet_logs_nothing_per_connection(program, stage),
        ));
    }
    trials.extend(super::browser::trial(program, stage));
    libtest_mimic::run(&arguments, trials).exit()
}

/// A test that needs what a machine may lack (a program such as Chromium or
/// nginx, a binary that a narrower `cargo test` did not build): when
/// `missing` is `None`, it runs as `name`; otherwise it shows as ignored,
/// with what it needs in its name, so that `cargo test` needs only Rust.
/// Under CI (`CI=true`), which installs and builds everything, it fails
/// instead, saying what was missing: a test there never passes unrun.
pub fn trial_needing(
    name: impl Into<String>,
    missing: Option<String>,
    test: impl FnOnce() -> Result<(), Failed> + Send + 'static,
) -> Trial {
    let name = name.into();
    match missing {
        None => Trial::test(name, test),
        Some(what) if std::env::var_os("CI").is_some() => Trial::test(name, move || {
            Err(format!("this test needs {what}, and CI must provide it").into())
        }),
        Some(what) => {
            Trial::test(format!("{name} (needs {what})"), || Ok(())).with_ignored_flag(true)
        }
    }
}

/// Starts `program` on a free port, with `extra` arguments, and the
/// tests' timeouts that `stage` takes. Started by a [`Launch`], its target
/// can start another, for the checks that need a server of their own.
fn start(program: &str, stage: Stage, extra: &[&str]) -> Result<Server, Failed> {
    let timeouts = Timeouts {
        read: (stage.kind == Kind::Http).then_some(TEST_READ_TIMEOUT),
        keep_alive: stage.persistent.then_some(TEST_KEEP_ALIVE_TIMEOUT),
    };
    Launch::Program(program.into())
        .start(extra, timeouts)
        .map_err(|error| error.to_string().into())
}

/// A port that is taken ends the program at once with one line on standard
/// error that names the address: no panic, no backtrace.
fn port_in_use_is_one_line_error(program: &str) -> Result<(), Failed> {
    let taken = TcpListener::bind("127.0.0.1:0")?;
    let port = taken.local_addr()?.port().to_string();
    let mut child = Command::new(program)
        .args(["--port", &port])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    // `transpose` turns "no error, not yet exited" into `None`: ask again.
    let exited = poll_until(IO_TIMEOUT, Duration::from_millis(20), || {
        child.try_wait().transpose()
    });
    let Some(status) = exited else {
        let _ = child.kill();
        return Err("the program went on running with its port taken".into());
    };
    let status = status?;
    let mut said = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        stderr.read_to_string(&mut said)?;
    }
    let lines: Vec<&str> = said.lines().collect();
    let one_line_naming_it = lines.len() == 1 && lines[0].contains(&format!("127.0.0.1:{port}"));
    if status.success() || !one_line_naming_it || said.contains("panicked") {
        return Err(format!(
            "a failure exit with one line naming 127.0.0.1:{port}; got {status} and {said:?}"
        )
        .into());
    }
    Ok(())
}

/// Clients that leave early, send garbage or are served all let go of their
/// thread: no thread spins on, none waits forever.
fn every_thread_ends(program: &str, stage: Stage) -> Result<(), Failed> {
    const EACH: usize = 10;
    let server = start(program, stage, &[])?;
    let before = thread_count(&server)?;
    let good: &[u8] = match stage.kind {
        Kind::Echo => b"hello\n",
        Kind::Http => b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    let requests = [
        good,
        b"GET / HTTP/1.1\r\nHost: lo",
        b"\x16\x03\x01\x00\xa5\x01",
    ];
    for request in requests {
        for _ in 0..EACH {
            let mut conn = Conn::open(server.addr()).map_err(|f| f.expected)?;
            conn.send(request).map_err(|f| f.expected)?;
            // The client leaves without waiting for anything.
            conn.finish_sending();
        }
    }
    // Each connection's thread logs what it received: once every one has,
    // every thread has started, and the count below can only go down.
    let received = |lines: &[String]| {
        let count = lines.iter().filter(|l| l.starts_with("Received b")).count();
        (count >= EACH * requests.len()).then_some(())
    };
    if server
        .log()
        .wait_for(THREADS_END_WITHIN, received)
        .is_none()
    {
        return Err("a `Received b'…'` log line for every connection".into());
    }
    let mut now = before;
    let ended = poll_until(THREADS_END_WITHIN, THREADS_POLL, || {
        match thread_count(&server) {
            Ok(count) => {
                now = count;
                (count <= before).then_some(Ok(()))
            }
            Err(failed) => Some(Err(failed)),
        }
    });
    ended.unwrap_or_else(|| {
        Err(format!(
            "{now} threads {} s after every client left; {before} before they came",
            THREADS_END_WITHIN.as_secs()
        )
        .into())
    })
}

/// `--quiet` keeps the `Listening on` line and drops every other.
fn quiet_logs_nothing_per_connection(program: &str, stage: Stage) -> Result<(), Failed> {
    let server = start(program, stage, &["--quiet"])?;
    // The threads it runs with no client: one, or a pool's (part 10 on).
    let before = thread_count(&server)?;
    let mut conn = Conn::open(server.addr()).map_err(|f| f.expected)?;
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .map_err(|f| f.expected)?;
    conn.finish_sending();
    conn.read_to_close(IO_TIMEOUT).map_err(|f| f.expected)?;
    // Once the connection's thread is gone, all it could print is printed:
    // the count is back to what it was. (A pool's count never changes; its
    // worker logs a connection's lines as it serves it, most of them before
    // our answer came, so a --quiet that keeps them shows all the same.)
    // If the count stays up, the lines below show what was printed.
    let back = poll_until(THREADS_END_WITHIN, THREADS_POLL, || {
        match thread_count(&server) {
            Ok(count) if count > before => None,
            counted => Some(counted),
        }
    });
    back.transpose()?;
    let lines = server.log().lines();
    if lines.len() != 1 {
        return Err(format!("only the `Listening on` line with --quiet; got {lines:?}").into());
    }
    Ok(())
}

/// How many threads `server` runs, as a test's error when they cannot be
/// counted.
fn thread_count(server: &Server) -> Result<usize, Failed> {
    server
        .thread_count()
        .map_err(|error| format!("cannot count the server's threads: {error}").into())
}
