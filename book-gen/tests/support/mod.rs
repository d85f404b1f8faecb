//! What the tests that build stages outside the workspace share (`exercises.rs`,
//! `starters.rs`): running cargo with a deadline, starting a built server as
//! stage-check's harness does, and running checks on it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use libtest_mimic::Failed;
use stage_check::server::Timeouts;
use stage_check::{Check, Kind, Launch, Outcome, Server, Stage, conn, run_check, server};

/// The read timeout our HTTP servers run with here: the tests' own, short
/// enough that the timeout check waits little, long enough that no other
/// check meets it.
pub const READ_TIMEOUT: Duration = stage_check::harness::TEST_READ_TIMEOUT;

/// The keep-alive timeout a stage that keeps connections (part 9 on) runs
/// with here: the tests' own, as for the read timeout.
pub const KEEP_ALIVE_TIMEOUT: Duration = stage_check::harness::TEST_KEEP_ALIVE_TIMEOUT;

/// The longest one cargo command may take (the first one compiles the
/// dependencies).
pub const CARGO_DEADLINE: Duration = Duration::from_secs(600);

/// Runs `checks` against a solved stage's `server`: what is wrong, if
/// anything, with what each failure showed and what the server said.
pub fn all_pass(checks: &[&'static Check], server: &Server, stage: Stage) -> Vec<String> {
    let mut problems = Vec::new();
    for &check in checks {
        match checked(check, server, stage) {
            Outcome::Passed => {}
            Outcome::Skipped(reason) if may_skip(check) => eprintln!("{}: {reason}", check.name),
            Outcome::Skipped(reason) => problems.push(format!("{}: not run: {reason}", check.name)),
            Outcome::Failed(failure) | Outcome::NotJudged { failure, .. } => {
                problems.push(format!(
                    "{} fails on the solution:\n{}{}",
                    check.name,
                    failure.report(check.hint),
                    stage_check::report::server_said(&server.stderr().tail(server::SHOWN_LINES)),
                ))
            }
        }
    }
    problems
}

/// Starts `binary` on a free port, as stage-check's harness starts our
/// stages: by a `Launch`, so that the checks that need a server of their
/// own (part 10's) can start another the same way.
pub fn start(binary: &Path, stage: Stage, extra: &[&str]) -> Result<Server, Failed> {
    let timeouts = Timeouts {
        read: (stage.kind == Kind::Http).then_some(READ_TIMEOUT),
        keep_alive: stage.persistent.then_some(KEEP_ALIVE_TIMEOUT),
    };
    Launch::Program(binary.into())
        .start(extra, timeouts)
        .map_err(|error| format!("{}: {error}", binary.display()).into())
}

/// Runs `check` against `server`.
pub fn checked(check: &Check, server: &Server, stage: Stage) -> Outcome {
    let mut target = server.target();
    if stage.kind == Kind::Http {
        target.read_timeout = Some(READ_TIMEOUT);
    }
    if stage.persistent {
        target.keep_alive_timeout = Some(KEEP_ALIVE_TIMEOUT);
        target.persistent = true;
    }
    target.part = stage.part;
    run_check(check, &target).0
}

/// Whether `check` may be skipped: only a curl check, outside CI, on a
/// machine without curl, as in the stages' own tests.
pub fn may_skip(check: &Check) -> bool {
    check.needs == stage_check::Needs::Curl
        && std::env::var_os("CI").is_none()
        && !conn::curl_available()
}

/// Runs `command` for at most [`CARGO_DEADLINE`]; when it fails, says
/// how, with what it printed.
pub fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("{shown} did not start: {error}"))?;
    // Both outputs are read on threads of their own, so that we can stop
    // waiting for them; they end when the command does.
    let stdout = read_on_a_thread(child.stdout.take());
    let stderr = read_on_a_thread(child.stderr.take());
    let deadline = Instant::now() + CARGO_DEADLINE;
    let left = || deadline.saturating_duration_since(Instant::now());
    let (Ok(stdout), Ok(stderr)) = (stdout.recv_timeout(left()), stderr.recv_timeout(left()))
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("{shown} took longer than {CARGO_DEADLINE:?}"));
    };
    let status = child.wait().map_err(|error| format!("{shown}: {error}"))?;
    if !status.success() {
        return Err(format!(
            "{shown}: {status}\n{}{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        ));
    }
    Ok(())
}

/// Reads `pipe` to its end on a thread, which sends what it read.
fn read_on_a_thread(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        let _ = sender.send(bytes);
    });
    receiver
}

pub fn workspace() -> PathBuf {
    book_gen::workspace_root()
}

/// A binary's file name on this system.
pub fn exe(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}
