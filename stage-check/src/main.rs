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
//! transcript checks compare with the post's, and start fresh instances of
//! the server, with options of their own, for the checks that need one
//! (part 10's and 11's: they count its threads, weigh its memory, fill it,
//! send it SIGTERM); with `--addr`, those are skipped.
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
//! `--format json` prints one JSON object per check instead, then a summary
//! with the score, for a class's autograder; `--format junit` a JUnit XML
//! report, for a CI system's test reports. `stage-check grade FOLDER
//! --stage STAGE` grades a class: every submission in the folder, one row
//! each in a table of grades (see `grade.rs`).
//!
//! Exit codes: 0 when every check that ran passed, 1 when one failed, 2 when
//! no check could run (a usage error, nothing listening, a server that did
//! not start), 130 on Ctrl-C.
//!
//! The checks live in the library (`src/lib.rs` and its modules); this file
//! is only the command line around them, `src/report.rs` the output, and
//! `src/grade.rs` the `grade` subcommand.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use stage_check::client::IO_TIMEOUT;
use stage_check::report::{self, Tally, Verdict};
use stage_check::server::{NotStarted, Timeouts};
use stage_check::{
    Check, Exercise, Failure, Judge, Launch, Needs, Outcome, Rules, Server, Stage, System, Target,
    all_exercises, checks, exercises,
};

mod grade;

/// Check a server, yours in any language, against a stage's checks.
///
/// Each check connects, sends bytes, and judges what comes back, as a client
/// would, and holds the server to what HTTP requires or to what the stage
/// asks beyond it. A failure shows what was sent, what came back, what was
/// expected, and a hint. Exit code: 0 when all pass, 1 when any fails, 2
/// when the checks could not run. Colours only on a terminal, never with
/// NO_COLOR.
///
/// `stage-check grade FOLDER --stage STAGE` grades a class instead: see
/// `stage-check grade --help`.
// Today's form, `stage-check STAGE …`, and the subcommand live side by
// side: clap takes the subcommand when its name comes first, and the stage
// and options otherwise (`args_conflicts_with_subcommands`), and the stage,
// required without a subcommand, is not with one (`subcommand_negates_reqs`).
#[derive(Parser)]
#[command(
    version,
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    args: Args,
}

#[derive(Subcommand)]
enum Command {
    Grade(grade::GradeArgs),
}

#[derive(clap::Args)]
struct Args {
    /// The stage whose checks to run: a stage's crate name, or a short form.
    // An `Option` only because the `grade` subcommand goes without it.
    #[arg(required = true, value_parser = stage_names())]
    stage: Option<String>,

    /// Check the server listening at this address.
    #[arg(long, default_value = "127.0.0.1:5000", conflicts_with = "exec")]
    addr: String,

    /// Start the server with this command (run by the shell) on a free port
    /// of 127.0.0.1, `--port N` appended or N put in place of `{port}` (and
    /// --read-timeout and --keep-alive-timeout passed on the same way, or in
    /// place of `{read_timeout}` and `{keep_alive_timeout}`); it is stopped
    /// when the checks are done. The checks that need a server of their own
    /// (part 10's and 11's) start it the same way, with options of their own
    /// appended.
    #[arg(long, value_name = "COMMAND")]
    exec: Option<String>,

    /// How long the server started by --exec may take to listen.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, requires = "exec")]
    start_timeout: u64,

    #[command(flatten)]
    checking: Checking,

    /// List the stage's checks, each with what it proves, then its exercises
    /// (or with --exercise, what that exercise runs); run none.
    #[arg(long)]
    list: bool,

    /// Check a solution of this exercise of the book: its own checks, after
    /// the stage's checks that it keeps as they are. --list shows them all.
    #[arg(long, value_name = "EXERCISE", value_parser = clap::builder::PossibleValuesParser::new(
        all_exercises().map(|(_, exercise)| exercise.name)
    ))]
    exercise: Option<String>,

    /// How to report: `human`, text for a person; `json`, one JSON object
    /// per check, one per line, then a summary with the score; or `junit`,
    /// a JUnit XML report, which CI systems show as test results.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Which checks run, and what the server is told: the options a check of
/// one server and a class's grading share.
#[derive(clap::Args)]
struct Checking {
    /// The server's read timeout: after how long it answers a client that
    /// sends nothing with 408. The check of that is skipped without it. With
    /// --exec, the server is started with it (and if it refuses the option,
    /// started again without, and only the checks that need it fail).
    #[arg(long, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    read_timeout: Option<u64>,

    /// The server's keep-alive timeout (part 9 on): after how long it
    /// closes a connection left idle between requests, without a word. The
    /// check of that is skipped without it. With --exec, the server is
    /// started with it, as with --read-timeout.
    #[arg(long, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    keep_alive_timeout: Option<u64>,

    /// Run only this check (give it more than once for more): one of the
    /// stage's, or of its exercises'.
    #[arg(long, value_name = "CHECK")]
    only: Vec<String>,

    /// Leave this check out (give it more than once for more).
    #[arg(long, value_name = "CHECK")]
    skip: Vec<String>,

    /// Which checks to run: `all`, what HTTP requires and what the stage
    /// asks beyond it; or `http`, only what HTTP requires (for a server
    /// built on a library or a framework).
    #[arg(long, value_enum, default_value_t = RulesArg::All)]
    rules: RulesArg,
}

impl Checking {
    fn read_timeout(&self) -> Option<Duration> {
        self.read_timeout.map(Duration::from_secs)
    }

    fn keep_alive_timeout(&self) -> Option<Duration> {
        self.keep_alive_timeout.map(Duration::from_secs)
    }
}

/// The names clap takes for a stage.
fn stage_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(Stage::names())
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
    Junit,
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
  stage-check part5 --exec \"python3 server.py\" --format junit > report.xml
  stage-check part5 --list
  stage-check grade submissions/ --stage part5 --read-timeout 5";

fn main() -> ExitCode {
    // On a usage error (or --help), `parse` prints and exits by itself: with
    // code 2 for an error, as promised above.
    let cli = Cli::parse();
    let ran = match &cli.command {
        Some(Command::Grade(grade)) => grade::grade(grade),
        None => check_one(&cli.args),
    };
    match ran {
        Ok(code) => code,
        Err(error) => {
            eprintln!("stage-check: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// `stage-check STAGE …`: lists the checks, or runs them against one
/// server. Exit code 0 when all passed, 1 when one failed; an error when
/// none could run.
fn check_one(args: &Args) -> anyhow::Result<ExitCode> {
    // clap made sure there is a stage, of a name `from_name` knows.
    let stage_name = args.stage.as_deref().unwrap_or_default();
    let Some(stage) = Stage::from_name(stage_name) else {
        usage_error(format!("no stage `{stage_name}`"));
    };
    let exercise = args
        .exercise
        .as_deref()
        .map(|name| find_exercise(stage, name, stage_name));
    let selected = select(stage, stage_name, exercise, &args.checking);
    if args.list {
        list(stage, exercise, &selected, args);
        return Ok(ExitCode::SUCCESS);
    }
    let tally = check(stage, exercise, &selected, args)?;
    Ok(ExitCode::from(u8::from(tally.failed > 0)))
}

/// Prints `message` as clap prints a usage error, and exits with code 2.
/// (`!` means it never returns, so it fits wherever a value is expected.)
fn usage_error(message: String) -> ! {
    Cli::command()
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

/// The checks to run: those of `stage` (called `stage_name` on the
/// command line), or of `exercise` (the stage's it keeps, then its own), or
/// those `--only` names; less those `--skip` names.
fn select(
    stage: Stage,
    stage_name: &str,
    exercise: Option<&Exercise>,
    checking: &Checking,
) -> Vec<&'static Check> {
    let rules = checking.rules.rules();
    let mut all = match exercise {
        Some(exercise) => exercise.full_checks(stage),
        None => checks(stage, Rules::All),
    };
    all.retain(|check| {
        rules == Rules::All || checks(stage, rules).iter().any(|c| c.name == check.name)
    });
    // Without --exercise, --only and --skip find the exercises' checks too.
    let extra: Vec<&Check> = match exercise {
        Some(_) => Vec::new(),
        None => exercises(stage).iter().flat_map(|e| e.checks).collect(),
    };
    // The check called `name`, or else a usage error listing those there are.
    let find = |name: &String| -> &'static Check {
        all.iter()
            .chain(&extra)
            .find(|check| check.name == name)
            .copied()
            .unwrap_or_else(|| {
                let names = |list: &[&Check]| {
                    let names: Vec<&str> = list.iter().map(|check| check.name).collect();
                    names.join(", ")
                };
                let within = match exercise {
                    Some(exercise) => format!("{stage_name} with exercise {}", exercise.name),
                    None => stage_name.to_string(),
                };
                let mut message =
                    format!("no check `{name}` in {within}; its checks: {}", names(&all));
                if !extra.is_empty() {
                    message += &format!("; its exercises' checks: {}", names(&extra));
                }
                usage_error(message)
            })
    };
    let skipped: Vec<&str> = checking.skip.iter().map(|name| find(name).name).collect();
    let mut selected = match checking.only.as_slice() {
        [] => all.clone(),
        only => only.iter().map(find).collect(),
    };
    selected.retain(|check| !skipped.contains(&check.name));
    selected
}

/// `--list`: one line per check, its name and what it proves. Then, for an
/// exercise, what it needs and leaves out; for a whole stage, its exercises.
fn list(stage: Stage, exercise: Option<&Exercise>, selected: &[&Check], args: &Args) {
    print_checks(selected, "");
    let only = &args.checking.only;
    if !stage.retires.is_empty() && only.is_empty() {
        println!("\nLeft out, as this stage changes them on purpose:");
        for (check, why) in stage.retires {
            println!("  {check}: {why}");
        }
    }
    let meanings = stage_check::kept_connection_meanings(stage);
    let meanings: Vec<_> = meanings
        .iter()
        .filter(|(check, _)| selected.iter().any(|c| c.name == check.name))
        .collect();
    if !meanings.is_empty() {
        println!(
            "\nOn a connection the server keeps, as this stage does (HTTP/1.1's default, \
             RFC 9112 §9.3), these earlier checks mean more: each judges a connection by what \
             the answer says of it."
        );
        for (check, meaning) in meanings {
            println!("  {}: {meaning}", check.name);
        }
    }
    if let Some(exercise) = exercise {
        if !exercise.server_args.is_empty() {
            println!(
                "\nStart the server with {} for this exercise.",
                exercise.server_args.join(" ")
            );
        }
        if !exercise.changes.is_empty() && only.is_empty() {
            println!("\nLeft out, as the exercise changes them on purpose:");
            for (check, why) in exercise.changes {
                println!("  {check}: {why}");
            }
        }
        return;
    }
    if !only.is_empty() || exercises(stage).is_empty() || args.checking.rules == RulesArg::Http {
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
            Needs::KeepAliveTimeout => " (needs --keep-alive-timeout)",
            Needs::Curl => " (needs curl)",
            Needs::OwnServer(System::Any) => " (needs --exec)",
            Needs::OwnServer(System::Unix) => " (needs --exec, on Unix)",
            Needs::OwnServer(System::Linux) => " (needs --exec, on Linux)",
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
/// result as it comes (or, for JUnit, all at the end). An error means no
/// check could run; for JSON and JUnit, a record says so first.
fn check(
    stage: Stage,
    exercise: Option<&Exercise>,
    selected: &[&Check],
    args: &Args,
) -> anyhow::Result<Tally> {
    if selected.is_empty() {
        bail!("{} has no check of that kind to run", stage.name);
    }
    // Colours are written as escape codes; `anstream` drops them when
    // stdout is not a terminal or NO_COLOR is set.
    let mut out = anstream::stdout().lock();
    // The server: started here, or already running. One we started is
    // stopped when `subject` is dropped, at the end of this function however
    // it ends (an early `?` included), or on Ctrl-C by the handler that
    // `Server` sets up.
    let started = match &args.exec {
        Some(command_line) => {
            let within = Duration::from_secs(args.start_timeout);
            start(Path::new("."), command_line, stage, &args.checking, within)
        }
        None => reach(&args.addr).map(|addr| Subject {
            server: None,
            target: Target {
                addr,
                log: None,
                read_timeout: args.checking.read_timeout(),
                keep_alive_timeout: args.checking.keep_alive_timeout(),
                persistent: stage.persistent,
                part: stage.part,
                // A server already running cannot be started again.
                launch: None,
            },
            refused: None,
        }),
    };
    let mut subject = match started {
        Ok(subject) => subject,
        Err(error) => {
            let why = format!("{error:#}");
            match args.format {
                Format::Human => {}
                Format::Json => {
                    writeln!(out, "{}", report::did_not_start_json(stage, &why))?;
                    // Nothing scored, out of the points of all.
                    let nothing = Tally {
                        max_score: stage.max_score(selected),
                        ..Tally::default()
                    };
                    writeln!(out, "{}", report::summary_json(stage, &nothing))?;
                }
                Format::Junit => write!(out, "{}", report::junit_did_not_start(stage, &why))?,
            }
            return Err(error);
        }
    };
    if args.format == Format::Human {
        let how = if subject.server.is_some() {
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
             ({http} HTTP, {} stage).",
            subject.target.addr,
            args.stage.as_deref().unwrap_or(stage.name),
            count - http,
        )?;
        if let Some(refused) = &subject.refused {
            writeln!(
                out,
                "It refused --read-timeout ({refused}): started again without it, \
                 so the checks that need it fail."
            )?;
        }
        writeln!(out)?;
    }
    let started = Instant::now();
    let mut cases = Vec::new();
    let tally = run_checks(stage, selected, &mut subject, |verdict| {
        match args.format {
            Format::Human => write!(out, "{}", verdict.human())?,
            Format::Json => writeln!(out, "{}", verdict.json())?,
            Format::Junit => cases.push(verdict.junit()),
        }
        out.flush()
    })?;
    match args.format {
        Format::Human => writeln!(out, "\n{tally}")?,
        Format::Json => writeln!(out, "{}", report::summary_json(stage, &tally))?,
        Format::Junit => {
            let seconds = started.elapsed().as_secs_f64();
            write!(
                out,
                "{}",
                report::junit_suite(stage, &tally, seconds, &cases)
            )?;
        }
    }
    Ok(tally)
}

/// The server under test: one we started (stopped when this is dropped),
/// or one already running, and the target the checks run against.
struct Subject {
    server: Option<Server>,
    target: Target,
    /// When the server refused `--read-timeout` and was started again
    /// without: what it said of the option.
    refused: Option<String>,
}

/// Starts the server `command_line`, in the folder `dir`, with the
/// timeouts `checking` gives, to be checked as `stage`.
///
/// A server that does not take `--read-timeout` (the post's Python server,
/// with argparse, exits saying "unrecognized arguments: --read-timeout 5")
/// would otherwise fail every check for want of one option. So the rule:
/// when we appended the option (the command has no `{read_timeout}` of its
/// own), and the server exited before it listened, and its last words name
/// the option, it is started again without it. Then only the checks that
/// need the read timeout fail, saying why (see [`run_checks`]).
/// (`--keep-alive-timeout` is passed on only when given, for part 9 on.)
fn start(
    dir: &Path,
    command_line: &str,
    stage: Stage,
    checking: &Checking,
    within: Duration,
) -> anyhow::Result<Subject> {
    let read_timeout = checking.read_timeout();
    // Started by a `Launch`, so that the checks that need a server of their
    // own can start another the same way, with options of their own.
    let launch = Launch::Shell {
        dir: dir.to_path_buf(),
        command_line: command_line.to_string(),
        within,
    };
    let started = |read| {
        let timeouts = Timeouts {
            read,
            keep_alive: checking.keep_alive_timeout(),
        };
        launch
            .start(&[], timeouts)
            .with_context(|| format!("could not start `{command_line}`"))
    };
    let (server, refused) = match started(read_timeout) {
        Ok(server) => (server, None),
        Err(error) => {
            let appended = read_timeout.is_some() && !command_line.contains("{read_timeout}");
            match refused_option(&error, "read-timeout") {
                Some(said) if appended => (started(None)?, Some(said)),
                _ => return Err(error),
            }
        }
    };
    let mut target = server.target();
    target.read_timeout = read_timeout;
    target.keep_alive_timeout = checking.keep_alive_timeout();
    target.persistent = stage.persistent;
    target.part = stage.part;
    Ok(Subject {
        server: Some(server),
        target,
        refused,
    })
}

/// What a server that exited before it listened said of `option` (such as
/// `read-timeout`, or `read_timeout` as some libraries write it), if it
/// named it: the line that does.
fn refused_option(error: &anyhow::Error, option: &str) -> Option<String> {
    let not_started = error.downcast_ref::<io::Error>()?.get_ref()?;
    let not_started = not_started.downcast_ref::<NotStarted>()?;
    let underscored = option.replace('-', "_");
    let names = |line: &&String| line.contains(option) || line.contains(&underscored);
    let said = not_started.said.iter().find(names)?;
    not_started.exited.then(|| said.trim().to_string())
}

/// Runs `selected` one after the other against `subject`, judged as one
/// run (see [`Judge`]), and hands each result to `show` as it comes.
fn run_checks(
    stage: Stage,
    selected: &[&Check],
    subject: &mut Subject,
    mut show: impl FnMut(&Verdict) -> io::Result<()>,
) -> io::Result<Tally> {
    let mut tally = Tally::default();
    let mut judge = Judge::default();
    for &check in selected {
        let lines_before = subject.server.as_ref().map_or(0, |s| s.stderr().count());
        let started = Instant::now();
        let (outcome, notes) = match (&subject.refused, check.needs) {
            // It refused the option: the check it is for fails, saying so.
            (Some(said), Needs::ReadTimeout) => {
                let seconds = subject.target.read_timeout.unwrap_or_default().as_secs();
                let failure = Failure::new(format!(
                    "the server did not take --read-timeout {seconds}: {said}"
                ));
                (Outcome::Failed(failure), Vec::new())
            }
            _ => judge.run(check, &subject.target),
        };
        let took = started.elapsed();
        let server_said = match (&outcome, subject.server.as_mut()) {
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
        show(&verdict)?;
        tally.add(&outcome, stage.points(check.name));
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
