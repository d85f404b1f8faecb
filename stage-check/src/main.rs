//! # stage-check: does *your* server do what the stage asks?
//!
//! A tester you point at a server, written in any language, the way
//! CodeCrafters' tester checks a student's program. It runs the same checks
//! that this workspace's stages run in their tests, over real sockets, and
//! knows nothing of how the server is written:
//!
//! ```text
//! cargo run -p stage-check -- part5 --addr 127.0.0.1:5000      # a server already running
//! cargo run -p stage-check -- part5 --exec "python3 server.py" # started (and stopped) for you
//! cargo run -p stage-check -- part5 --list                     # what each check proves
//! cargo run -p stage-check -- part5 --exercise not_found --exec "python3 server.py"
//! ```
//!
//! With `--exec`, stage-check runs the command through the shell on a free
//! port (appending `--port N`, or putting N where the command says
//! `{port}`; `--read-timeout` is passed on the same way), waits until the
//! server listens, runs the checks, and stops the server and everything it
//! started, on Ctrl-C too. It can then also read the server's log, which the
//! transcript checks compare with the post's.
//!
//! Each check holds the server to one of two kinds of rule: what HTTP
//! requires (a MUST of RFC 9110 or 9112, whose section `--list` shows), or
//! what the stage asks beyond HTTP, and why. `--rules http` runs only the
//! first kind, for a server built on a library or a framework. What HTTP
//! only recommends is a note, printed with the result, never a failure.
//! Checks run from the most basic to the most advanced, and a check that
//! cannot judge its answer because a more basic one failed says "not
//! judged" and names that one: one flaw, one failure.
//!
//! The book's exercises have checks of their own, which a stage's run leaves
//! out: `--exercise NAME` runs them, after the stage's checks that the
//! exercise keeps as they are; `--only` picks any one of them by name.
//!
//! Each check prints one line when it passes. When it fails, it shows what it
//! sent, what came back, what it expected, and a hint pointing to the book.
//! `--format json` prints one JSON object per check instead, for a class's
//! autograder.
//!
//! Exit codes: 0 when every check that ran passed, 1 when one failed, 2 when
//! no check could run (a usage error, nothing listening, a server that did
//! not start), 130 on Ctrl-C.
//!
//! The checks live in the library (`src/lib.rs` and its modules); this file
//! is only the command line around them, and `src/report.rs` the output.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{CommandFactory, Parser, ValueEnum};
use stage_check::client::IO_TIMEOUT;
use stage_check::report::{Tally, Verdict};
use stage_check::{
    Check, Exercise, Judge, Needs, Outcome, Rules, Server, Stage, Target, all_exercises, checks,
    exercises,
};

/// Check a server, yours in any language, against a stage's checks.
///
/// Each check connects, sends bytes, and judges what comes back, as a client
/// would, and holds the server to what HTTP requires or to what the stage
/// asks beyond it. A failure shows what was sent, what came back, what was
/// expected, and a hint. Exit code: 0 when all pass, 1 when any fails, 2
/// when the checks could not run. Colours only on a terminal, never with
/// NO_COLOR.
#[derive(Parser)]
#[command(version, after_help = EXAMPLES)]
struct Args {
    /// The stage whose checks to run: a stage's crate name, or a short form.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(Stage::names()))]
    stage: String,

    /// Check the server listening at this address.
    #[arg(long, default_value = "127.0.0.1:5000", conflicts_with = "exec")]
    addr: String,

    /// Start the server with this command (run by the shell) on a free port
    /// of 127.0.0.1, `--port N` appended or N put in place of `{port}` (and
    /// --read-timeout passed on the same way, or in place of
    /// `{read_timeout}`); it is stopped when the checks are done.
    #[arg(long, value_name = "COMMAND")]
    exec: Option<String>,

    /// How long the server started by --exec may take to listen.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, requires = "exec")]
    start_timeout: u64,

    /// The server's read timeout: after how long it answers a client that
    /// sends nothing with 408. The check of that is skipped without it. With
    /// --exec, the server is started with it.
    #[arg(long, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    read_timeout: Option<u64>,

    /// List the stage's checks, each with what it proves, then its exercises
    /// (or with --exercise, what that exercise runs); run none.
    #[arg(long)]
    list: bool,

    /// Run only this check (give it more than once for more): one of the
    /// stage's, or of its exercises'.
    #[arg(long, value_name = "CHECK")]
    only: Vec<String>,

    /// Check a solution of this exercise of the book: its own checks, after
    /// the stage's checks that it keeps as they are. --list shows them all.
    #[arg(long, value_name = "EXERCISE", value_parser = clap::builder::PossibleValuesParser::new(
        all_exercises().map(|(_, exercise)| exercise.name)
    ))]
    exercise: Option<String>,

    /// Which checks to run: `all`, what HTTP requires and what the stage
    /// asks beyond it; or `http`, only what HTTP requires (for a server
    /// built on a library or a framework).
    #[arg(long, value_enum, default_value_t = RulesArg::All)]
    rules: RulesArg,

    /// How to report: `human`, text for a person; or `json`, one JSON
    /// object per check, one per line.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RulesArg {
    All,
    Http,
}

impl RulesArg {
    fn rules(self) -> Rules {
        match self {
            RulesArg::All => Rules::All,
            RulesArg::Http => Rules::Http,
        }
    }
}

const EXAMPLES: &str = "\
Examples:
  stage-check part5 --addr 127.0.0.1:5000
  stage-check part5 --exec \"python3 server.py\" --read-timeout 30
  stage-check part5 --exec servers/nginx.sh --rules http
  stage-check part4 --exec \"node echo.js --listen {port}\"
  stage-check part6 --exec \"cargo run -q -p part6-custom-parser --\" --only request_byte_by_byte
  stage-check part5 --exercise not_found --exec \"cargo run -q -p part5-http-httparse --\"
  stage-check part5 --list";

fn main() -> ExitCode {
    // On a usage error (or --help), `parse` prints and exits by itself: with
    // code 2 for an error, as promised above.
    let args = Args::parse();
    let Some(stage) = Stage::from_name(&args.stage) else {
        // Not reached: clap accepts only the names `from_name` knows.
        usage_error(format!("no stage `{}`", args.stage));
    };
    let exercise = args
        .exercise
        .as_deref()
        .map(|name| find_exercise(stage, name, &args.stage));
    let selected = select(stage, exercise, &args);
    if args.list {
        list(stage, exercise, &selected, &args);
        return ExitCode::SUCCESS;
    }
    match check(exercise, &selected, &args) {
        Ok(tally) if tally.failed == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(error) => {
            eprintln!("stage-check: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Prints `message` as clap prints a usage error, and exits with code 2.
/// (`!` means it never returns, so it fits wherever a value is expected.)
fn usage_error(message: String) -> ! {
    Args::command()
        .error(clap::error::ErrorKind::InvalidValue, message)
        .exit()
}

/// The exercise called `name` (clap made sure one is), if it is for a stage
/// of the kind `stage_name` names.
fn find_exercise(stage: Stage, name: &str, stage_name: &str) -> &'static Exercise {
    if let Some(exercise) = exercises(stage).into_iter().find(|e| e.name == name) {
        return exercise;
    }
    let home = all_exercises()
        .find(|(_, exercise)| exercise.name == name)
        .map_or("another stage", |(_, exercise)| exercise.stage);
    usage_error(format!(
        "exercise `{name}` is for {home}, not for {stage_name}"
    ))
}

/// The checks to run: those of `stage`, or of `exercise` (the stage's it
/// keeps, then its own), or those `--only` names.
fn select(stage: Stage, exercise: Option<&Exercise>, args: &Args) -> Vec<&'static Check> {
    let rules = args.rules.rules();
    let mut all = match exercise {
        Some(exercise) => exercise.full_checks(stage),
        None => checks(stage, Rules::All),
    };
    all.retain(|check| {
        rules == Rules::All || checks(stage, rules).iter().any(|c| c.name == check.name)
    });
    if args.only.is_empty() {
        return all;
    }
    // Without --exercise, --only finds the exercises' checks too.
    let extra: Vec<&Check> = match exercise {
        Some(_) => Vec::new(),
        None => exercises(stage).iter().flat_map(|e| e.checks).collect(),
    };
    let names = |list: &[&Check]| {
        let names: Vec<&str> = list.iter().map(|check| check.name).collect();
        names.join(", ")
    };
    args.only
        .iter()
        .map(|name| {
            all.iter()
                .chain(&extra)
                .find(|check| check.name == name)
                .copied()
                .unwrap_or_else(|| {
                    let within = match exercise {
                        Some(exercise) => format!("{} with exercise {}", args.stage, exercise.name),
                        None => args.stage.clone(),
                    };
                    let mut message =
                        format!("no check `{name}` in {within}; its checks: {}", names(&all));
                    if !extra.is_empty() {
                        message += &format!("; its exercises' checks: {}", names(&extra));
                    }
                    usage_error(message)
                })
        })
        .collect()
}

/// `--list`: one line per check, its name and what it proves. Then, for an
/// exercise, what it needs and leaves out; for a whole stage, its exercises.
fn list(stage: Stage, exercise: Option<&Exercise>, selected: &[&Check], args: &Args) {
    print_checks(selected, "");
    if !stage.retires.is_empty() && args.only.is_empty() {
        println!("\nLeft out, as this stage changes them on purpose:");
        for (check, why) in stage.retires {
            println!("  {check}: {why}");
        }
    }
    if let Some(exercise) = exercise {
        if !exercise.server_args.is_empty() {
            println!(
                "\nStart the server with {} for this exercise.",
                exercise.server_args.join(" ")
            );
        }
        if !exercise.changes.is_empty() && args.only.is_empty() {
            println!("\nLeft out, as the exercise changes them on purpose:");
            for (check, why) in exercise.changes {
                println!("  {check}: {why}");
            }
        }
        return;
    }
    if !args.only.is_empty() || exercises(stage).is_empty() || args.rules == RulesArg::Http {
        return;
    }
    println!("\nThe book's exercises, each with checks of its own (run one with --exercise NAME):");
    for exercise in exercises(stage) {
        let start_with = match exercise.server_args {
            [] => String::new(),
            server_args => format!("; start the server with {}", server_args.join(" ")),
        };
        println!(
            "{} ({}{start_with}): {}",
            exercise.name, exercise.stage, exercise.task
        );
        print_checks(&exercise.checks.iter().collect::<Vec<_>>(), "  ");
    }
}

/// Two lines per check, after `indent`: its name, the kind of its rule and
/// what it proves; then, below, the rule: the RFC sections, or why the
/// stage asks it.
fn print_checks(checks: &[&Check], indent: &str) {
    let width = checks
        .iter()
        .map(|check| check.name.len())
        .max()
        .unwrap_or(0);
    for check in checks {
        let needs = match check.needs {
            Needs::Nothing => "",
            Needs::Log => " (needs --exec)",
            Needs::ReadTimeout => " (needs --read-timeout)",
            Needs::Curl => " (needs curl)",
        };
        println!(
            "{indent}{:width$}  {:5}  {}{needs}",
            check.name,
            check.rule.kind(),
            check.proves
        );
        println!("{indent}{:width$}         {}", "", check.rule.describe());
    }
}

/// Runs `selected` against the server `args` names or starts, printing each
/// result as it comes. An error means no check could run.
fn check(exercise: Option<&Exercise>, selected: &[&Check], args: &Args) -> anyhow::Result<Tally> {
    if selected.is_empty() {
        bail!("{} has no check of that kind to run", args.stage);
    }
    // The server: started here, or already running. One we started is
    // stopped when `server` is dropped, at the end of this function however
    // it ends (an early `?` included), or on Ctrl-C by the handler that
    // `Server` sets up.
    let mut server = None;
    let mut target = match &args.exec {
        Some(command_line) => {
            let within = Duration::from_secs(args.start_timeout);
            let read_timeout = args.read_timeout.map(Duration::from_secs);
            let started = Server::exec(command_line, read_timeout, within)
                .with_context(|| format!("could not start `{command_line}`"))?;
            let target = started.target();
            server = Some(started);
            target
        }
        None => Target {
            addr: reach(&args.addr)?,
            log: None,
            read_timeout: None,
        },
    };
    target.read_timeout = args.read_timeout.map(Duration::from_secs);

    // Colours are written as escape codes; `anstream` drops them when
    // stdout is not a terminal or NO_COLOR is set.
    let mut out = anstream::stdout().lock();
    let human = args.format == Format::Human;
    if human {
        let how = if server.is_some() {
            ", started with --exec"
        } else {
            ""
        };
        let count = selected.len();
        let checks = if count == 1 { "check" } else { "checks" };
        let http = selected
            .iter()
            .filter(|check| check.rule.kind() == "HTTP")
            .count();
        let for_exercise = exercise.map_or(String::new(), |exercise| {
            format!(", for exercise {}", exercise.name)
        });
        writeln!(
            out,
            "Checking the server at {}{how}: {count} {checks} of {}{for_exercise} \
             ({http} HTTP, {} stage).\n",
            target.addr,
            args.stage,
            count - http,
        )?;
    }
    let mut tally = Tally::default();
    let mut judge = Judge::default();
    for &check in selected {
        let lines_before = server.as_ref().map_or(0, |s: &Server| s.stderr().count());
        let started = Instant::now();
        let (outcome, notes) = judge.run(check, &target);
        let took = started.elapsed();
        let server_said = match (&outcome, server.as_mut()) {
            (Outcome::Failed(_), Some(server)) => server_notes(server, lines_before),
            _ => Vec::new(),
        };
        let verdict = Verdict {
            check,
            outcome: &outcome,
            took,
            server_said,
            notes,
        };
        if human {
            write!(out, "{}", verdict.human())?;
        } else {
            writeln!(out, "{}", verdict.json())?;
        }
        out.flush()?;
        tally.add(&outcome);
    }
    if human {
        writeln!(out, "\n{tally}")?;
    }
    Ok(tally)
}

/// The address `text` names (`127.0.0.1:5000`, `localhost:5000`), once a
/// connection to it succeeds: if nothing listens there, every check would
/// fail the same way, so we say so once instead.
fn reach(text: &str) -> anyhow::Result<SocketAddr> {
    let addrs = text
        .to_socket_addrs()
        .with_context(|| format!("`{text}` is not an address like 127.0.0.1:5000"))?;
    let mut why = io::Error::other("no address");
    // `localhost` may stand for both 127.0.0.1 and ::1: try each.
    for addr in addrs {
        // The connection is closed at once, unused: a client that leaves,
        // which any server must take in its stride.
        match TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
            Ok(_) => return Ok(addr),
            Err(error) => why = error,
        }
    }
    bail!(
        "nothing listens at {text} ({why}); start your server there, \
         or give the command that starts it to --exec"
    )
}

/// What the server said on standard error since it had said `lines_before`
/// lines, the last few of it, and whether it has exited.
fn server_notes(server: &mut Server, lines_before: usize) -> Vec<String> {
    let new = server.stderr().count().saturating_sub(lines_before);
    let mut notes = server
        .stderr()
        .tail(new.min(stage_check::server::SHOWN_LINES));
    if let Some(status) = server.exit_status() {
        notes.push(format!("(the server has exited: {status})"));
    }
    notes
}
