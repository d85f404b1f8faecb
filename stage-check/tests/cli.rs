//! The command line as its users run it: the real `stage-check` binary,
//! against our stages and against the `broken-*` examples, each a server
//! with one named flaw that the right check must catch.
//!
//! The servers are binaries that `cargo test --workspace` builds before any
//! test runs: the stages' in `target/debug/`, the examples in
//! `target/debug/examples/`, next to this test's own binary. A narrower run
//! (`cargo test -p stage-check --test cli`) may not build them, and a machine
//! may lack nginx, lighttpd, Node or Flask: a test that needs what is not
//! there shows as ignored, with what it needs in its name, and under CI
//! (`CI=true`), which installs and builds everything, it fails. So this file
//! has its own `main` (libtest-mimic, as the stages' `tests/stage_check.rs`),
//! which lists every test with what it needs.
//!
//! Unix only: the tests send signals, as Ctrl-C does.

use std::cell::RefCell;
use std::net::{Ipv4Addr, TcpListener};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use libtest_mimic::{Arguments, Trial};
use serde_json::Value;

const STAGE_CHECK: &str = env!("CARGO_BIN_EXE_stage-check");

/// A test of this file: it panics when it fails, as a `#[test]` does.
type Test = fn();

/// Every test, with what it needs beyond this binary and stage-check's.
fn main() {
    let arguments = Arguments::from_args();
    let basic: &[(&str, Test)] = &[
        (
            "nothing_listening_is_one_line_and_exit_code_2",
            nothing_listening_is_one_line_and_exit_code_2,
        ),
        ("a_server_that_exits_says_why", a_server_that_exits_says_why),
        (
            "a_compile_error_is_shown_from_its_first_error_line",
            a_compile_error_is_shown_from_its_first_error_line,
        ),
        (
            "a_server_that_does_not_start_still_gets_a_record",
            a_server_that_does_not_start_still_gets_a_record,
        ),
        (
            "usage_errors_exit_with_code_2",
            usage_errors_exit_with_code_2,
        ),
        (
            "help_and_list_describe_the_tool_and_the_checks",
            help_and_list_describe_the_tool_and_the_checks,
        ),
        (
            "a_stage_lists_only_what_its_part_has_taught",
            a_stage_lists_only_what_its_part_has_taught,
        ),
        (
            "a_persistent_stage_says_what_earlier_checks_mean_on_a_kept_connection",
            a_persistent_stage_says_what_earlier_checks_mean_on_a_kept_connection,
        ),
        (
            "an_exercise_for_another_kind_of_stage_is_a_usage_error",
            an_exercise_for_another_kind_of_stage_is_a_usage_error,
        ),
        (
            "a_pool_stage_lists_the_checks_that_start_a_server_of_their_own",
            a_pool_stage_lists_the_checks_that_start_a_server_of_their_own,
        ),
        (
            "an_event_loop_stage_lists_its_checks_and_what_part_10s_mean_there",
            an_event_loop_stage_lists_its_checks_and_what_part_10s_mean_there,
        ),
        (
            "an_async_stage_lists_its_check",
            an_async_stage_lists_its_check,
        ),
        (
            "processes::a_server_that_never_listens_is_stopped_with_all_it_started",
            processes::a_server_that_never_listens_is_stopped_with_all_it_started,
        ),
        (
            "processes::ctrl_c_stops_the_server_with_all_it_started",
            processes::ctrl_c_stops_the_server_with_all_it_started,
        ),
    ];
    // Each test's name, the binaries of the workspace it runs, and the test.
    let needing_binaries: &[(&str, &[&str], Test)] = &[
        (
            "a_head_without_its_empty_line_is_caught",
            &["examples/broken-no-empty-line"],
            a_head_without_its_empty_line_is_caught,
        ),
        (
            "silence_on_bad_input_is_caught",
            &["examples/broken-silent-on-bad-input"],
            silence_on_bad_input_is_caught,
        ),
        (
            "spinning_when_a_client_leaves_is_caught",
            &["examples/broken-spins-when-client-leaves"],
            spinning_when_a_client_leaves_is_caught,
        ),
        (
            "serving_one_client_at_a_time_is_caught",
            &["examples/broken-one-client-at-a-time"],
            serving_one_client_at_a_time_is_caught,
        ),
        (
            "answering_before_the_body_is_caught_in_a_full_json_run",
            &["examples/broken-answers-before-body"],
            answering_before_the_body_is_caught_in_a_full_json_run,
        ),
        (
            "a_first_read_taken_for_the_whole_request_is_one_failure",
            &["examples/broken-one-recv"],
            a_first_read_taken_for_the_whole_request_is_one_failure,
        ),
        (
            "a_server_that_refuses_the_read_timeout_is_graded_without_it",
            &["examples/broken-no-read-timeout-flag"],
            a_server_that_refuses_the_read_timeout_is_graded_without_it,
        ),
        (
            "junit_reports_each_check_as_a_testcase",
            &["examples/broken-one-recv"],
            junit_reports_each_check_as_a_testcase,
        ),
        (
            "skip_leaves_checks_out",
            &["examples/broken-one-recv"],
            skip_leaves_checks_out,
        ),
        (
            "grade_makes_a_table_of_a_class",
            &[
                "examples/correct-host-required",
                "examples/broken-one-recv",
                "examples/broken-no-read-timeout-flag",
            ],
            grade_makes_a_table_of_a_class,
        ),
        (
            "what_http_recommends_is_only_noted",
            &["examples/correct-empty-error-bodies"],
            what_http_recommends_is_only_noted,
        ),
        (
            "the_read_timeout_is_passed_on_to_the_server",
            &["part5-oo-session"],
            the_read_timeout_is_passed_on_to_the_server,
        ),
        (
            "our_http_stage_passes_every_check",
            &["part5-oo-session"],
            our_http_stage_passes_every_check,
        ),
        (
            "our_echo_stage_passes_every_check",
            &["part4-tcp-echo"],
            our_echo_stage_passes_every_check,
        ),
        (
            "a_server_already_running_is_checked_without_its_log",
            &["part4-tcp-echo"],
            a_server_already_running_is_checked_without_its_log,
        ),
        (
            "an_exercise_runs_the_stage_checks_it_keeps_then_its_own",
            &["part4-tcp-echo"],
            an_exercise_runs_the_stage_checks_it_keeps_then_its_own,
        ),
        (
            "only_finds_an_exercise_check_and_it_catches_the_unsolved_stage",
            &["part5-http-httparse"],
            only_finds_an_exercise_check_and_it_catches_the_unsolved_stage,
        ),
        (
            "colours_only_when_wanted",
            &["examples/broken-one-client-at-a-time"],
            colours_only_when_wanted,
        ),
        (
            "pool::a_server_already_running_skips_the_checks_that_start_their_own",
            &["part10-thread-pool"],
            pool::a_server_already_running_skips_the_checks_that_start_their_own,
        ),
        (
            "pool::our_pool_passes_its_checks_and_logs_its_workers",
            &["part10-thread-pool"],
            pool::our_pool_passes_its_checks_and_logs_its_workers,
        ),
        (
            "pool::a_server_without_the_pool_options_fails_saying_so",
            &["part9-keep-alive"],
            pool::a_server_without_the_pool_options_fails_saying_so,
        ),
        (
            "pool::a_thread_per_connection_fails_the_pool_checks",
            &["part9-keep-alive"],
            pool::a_thread_per_connection_fails_the_pool_checks,
        ),
        (
            "event_loops::a_server_already_running_skips_the_checks_that_start_their_own",
            &["part11-event-loop"],
            event_loops::a_server_already_running_skips_the_checks_that_start_their_own,
        ),
        (
            "event_loops::our_event_loops_pass_their_checks",
            &["part11-event-loop"],
            event_loops::our_event_loops_pass_their_checks,
        ),
        (
            "event_loops::a_pool_fails_the_event_loop_checks_saying_why",
            &["part10-thread-pool"],
            event_loops::a_pool_fails_the_event_loop_checks_saying_why,
        ),
        (
            "tasks::a_server_already_running_skips_the_check_that_starts_its_own",
            &["part12-async"],
            tasks::a_server_already_running_skips_the_check_that_starts_its_own,
        ),
        (
            "tasks::our_async_stage_passes_every_check",
            &["part12-async"],
            tasks::our_async_stage_passes_every_check,
        ),
        (
            "tasks::an_event_loop_fails_the_async_check_saying_why",
            &["part11-event-loop"],
            tasks::an_event_loop_fails_the_async_check_saying_why,
        ),
    ];
    let mut trials: Vec<Trial> = Vec::new();
    for &(name, test) in basic {
        trials.push(needing(name, None, test));
    }
    for &(name, binaries, test) in needing_binaries {
        trials.push(needing(name, not_built(binaries), test));
    }
    for &(example, stage, failing) in BROKEN_EXAMPLES {
        let name = format!("broken_example_fails_its_check_and_at_most_one_other::{example}");
        let binary = format!("examples/{example}");
        trials.push(needing(name, not_built(&[&binary]), move || {
            broken_example_fails_its_check_and_at_most_one_other(example, stage, failing)
        }));
    }
    for &(example, failing) in KEEP_ALIVE_EXAMPLES {
        let name = format!("keep_alive_example_fails_its_check::{example}");
        let binary = format!("examples/{example}");
        trials.push(needing(name, not_built(&[&binary]), move || {
            keep_alive_example_fails_its_check(example, failing)
        }));
    }
    for &(example, failing) in POOL_EXAMPLES {
        let name = format!("pool_example_fails_its_check::{example}");
        let binary = format!("examples/{example}");
        trials.push(needing(name, not_built(&[&binary]), move || {
            pool_example_fails_its_check(example, failing)
        }));
    }
    for &(example, failing) in EVENT_LOOP_EXAMPLES {
        let name = format!("event_loop_example_fails_its_check::{example}");
        let binary = format!("examples/{example}");
        trials.push(needing(name, not_built(&[&binary]), move || {
            event_loop_example_fails_its_check(example, failing)
        }));
    }
    for &(example, failing) in ASYNC_EXAMPLES {
        let name = format!("async_example_fails_its_check::{example}");
        let binary = format!("examples/{example}");
        trials.push(needing(name, not_built(&[&binary]), move || {
            async_example_fails_its_check(example, failing)
        }));
    }
    for &example in CORRECT_EXAMPLES {
        let name = format!("correct_example_passes_every_check::{example}");
        let binary = format!("examples/{example}");
        trials.push(needing(name, not_built(&[&binary]), move || {
            correct_example_passes_every_check(example)
        }));
    }
    for &(script, program, breaks) in REAL_SERVERS {
        let name = format!("real_server_breaks_only_named_stage_rules::{program}");
        let missing = not_installed(program);
        trials.push(needing(name, missing, move || {
            real_server_breaks_only_named_stage_rules(script, program, breaks)
        }));
    }
    for &(script, more) in KEEP_ALIVE_SERVERS {
        let (program, breaks) = real_server_entry(script);
        let name = format!("keep_alive_server_breaks_only_named_stage_rules::{program}");
        let missing = not_installed(program);
        let breaks = [breaks, more].concat();
        trials.push(needing(name, missing, move || {
            keep_alive_server_breaks_only_named_stage_rules(script, &breaks)
        }));
    }
    trials.push(needing(
        "a_keep_alive_flask_server_passes_what_http_requires_of_part8",
        python_lacks("flask, gunicorn"),
        a_keep_alive_flask_server_passes_what_http_requires_of_part8,
    ));
    trials.push(needing(
        "a_flask_application_passes_what_http_requires_and_the_application_checks",
        python_lacks("flask, gunicorn"),
        a_flask_application_passes_what_http_requires_and_the_application_checks,
    ));
    libtest_mimic::run(&arguments, trials).exit()
}

/// A test that runs only where `missing` is `None` (see
/// [`trial_needing`](stage_check::harness::trial_needing)). When it fails,
/// what stage-check printed in it is shown.
fn needing(
    name: impl Into<String>,
    missing: Option<String>,
    test: impl FnOnce() + Send + 'static,
) -> Trial {
    stage_check::harness::trial_needing(name, missing, move || {
        RUNS.take();
        // The panic's message is printed as it happens; the runs follow.
        let passed = panic::catch_unwind(AssertUnwindSafe(test)).is_ok();
        let runs = RUNS.take();
        if passed {
            Ok(())
        } else {
            Err(format!("the test panicked, after these runs:\n{runs}").into())
        }
    })
}

/// The first of the workspace's `binaries` (paths in the target folder)
/// that is not built, said with how to build it.
fn not_built(binaries: &[&str]) -> Option<String> {
    binaries
        .iter()
        .map(|binary| built(binary))
        .find(|path| !path.exists())
        .map(|path| format!("{}, which `cargo test --workspace` builds", path.display()))
}

/// `program`, said with how to install it, if the system lacks it.
fn not_installed(program: &str) -> Option<String> {
    let found = Command::new("sh")
        .args([
            "-c",
            &format!("command -v {program} || test -x /usr/sbin/{program}"),
        ])
        .output()
        .is_ok_and(|output| output.status.success());
    (!found).then(|| format!("{program}: see servers/README.md to install it"))
}

/// The Python `modules` (such as `flask, gunicorn`), said with how to
/// install them, if Python cannot import them.
fn python_lacks(modules: &str) -> Option<String> {
    let found = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|output| output.status.success());
    let packages = modules.replace(',', "");
    (!found).then(|| format!("Python's {modules}: pip install {packages}"))
}

/// The longest one run of stage-check may take here: a whole stage's run
/// takes about 15 s on an idle machine, and well under a minute on a busy one.
const RUN_DEADLINE: Duration = Duration::from_secs(120);

/// What a run of stage-check printed, and how it ended.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The lines of standard output.
    fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// Standard output as JSON lines, one object each: the records of the
    /// checks, and the summary last.
    fn records(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}")))
            .collect()
    }

    /// The checks' records, one per check: all but the summary, which must
    /// come last.
    fn json(&self) -> Vec<Value> {
        let mut records = self.records();
        let summary = records.pop().unwrap_or_default();
        assert_eq!(
            summary["summary"], true,
            "the summary last:\n{}",
            self.stdout
        );
        records
    }

    /// The summary that closes a JSON run.
    fn summary(&self) -> Value {
        self.records().pop().unwrap_or_default()
    }

    /// The JSON object of the check called `name`.
    fn check(&self, name: &str) -> Value {
        self.json()
            .into_iter()
            .find(|object| object["name"] == name)
            .unwrap_or_else(|| panic!("no result for {name} in:\n{}", self.stdout))
    }
}

/// Runs stage-check with `args` and `env`, without colours unless `env`
/// asks for them, for at most [`RUN_DEADLINE`].
fn run_with_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let child = Command::new(STAGE_CHECK)
        .args(args)
        .env_remove("CLICOLOR_FORCE")
        .env_remove("NO_COLOR")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("stage-check runs");
    let pid = child.id();
    // Waiting happens on a thread, so that we can stop waiting.
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || sender.send(child.wait_with_output()));
    let output: Output = match receiver.recv_timeout(RUN_DEADLINE) {
        Ok(output) => output.expect("stage-check's output"),
        Err(_) => {
            // Like Ctrl-C: stage-check stops its server before it exits.
            signal(pid, nix::sys::signal::Signal::SIGTERM);
            panic!("stage-check {args:?} ran longer than {RUN_DEADLINE:?}");
        }
    };
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    RUNS.with_borrow_mut(|runs| {
        runs.push_str(&format!(
            "$ stage-check {args:?}\n{}{}",
            run.stdout, run.stderr
        ));
    });
    run
}

thread_local! {
    /// What the runs of stage-check printed in the test on this thread, to
    /// show when the test fails. (The standard harness keeps what a test
    /// prints for its failure; libtest-mimic shows it at once, so a
    /// passing test would fill the terminal.)
    static RUNS: RefCell<String> = const { RefCell::new(String::new()) };
}

fn run(args: &[&str]) -> Run {
    run_with_env(args, &[])
}

fn signal(pid: u32, signal: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal);
}

/// `target/debug` (or wherever this test binary was built), where cargo puts
/// the workspace's binaries: this binary is in its `deps` folder.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary is in target/<profile>/deps")
        .to_path_buf()
}

/// The binary at `relative` in the target folder. (`main` runs a test only
/// once what it [needs](Need) is there.)
fn built(relative: &str) -> PathBuf {
    target_dir().join(relative)
}

/// The command line for --exec that starts the binary at `relative`,
/// quoted for the shell.
fn command_line(relative: &str) -> String {
    format!("'{}'", built(relative).display())
}

fn example(name: &str) -> String {
    command_line(&format!("examples/{name}"))
}

/// stage-check with `args`, then `--only` for each of `checks`.
fn run_only(args: &[&str], checks: &[&str]) -> Run {
    let mut all = args.to_vec();
    for check in checks {
        all.extend(["--only", check]);
    }
    run(&all)
}

/// Against the server of `stage` already running (`--addr`), which
/// stage-check cannot start again, each of `part`'s `checks` that start a
/// server of their own is skipped, saying why: no failure.
fn skips_the_checks_that_start_their_own(stage: &str, part: &str, checks: &[&str]) {
    let mut command = std::process::Command::new(built(stage));
    command.args(["--port", "0", "--quiet"]);
    let server = stage_check::Server::start(command).expect("the stage starts");
    let addr = server.addr().to_string();
    let run = run_only(&[part, "--addr", &addr], checks);
    assert_eq!(run.code, Some(0), "a skip is no failure");
    for check in checks {
        let skipped = format!(
            "SKIP  stage  {check}: needs to start the server itself (to count its threads, \
             to send it a signal): use --exec"
        );
        assert!(run.stdout.contains(&skipped), "{check}");
    }
    let summary = format!("0 passed, 0 failed, {} skipped", checks.len());
    assert_eq!(run.lines().last(), Some(&summary.as_str()));
}

/// How many checks `stage` runs, of both kinds.
fn count(stage: &str) -> usize {
    let stage = stage_check::Stage::from_name(stage).expect("a stage");
    stage_check::checks(stage, stage_check::Rules::All).len()
}

/// A port of 127.0.0.1 that nothing listens on.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// The read timeout a whole run starts a server with: the tests' own, long
/// enough that no check but the timeout check meets it.
fn read_timeout() -> String {
    stage_check::harness::TEST_READ_TIMEOUT
        .as_secs()
        .to_string()
}

/// Runs every check of `stage`, the timeout check included, against the
/// server `command_line` starts with the tests' read timeout (which
/// `--read-timeout` passes on to it), as JSON.
fn run_all_as_json(stage: &str, command_line: &str) -> Run {
    run(&[
        stage,
        "--exec",
        command_line,
        "--read-timeout",
        &read_timeout(),
        "--format",
        "json",
    ])
}

/// Runs `check` of `stage` against the example `server` and asserts that
/// it fails, showing the exchange and a hint.
fn assert_catches(server: &str, stage: &str, check: &str) {
    let server = example(server);
    let run = run(&[stage, "--exec", &server, "--only", check]);
    assert_eq!(run.code, Some(1), "a failed check exits with 1");
    let lines = run.lines();
    let fail = lines
        .iter()
        .position(|line| line.starts_with("FAIL  ") && line.ends_with(&format!("  {check}")))
        .unwrap_or_else(|| panic!("no `FAIL  … {check}` line"));
    let block = lines[fail + 1..].join("\n");
    for label in ["checks:", "rule:", "received:", "expected:", "hint:"] {
        assert!(block.contains(label), "no {label} in the failure");
    }
    assert!(block.contains("(book: "), "the hint points to the book");
    assert_eq!(lines.last(), Some(&"0 passed, 1 failed"));
}

fn a_head_without_its_empty_line_is_caught() {
    assert_catches("broken-no-empty-line", "part5", "well_formed_response");
}

fn silence_on_bad_input_is_caught() {
    assert_catches(
        "broken-silent-on-bad-input",
        "part5",
        "error_response_well_formed",
    );
    // Run alone, a check that rests on that one fails too, and says so.
    assert_catches("broken-silent-on-bad-input", "part5", "bad_request_line");
}

fn spinning_when_a_client_leaves_is_caught() {
    assert_catches(
        "broken-spins-when-client-leaves",
        "part5",
        "client_leaves_early",
    );
}

fn serving_one_client_at_a_time_is_caught() {
    // This server prints no `Listening on` line: found by its port.
    assert_catches(
        "broken-one-client-at-a-time",
        "part4-tcp-echo",
        "echo_clients_in_parallel",
    );
}

fn answering_before_the_body_is_caught_in_a_full_json_run() {
    let server = example("broken-answers-before-body");
    let run = run_all_as_json("part5", &server);
    assert_eq!(run.code, Some(1));
    let all = count("part5");
    assert_eq!(
        run.records().len(),
        all + 1,
        "one line per check, then the summary"
    );
    let summary = run.summary();
    assert_eq!(summary["stage"], "part5-http-httparse");
    assert!(
        summary["checker"]
            .as_str()
            .unwrap_or_default()
            .starts_with("stage-check ")
    );
    assert_eq!(summary["failed"], 1);
    let passed = run
        .json()
        .iter()
        .filter(|r| r["outcome"] == "passed")
        .count();
    assert_eq!(summary["passed"], passed);
    // Every check is worth a point: the score counts those passed.
    assert_eq!(
        (summary["score"].as_u64(), summary["max_score"].as_u64()),
        (Some(passed as u64), Some(all as u64))
    );
    let failed = run.check("answer_after_body");
    let text = |key: &str| failed[key].as_str().unwrap_or_default().to_string();
    assert_eq!(text("outcome"), "failed");
    assert_eq!(
        text("expected"),
        "no answer yet, while 5 of the 10 body bytes are still to come"
    );
    assert!(text("sent").starts_with("b\"POST /create HTTP/1.1\\r\\n"));
    assert!(text("received").starts_with("b\"HTTP/1.1 200 OK"));
    assert!(text("hint").contains("Content-Length"));
    assert!(failed["proves"].is_string() && failed["seconds"].is_number());
    assert_eq!(failed["kind"], "stage");
    assert!(failed["rule"].as_str().unwrap_or_default().contains("post"));
    assert_eq!(
        run.check("content_length_not_a_number")["rule"],
        "RFC 9112 §6.3"
    );
    // With --exec the log is there, and --read-timeout was given: all ran.
    assert_eq!(run.check("transcript")["outcome"], "passed");
    assert_eq!(run.check("quiet_client_timed_out")["outcome"], "passed");
}

/// A server that takes its first read for the whole request fails
/// `request_in_pieces`, and the checks that meet the same flaw later are
/// not judged, pointing to it.
fn a_first_read_taken_for_the_whole_request_is_one_failure() {
    let server = example("broken-one-recv");
    let run = run(&["part6", "--exec", &server, "--format", "json"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.check("request_in_pieces")["outcome"], "failed");
    for check in [
        "request_byte_by_byte",
        "head_too_large",
        "client_leaves_early",
    ] {
        let result = run.check(check);
        assert_eq!(result["outcome"], "not_judged", "{check}");
        assert_eq!(result["see"], "request_in_pieces", "{check}");
    }
}

/// A server whose command line refuses --read-timeout is started again
/// without it: the output says so, and only the timeout check fails.
fn a_server_that_refuses_the_read_timeout_is_graded_without_it() {
    let server = example("broken-no-read-timeout-flag");
    let args = ["part5", "--exec", &server, "--read-timeout", "2"];
    let run = run(&[
        &args[..],
        &[
            "--only",
            "quiet_client_timed_out",
            "--only",
            "hello_world_page",
        ],
    ]
    .concat());
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout
            .contains("It refused --read-timeout (error: unexpected argument '--read-timeout'"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("PASS  stage  hello_world_page"));
    assert!(
        run.stdout
            .contains("expected: the server did not take --read-timeout 2: ")
    );
    assert_eq!(run.lines().last(), Some(&"1 passed, 1 failed"));
}

/// `--format junit`: one suite named after the stage, a testcase per check
/// with its kind of rule as its class, a failure with its report, a skip
/// for a check not judged; what XML gives a meaning escaped.
fn junit_reports_each_check_as_a_testcase() {
    let server = example("broken-one-recv");
    let run = run(&[
        "part5-oo-session",
        "--exec",
        &server,
        "--only",
        "hello_world_page",
        "--only",
        "request_in_pieces",
        "--only",
        "head_too_large",
        "--format",
        "junit",
    ]);
    assert_eq!(run.code, Some(1));
    let xml = &run.stdout;
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>"));
    assert!(xml.contains("<testsuite name=\"part5-oo-session\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""), "{xml}");
    assert!(xml.contains("<testcase name=\"hello_world_page\" classname=\"stage\""));
    assert!(xml.contains("<testcase name=\"request_in_pieces\" classname=\"HTTP\""));
    assert!(xml.contains("<failure message=\"expected status 200, not 400, as when the request comes whole\">checks:   "));
    assert!(
        xml.contains("sent:     b&quot;GET /index.html"),
        "quotes escaped"
    );
    assert!(xml.contains("<skipped message=\"not judged: see request_in_pieces"));
    assert_eq!(xml.matches("<testcase ").count(), 3);
    assert!(xml.trim_end().ends_with("</testsuite>\n</testsuites>"));
}

/// `--skip` leaves checks out, --only's opposite.
fn skip_leaves_checks_out() {
    let server = example("broken-one-recv");
    let run = run(&[
        "part5",
        "--exec",
        &server,
        "--skip",
        "request_in_pieces",
        "--skip",
        "head_too_large",
        "--skip",
        "client_leaves_early",
        "--skip",
        "quiet_client_timed_out",
        "--format",
        "json",
    ]);
    // Its flaw's checks left out (and the one skipped without
    // --read-timeout), what is left passes.
    let names: Vec<Value> = run.json().iter().map(|r| r["name"].clone()).collect();
    assert_eq!(names.len(), count("part5") - 4);
    assert!(!names.contains(&Value::from("request_in_pieces")));
    assert_eq!(not_passed(&run), [], "{}", run.stdout);
    assert_eq!(run.code, Some(0));
}

/// `stage-check grade`: a folder of submissions, each with its `start`
/// file, graded into one table, in CSV and in Markdown.
fn grade_makes_a_table_of_a_class() {
    let dir = std::env::temp_dir().join(format!("stage-check-grade-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let submissions = dir.join("class");
    let start = |name: &str, line: &str| {
        let folder = submissions.join(name);
        std::fs::create_dir_all(&folder).expect("a submission's folder");
        std::fs::write(folder.join("start"), format!("{line}\n")).expect("its start file");
    };
    start("alice", &example("correct-host-required"));
    start("bob", &example("broken-one-recv"));
    // Run from inside its folder: `start` finds its own script there.
    start("carol", "sh ./server.sh");
    std::fs::write(
        submissions.join("carol/server.sh"),
        "echo 'carol: not done' >&2; exit 1\n",
    )
    .expect("carol's server");
    start("dave", &example("broken-no-read-timeout-flag"));
    let csv_path = dir.join("grades.csv");
    let run = run(&[
        "grade",
        &submissions.display().to_string(),
        "--stage",
        "part5",
        "--read-timeout",
        "2",
        "--skip",
        "curl",
        "--skip",
        "curl_upload",
        "--csv",
        &csv_path.display().to_string(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let all = count("part5") - 2;
    let csv = std::fs::read_to_string(&csv_path).expect("grades.csv written");
    let rows: Vec<Vec<&str>> = csv.lines().map(|line| line.split(',').collect()).collect();
    assert_eq!(rows.len(), 5, "a header and a row per submission:\n{csv}");
    let header = &rows[0];
    assert_eq!(header[0], "submission");
    assert_eq!(header[header.len() - 3..], ["score", "max_score", "note"]);
    let column = |check: &str| header.iter().position(|name| *name == check).expect(check);
    let names: Vec<&str> = rows[1..].iter().map(|row| row[0]).collect();
    assert_eq!(names, ["alice", "bob", "carol", "dave"]);
    let (alice, bob, carol, dave) = (&rows[1], &rows[2], &rows[3], &rows[4]);
    let max = all.to_string();
    let score = |row: &Vec<&str>| (row[all + 1].to_string(), row[all + 2].to_string());
    assert!(alice[1..=all].iter().all(|cell| *cell == "pass"), "{csv}");
    assert_eq!(score(alice), (max.clone(), max.clone()));
    assert_eq!(bob[column("request_in_pieces")], "FAIL");
    assert_eq!(bob[column("head_too_large")], "n.j.");
    assert_eq!(bob[column("hello_world_page")], "pass");
    assert_eq!(score(bob), ((all - 3).to_string(), max.clone()));
    assert!(carol[1..=all].iter().all(|cell| cell.is_empty()));
    assert_eq!(score(carol), ("0".to_string(), max.clone()));
    assert!(carol[all + 3].starts_with("did not start: "), "{csv}");
    assert_eq!(dave[column("quiet_client_timed_out")], "FAIL");
    assert_eq!(score(dave), ((all - 1).to_string(), max.clone()));
    assert!(dave[all + 3].starts_with("started again without --read-timeout"));
    // The same table in Markdown, on standard output.
    let markdown = run.lines();
    assert!(markdown[0].starts_with("| submission | `well_formed_response` | "));
    assert!(markdown[0].ends_with(" | score | note |"));
    assert_eq!(markdown.len(), 6, "{}", run.stdout);
    assert!(markdown[3].starts_with("| bob | pass | "));
    assert!(markdown[4].contains(&format!(" | 0/{all} | did not start: ")));
    // What the checks found, submission by submission, on standard error.
    assert!(run.stderr.contains(&format!("alice: {all}/{all}")));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The outcomes of a JSON run, as `(name, outcome)`, for those that were not
/// `passed`.
fn not_passed(run: &Run) -> Vec<(String, String)> {
    run.json()
        .iter()
        .filter(|result| result["outcome"] != "passed")
        .map(|result| {
            let text = |key: &str| result[key].as_str().unwrap_or_default().to_string();
            (text("name"), text("outcome"))
        })
        .collect()
}

/// Whether a result is a curl check skipped for want of curl: only outside
/// CI, on a machine without it.
fn skipped_for_curl(name: &str, outcome: &str) -> bool {
    outcome == "skipped" && name.starts_with("curl") && std::env::var_os("CI").is_none()
}

/// The broken examples: each one's name, the stage it is checked as, and
/// the checks it must fail.
const BROKEN_EXAMPLES: &[(&str, &str, &[&str])] = &[
    (
        "broken-no-empty-line",
        "part6",
        &["well_formed_response", "error_response_well_formed"],
    ),
    (
        "broken-no-connection-close",
        "part6",
        &["well_formed_response", "error_response_well_formed"],
    ),
    (
        "broken-silent-on-bad-input",
        "part6",
        &["error_response_well_formed"],
    ),
    (
        "broken-spins-when-client-leaves",
        "part6",
        &["client_leaves_early"],
    ),
    (
        "broken-answers-before-body",
        "part6",
        &["answer_after_body"],
    ),
    (
        "broken-one-client-at-a-time",
        "part4",
        &["echo_clients_in_parallel"],
    ),
    ("broken-one-recv", "part6", &["request_in_pieces"]),
    (
        "broken-ignores-transfer-encoding",
        "part6",
        &["answer_after_chunked_body"],
    ),
    // Run with --read-timeout, which it refuses: started again without.
    (
        "broken-no-read-timeout-flag",
        "part6",
        &["quiet_client_timed_out"],
    ),
];

/// The broken keep-alive examples, checked as part 9 (with the tests'
/// keep-alive timeout), as [`BROKEN_EXAMPLES`] are: each one's name and the
/// checks it must fail. The learner's skeleton they share logs part 8's
/// lines (`Response sent.`, without the request's number, and no reason
/// for the close), so part 9's transcript is left out of their runs.
const KEEP_ALIVE_EXAMPLES: &[(&str, &[&str])] = &[
    // Closes after every answer without saying so: the answer's form
    // names it; the checks on a kept connection rest on it.
    ("broken-keep-alive-then-close", &["well_formed_response"]),
    ("broken-pipeline-out-of-order", &["pipelined_in_order"]),
    (
        "broken-ignores-connection-close",
        &["connection_close_honoured"],
    ),
    ("broken-body-as-next-request", &["body_drained_before_next"]),
    // Correct: it fails nothing.
    ("correct-keep-alive", &[]),
];

/// The example `name` of [`KEEP_ALIVE_EXAMPLES`], run through every check
/// of part 9 but the transcript, fails `failing` and no other check.
fn keep_alive_example_fails_its_check(name: &str, failing: &[&str]) {
    kept_connections_example_fails_its_checks(name, "part9", &["--skip", "transcript"], failing);
}

/// The pooled examples, checked as part 10 (with the tests' timeouts), as
/// [`KEEP_ALIVE_EXAMPLES`] are: each one's name and the checks it must
/// fail. Their skeleton logs part 10's lines, so every check runs, the
/// transcript too. Each part 10 check starts a server of its own, with
/// the pool it needs; the others share one with the default pool.
const POOL_EXAMPLES: &[(&str, &[&str])] = &[
    // Never 503: the client beyond the queue hears nothing.
    ("broken-pool-unbounded-queue", &["full_queue_answered_503"]),
    // Idle kept connections hold both workers for the keep-alive timeout.
    (
        "broken-pool-starves-next-client",
        &["next_client_served_past_idle_ones"],
    ),
    // Exits at the signal: the request in progress gets no answer.
    ("broken-shutdown-drops-requests", &["graceful_shutdown"]),
    // Correct: it fails nothing.
    ("correct-pool", &[]),
];

/// The example `name` of [`POOL_EXAMPLES`], run through every check of
/// part 10, fails `failing` and no other check.
fn pool_example_fails_its_check(name: &str, failing: &[&str]) {
    kept_connections_example_fails_its_checks(name, "part10", &[], failing);
}

/// The examples on event loops, checked as part 11 (with the tests'
/// timeouts), as [`POOL_EXAMPLES`] are: each one's name and the checks it
/// must fail. Their skeleton logs part 11's lines, so every check runs,
/// the transcript too; each part 11 check starts a server of its own.
const EVENT_LOOP_EXAMPLES: &[(&str, &[&str])] = &[
    // Waits on the loop for a client that never reads: the other waits too.
    (
        "broken-loop-blocks-on-write",
        &["unread_answers_do_not_delay_others"],
    ),
    // Correct: it fails nothing.
    ("correct-event-loop", &[]),
];

/// The example `name` of [`EVENT_LOOP_EXAMPLES`], run through every check
/// of part 11, fails `failing` and no other check.
fn event_loop_example_fails_its_check(name: &str, failing: &[&str]) {
    kept_connections_example_fails_its_checks(name, "part11", &[], failing);
}

/// The async examples, checked as part 12 (with the tests' timeouts), as
/// [`EVENT_LOOP_EXAMPLES`] are: each one's name and the checks it must
/// fail. Their server logs part 12's lines, so every check runs, the
/// transcript too; part 10's, 11's and 12's checks each start a server of
/// their own.
const ASYNC_EXAMPLES: &[(&str, &[&str])] = &[
    // Its /sleep blocks the one thread: the other client waits too.
    (
        "broken-async-blocking-sleep",
        &["awaiting_handler_does_not_delay_others"],
    ),
    // Correct: it fails nothing.
    ("correct-async", &[]),
];

/// The example `name` of [`ASYNC_EXAMPLES`], run through every check of
/// part 12, fails `failing` and no other check.
fn async_example_fails_its_check(name: &str, failing: &[&str]) {
    kept_connections_example_fails_its_checks(name, "part12", &[], failing);
}

/// The example `name`, run through the checks of `stage` (part 9 on), with
/// the tests' read and keep-alive timeouts and `more` options, fails
/// `failing` and no other check.
fn kept_connections_example_fails_its_checks(
    name: &str,
    stage: &str,
    more: &[&str],
    failing: &[&str],
) {
    let server = example(name);
    let keep_alive = stage_check::harness::TEST_KEEP_ALIVE_TIMEOUT
        .as_secs()
        .to_string();
    let read_timeout = read_timeout();
    let mut args = vec![
        stage,
        "--exec",
        &server,
        "--read-timeout",
        &read_timeout,
        "--keep-alive-timeout",
        &keep_alive,
        "--format",
        "json",
    ];
    args.extend_from_slice(more);
    let run = run(&args);
    assert_eq!(
        failed_checks(name, &run),
        failing,
        "{name} fails these, and only these"
    );
    assert_eq!(run.code, Some(i32::from(!failing.is_empty())), "{name}");
}

/// One flaw, one failure: the broken example `name`, run through every
/// check of `stage`, fails its named check and at most one other (the one
/// that judges the same rule in an error answer), `failing`; the checks
/// that cannot judge what they got say "not judged" and do not count as
/// failures.
fn broken_example_fails_its_check_and_at_most_one_other(name: &str, stage: &str, failing: &[&str]) {
    let server = example(name);
    let run = run_all_as_json(stage, &server);
    assert_eq!(run.code, Some(1), "{name}");
    assert_eq!(
        failed_checks(name, &run),
        failing,
        "{name} fails these, and only these"
    );
}

/// The checks that failed in `run` of the example `name`. A check not
/// judged, resting on one that failed, is no failure of its own; one
/// skipped is only allowed for want of curl.
fn failed_checks(name: &str, run: &Run) -> Vec<String> {
    let mut failed = Vec::new();
    for (check, outcome) in not_passed(run) {
        match outcome.as_str() {
            "failed" => failed.push(check),
            "not_judged" => {}
            _ => assert!(
                skipped_for_curl(&check, &outcome),
                "{name}: {check} {outcome}"
            ),
        }
    }
    failed
}

/// The servers correct in ways our stages are not.
const CORRECT_EXAMPLES: &[&str] = &[
    "correct-close-delimited-errors",
    "correct-empty-error-bodies",
    "correct-host-required",
    "correct-501-for-both-lengths",
    "correct-no-100-continue",
];

/// The correct example `name` passes every check of the latest part, of
/// both kinds.
fn correct_example_passes_every_check(name: &str) {
    let server = example(name);
    let run = run_all_as_json("part6", &server);
    for (check, outcome) in not_passed(&run) {
        assert!(
            skipped_for_curl(&check, &outcome),
            "{name}: {check} {outcome}"
        );
    }
    assert_eq!(run.json().len(), count("part6"), "{name}");
    assert_eq!(run.code, Some(0), "{name}");
}

/// What HTTP only recommends is noted, and fails nothing.
fn what_http_recommends_is_only_noted() {
    let server = example("correct-empty-error-bodies");
    let run = run(&[
        "part6",
        "--exec",
        &server,
        "--only",
        "error_response_well_formed",
    ]);
    assert_eq!(run.code, Some(0));
    assert!(
        run.stdout.contains("note:     an empty body"),
        "{}",
        run.stdout
    );
}

/// The command line for --exec that starts a server written elsewhere, the
/// script `script` of `servers/`.
fn real_server(script: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let interpreter = if script.ends_with(".js") {
        "node"
    } else {
        "sh"
    };
    format!(
        "{interpreter} '{}'",
        root.join("servers").join(script).display()
    )
}

/// How the book names a server program in bold.
fn title(program: &str) -> &str {
    match program {
        "node" => "Node",
        other => other,
    }
}

/// The servers written elsewhere, in `servers/`: each script, the program
/// it runs, and the stage's rules it breaks. Each does all HTTP requires: it
/// passes `--rules http`. Beyond HTTP, it breaks the stage's rules named
/// here, and only those.
const REAL_SERVERS: &[(&str, &str, &[&str])] = &[
    (
        "nginx.sh",
        "nginx",
        &[
            // nginx logs nothing of the post's transcript,
            "transcript",
            // answers a static file before the body is in,
            "answer_after_body",
            // answers `GET /` the HTTP/0.9 way, with the bare page,
            "bad_request_line",
            // says 400, not 431, to a head too large,
            "head_too_large",
            // and closes on a quiet client without a word.
            "quiet_client_timed_out",
        ],
    ),
    (
        "lighttpd.sh",
        "lighttpd",
        &[
            "transcript",
            // lighttpd answers a static file before the body is in,
            "answer_after_body",
            // refuses `G(T`, a method that is no token, with 501,
            "bad_request_line",
            // and answers before a body of 2 MiB as before any other,
            "body_too_large",
            // and closes on a quiet client without a word.
            "quiet_client_timed_out",
        ],
    ),
    (
        "node-http.js",
        "node",
        &[
            "transcript",
            // Node answers `GET /` with no version as a request,
            "bad_request_line",
            // takes heads up to 16 KiB,
            "head_too_large",
            // and waits for a body of any size.
            "body_too_large",
        ],
    ),
];

/// The server `script` of [`REAL_SERVERS`], which runs `program`, passes
/// what HTTP requires, and breaks `breaks` of the stage's rules, no more.
fn real_server_breaks_only_named_stage_rules(script: &str, program: &str, breaks: &[&str]) {
    let server = real_server(script);
    let http = run(&[
        "part6",
        "--exec",
        &server,
        "--read-timeout",
        &read_timeout(),
        "--rules",
        "http",
        "--format",
        "json",
    ]);
    assert_eq!(not_passed(&http), [], "{script} --rules http");
    assert_eq!(http.code, Some(0), "{script}");
    let all = run_all_as_json("part6", &server);
    // A check not judged for a rule broken before it is no failure of its own.
    let failed: Vec<String> = not_passed(&all)
        .into_iter()
        .filter(|(check, outcome)| !skipped_for_curl(check, outcome) && outcome != "not_judged")
        .map(|(check, outcome)| {
            assert_eq!(outcome, "failed", "{script}: {check}");
            check
        })
        .collect();
    assert_eq!(failed, breaks, "{script} breaks these stage rules");
    // The book says which, and so does the README for nginx.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read = |path: &str| std::fs::read_to_string(root.join(path)).expect(path);
    let mut documents = vec![read("docs/src/stage-check.md")];
    if program == "nginx" {
        documents.push(read("README.md"));
    }
    for text in &documents {
        let about = text
            .split("\n\n")
            .find(|paragraph| {
                paragraph.contains(&format!("**{}**", title(program)))
                    || (program == "nginx" && paragraph.contains("nginx breaks these"))
            })
            .unwrap_or_default();
        for check in breaks {
            assert!(
                about.contains(&format!("`{check}`")),
                "{program}: {check} unnamed"
            );
        }
    }
    for check in breaks {
        assert_eq!(all.check(check)["kind"], "stage", "{check}");
    }
}

/// Part 8's demo application written with Flask, and served by gunicorn
/// (`servers/flask_app.py`): it does all HTTP requires, and passes every check
/// of the application, those of parts 7 and 8, which are written so that a
/// learner's own framework, in any language, can be held to them.
fn a_flask_application_passes_what_http_requires_and_the_application_checks() {
    let servers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../servers");
    let server = format!(
        "python3 -m gunicorn --workers 4 --chdir '{}' --bind 127.0.0.1:{{port}} flask_app:app",
        servers.display()
    );
    let http = run(&[
        "part8", "--exec", &server, "--rules", "http", "--format", "json",
    ]);
    assert_eq!(not_passed(&http), [], "--rules http");
    assert_eq!(http.code, Some(0));
    // The application's checks: those of parts 7 and 8.
    let application: Vec<&str> = stage_check::all_checks(stage_check::Kind::Http)
        .into_iter()
        .filter(|check| (7..=8).contains(&check.since))
        .map(|check| check.name)
        .collect();
    let mut args = vec!["part8", "--exec", &server, "--format", "json"];
    for check in &application {
        args.extend(["--only", check]);
    }
    let checked = run(&args);
    assert_eq!(checked.json().len(), application.len());
    assert_eq!(not_passed(&checked), [], "the application's checks");
}

/// The servers written elsewhere, with their own keep-alive on
/// (`--keep-alive-timeout`), checked as part 9: each does all HTTP
/// requires of a server that keeps connections, and breaks the stage rules
/// it breaks in [`REAL_SERVERS`], and those named here, no more. (The
/// application's checks, of parts 7 and 8, are left out: these servers
/// answer every path with the page, and the same list for part 6 says so
/// already.)
const KEEP_ALIVE_SERVERS: &[(&str, &[&str])] = &[
    // nginx breaks no rule of part 9's own.
    ("nginx.sh", &[]),
    // Node sets no limit on the requests of a connection: its
    // `maxRequestsPerSocket` is 0, none, unless set.
    ("node-http.js", &["max_requests_then_close"]),
];

/// The program `script` of [`REAL_SERVERS`] runs, and the stage rules it
/// breaks with one request per connection.
fn real_server_entry(script: &str) -> (&'static str, &'static [&'static str]) {
    REAL_SERVERS
        .iter()
        .find(|(name, _, _)| *name == script)
        .map(|&(_, program, breaks)| (program, breaks))
        .unwrap_or_else(|| panic!("{script} is in REAL_SERVERS"))
}

/// The server `script` of [`KEEP_ALIVE_SERVERS`], started with its
/// keep-alive on, passes every check of part 9 that HTTP requires, the
/// earlier parts' included (judged by what each answer says of the
/// connection), and breaks `breaks` of the stage's rules, no more.
fn keep_alive_server_breaks_only_named_stage_rules(script: &str, breaks: &[&str]) {
    let keep_alive = stage_check::harness::TEST_KEEP_ALIVE_TIMEOUT
        .as_secs()
        .to_string();
    let server = format!("{} --keep-alive-timeout {keep_alive}", real_server(script));
    let timeouts = [
        "--read-timeout",
        &read_timeout(),
        "--keep-alive-timeout",
        &keep_alive,
    ];
    let mut http = vec![
        "part9", "--exec", &server, "--rules", "http", "--format", "json",
    ];
    http.extend(timeouts);
    let http = run(&http);
    assert_eq!(not_passed(&http), [], "{script} --rules http");
    assert_eq!(http.code, Some(0), "{script}");
    let mut all = vec!["part9", "--exec", &server, "--format", "json"];
    all.extend(timeouts);
    let application: Vec<&str> = stage_check::all_checks(stage_check::Kind::Http)
        .into_iter()
        .filter(|check| (7..=8).contains(&check.since))
        .map(|check| check.name)
        .collect();
    for check in &application {
        all.extend(["--skip", check]);
    }
    let all = run(&all);
    let failed: Vec<String> = not_passed(&all)
        .into_iter()
        .filter(|(check, outcome)| !skipped_for_curl(check, outcome) && outcome != "not_judged")
        .map(|(check, outcome)| {
            assert_eq!(outcome, "failed", "{script}: {check}");
            check
        })
        .collect();
    assert_eq!(failed, breaks, "{script} breaks these stage rules");
    for check in breaks {
        assert_eq!(all.check(check)["kind"], "stage", "{check}");
    }
}

/// Part 8's application in Flask, served by gunicorn's threaded worker,
/// which keeps connections open (HTTP/1.1's default) where part 8 closes:
/// all HTTP requires of part 8 holds of it, as the checks judge a
/// connection by what each answer says of it, not by the close. (As part
/// 9, it fails two HTTP checks: it finds `close` in `Connection` only when
/// it is the whole value, and after a chunk line it cannot read it answers
/// 500 with keep-alive, then closes.)
fn a_keep_alive_flask_server_passes_what_http_requires_of_part8() {
    let servers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../servers");
    let server = format!(
        "python3 -m gunicorn --worker-class gthread --threads 4 --chdir '{}' \
         --bind 127.0.0.1:{{port}} flask_app:app",
        servers.display()
    );
    let http = run(&[
        "part8", "--exec", &server, "--rules", "http", "--format", "json",
    ]);
    assert_eq!(not_passed(&http), [], "--rules http");
    assert_eq!(http.code, Some(0));
    // It does keep the connection: the answer to GET / says nothing of
    // closing.
    let page = http.check("well_formed_response");
    assert_eq!(page["outcome"], "passed");
}

fn the_read_timeout_is_passed_on_to_the_server() {
    let stage = command_line("part5-oo-session");
    // The stage waits 30 s by default: the check allows 1 s and 5 more.
    for server in [
        stage.clone(),
        format!("{stage} --read-timeout {{read_timeout}}"),
    ] {
        let run = run(&[
            "part5",
            "--exec",
            &server,
            "--read-timeout",
            "1",
            "--only",
            "quiet_client_timed_out",
        ]);
        assert_eq!(run.code, Some(0), "{server}");
    }
}

fn our_http_stage_passes_every_check() {
    let stage = command_line("part5-oo-session");
    let run = run_all_as_json("part5-oo-session", &stage);
    assert_eq!(run.code, Some(0));
    for result in run.json() {
        // Only a machine without curl skips anything.
        let skipped_for_curl = result["outcome"] == "skipped"
            && result["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("curl");
        assert!(
            result["outcome"] == "passed" || skipped_for_curl,
            "{result}"
        );
    }
}

fn our_echo_stage_passes_every_check() {
    let stage = command_line("part4-tcp-echo");
    let run = run(&["part4-tcp-echo", "--exec", &stage]);
    assert_eq!(run.code, Some(0));
    let lines = run.lines();
    assert!(lines[0].starts_with("Checking the server at 127.0.0.1:"));
    let passed = lines
        .iter()
        .filter(|line| line.starts_with("PASS  "))
        .count();
    let all = count("part4");
    assert_eq!(passed, all);
    assert_eq!(
        lines.last(),
        Some(&format!("{all} passed, 0 failed").as_str())
    );
}

fn a_server_already_running_is_checked_without_its_log() {
    let stage = built("part4-tcp-echo");
    let mut command = Command::new(stage);
    command.args(["--port", "0"]);
    let server = stage_check::Server::start(command).expect("the stage starts");
    let addr = server.addr().to_string();
    let run = run(&["part4", "--addr", &addr]);
    assert_eq!(run.code, Some(0), "a skip is no failure");
    assert!(
        run.stdout
            .contains("SKIP  stage  echo_transcript: needs the server's log: start it with --exec")
    );
    assert_eq!(run.lines().last(), Some(&"6 passed, 0 failed, 1 skipped"));
}

fn nothing_listening_is_one_line_and_exit_code_2() {
    let addr = format!("127.0.0.1:{}", free_port());
    let run = run(&["part5", "--addr", &addr]);
    assert_eq!(run.code, Some(2));
    assert_eq!(run.stdout, "", "no check ran");
    assert_eq!(run.stderr.lines().count(), 1);
    assert!(
        run.stderr
            .starts_with(&format!("stage-check: nothing listens at {addr}"))
    );
}

/// A compile error through `cargo run` is shown from its first `error`
/// line, however many lines of notes follow it.
fn a_compile_error_is_shown_from_its_first_error_line() {
    let command = ": {port}; echo '   Compiling server v0.1.0' >&2; \
        echo 'error[E0425]: cannot find value `x` in this scope' >&2; \
        echo ' --> src/main.rs:3:5' >&2; \
        for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo \"note $i\" >&2; done; exit 101";
    let run = run(&["part5", "--exec", command]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("error[E0425]: cannot find value `x`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(" --> src/main.rs:3:5"));
    let said = run.stderr.split("it said:\n").nth(1).unwrap_or_default();
    assert!(
        said.starts_with("error[E0425]"),
        "from the error line on: {said}"
    );
}

/// With --format json or junit, a server that does not start still gets
/// its record, and the summary scores nothing; the exit code and the line
/// on standard error stay.
fn a_server_that_does_not_start_still_gets_a_record() {
    let command = ": {port}; exit 3";
    let json = run(&["part5", "--exec", command, "--format", "json"]);
    assert_eq!(json.code, Some(2));
    assert!(json.stderr.starts_with("stage-check: could not start"));
    let records = json.records();
    assert_eq!(records.len(), 2, "{}", json.stdout);
    assert_eq!(records[0]["did_not_start"], true);
    assert_eq!(records[0]["stage"], "part5-http-httparse");
    assert!(
        records[0]["why"]
            .as_str()
            .unwrap_or_default()
            .contains("exited (exit status: 3)")
    );
    assert_eq!(records[1]["summary"], true);
    assert_eq!(records[1]["score"], 0);
    assert_eq!(records[1]["max_score"], count("part5"));
    let addr = format!("127.0.0.1:{}", free_port());
    let junit = run(&["part5", "--addr", &addr, "--format", "junit"]);
    assert_eq!(junit.code, Some(2));
    assert_eq!(junit.stderr.lines().count(), 1);
    assert!(
        junit
            .stdout
            .contains("<testsuite name=\"part5-http-httparse\" tests=\"1\" failures=\"1\"")
    );
    assert!(junit.stdout.contains("<testcase name=\"server_started\""));
    assert!(junit.stdout.contains(&format!("nothing listens at {addr}")));
}

fn a_server_that_exits_says_why() {
    let command = ": {port}; echo 'no such option' >&2; exit 3";
    let run = run(&["part4", "--exec", command]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("exited (exit status: 3) before listening")
    );
    assert!(run.stderr.contains("no such option"), "its stderr is shown");
}

/// Runs stage-check with `args`, which are wrong: asserts that it exits
/// with code 2, saying each of `says` on standard error.
fn assert_usage_error(args: &[&str], says: &[&str]) {
    let run = run(args);
    assert_eq!(run.code, Some(2), "{args:?}");
    for words in says {
        assert!(
            run.stderr.contains(words),
            "{args:?} does not say {words:?}"
        );
    }
}

fn usage_errors_exit_with_code_2() {
    assert_usage_error(
        &["part4", "--only", "echo_nothing"],
        &[
            "no check `echo_nothing` in part4",
            "echo_one_message, echo_many_messages",
        ],
    );
    assert_usage_error(&["part9"], &[]);
    assert_usage_error(&["part5", "--addr", "127.0.0.1:1", "--exec", "x"], &[]);
    assert_usage_error(&["part5", "--read-timeout", "0"], &[]);
    assert_usage_error(
        &["part5", "--skip", "no_such_check"],
        &["no check `no_such_check` in part5"],
    );
    assert_usage_error(&["grade", "somewhere"], &["--stage"]);
    assert_usage_error(
        &["grade", "somewhere", "--stage", "part5", "--skip", "x"],
        &["no check `x`"],
    );
}

fn help_and_list_describe_the_tool_and_the_checks() {
    let help = run(&["--help"]);
    assert_eq!(help.code, Some(0));
    for option in [
        "--addr",
        "--exec",
        "--list",
        "--only",
        "--read-timeout",
        "--rules",
        "--format",
        "--exercise",
        "--skip",
        "grade",
    ] {
        assert!(
            help.stdout.contains(option),
            "--help says nothing of {option}"
        );
    }
    // The values of --format and --rules, as clap takes them.
    let text = help.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for said in [
        "`human`, text for a person",
        "`json`, one JSON object per check",
        "`junit`, a JUnit XML report",
        "`http`, only what HTTP requires",
        "[possible values: human, json, junit]",
        "[possible values: all, http]",
    ] {
        assert!(text.contains(said), "--help does not say {said:?}");
    }
    // Two lines per check: name, kind and what it proves; then the rule.
    let list = run(&["part4-tcp-echo", "--list"]);
    assert_eq!(list.code, Some(0));
    let lines = list.lines();
    let all = count("part4");
    assert!(lines[0].starts_with("echo_one_message  "));
    assert!(lines[0].contains("  stage  a message comes back"));
    assert!(
        lines[1]
            .trim_start()
            .starts_with("the stage's rule, beyond HTTP: ")
    );
    assert!(lines[2 * all - 2].ends_with("(needs --exec)"));
    // Then the exercises, each with its checks, below an empty line.
    assert_eq!(
        lines[2 * all],
        "",
        "two lines per check, then the exercises"
    );
    assert!(lines[2 * all + 1].contains("--exercise NAME"));
    assert!(lines[2 * all + 2].starts_with("quit_command (part4-tcp-echo): "));
    assert!(lines[2 * all + 3].starts_with("  quit_says_bye  "));
    let one = run(&["part5", "--list", "--only", "host_required"]);
    assert_eq!(one.lines().len(), 2);
    assert!(one.lines()[0].contains("  HTTP   an HTTP/1.1 request with no Host"));
    assert!(one.lines()[1].ends_with("HTTP requires it (RFC 9112 §3.2)"));
}

fn a_stage_lists_only_what_its_part_has_taught() {
    let names = |args: &[&str]| -> Vec<String> {
        let list = run(args);
        assert_eq!(list.code, Some(0));
        list.lines()
            .iter()
            .filter(|line| !line.starts_with(' ') && !line.is_empty())
            .take_while(|line| !line.starts_with("The book's exercises"))
            .map(|line| {
                line.split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    let part5 = names(&["part5", "--list"]);
    let part6 = names(&["part6", "--list"]);
    assert_eq!(part5.len(), count("part5"));
    assert_eq!(part6.len(), count("part6"));
    assert!(!part5.contains(&"header_without_space".to_string()));
    assert!(part6.contains(&"header_without_space".to_string()));
    // No hint of a part 5 check sends the learner to Part 6.
    let listed = run(&["part5", "--list"]);
    assert!(!listed.stdout.contains("Part 6"), "{}", listed.stdout);
    // --rules http keeps HTTP's checks only.
    let http = run(&["part6", "--list", "--rules", "http"]);
    let http_lines: Vec<&str> = http.lines();
    assert!(http_lines.len() < 2 * count("part6"));
    for line in http_lines.iter().step_by(2) {
        assert!(line.contains("  HTTP   "), "{line}");
    }
}

/// Part 9 keeps connections: `--list` says what the earlier checks it
/// keeps mean on a kept connection; part 8, which closes, says nothing of it.
fn a_persistent_stage_says_what_earlier_checks_mean_on_a_kept_connection() {
    let part9 = run(&["part9", "--list"]);
    assert_eq!(part9.code, Some(0));
    let kept = part9
        .stdout
        .split("\n\n")
        .find(|block| block.starts_with("On a connection the server keeps"))
        .unwrap_or_else(|| panic!("no paragraph on kept connections:\n{}", part9.stdout));
    for check in ["well_formed_response", "bytes_after_body", "transcript"] {
        assert!(kept.contains(&format!("  {check}: ")), "{check}");
    }
    assert!(part9.stdout.contains("(needs --keep-alive-timeout)"));
    let part8 = run(&["part8", "--list"]);
    assert!(!part8.stdout.contains("On a connection the server keeps"));
}

/// Part 10's checks start a server of their own: `--list` shows them, saying
/// they need --exec (and, for two of them, the system they need); part 9's
/// list has none of them.
fn a_pool_stage_lists_the_checks_that_start_a_server_of_their_own() {
    let part10 = run(&["part10", "--list"]);
    assert_eq!(part10.code, Some(0));
    for (check, needs) in [
        ("threads_bounded_by_pool", "(needs --exec, on Linux)"),
        ("full_queue_answered_503", "(needs --exec)"),
        ("next_client_served_past_idle_ones", "(needs --exec)"),
        ("graceful_shutdown", "(needs --exec, on Unix)"),
    ] {
        let line = part10
            .lines()
            .into_iter()
            .find(|line| line.starts_with(&format!("{check} ")))
            .unwrap_or_else(|| panic!("{check} is not listed"));
        assert!(line.contains("  stage  "), "{line}");
        assert!(line.ends_with(needs), "{line}");
    }
    let part9 = run(&["part9", "--list"]);
    for check in pool::CHECKS {
        assert!(!part9.stdout.contains(check), "{check} in part 9's list");
    }
}

/// Part 11's event loops: `--list` shows their checks, which start a
/// server of their own, and the part 10 checks that read otherwise on
/// loops in their part 11 form; part 10's list has neither.
fn an_event_loop_stage_lists_its_checks_and_what_part_10s_mean_there() {
    let part11 = run(&["part11", "--list"]);
    assert_eq!(part11.code, Some(0));
    let line = |list: &Run, check: &str| {
        list.lines()
            .into_iter()
            .find(|line| line.starts_with(&format!("{check} ")))
            .map(str::to_string)
    };
    for (check, needs) in [
        (
            "idle_connections_held_by_few_threads",
            "(needs --exec, on Linux)",
        ),
        ("slow_sender_does_not_delay_others", "(needs --exec)"),
        (
            "unread_answers_do_not_delay_others",
            "(needs --exec, on Linux)",
        ),
    ] {
        let listed = line(&part11, check).unwrap_or_else(|| panic!("{check} is not listed"));
        assert!(listed.contains("  stage  with --workers "), "{listed}");
        assert!(listed.ends_with(needs), "{listed}");
    }
    // Part 10's checks, as event loops read them.
    let threads = line(&part11, "threads_bounded_by_pool").unwrap_or_default();
    assert!(threads.contains("the server holds them all"), "{threads}");
    assert!(threads.contains("event loops"), "{threads}");
    let full = line(&part11, "full_queue_answered_503").unwrap_or_default();
    assert!(full.contains("--max-connections 4"), "{full}");
    assert!(full.contains("(it is full)"), "{full}");
    assert!(!full.contains("--queue"), "{full}");
    // Part 10's list: its own texts, and none of part 11's checks.
    let part10 = run(&["part10", "--list"]);
    let threads = line(&part10, "threads_bounded_by_pool").unwrap_or_default();
    assert!(threads.contains("--workers 4 --queue 8"), "{threads}");
    for check in event_loops::CHECKS {
        assert!(!part10.stdout.contains(check), "{check} in part 10's list");
    }
}

/// Part 12's async tasks: `--list` shows its check, which starts a server
/// of its own; part 11's list has none of it.
fn an_async_stage_lists_its_check() {
    let part12 = run(&["part12", "--list"]);
    assert_eq!(part12.code, Some(0));
    for check in tasks::CHECKS {
        let listed = part12
            .lines()
            .into_iter()
            .find(|line| line.starts_with(&format!("{check} ")))
            .unwrap_or_else(|| panic!("{check} is not listed"));
        assert!(listed.contains("  stage  with --workers 1"), "{listed}");
        assert!(listed.ends_with("(needs --exec)"), "{listed}");
        let part11 = run(&["part11", "--list"]);
        assert!(!part11.stdout.contains(check), "{check} in part 11's list");
    }
    // Part 11's checks are part 12's too.
    for check in event_loops::CHECKS {
        assert!(part12.stdout.contains(check), "{check} in part 12's list");
    }
}

/// Part 10's checks, each against a server of its own that stage-check
/// starts with options of its choosing.
mod pool {
    use super::command_line;

    /// The checks that start a server of their own.
    pub const CHECKS: [&str; 4] = [
        "threads_bounded_by_pool",
        "full_queue_answered_503",
        "next_client_served_past_idle_ones",
        "graceful_shutdown",
    ];

    /// `args`, then `--only` for each of [`CHECKS`].
    fn run_only(args: &[&str]) -> super::Run {
        super::run_only(args, &CHECKS)
    }

    /// Against a server already running, each is skipped, saying why.
    pub fn a_server_already_running_skips_the_checks_that_start_their_own() {
        super::skips_the_checks_that_start_their_own("part10-thread-pool", "part10", &CHECKS);
    }

    /// Our pool passes them, each against a server of its own started by
    /// the same command line; and its log, with the worker that serves
    /// each connection, is the transcript part 10 expects.
    pub fn our_pool_passes_its_checks_and_logs_its_workers() {
        let stage = command_line("part10-thread-pool");
        let run = run_only(&["part10", "--exec", &stage, "--only", "transcript"]);
        assert_eq!(run.code, Some(0));
        assert_eq!(run.lines().last(), Some(&"5 passed, 0 failed"));
    }

    /// Part 9 takes no pool options: the checks that start it with them
    /// fail at once, saying it did not start, and with what it said.
    pub fn a_server_without_the_pool_options_fails_saying_so() {
        let stage = command_line("part9-keep-alive");
        let run = run_only(&["part10", "--exec", &stage]);
        assert_eq!(run.code, Some(1));
        assert_eq!(run.lines().last(), Some(&"0 passed, 4 failed"));
        let failures: Vec<&str> = run.stdout.split("FAIL  stage  ").skip(1).collect();
        assert_eq!(failures.len(), CHECKS.len(), "{}", run.stdout);
        for failure in failures {
            assert!(
                failure
                    .contains("expected: the server to start with part 10's options, `--workers "),
                "{failure}"
            );
            assert!(
                failure.contains("the server did not start: it exited"),
                "{failure}"
            );
            assert!(
                failure.contains("error: unexpected argument '--workers' found"),
                "{failure}"
            );
        }
    }

    /// Part 9 with the pool's options dropped, a thread per connection:
    /// its threads are not bounded, nothing answers a client beyond the
    /// "queue", and SIGTERM ends it at once, the request in progress cut
    /// off. (With a thread each, the client past idle connections is
    /// served: that check passes.)
    pub fn a_thread_per_connection_fails_the_pool_checks() {
        let dir = std::env::temp_dir().join(format!("stage-check-pool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a folder for the script");
        let script = dir.join("without-pool-options.sh");
        std::fs::write(&script, WITHOUT_POOL_OPTIONS).expect("the script");
        let server = format!(
            "sh '{}' {}",
            script.display(),
            command_line("part9-keep-alive")
        );
        let run = run_only(&["part10", "--exec", &server, "--format", "json"]);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(run.code, Some(1));
        let outcome = |check: &str| run.check(check)["outcome"].clone();
        assert_eq!(outcome("threads_bounded_by_pool"), "failed");
        assert_eq!(outcome("full_queue_answered_503"), "failed");
        assert_eq!(outcome("next_client_served_past_idle_ones"), "passed");
        assert_eq!(outcome("graceful_shutdown"), "failed");
        let expected = |check: &str| {
            run.check(check)["expected"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        assert!(
            expected("threads_bounded_by_pool").contains("a thread per connection?"),
            "{}",
            run.stdout
        );
        assert!(expected("full_queue_answered_503").contains("the queue has no bound?"));
        assert!(expected("graceful_shutdown").starts_with("(c) after SIGTERM, "));
    }

    /// A shell script that runs the program it is given, with the
    /// arguments after it less part 10's pool options, which part 9 refuses.
    const WITHOUT_POOL_OPTIONS: &str = r#"program=$1; shift
for arg do
    shift
    case "$skip$arg" in
        skip:*) skip= ;;
        --workers|--queue|--shutdown-timeout) skip=skip: ;;
        *) set -- "$@" "$arg" ;;
    esac
done
exec "$program" "$@"
"#;
}

/// Part 11's checks, and part 10's run on event loops, each against a
/// server of its own, as part 10's are.
mod event_loops {
    use super::command_line;

    /// The checks part 11 brings.
    pub const CHECKS: [&str; 3] = [
        "idle_connections_held_by_few_threads",
        "slow_sender_does_not_delay_others",
        "unread_answers_do_not_delay_others",
    ];

    /// `args`, then `--only` for each of [`CHECKS`], and for part 10's
    /// with `with_part_10s`.
    fn run_only(args: &[&str], with_part_10s: bool) -> super::Run {
        let mut checks = CHECKS.to_vec();
        if with_part_10s {
            checks.extend(super::pool::CHECKS);
        }
        super::run_only(args, &checks)
    }

    /// Against a server already running, each is skipped, saying why.
    pub fn a_server_already_running_skips_the_checks_that_start_their_own() {
        super::skips_the_checks_that_start_their_own("part11-event-loop", "part11", &CHECKS);
    }

    /// Our event loops pass them, and part 10's, each against a server of
    /// its own started by the same command line.
    pub fn our_event_loops_pass_their_checks() {
        let stage = command_line("part11-event-loop");
        let run = run_only(&["part11", "--exec", &stage], true);
        assert_eq!(run.code, Some(0));
        assert_eq!(run.lines().last(), Some(&"7 passed, 0 failed"));
    }

    /// Part 10's pool, checked as part 11: it holds only as many
    /// connections as it has workers, waits on the slow client, and knows
    /// no --max-connections. Each failure says why, and the run ends (no
    /// check hangs). The client that reads nothing it may or may not pass:
    /// once another client waits, its next answer to that client says
    /// `Connection: close`, which HTTP allows, and frees its worker.
    pub fn a_pool_fails_the_event_loop_checks_saying_why() {
        let pool = command_line("part10-thread-pool");
        let run = run_only(&["part11", "--exec", &pool, "--format", "json"], true);
        assert_eq!(run.code, Some(1));
        let outcome = |check: &str| run.check(check)["outcome"].clone();
        let expected = |check: &str| {
            run.check(check)["expected"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        for check in &CHECKS[..2] {
            assert_eq!(outcome(check), "failed", "{check}");
        }
        let idle = expected("idle_connections_held_by_few_threads");
        // Which were closed, and how many: the first served, let go for
        // the next client.
        assert!(
            idle.contains("were closed by the server (client 1 (kept), "),
            "{idle}"
        );
        assert!(idle.contains("a pool closes idle connections"), "{idle}");
        let slow = expected("slow_sender_does_not_delay_others");
        assert!(
            slow.contains("a loop that waits on S's next bytes keeps every other client waiting"),
            "{slow}"
        );
        assert_eq!(outcome("full_queue_answered_503"), "failed");
        let full = expected("full_queue_answered_503");
        assert!(
            full.starts_with(
                "the server to start with part 11's options, `--workers 2 --max-connections 4`"
            ),
            "{full}"
        );
        assert!(
            full.contains("unexpected argument '--max-connections' found"),
            "{full}"
        );
        // The pool's large default queue holds 200 quiet clients, on its
        // 4 workers; with no bound to fill, the others pass.
        for check in [
            "threads_bounded_by_pool",
            "next_client_served_past_idle_ones",
            "graceful_shutdown",
        ] {
            assert_eq!(outcome(check), "passed", "{check}");
        }
    }
}

fn an_exercise_runs_the_stage_checks_it_keeps_then_its_own() {
    let list = run(&["part4", "--exercise", "message_counter", "--list"]);
    assert_eq!(list.code, Some(0));
    let lines = list.lines();
    let all = count("part4");
    // One stage check changed on purpose: left out, and said so.
    assert_eq!(
        lines[2 * all - 2].split_whitespace().next(),
        Some("messages_counted_in_log")
    );
    assert!(
        lines[..2 * all]
            .iter()
            .all(|line| !line.starts_with("echo_transcript"))
    );
    assert_eq!(
        lines[2 * all + 1],
        "Left out, as the exercise changes them on purpose:"
    );
    assert!(lines[2 * all + 2].starts_with("  echo_transcript: "));

    // The stage unsolved: its own checks pass, the exercise's fails.
    let stage = command_line("part4-tcp-echo");
    let run = run(&[
        "part4",
        "--exercise",
        "message_counter",
        "--exec",
        &stage,
        "--format",
        "json",
    ]);
    assert_eq!(run.code, Some(1));
    let results = run.json();
    assert_eq!(
        results.len(),
        all,
        "the stage's checks but one, and one more"
    );
    assert_eq!(run.check("messages_counted_in_log")["outcome"], "failed");
    let passed = results.iter().filter(|r| r["outcome"] == "passed").count();
    assert_eq!(passed, all - 1);
}

fn only_finds_an_exercise_check_and_it_catches_the_unsolved_stage() {
    let stage = command_line("part5-http-httparse");
    let run = run(&[
        "part5",
        "--exec",
        &stage,
        "--only",
        "not_found_for_other_paths",
    ]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout
            .contains("FAIL  stage  not_found_for_other_paths")
    );
    assert!(run.stdout.contains("expected: status 404, not 200"));
    assert!(run.stdout.contains("(book: Part 5, exercise 1)"));
}

fn an_exercise_for_another_kind_of_stage_is_a_usage_error() {
    assert_usage_error(
        &["part4", "--exercise", "not_found"],
        &["exercise `not_found` is for part5-http-httparse, not for part4"],
    );
    // clap lists the exercises there are.
    assert_usage_error(
        &["part5", "--exercise", "no_such_exercise"],
        &["chunked_body"],
    );
    assert_usage_error(
        &[
            "part4",
            "--exercise",
            "message_counter",
            "--only",
            "echo_transcript",
        ],
        &["no check `echo_transcript` in part4 with exercise message_counter"],
    );
}

fn colours_only_when_wanted() {
    let server = example("broken-one-client-at-a-time");
    let args = ["part4", "--exec", &server, "--only", "echo_one_message"];
    let escape = "\x1b[";
    assert!(!run(&args).stdout.contains(escape), "none into a pipe");
    let forced = run_with_env(&args, &[("CLICOLOR_FORCE", "1")]);
    assert!(forced.stdout.contains(escape), "CLICOLOR_FORCE forces them");
    let both = run_with_env(&args, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(!both.stdout.contains(escape), "NO_COLOR wins");
}

/// Every process a server started is stopped: after the run, when it fails
/// to start, and on Ctrl-C. (Linux only: they read `/proc`.)
#[cfg(target_os = "linux")]
mod processes {
    use super::*;
    use stage_check::wait::poll_until;

    /// How often to look again.
    const POLL: Duration = Duration::from_millis(20);

    /// Asserts that process `pid` stops within a few seconds (a signal
    /// takes effect soon, not at once). A zombie, dead but not yet waited
    /// for, counts as stopped.
    fn assert_stops(pid: &str) {
        let stopped = poll_until(Duration::from_secs(5), POLL, || {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // The state follows the command's name, which is in parentheses.
            let state = stat.rsplit(") ").next().unwrap_or_default();
            (stat.is_empty() || state.starts_with('Z')).then_some(())
        });
        assert!(stopped.is_some(), "process {pid} was left running");
    }

    /// Waits until `path` holds a line, for at most ten seconds.
    fn read_when_written(path: &Path) -> String {
        let text = poll_until(Duration::from_secs(10), POLL, || {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            text.ends_with('\n').then(|| text.trim().to_string())
        });
        text.unwrap_or_else(|| panic!("{} never written", path.display()))
    }

    /// A command line for --exec that never listens: it writes its own process
    /// id to `leader`, starts a child of its own that writes its id to
    /// `child`, then sleeps. (`: {port}` takes the port, and does nothing.)
    fn never_listening(dir: &Path) -> String {
        let (leader, child) = (dir.join("leader"), dir.join("child"));
        format!(
            ": {{port}}; echo $$ > '{}'; sleep 60 & echo $! > '{}'; exec sleep 60",
            leader.display(),
            child.display()
        )
    }

    /// A folder of its own for `test`, emptied.
    fn scratch(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("stage-check-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        dir
    }

    pub fn a_server_that_never_listens_is_stopped_with_all_it_started() {
        let dir = scratch("never-listens");
        let run = run(&[
            "part4",
            "--exec",
            &never_listening(&dir),
            "--start-timeout",
            "1",
        ]);
        assert_eq!(run.code, Some(2));
        assert!(run.stderr.contains("nothing listened on 127.0.0.1:"));
        for pid in ["leader", "child"].map(|name| read_when_written(&dir.join(name))) {
            assert_stops(&pid);
        }
    }

    pub fn ctrl_c_stops_the_server_with_all_it_started() {
        let dir = scratch("ctrl-c");
        let command = never_listening(&dir);
        let mut child = Command::new(STAGE_CHECK)
            .args(["part4", "--exec", &command, "--start-timeout", "30"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("stage-check runs");
        let pids = ["leader", "child"].map(|name| read_when_written(&dir.join(name)));
        signal(child.id(), nix::sys::signal::Signal::SIGINT);
        let status = poll_until(Duration::from_secs(10), POLL, || {
            child.try_wait().expect("stage-check's status")
        });
        let Some(status) = status else {
            let _ = child.kill();
            panic!("stage-check did not stop on Ctrl-C");
        };
        assert_eq!(status.code(), Some(130));
        for pid in pids {
            assert_stops(&pid);
        }
    }
}

/// Part 12's check, against a server of its own, as part 11's are.
mod tasks {
    use super::{command_line, run};

    /// The checks part 12 brings.
    pub const CHECKS: [&str; 1] = ["awaiting_handler_does_not_delay_others"];

    /// `args`, then `--only` for each of [`CHECKS`].
    fn run_only(args: &[&str]) -> super::Run {
        super::run_only(args, &CHECKS)
    }

    /// Against a server already running, it is skipped, saying why.
    pub fn a_server_already_running_skips_the_check_that_starts_its_own() {
        super::skips_the_checks_that_start_their_own("part12-async", "part12", &CHECKS);
    }

    /// Our async stage passes every check of its part, with the tests'
    /// timeouts: part 12's, and the earlier parts' (the transcript's
    /// `Task N serves` line among them), each that needs one against a
    /// server of its own started by the same command line.
    pub fn our_async_stage_passes_every_check() {
        let stage = command_line("part12-async");
        let keep_alive = stage_check::harness::TEST_KEEP_ALIVE_TIMEOUT
            .as_secs()
            .to_string();
        let read_timeout = super::read_timeout();
        let run = run(&[
            "part12",
            "--exec",
            &stage,
            "--read-timeout",
            &read_timeout,
            "--keep-alive-timeout",
            &keep_alive,
        ]);
        assert_eq!(run.code, Some(0));
        let all = super::count("part12");
        assert_eq!(
            run.lines().last().map(|line| line.to_string()),
            Some(format!("{all} passed, 0 failed"))
        );
    }

    /// Part 11's event loop, checked as part 12: its application has no
    /// `/sleep`, and the check says so at once, rather than time a 404.
    pub fn an_event_loop_fails_the_async_check_saying_why() {
        let event_loop = command_line("part11-event-loop");
        let run = run_only(&["part12", "--exec", &event_loop, "--format", "json"]);
        assert_eq!(run.code, Some(1));
        let check = run.check("awaiting_handler_does_not_delay_others");
        assert_eq!(check["outcome"], "failed");
        let expected = check["expected"].as_str().unwrap_or_default();
        assert!(expected.contains("GET /sleep answered 404"), "{expected}");
        assert!(
            expected.contains("part 12's application has an async /sleep route"),
            "{expected}"
        );
    }
}
