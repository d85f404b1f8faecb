//! Black-box checks of a stage's server, over real sockets.
//!
//! A check is given the address of a running server and nothing else: it
//! connects, sends bytes, and judges the bytes that come back, the way a
//! client would. It knows nothing about how the server is written, so the
//! same checks test this workspace's stages (their integration tests run every
//! check against the real binary) and a learner's own server, in any language.
//!
//! - [`checks()`] lists the checks of a [`Stage`]: those its part of the
//!   series introduces, and those of the parts before ([`STAGES`] lists the
//!   stages). Each [`Check`] says in one line what it proves, carries a hint
//!   for when it fails, and names its [`Rule`]: what HTTP requires, with the
//!   RFC sections, or what the stage asks beyond HTTP, with why.
//! - [`exercises()`] lists the book's exercises for a stage: each [`Exercise`]
//!   changes the stage, and brings checks of its own that prove the change.
//! - [`run_check`] runs one against a [`Target`] within its own deadline and
//!   returns an [`Outcome`]: passed, failed with a [`Failure`] (what was sent,
//!   what came back, what was expected), or skipped when it needs something
//!   the target lacks (such as the server's log); and the notes it made on
//!   what HTTP only recommends, which never fail a check.
//! - [`Judge`] runs checks in order, basic to advanced, and turns a failure
//!   that a more basic check already judged into "not judged": one flaw,
//!   one failure.
//!
//! A check never panics on what a server does: it returns
//! `Result<(), Failure>`, Rust's way of saying what Python says with an
//! exception, and `?` passes a failure up as `raise` would.
//!
//! # Layout
//!
//! - `lib.rs`, this file: what a check is ([`Check`], [`Rule`], [`Needs`]),
//!   what it runs against ([`Target`]) and how it ends ([`Outcome`]); which
//!   checks a stage runs ([`checks()`]), and running them ([`run_check`],
//!   [`Judge`]). Used by everything below, and by `load` and the book.
//! - `stage.rs`: the stages of the series ([`Stage`], [`STAGES`], [`Kind`]).
//! - `checks.rs` and `checks/`: every check, in `part4.rs` to `part12.rs`
//!   by the part that introduces it, the requests a server must refuse as rows
//!   of one table in `refusals.rs`, and the order they all run in; and the
//!   earlier checks that mean more on a kept connection
//!   ([`kept_connection_meanings`]).
//! - `exercises.rs` and `exercises/`: the book's exercises and their checks,
//!   for `--exercise` and the book's tests.
//! - [`client`]: the client side every check is written with: a connection
//!   that records what crossed it ([`client::Conn`]), a strict and a lenient
//!   reader of responses, and the helpers that send a request and judge its
//!   answer. (Also reachable as `conn`, its former name.)
//! - [`server`]: starting a server as a child process, learning its address
//!   from its `Listening on …` line, collecting its log, stopping it; for
//!   `--exec`, our tests, and `load`; and starting a fresh one
//!   ([`Launch`]) for the checks that need a server of their own.
//! - [`report`]: results, to a person, as JSON or as JUnit XML, for the
//!   command line and the harness.
//! - [`wait`]: [`wait::poll_until`], for waiting on what no event announces.
//! - `workspace.rs` and `workspace/`: what only this workspace's own tests
//!   and tools use: the [`harness`] every stage's `tests/stage_check.rs`
//!   calls ([`run_as_tests`]), a test in Chromium, and the [`tools`] that
//!   `load` and the book's generator share (building the stages, a median).
//! - `main.rs`: the command line that runs the checks against anyone's
//!   server; `grade.rs`, its `grade` subcommand, which grades a class.
//!
//! # Deadlines
//!
//! Every wait of a check, and of this workspace's tests, has a deadline, and
//! no deadline may equal a timer of the server it waits on: the verdict
//! would go to whichever fires first, and on a busy machine that is a coin
//! toss. Each one, next to the server's timer it must keep clear of (the
//! unit test `deadlines_keep_clear_of_the_servers_timers` holds the margins):
//!
//! | deadline | what it waits for | the server's timer beside it |
//! | --- | --- | --- |
//! | [`IO_TIMEOUT`](client::IO_TIMEOUT) | a connection; the answer to a whole request | none: a server answers a whole request at once |
//! | the close after a whole answer | the server's close | its lingering close (ours: 2 s at most; nginx's: 5 s). Our side closes its half first, and a lingering server then closes at once; a refusal is read by its framing, and its close not waited for. A server that keeps connections (part 9 on) closes at our half close too, or else by its keep-alive timer, in tests [`TEST_KEEP_ALIVE_TIMEOUT`](harness::TEST_KEEP_ALIVE_TIMEOUT), 2 s: under half of [`IO_TIMEOUT`](client::IO_TIMEOUT) |
//! | none: the next request on a kept connection goes at once | the answer to it, within [`IO_TIMEOUT`](client::IO_TIMEOUT) | the keep-alive timer, which runs from an answer to the next request: 2 s in tests, four times the longest pause of any check (`WAIT_FOR_REST`), and a second clear of the read timeout, so that a server that mixes the two up is seen to |
//! | `idle_closed_silently`: the keep-alive timeout and [`IO_TIMEOUT`](client::IO_TIMEOUT) more, and no sooner than half of it | the silent close of an idle connection | the keep-alive timeout itself (`--keep-alive-timeout`) |
//! | the exercise `max_connection_age`: a request every 0.25 s, and `close` due by 2 s of our clock | the server's `--max-connection-age 1` | the age, with a second's margin for the server's clock, which starts after ours; the keep-alive timer, eight times the pace (a compile-time assertion holds it) |
//! | `transcript`, before it connects: [`IO_TIMEOUT`](client::IO_TIMEOUT) | the log's close of every connection the checks before it opened, so that none of their lines falls among its own | the lingering close, 2 s at most: the checks' connections are closed by then, so the server closes at once |
//! | the pauses inside a request, the longest 0.5 s (`WAIT_FOR_REST`) | pacing: a request in pieces, a body in two halves | the read timeout, [`TEST_READ_TIMEOUT`](harness::TEST_READ_TIMEOUT) in tests: six times the longest pause, the whole of a request sent a byte at a time included |
//! | `quiet_client_timed_out`: the read timeout and [`IO_TIMEOUT`](client::IO_TIMEOUT) more | the `408` | the read timeout itself |
//! | `threads_bounded_by_pool`: the count watched for 1 s (`THREADS_WATCHED`); on event loops (part 11 on), then each client looked at, without a wait, to see that it is still held | its 200 quiet clients held meanwhile | the read timeout of the server it starts, 10 s (`OWN_TIMEOUT`, as for every part 10 check): no client is let go by it before the count is done |
//! | `full_queue_answered_503`, once its clients left: tries for 2 s (`FREED_WITHIN`), each answer within [`IO_TIMEOUT`](client::IO_TIMEOUT) | the workers to see their clients gone, and serve a new one | the 10 s read timeout, which would free the workers too: 2 s and 5 s, 3 s clear of it, so that it is never the timer that frees them |
//! | `next_client_served_past_idle_ones`: 1 s (`NEXT_SERVED_WITHIN`) | the answer to the client beyond the idle kept connections | the 10 s keep-alive timeout, which a pool that starves the client waits out; and the stage's look-up from an idle connection, every 100 ms (`STAGE_LOOKS_UP`), ten times over |
//! | `graceful_shutdown`: each step 2 s (`SHUTDOWN_STEP`): the listener closed, then the idle connection closed, counted from the signal; the answer to the request in progress and its close, from its last bytes | what SIGTERM must bring about | the stage's look-up, every 100 ms, twenty times over; the shutdown timeout, 5 s (`SHUTDOWN_TIMEOUT`), which would cut off the request in progress: the two steps before the close end by 4 s |
//! | `graceful_shutdown`: the exit, within the shutdown timeout and 2 s more (`EXIT_MARGIN`), from the signal | the process to end, with status 0 | the shutdown timeout, by which even a stage that cut connections off has exited |
//! | `graceful_shutdown`: `100 Continue` waited for 1 s (`CONTINUE_WAIT`), as curl does | the interim answer, which a server need not send | the 10 s read timeout: the pause inside the request is a tenth of it |
//! | `idle_connections_held_by_few_threads`: the 500 kept connections' first answers, their requests all sent at once, and the 500 quiet ones opened after them, within 10 s in all (`HELD_WITHIN`); then the answers to every one's next request, within 10 s in all (`ALL_ANSWERED_WITHIN`) | the server to hold every connection, and answer each | the read and keep-alive timeouts of the server it starts, 60 s (`LONG_TIMEOUT`): three times the two waits end to end, so that no connection is let go by a timer |
//! | `slow_sender_does_not_delay_others`: S's bytes 50 ms apart (`BYTE_EVERY`), its request whole after about 2 s; its first 5 bytes awaited within [`IO_TIMEOUT`](client::IO_TIMEOUT), then the other client's answer within 1 s (`OTHERS_SERVED_WITHIN`), then S's within [`IO_TIMEOUT`](client::IO_TIMEOUT) | the other client served while S sends | the 10 s read timeout (`OWN_TIMEOUT`), counted from the last bytes: 200 times S's pace, and five times its whole request, for a server that counts from the first byte; the 10 s keep-alive timeout, ten times the 1 s |
//! | `unread_answers_do_not_delay_others`: a first request's answer within [`IO_TIMEOUT`](client::IO_TIMEOUT); P's writes until one waits 2 s (`WRITES_BLOCKED`), for 5 s at most (`SENDING_AT_MOST`), its first request awaited within [`IO_TIMEOUT`](client::IO_TIMEOUT); each other client's answer within 1 s (`OTHERS_SERVED_WITHIN`); then every answer P is owed, once it reads, within 5 s (`OWED_WITHIN`) | the server to stop reading P, serve the others meanwhile, and lose none of P's answers | the 60 s read timeout (`LONG_TIMEOUT`), after which the stage closes a client that took none of its answers: P's whole time, 14 s at most, under a quarter of it |
//! | the exercise `server_status`: each count polled every 50 ms within [`IO_TIMEOUT`](client::IO_TIMEOUT), and within 2 s once the idle connection is closed | the status page's counts | the 10 s keep-alive timeout of the server it starts (`OWN_TIMEOUT`), which would free the worker too: five times the 2 s |
//! | the exercise `one_close_per_waiting_client`: the log's `Worker N serves` and `Socket established` lines, within [`IO_TIMEOUT`](client::IO_TIMEOUT); then 0.5 s waited out, in which a second idle connection would be let go | the server to take the connections; that nothing more is closed, which can only be waited out | the stage's look-up every 100 ms: five of them; the 10 s timers, twenty times the 0.5 s |
//! | the exercises `slow_route` and `handlers_on_a_pool`: the log's `Received b'GET /sleep` line within [`IO_TIMEOUT`](client::IO_TIMEOUT); the slow answer within its 0.6 s sleep and [`IO_TIMEOUT`](client::IO_TIMEOUT) more; the fresh page at least 0.3 s late (`STALLED_AT_LEAST`), or within 0.1 s (`ANSWERED_WITHIN`) | the slow request under way; how long the page waits for it | no timer: the 0.6 s sleep is the application's, and both bounds keep clear of it, by half of it and by five sixths (compile-time assertions hold them); the 10 s timers (`OWN_TIMEOUT`) of the server they start, sixteen times the sleep |
//! | the exercise `handler_timeout`: the answer to `/sleep?ms=3000` within 2 s (`CUT_OFF_WITHIN`), and no sooner than 0.5 s (`CUT_OFF_AT_LEAST`) | the `503` of the server's `--handler-timeout 1` | the handler timeout itself, 1 s: the window is half of it before, a second after; the 3 s sleep, a second beyond the window; the 10 s timers (`OWN_TIMEOUT`) (compile-time assertions hold them) |
//! | the exercise `spawn_blocking`: the log's `Received b'GET /blocking` line within [`IO_TIMEOUT`](client::IO_TIMEOUT); the fresh page within 0.1 s (`ANSWERED_WITHIN`); the blocking answer within its 0.6 s and [`IO_TIMEOUT`](client::IO_TIMEOUT) more | the blocking request under way; how long the page waits for it | no timer: the 0.6 s is the application's, six times the page's bound; the 10 s timers (`OWN_TIMEOUT`) |
//! | `awaiting_handler_does_not_delay_others`: the log's `Received b'GET /sleep` line within 0.5 s (`RECEIVED_WITHIN`), or none for a server that logs otherwise; then the other client's page within 0.3 s (`PAGE_WITHIN`); A's answer within its 1 s sleep and [`IO_TIMEOUT`](client::IO_TIMEOUT) more, no sooner than the sleep | A's request under way; the other client served while A's handler awaits; A's answer | no timer: the 1 s sleep is the application's, and the page's wait, the log's before it included, ends 0.2 s before it, so that a handler that blocks the thread always makes the page late; the 10 s timers (`OWN_TIMEOUT`) of the server it starts, 4 s clear of A's whole wait |
//! | [`CHECK_DEADLINE`], and the read timeout (or the keep-alive timeout) more for the check that waits it out, or the start deadline more for a check that starts a server of its own | a whole check | none (`max_requests_then_close`, 1,000 requests one after the other, takes about a second) |
//! | [`START_DEADLINE`](server::START_DEADLINE) | a server to listen | none (gunicorn's four workers start in about a second) |
//! | the harness's `THREADS_END_WITHIN` | a stage's threads to end once its clients left | the lingering close, 2 s at most: five times that |
//! | the browser test's `WITHIN` | Chromium to start, load, ask for the favicon | the spare connection's `408`, after the read timeout: it is expected |
//! | the command line's tests, `RUN_DEADLINE` | one run of stage-check | none (a whole stage's run takes 15 to 30 s) |

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

mod checks;
pub mod client;
mod exercises;
pub mod report;
pub mod server;
mod stage;
pub mod wait;
mod workspace;

/// The client side under its former name, which other crates' tests use.
pub use client as conn;
pub use client::Failure;
pub use exercises::{Exercise, all_exercises, exercises};
pub use server::{Launch, Server, ServerLog};
pub use stage::{Kind, STAGES, Stage};
pub use workspace::harness::{self, run_as_tests};
pub use workspace::tools;

/// This checker's version, which a class pins (a tag `stage-check-v` and
/// the version), and which its JSON and JUnit reports name.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What a check holds a server to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// What HTTP requires of every server (a MUST of RFC 9110 or RFC 9112):
    /// the sections that say so. A server built on any library or framework
    /// should pass these.
    Http(&'static str),
    /// A rule of the stage beyond HTTP, which HTTP allows a server to break:
    /// why the stage asks it all the same.
    Stage(&'static str),
}

impl Rule {
    /// `HTTP` or `stage`, as results show it.
    pub fn kind(self) -> &'static str {
        match self {
            Rule::Http(_) => "HTTP",
            Rule::Stage(_) => "stage",
        }
    }

    /// The sections of the RFCs, or why the stage asks it.
    pub fn source(self) -> &'static str {
        match self {
            Rule::Http(sections) | Rule::Stage(sections) => sections,
        }
    }

    /// The rule in words, for `--list` and a failure's report.
    pub fn describe(self) -> String {
        match self {
            Rule::Http(sections) => format!("HTTP requires it ({sections})"),
            Rule::Stage(why) => format!("the stage's rule, beyond HTTP: {why}"),
        }
    }
}

/// Which checks `--rules` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    /// Both kinds: what HTTP requires, and what the stage asks beyond it.
    All,
    /// Only what HTTP requires: for a server built on a library, or in
    /// another language's framework.
    Http,
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
    /// The server's keep-alive timeout, to wait it out on an idle connection.
    KeepAliveTimeout,
    /// The `curl` command.
    Curl,
    /// A server of its own, started the way the one under test was (with
    /// `--exec`, or by our harness), with options of the check's choosing:
    /// the check watches its process (counts its threads, sends it a
    /// signal) or changes its state (fills its queue, shuts it down). It
    /// runs only on the [`System`] named.
    OwnServer(System),
}

/// What a system must offer a check that needs a server of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    /// Any system.
    Any,
    /// Unix: signals, sent to a process group.
    Unix,
    /// Linux: its `/proc`, which counts a process's threads and its memory.
    Linux,
}

impl System {
    /// Whether this program runs on such a system.
    pub fn here(self) -> bool {
        match self {
            System::Any => true,
            System::Unix => cfg!(unix),
            System::Linux => cfg!(target_os = "linux"),
        }
    }

    /// Why a check needs this system, for the reason it is skipped
    /// elsewhere; empty for any system.
    pub fn why(self) -> &'static str {
        match self {
            System::Any => "",
            System::Unix => "Unix, which has signals",
            System::Linux => "Linux, whose /proc counts a process's threads and its memory",
        }
    }
}

/// One check: a name, what it proves, the rule it holds a server to, and the
/// function that proves it.
pub struct Check {
    /// A short name, such as `request_byte_by_byte`.
    pub name: &'static str,
    /// One line on what passing it proves.
    pub proves: &'static str,
    /// What HTTP requires, or what the stage asks beyond it.
    pub rule: Rule,
    /// The part of the series that introduces it (4, 5, 6…): a stage runs
    /// the checks of its part and of the parts before.
    pub since: u8,
    /// Where to look when it fails, in the chapter of a part no later than
    /// [`since`](Check::since).
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
    /// How long it keeps an idle connection open between requests, when
    /// known (part 9 on).
    pub keep_alive_timeout: Option<Duration>,
    /// Whether the stage it is checked as keeps connections open
    /// ([`Stage::persistent`]): what its log says of a connection differs.
    pub persistent: bool,
    /// The part of the series of the stage it is checked as
    /// ([`Stage::part`]), 0 for none in particular: from part 10 on, its
    /// log says what serves each connection ([`Target::served_by`]),
    /// and the checks that start a server of their own give it the options
    /// of its part ([`Target::event_loops`]).
    pub part: u8,
    /// How to start a fresh instance of it, when stage-check started it
    /// (with `--exec`, or by our harness): for the checks that need a
    /// server of their own ([`Needs::OwnServer`]).
    pub launch: Option<Launch>,
}

impl Target {
    /// Whether the stage it is checked as serves its connections from a
    /// fixed set of threads (part 10 on: a pool of workers, then event
    /// loops, then async tasks): its log says what serves each
    /// ([`Target::served_by`]).
    pub fn pooled(&self) -> bool {
        self.part >= 10
    }

    /// What its log says serves a connection, as [`Stage::served_by`]:
    /// `Worker` in parts 10 and 11, `Task` from part 12 on, none before.
    pub fn served_by(&self) -> Option<&'static str> {
        stage::served_by(self.part)
    }

    /// Whether the stage it is checked as serves its connections from
    /// event loops (part 11 on): `--workers` counts the loops, there is no
    /// `--queue`, and `--max-connections` bounds what the server holds.
    pub fn event_loops(&self) -> bool {
        self.part >= 11
    }
}

/// How a check ended.
#[derive(Debug)]
pub enum Outcome {
    Passed,
    Failed(Failure),
    /// Not judged, since what it would judge rests on a more basic rule that
    /// the check named here failed already, in this run: one flaw, one
    /// failure. The failure says what was seen.
    NotJudged {
        see: &'static str,
        failure: Failure,
    },
    /// Not run, for the reason given.
    Skipped(String),
}

/// The longest a check may take before it counts as failed: each check has
/// its own, so one server that hangs fails that check and the run goes on.
/// A check that waits out the server's read timeout gets that much more,
/// and one that starts a server of its own the time that may take (see
/// [`Check::deadline`]).
pub const CHECK_DEADLINE: Duration = Duration::from_secs(30);

impl Check {
    /// How long this check may take against `target`: [`CHECK_DEADLINE`],
    /// plus the server's read timeout for the check that waits it out (a
    /// server may rightly wait 30 s before answering a quiet client), or its
    /// keep-alive timeout for the check that waits that out, or the time a
    /// server may take to start for a check that starts one of its own.
    pub fn deadline(&self, target: &Target) -> Duration {
        match (self.needs, target.read_timeout, target.keep_alive_timeout) {
            (Needs::ReadTimeout, Some(timeout), _)
            | (Needs::KeepAliveTimeout, _, Some(timeout)) => CHECK_DEADLINE + timeout,
            (Needs::OwnServer(_), _, _) => {
                CHECK_DEADLINE
                    + target
                        .launch
                        .as_ref()
                        .map_or(Duration::ZERO, Launch::within)
            }
            _ => CHECK_DEADLINE,
        }
    }
}

/// The checks of `stage`, in the order they run: from the most basic rules
/// to the most advanced, those of later parts left out, and those a later
/// part reads otherwise in that part's form (part 10's on event loops, see
/// `as_run_by`). With [`Rules::Http`], only the checks of what HTTP
/// requires.
pub fn checks(stage: Stage, rules: Rules) -> Vec<&'static Check> {
    let retired = |check: &&Check| stage.retires.iter().any(|(name, _)| *name == check.name);
    all_checks(stage.kind)
        .into_iter()
        .filter(|check| check.since <= stage.part && !retired(check))
        .map(|check| as_run_by(stage, check))
        .filter(|check| rules == Rules::All || matches!(check.rule, Rule::Http(_)))
        .collect()
}

/// `check` as `stage` runs it: part 10's checks that mean more on event
/// loops, in their part 11 form from part 11 on
/// (`checks::ON_EVENT_LOOPS`); any other as it is.
fn as_run_by(stage: Stage, check: &'static Check) -> &'static Check {
    let on_loops = checks::ON_EVENT_LOOPS
        .iter()
        .find(|(earlier, _)| earlier.name == check.name);
    match on_loops {
        Some((_, on_loops)) if on_loops.since <= stage.part => on_loops,
        _ => check,
    }
}

/// The checks of `stage` that mean more on a connection the server keeps,
/// each with what it then proves: for a [persistent](Stage::persistent)
/// stage (part 9 on), the earlier parts' checks whose other branch it meets;
/// none for the others.
pub fn kept_connection_meanings(stage: Stage) -> Vec<(&'static Check, &'static str)> {
    if !stage.persistent {
        return Vec::new();
    }
    checks::ON_A_KEPT_CONNECTION
        .iter()
        .filter(|(check, _)| {
            checks(stage, Rules::All)
                .iter()
                .any(|c| c.name == check.name)
        })
        .map(|&(check, meaning)| (check, meaning))
        .collect()
}

/// Every check of a kind of stage, whichever part introduces it, in the
/// order they run (written out in `checks.rs`): for HTTP, the server's
/// checks, then those of the application it runs (part 7 on).
pub fn all_checks(kind: Kind) -> Vec<&'static Check> {
    match kind {
        Kind::Echo => checks::ECHO.to_vec(),
        Kind::Http => checks::HTTP.to_vec(),
    }
}

/// Runs one check against `target`, within its [deadline](Check::deadline).
/// Returns how it ended, and the notes it made on the way: what HTTP
/// recommends and the server did not do, which never fails a check.
pub fn run_check(check: &Check, target: &Target) -> (Outcome, Vec<String>) {
    match check.needs {
        Needs::Log if target.log.is_none() => {
            let why = "needs the server's log: start it with --exec";
            return (Outcome::Skipped(why.into()), Vec::new());
        }
        Needs::ReadTimeout if target.read_timeout.is_none() => {
            let why = "needs the server's read timeout: pass --read-timeout";
            return (Outcome::Skipped(why.into()), Vec::new());
        }
        Needs::KeepAliveTimeout if target.keep_alive_timeout.is_none() => {
            let why = "needs the server's keep-alive timeout: pass --keep-alive-timeout";
            return (Outcome::Skipped(why.into()), Vec::new());
        }
        Needs::Curl if !client::curl_available() => {
            let why = "needs curl, which is not installed";
            return (Outcome::Skipped(why.into()), Vec::new());
        }
        Needs::OwnServer(_) if target.launch.is_none() => {
            let why = "needs to start the server itself (to count its threads, to send it a \
                       signal): use --exec";
            return (Outcome::Skipped(why.into()), Vec::new());
        }
        Needs::OwnServer(system) if !system.here() => {
            let why = format!("runs only on {}", system.why());
            return (Outcome::Skipped(why), Vec::new());
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
    thread::spawn(move || {
        let result = run(&target);
        sender.send((result, client::take_notes()))
    });
    match receiver.recv_timeout(deadline) {
        Ok((Ok(()), notes)) => (Outcome::Passed, notes),
        Ok((Err(failure), notes)) => (Outcome::Failed(failure), notes),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let failure = Failure::new(format!(
                "a verdict within {} s; the server hung",
                deadline.as_secs()
            ));
            (Outcome::Failed(failure), Vec::new())
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let failure = Failure::new("the check to finish; it crashed (a bug in stage-check)");
            (Outcome::Failed(failure), Vec::new())
        }
    }
}

/// Runs checks one after the other, from basic to advanced, and remembers
/// which failed: a later check that fails only on what one of those judges
/// (a response it cannot read, say) is [not judged](Outcome::NotJudged)
/// instead, so that one flaw makes one failure, not a wall of them.
#[derive(Debug, Default)]
pub struct Judge {
    failed: HashSet<&'static str>,
}

impl Judge {
    /// Runs `check` (see [`run_check`]) and judges its outcome in the light
    /// of the checks that ran before it.
    pub fn run(&mut self, check: &Check, target: &Target) -> (Outcome, Vec<String>) {
        let (outcome, notes) = run_check(check, target);
        let outcome = match outcome {
            Outcome::Failed(failure) => match failure.see {
                Some(see) if self.failed.contains(see) => Outcome::NotJudged { see, failure },
                _ => Outcome::Failed(failure),
            },
            other => other,
        };
        if matches!(outcome, Outcome::Failed(_) | Outcome::NotJudged { .. }) {
            self.failed.insert(check.name);
        }
        (outcome, notes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_runs_the_checks_of_its_part_and_the_parts_before() {
        let part5 = Stage::from_name("part5").unwrap();
        let part6 = Stage::from_name("part6").unwrap();
        let (five, six) = (checks(part5, Rules::All), checks(part6, Rules::All));
        assert!(five.iter().all(|check| check.since <= 5));
        assert!(six.len() > five.len(), "part 6 adds checks");
        let up_to_six = all_checks(Kind::Http).into_iter().filter(|c| c.since <= 6);
        assert_eq!(six.len(), up_to_six.count());
        // In the same order: part 6's are placed among part 5's.
        let names = |list: &[&Check]| list.iter().map(|c| c.name).collect::<Vec<_>>();
        let six_of_five: Vec<&str> = names(&six)
            .into_iter()
            .filter(|name| names(&five).contains(name))
            .collect();
        assert_eq!(six_of_five, names(&five));
        let http = checks(part6, Rules::Http);
        assert!(http.iter().all(|check| check.rule.kind() == "HTTP"));
        assert!(http.len() < six.len(), "some rules are the stage's own");
    }

    /// Every check, as every stage runs it: part 10's in their part 11
    /// form too.
    fn every_form_of_every_check() -> impl Iterator<Item = &'static Check> {
        let on_loops = checks::ON_EVENT_LOOPS.iter().map(|(_, on_loops)| *on_loops);
        all_checks(Kind::Echo)
            .into_iter()
            .chain(all_checks(Kind::Http))
            .chain(on_loops)
    }

    #[test]
    fn a_stage_of_event_loops_runs_part_10s_checks_in_their_form() {
        let http_stage = |part| Stage {
            name: "a stage",
            short: "a",
            part,
            kind: Kind::Http,
            page: "/index.html",
            retires: &[],
            persistent: true,
            points: &[],
        };
        let proves = |stage, name| {
            checks(stage, Rules::All)
                .into_iter()
                .find(|check| check.name == name)
                .map(|check| check.proves)
        };
        for (check, on_loops) in checks::ON_EVENT_LOOPS {
            assert_eq!(proves(http_stage(10), check.name), Some(check.proves));
            assert_eq!(proves(http_stage(11), check.name), Some(on_loops.proves));
        }
        assert!(proves(http_stage(10), "idle_connections_held_by_few_threads").is_none());
        let target = |part| Target {
            addr: SocketAddr::from(([127, 0, 0, 1], 5000)),
            log: None,
            read_timeout: None,
            keep_alive_timeout: None,
            persistent: true,
            part,
            launch: None,
        };
        assert!(target(10).pooled() && !target(10).event_loops());
        assert!(target(11).pooled() && target(11).event_loops());
        assert!(!target(9).pooled());
        assert_eq!(target(11).served_by(), Some("Worker"));
        assert_eq!(target(12).served_by(), Some("Task"));
    }

    #[test]
    fn every_check_says_what_it_holds_the_server_to() {
        for check in every_form_of_every_check() {
            match check.rule {
                Rule::Http(sections) => assert!(
                    sections.starts_with("RFC 9110 §") || sections.starts_with("RFC 9112 §"),
                    "{}: {sections}",
                    check.name
                ),
                Rule::Stage(why) => assert!(why.len() > 20, "{}: say why", check.name),
            }
        }
    }

    #[test]
    fn hints_send_a_learner_no_further_than_the_part_of_the_check() {
        let exercise_checks = exercises::all_exercises().flat_map(|(_, e)| e.checks);
        for check in every_form_of_every_check().chain(exercise_checks) {
            let parts = check.hint.match_indices("Part ").map(|(at, _)| {
                let digits = &check.hint[at + 5..];
                digits[..digits
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(digits.len())]
                    .parse::<u8>()
                    .unwrap_or(0)
            });
            for part in parts {
                assert!(
                    part <= check.since,
                    "{} (part {}) sends the learner to Part {part}",
                    check.name,
                    check.since
                );
            }
        }
    }

    /// The margins of the table of deadlines in the crate's documentation.
    #[test]
    fn deadlines_keep_clear_of_the_servers_timers() {
        use crate::client::{BYTE_PAUSE, PIECE_PAUSE, WAIT_FOR_REST};
        use crate::harness::TEST_READ_TIMEOUT;
        // The longest a request waits inside itself: sent a byte at a time,
        // or paused in the middle.
        let byte_by_byte = BYTE_PAUSE * checks::CURL_REQUEST.len() as u32;
        let longest_pause = [
            WAIT_FOR_REST,
            PIECE_PAUSE,
            byte_by_byte,
            checks::part7::SECOND_HALF_AFTER,
        ]
        .into_iter()
        .max()
        .unwrap_or_default();
        assert!(TEST_READ_TIMEOUT >= 6 * longest_pause);
        // A whole check outlasts the waits it is made of.
        assert!(CHECK_DEADLINE >= 5 * client::IO_TIMEOUT);
        // The keep-alive timer of our tests: clear of every pause, of the
        // read timeout, and short enough that a server which closes an idle
        // connection only by it still closes within the wait for the close.
        use crate::harness::TEST_KEEP_ALIVE_TIMEOUT;
        assert!(TEST_KEEP_ALIVE_TIMEOUT >= 4 * WAIT_FOR_REST);
        assert!(TEST_KEEP_ALIVE_TIMEOUT + Duration::from_secs(1) <= TEST_READ_TIMEOUT);
        assert!(2 * TEST_KEEP_ALIVE_TIMEOUT <= client::IO_TIMEOUT);
        // Part 10's checks, against servers whose timers are all
        // `OWN_TIMEOUT`: no wait of theirs is decided by one of them.
        use checks::part10::{
            CONTINUE_WAIT, EXIT_MARGIN, FREED_WITHIN, NEXT_SERVED_WITHIN, OWN_TIMEOUT,
            SHUTDOWN_STEP, SHUTDOWN_TIMEOUT, STAGE_LOOKS_UP, THREADS_WATCHED,
        };
        let second = Duration::from_secs(1);
        assert!(5 * THREADS_WATCHED <= OWN_TIMEOUT);
        assert!(FREED_WITHIN + client::IO_TIMEOUT + 3 * second <= OWN_TIMEOUT);
        assert!(10 * NEXT_SERVED_WITHIN <= OWN_TIMEOUT);
        assert!(NEXT_SERVED_WITHIN >= 10 * STAGE_LOOKS_UP);
        assert!(SHUTDOWN_STEP >= 20 * STAGE_LOOKS_UP);
        assert!(2 * SHUTDOWN_STEP + second <= SHUTDOWN_TIMEOUT);
        assert!(EXIT_MARGIN >= 2 * second);
        assert!(SHUTDOWN_TIMEOUT + EXIT_MARGIN + 3 * second <= OWN_TIMEOUT);
        assert!(10 * CONTINUE_WAIT <= OWN_TIMEOUT);
        // The shutdown check, its waits end to end, within a check's time.
        let shutdown = client::IO_TIMEOUT + CONTINUE_WAIT + SHUTDOWN_TIMEOUT + EXIT_MARGIN;
        assert!(shutdown + client::IO_TIMEOUT <= CHECK_DEADLINE);
        // Part 11's: the idle connections' waits, end to end, a third of
        // the server's timers, and within a check's time.
        use checks::part11::{
            ALL_ANSWERED_WITHIN, BYTE_EVERY, HELD_WITHIN, LONG_TIMEOUT, OTHERS_SERVED_WITHIN,
            OWED_WITHIN, SENDING_AT_MOST, SLOW_REQUEST, WRITES_BLOCKED,
        };
        let idle = HELD_WITHIN + ALL_ANSWERED_WITHIN;
        assert!(3 * idle <= LONG_TIMEOUT);
        assert!(idle + client::IO_TIMEOUT <= CHECK_DEADLINE);
        // The slow sender: its pace, and its whole request, far inside the
        // read timeout; the other client's wait, a tenth of either timer.
        assert!(OWN_TIMEOUT >= 200 * BYTE_EVERY);
        assert!(OWN_TIMEOUT >= 5 * BYTE_EVERY * SLOW_REQUEST.len() as u32);
        assert!(10 * OTHERS_SERVED_WITHIN <= OWN_TIMEOUT);
        // The client that never reads: a write may start just before P's
        // time is up, and wait its whole WRITES_BLOCKED; then the two
        // other clients. All of it a sixth of the read timeout, after which
        // the stage would close P; and with P's reading, a quarter.
        let unread = SENDING_AT_MOST + WRITES_BLOCKED + 2 * OTHERS_SERVED_WITHIN;
        assert!(6 * unread <= LONG_TIMEOUT);
        assert!(4 * (unread + OWED_WITHIN) <= LONG_TIMEOUT);
        assert!(client::IO_TIMEOUT + unread + OWED_WITHIN + client::IO_TIMEOUT <= CHECK_DEADLINE);
        // Part 12's: the page's wait, and the log's before it, 0.2 s clear
        // of the handler's sleep, which a blocked page waits out; A's whole
        // wait, 4 s clear of the server's timers, within a check.
        use checks::part12::{PAGE_WITHIN, RECEIVED_WITHIN, SLEEP};
        assert!(RECEIVED_WITHIN + PAGE_WITHIN + Duration::from_millis(200) <= SLEEP);
        assert!(SLEEP + client::IO_TIMEOUT + 4 * second <= OWN_TIMEOUT);
        assert!(2 * client::IO_TIMEOUT + SLEEP + client::IO_TIMEOUT <= CHECK_DEADLINE);
    }

    #[test]
    fn a_check_that_starts_its_own_server_needs_a_way_to() {
        let mut target = Target {
            addr: SocketAddr::from(([127, 0, 0, 1], 5000)),
            log: None,
            read_timeout: None,
            keep_alive_timeout: None,
            persistent: true,
            part: 10,
            launch: None,
        };
        let own = all_checks(Kind::Http)
            .into_iter()
            .filter(|check| matches!(check.needs, Needs::OwnServer(_)))
            .collect::<Vec<_>>();
        assert_eq!(own.len(), 8, "part 10's, part 11's and part 12's");
        for check in &own {
            assert!([10, 11, 12].contains(&check.since), "{}", check.name);
            assert_eq!(check.deadline(&target), CHECK_DEADLINE);
            match run_check(check, &target).0 {
                Outcome::Skipped(why) => assert!(why.ends_with("use --exec"), "{why}"),
                other => panic!("{}: {other:?}", check.name),
            }
        }
        // With a way to start one, the time that takes is the check's too.
        let launch = Launch::Program("server".into());
        let within = launch.within();
        target.launch = Some(launch);
        assert!(
            own.iter()
                .all(|c| c.deadline(&target) == CHECK_DEADLINE + within)
        );
    }

    #[test]
    fn the_timeout_check_may_wait_out_the_read_timeout() {
        let mut target = Target {
            addr: SocketAddr::from(([127, 0, 0, 1], 5000)),
            log: None,
            read_timeout: Some(Duration::from_secs(30)),
            keep_alive_timeout: Some(Duration::from_secs(5)),
            persistent: true,
            part: 10,
            launch: None,
        };
        for check in all_checks(Kind::Http) {
            let expected = match check.needs {
                Needs::ReadTimeout => CHECK_DEADLINE + Duration::from_secs(30),
                Needs::KeepAliveTimeout => CHECK_DEADLINE + Duration::from_secs(5),
                _ => CHECK_DEADLINE,
            };
            assert_eq!(check.deadline(&target), expected, "{}", check.name);
        }
        target.read_timeout = None;
        target.keep_alive_timeout = None;
        assert!(
            all_checks(Kind::Http)
                .iter()
                .all(|check| check.deadline(&target) == CHECK_DEADLINE)
        );
    }
}
