//! Every stage's starter (`cargo run -p book-gen -- starters`), built and
//! checked, one test per stage:
//!
//! 1. the starter is written into a folder of its own and builds there, as
//!    a crate outside this workspace (`cargo build --offline`: every
//!    dependency is in the lock file the starter carries, and was fetched
//!    when the workspace was built);
//! 2. stage-check fails it on the checks its lesson is about ([`LESSONS`]):
//!    the `todo!` in their way panics in the connection's thread;
//! 3. the same starter with the lesson kept (`--solved`), built the same
//!    way, passes every check of the stage: the starter is the stage, less
//!    its lesson and nothing else;
//! 4. the solved starter's unit tests pass, with its copy of `common`.
//!
//! And the CI jobs a starter carries, for GitHub Classroom and GitLab, grade
//! it: their commands, run as the CI would, pass the solved starter and fail
//! the starter ([`ci_jobs_grade_the_starter`]).
//!
//! The builds share one target folder, `target/starters-build`, so that the
//! dependencies compile once. Run only these with
//! `cargo test -p book-gen --test starters`.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use book_gen::starters::{self, Mode};
use libtest_mimic::{Arguments, Failed, Trial};
use stage_check::{Outcome, Rules, STAGES, Stage};
use support::{all_pass, checked, exe, run, start};

/// The checks that each stage's starter must fail: those about what it
/// leaves to the learner.
const LESSONS: &[(&str, &[&str])] = &[
    (
        "part4-tcp-echo",
        &[
            "echo_one_message",
            "echo_many_messages",
            "echo_until_client_closes",
        ],
    ),
    (
        "part5-http-httparse",
        &[
            "hello_world_page",
            "request_in_pieces",
            "body_with_content_length",
            "host_required",
        ],
    ),
    (
        "part5-oo-session",
        &[
            "hello_world_page",
            "head_request",
            "expect_continue",
            "quiet_client_timed_out",
        ],
    ),
    (
        "part6-custom-parser",
        &[
            "hello_world_page",
            "bad_request_line",
            "bad_header_line",
            "header_without_space",
        ],
    ),
    (
        "part7-app-interface",
        &[
            "hello_world_page",
            "create_answers_its_body",
            "unknown_path_not_found",
        ],
    ),
    (
        "part8-web-framework",
        &[
            "query_decoded",
            "not_found_framed",
            "method_not_allowed_with_allow",
            "media_types",
        ],
    ),
    (
        "part9-keep-alive",
        &[
            "two_requests_one_connection",
            "pipelined_in_order",
            "body_drained_before_next",
            "idle_closed_silently",
        ],
    ),
    (
        "part10-thread-pool",
        &[
            "full_queue_answered_503",
            "next_client_served_past_idle_ones",
            "graceful_shutdown",
        ],
    ),
    // What the starter leaves out (`interest`, `write_output`, `expire`):
    // without them a loop never hears its sockets, keeps no output for a
    // slow reader, and gives up on no one.
    (
        "part11-event-loop",
        &[
            "idle_connections_held_by_few_threads",
            "slow_sender_does_not_delay_others",
            "unread_answers_do_not_delay_others",
        ],
    ),
    // What the starter leaves out (`Session::serve_requests`, `shut_down`):
    // without them a task serves no request, and a signal stops nothing.
    (
        "part12-async",
        &[
            "awaiting_handler_does_not_delay_others",
            "slow_sender_does_not_delay_others",
            "graceful_shutdown",
        ],
    ),
];

/// The right to run cargo: one build at a time, so that the binary a build
/// leaves in the shared target folder is copied out before the next build
/// (of the same stage's other starter) overwrites it.
static CARGO: Mutex<()> = Mutex::new(());

fn main() {
    let arguments = Arguments::from_args();
    let mut trials = vec![Trial::test(
        "every_stage_has_its_lesson_checks",
        every_stage_has_its_lesson_checks,
    )];
    for stage in STAGES {
        trials.push(Trial::test(stage.name, move || check_starter(*stage)));
    }
    // The jobs are the same for every stage but for what they fill in: an
    // echo stage's, and an HTTP stage's, which passes the read timeout.
    for name in ["part4-tcp-echo", "part5-oo-session"] {
        let stage = Stage::from_name(name).expect("a stage");
        trials.push(Trial::test(format!("ci_jobs::{name}"), move || {
            ci_jobs_grade_the_starter(stage)
        }));
    }
    libtest_mimic::run(&arguments, trials).exit()
}

/// Steps 1 to 3 above, for one stage.
fn check_starter(stage: Stage) -> Result<(), Failed> {
    let lesson = LESSONS
        .iter()
        .find(|(name, _)| *name == stage.name)
        .map(|(_, checks)| *checks)
        .ok_or("no lesson checks in LESSONS")?;
    let all = stage_check::checks(stage, Rules::All);
    let (starter, solved) = {
        let _cargo = CARGO
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (build(stage, Mode::Starter)?, build(stage, Mode::Solved)?)
    };

    let mut problems = Vec::new();
    let server = start(&starter.join(exe("server")), stage, &[])?;
    for name in lesson {
        let Some(check) = all.iter().find(|check| check.name == *name) else {
            problems.push(format!("{name} is not a check of {}", stage.name));
            continue;
        };
        match checked(check, &server, stage) {
            Outcome::Failed(_) | Outcome::NotJudged { .. } => {}
            Outcome::Passed => problems.push(format!(
                "{name} passes on the starter: the starter leaves nothing of it to do"
            )),
            Outcome::Skipped(reason) => problems.push(format!("{name}: not run: {reason}")),
        }
    }
    drop(server);

    let server = start(&solved.join(exe("server")), stage, &[])?;
    problems.extend(all_pass(&all, &server, stage));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n\n").into())
    }
}

/// Writes the starter of `stage` in `mode` into the scratch folder, builds
/// it there, copies its server out of the target folder, as `server` in the
/// starter's, and returns that folder. Call with [`CARGO`] held.
fn build(stage: Stage, mode: Mode) -> Result<PathBuf, Failed> {
    let kind = match mode {
        Mode::Starter => "starter",
        Mode::Solved => "solved",
    };
    let folder = scratch_dir().join(kind).join(stage.name);
    starters::write(stage.name, &folder, mode).map_err(|error| format!("{error:#}"))?;
    run(cargo("build", &folder).arg("--bins"))
        .map_err(|error| format!("the {kind} of {} does not build:\n{error}", stage.name))?;
    // Copied out at once, renamed into place, as in `exercises.rs`.
    let binary = folder.join(exe("server"));
    let copying = binary.with_extension("new");
    fs::copy(build_dir().join("debug").join(exe(stage.name)), &copying)?;
    fs::rename(&copying, &binary)?;
    Ok(folder)
}

/// `cargo <subcommand>` in the starter at `folder`, with the shared target
/// folder, and no network.
fn cargo(subcommand: &str, folder: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args([subcommand, "--quiet", "--offline", "--target-dir"])
        .arg(build_dir())
        .current_dir(folder);
    command
}

/// The CI jobs of `stage`'s starter, each run as its CI would run it, pass
/// the solved starter with a JUnit report of no failures, and fail the
/// starter, whose report has failures. The one step not run is the install
/// of stage-check from the series' repository: the workspace's own
/// stage-check stands in for it, first on the `PATH`.
fn ci_jobs_grade_the_starter(stage: Stage) -> Result<(), Failed> {
    let programs = stage_check::tools::build_stages(stage_check::tools::Profile::Debug)
        .map_err(|error| format!("{error:#}"))?;
    let path = std::env::join_paths(std::iter::once(programs).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))?;
    for mode in [Mode::Solved, Mode::Starter] {
        let folder = scratch_dir().join("ci").join(stage.name);
        starters::write(stage.name, &folder, mode).map_err(|error| format!("{error:#}"))?;
        for (_, job) in starters::CI_JOBS {
            let text = fs::read_to_string(folder.join(job))?;
            let report = folder.join("stage-check.xml");
            let _ = fs::remove_file(&report);
            for command in ci_commands(&text) {
                if command.starts_with("cargo install") {
                    continue;
                }
                let mut shell = Command::new("sh");
                shell
                    .args(["-c", &command])
                    .current_dir(&folder)
                    .env("PATH", &path)
                    .env("CARGO_TARGET_DIR", build_dir())
                    .env("CARGO_NET_OFFLINE", "true");
                for (name, value) in ci_variables(&text) {
                    shell.env(name, value);
                }
                let ran = {
                    let _cargo = CARGO
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    run(&mut shell)
                };
                let checks = command.starts_with("stage-check");
                match (ran, mode) {
                    (Ok(()), Mode::Solved) => {}
                    (Err(_), Mode::Starter) if checks => {}
                    (Ok(()), Mode::Starter) if checks => {
                        return Err(format!("{job}: `{command}` passes the starter").into());
                    }
                    (Err(error), _) => return Err(format!("{job}: {error}").into()),
                    (Ok(()), Mode::Starter) => {}
                }
            }
            let report = fs::read_to_string(&report)
                .map_err(|error| format!("{job} wrote no stage-check.xml: {error}"))?;
            let suite = format!("<testsuite name=\"{}\"", stage.name);
            let clean = report.contains(" failures=\"0\"");
            if !report.contains(&suite) || clean != (mode == Mode::Solved) {
                return Err(format!(
                    "{job}: the {} starter's report says:\n{report}",
                    if mode == Mode::Solved {
                        "solved"
                    } else {
                        "unsolved"
                    }
                )
                .into());
            }
        }
    }
    Ok(())
}

/// The shell commands of a CI job, in order: GitHub's `run:` steps and the
/// command of its grader, or the lines of GitLab's `script:`. (What else a
/// job does, checking out, keeping the report, is the CI's own.)
fn ci_commands(job: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_script = false;
    for line in job.lines() {
        let line = line.trim_start();
        if in_script && let Some(command) = line.strip_prefix("- ") {
            commands.push(command.to_string());
            continue;
        }
        in_script = line == "script:";
        if let Some(command) = line
            .strip_prefix("run: ")
            .or_else(|| line.strip_prefix("command: "))
        {
            commands.push(command.to_string());
        }
    }
    commands
}

/// The variables a CI job sets for its commands: `STAGE`, and the other
/// upper-case `NAME: "value"` lines, quotes taken off.
fn ci_variables(job: &str) -> Vec<(String, String)> {
    job.lines()
        .filter_map(|line| {
            let (name, value) = line.trim_start().split_once(": ")?;
            let upper = name.chars().all(|c| c.is_ascii_uppercase() || c == '_');
            let value = value.strip_prefix('"')?.strip_suffix('"')?;
            upper.then(|| (name.to_string(), value.to_string()))
        })
        .collect()
}

/// Every stage has its row in [`LESSONS`], and every row a stage.
fn every_stage_has_its_lesson_checks() -> Result<(), Failed> {
    let names: Vec<&str> = STAGES.iter().map(|stage| stage.name).collect();
    let rows: Vec<&str> = LESSONS.iter().map(|(name, _)| *name).collect();
    if names == rows {
        Ok(())
    } else {
        Err(format!("LESSONS names {rows:?}, the stages are {names:?}").into())
    }
}

/// The folder next to the one this test runs from (`target/debug/deps`).
fn target() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let target = exe.ancestors().nth(3).map(Path::to_path_buf);
    target.unwrap_or_else(|| support::workspace().join("target"))
}

/// Where the starters are written: `target/starters-test/<mode>/<stage>`.
fn scratch_dir() -> PathBuf {
    target().join("starters-test")
}

/// The target folder the starters share: `target/starters-build`.
fn build_dir() -> PathBuf {
    target().join("starters-build")
}
