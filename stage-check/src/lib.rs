//! Black-box checks of a stage's server, over real sockets.
//!
//! A check is given the address of a running server and nothing else: it
//! connects, sends bytes, and judges the bytes that come back, the way a
//! client would. It knows nothing about how the server is written, so the
//! same checks test this workspace's stages (their integration tests run every
//! check against the real binary) and a learner's own server, in any language.
//!
//! - [`checks`] lists the checks of a [`Stage`]; each [`Check`] says in one
//!   line what it proves, and carries a hint for when it fails.
//! - [`exercises`] lists the book's exercises for a stage: each [`Exercise`]
//!   changes the stage, and brings checks of its own that prove the change.
//! - [`run_check`] runs one against a [`Target`] within its own deadline and
//!   returns an [`Outcome`]: passed, failed with a [`Failure`] (what was sent,
//!   what came back, what was expected), or skipped when it needs something
//!   the target lacks (such as the server's log).
//! - [`server::Server`] starts a server as a child process, learns its
//!   address from its `Listening on …` line and collects its log.
//! - [`conn`] holds the client side: a connection that records what crossed
//!   it, and a strict reader of HTTP responses.
//! - [`report`] shows results, to a person or as JSON, for the command line
//!   (`src/main.rs`) that runs the checks against anyone's server.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

mod browser;
pub mod conn;
mod echo;
mod exercises;
pub mod harness;
mod http;
pub mod report;
pub mod server;

pub use conn::Failure;
pub use exercises::{Exercise, all_exercises, exercises};
pub use harness::run_as_tests;
pub use server::{Server, ServerLog};

/// Which kind of server a stage builds, and so which checks apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Part 4: a TCP echo server.
    Echo,
    /// Parts 5 and 6: an HTTP server answering one request per connection.
    Http,
}

/// Every name a stage answers to: the crate names, then short forms.
pub const STAGE_NAMES: &[(&str, Stage)] = &[
    ("part4-tcp-echo", Stage::Echo),
    ("part5-http-httparse", Stage::Http),
    ("part5-oo-session", Stage::Http),
    ("part6-custom-parser", Stage::Http),
    ("part4", Stage::Echo),
    ("part5", Stage::Http),
    ("part6", Stage::Http),
    ("echo", Stage::Echo),
    ("http", Stage::Http),
];

impl Stage {
    /// The stage a crate name (`part4-tcp-echo`, `part5-oo-session`, …) or a
    /// short form (`part4`, `part5`, `part6`, `echo`, `http`) stands for.
    pub fn from_name(name: &str) -> Option<Stage> {
        STAGE_NAMES
            .iter()
            .find(|(candidate, _)| *candidate == name)
            .map(|&(_, stage)| stage)
    }

    /// What its checks are about, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Stage::Echo => "echo",
            Stage::Http => "HTTP",
        }
    }
}

/// What a check needs besides a socket to talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Nothing else.
    Nothing,
    /// The server's log (its standard output), to compare with the post's
    /// transcript: only when stage-check started the server itself.
    Log,
    /// The server's read timeout, to wait it out.
    ReadTimeout,
    /// The `curl` command.
    Curl,
}

/// One check: a name, what it proves, and the function that proves it.
pub struct Check {
    /// A short name, such as `request_byte_by_byte`.
    pub name: &'static str,
    /// One line on what passing it proves.
    pub proves: &'static str,
    /// Where to look when it fails.
    pub hint: &'static str,
    /// What it needs besides a socket.
    pub needs: Needs,
    /// The check itself: `Ok` when the server behaved.
    pub run: fn(&Target) -> Result<(), Failure>,
}

/// The server under test.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its log, when stage-check started it.
    pub log: Option<ServerLog>,
    /// How long it waits for a quiet client, when known.
    pub read_timeout: Option<Duration>,
}

/// How a check ended.
#[derive(Debug)]
pub enum Outcome {
    Passed,
    Failed(Failure),
    /// Not run, for the reason given.
    Skipped(String),
}

/// The longest a check may take before it counts as failed: each check has
/// its own, so one server that hangs fails that check and the run goes on.
/// A check that waits out the server's read timeout gets that much more
/// (see [`Check::deadline`]).
pub const CHECK_DEADLINE: Duration = Duration::from_secs(30);

impl Check {
    /// How long this check may take against `target`: [`CHECK_DEADLINE`],
    /// plus the server's read timeout for the check that waits it out (a
    /// server may rightly wait 30 s before answering a quiet client).
    pub fn deadline(&self, target: &Target) -> Duration {
        match (self.needs, target.read_timeout) {
            (Needs::ReadTimeout, Some(timeout)) => CHECK_DEADLINE + timeout,
            _ => CHECK_DEADLINE,
        }
    }
}

/// The checks of a stage, in the order a learner meets what they test.
pub fn checks(stage: Stage) -> &'static [Check] {
    match stage {
        Stage::Echo => echo::CHECKS,
        Stage::Http => http::CHECKS,
    }
}

/// Runs one check against `target`, within its [deadline](Check::deadline).
pub fn run_check(check: &Check, target: &Target) -> Outcome {
    match check.needs {
        Needs::Log if target.log.is_none() => {
            return Outcome::Skipped("needs the server's log: start it with --exec".into());
        }
        Needs::ReadTimeout if target.read_timeout.is_none() => {
            return Outcome::Skipped("needs the server's read timeout: pass --read-timeout".into());
        }
        Needs::Curl if !conn::curl_available() => {
            return Outcome::Skipped("needs curl, which is not installed".into());
        }
        _ => {}
    }
    // The check runs on a thread of its own, so that we can stop waiting for
    // it. Every socket operation in a check has a timeout of its own, so a
    // thread we stop waiting for ends soon after anyway.
    let deadline = check.deadline(target);
    let (sender, receiver) = mpsc::channel();
    let run = check.run;
    let target = target.clone();
    thread::spawn(move || sender.send(run(&target)));
    match receiver.recv_timeout(deadline) {
        Ok(Ok(())) => Outcome::Passed,
        Ok(Err(failure)) => Outcome::Failed(failure),
        Err(mpsc::RecvTimeoutError::Timeout) => Outcome::Failed(Failure::new(format!(
            "a verdict within {} s; the server hung",
            deadline.as_secs()
        ))),
        Err(mpsc::RecvTimeoutError::Disconnected) => Outcome::Failed(Failure::new(
            "the check to finish; it crashed (a bug in stage-check)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_name_is_known() {
        for &(name, stage) in STAGE_NAMES {
            assert_eq!(Stage::from_name(name), Some(stage));
        }
        assert_eq!(Stage::from_name("part9"), None);
    }

    #[test]
    fn the_timeout_check_may_wait_out_the_read_timeout() {
        let mut target = Target {
            addr: SocketAddr::from(([127, 0, 0, 1], 5000)),
            log: None,
            read_timeout: Some(Duration::from_secs(30)),
        };
        for check in checks(Stage::Http) {
            let expected = match check.needs {
                Needs::ReadTimeout => CHECK_DEADLINE + Duration::from_secs(30),
                _ => CHECK_DEADLINE,
            };
            assert_eq!(check.deadline(&target), expected, "{}", check.name);
        }
        target.read_timeout = None;
        assert!(
            checks(Stage::Http)
                .iter()
                .all(|check| check.deadline(&target) == CHECK_DEADLINE)
        );
    }
}
