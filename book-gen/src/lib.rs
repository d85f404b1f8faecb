//! The book's generated parts, made from the workspace itself so that they
//! cannot drift from it:
//!
//! - the diff between each stage and the one before it, as `diff -ru` prints
//!   it ([`stage_diff`]);
//! - the "Try it" transcripts: the exact commands of each chapter, run for
//!   real against the stage's binary, with what they print on both sides
//!   ([`try_it`]);
//! - the tables of "How fast is it", from the benchmark runs kept in the book
//!   ([`bench`]);
//! - the figures one chapter quotes from another's benchmark page, such as
//!   part 10's silent clients in part 11's chapter ([`quotes`]);
//! - a page for each source file a chapter links to, listed in `SUMMARY.md`
//!   ([`sources`]).
//!
//! [`starters`] writes each stage as a repository to hand out, its lesson
//! left to the learner (`cargo run -p book-gen -- starters`).
//!
//! [`links`] checks the built book: every link leads to a page, and to an
//! element of it when the link names one.
//!
//! `cargo run -p book-gen` writes them into `docs/src/generated/`;
//! `tests/drift.rs` fails when what is written there is no longer what the
//! workspace produces, or when a chapter includes an anchor that is missing.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use similar::TextDiff;
use stage_check::Server;
use stage_check::tools::Profile;

pub mod bench;
pub mod links;
pub mod sources;
pub mod starters;

/// The stages' crate names, in series order: stage-check's list.
pub fn stages() -> Vec<&'static str> {
    stage_check::STAGES.iter().map(|stage| stage.name).collect()
}

/// What the transcripts show in place of the ports of this run: the server's
/// port as in the post (5000), and a client port for each client, from
/// 42702 on.
const SHOWN_SERVER_PORT: &str = "5000";
const SHOWN_CLIENT_PORT: u32 = 42702;

/// What they show in place of the curl version of the machine that ran them.
const SHOWN_CURL: &str = "curl/7.88.1";

/// The workspace's top folder: the one above this crate's, `book-gen/`.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")))
}

/// Where the generated parts live: `docs/src/generated`.
pub fn generated_dir() -> PathBuf {
    workspace_root().join("docs/src/generated")
}

/// One generated file: its path under [`generated_dir`], and its text.
pub struct Generated {
    pub path: String,
    pub text: String,
}

/// The diff from each stage to the next, one file per stage that has a
/// stage before it: `diffs/<stage>.diff`.
pub fn diffs() -> Result<Vec<Generated>> {
    stages()
        .windows(2)
        .map(|pair| {
            Ok(Generated {
                path: format!("diffs/{}.diff", pair[1]),
                text: stage_diff(pair[0], pair[1])?,
            })
        })
        .collect()
}

/// What `diff -ru old new` prints for two stage folders (without the file
/// times, which say nothing here): a unified diff of each file in both that
/// differs, and `Only in …` for what is in one only.
pub fn stage_diff(old: &str, new: &str) -> Result<String> {
    let root = workspace_root();
    let mut out = String::new();
    diff_dirs(&root, Path::new(old), Path::new(new), &mut out)?;
    Ok(out)
}

fn diff_dirs(root: &Path, old: &Path, new: &Path, out: &mut String) -> Result<()> {
    let old_names = entries(&root.join(old))?;
    let new_names = entries(&root.join(new))?;
    let mut names: Vec<&String> = old_names.iter().chain(&new_names).collect();
    names.sort();
    names.dedup();
    for name in names {
        let (in_old, in_new) = (old_names.contains(name), new_names.contains(name));
        let (old_path, new_path) = (old.join(name), new.join(name));
        match (in_old, in_new) {
            (true, false) => out.push_str(&format!("Only in {}: {name}\n", old.display())),
            (false, true) => out.push_str(&format!("Only in {}: {name}\n", new.display())),
            _ if root.join(&old_path).is_dir() => diff_dirs(root, &old_path, &new_path, out)?,
            _ => {
                let read = |path: &Path| {
                    fs::read_to_string(root.join(path))
                        .with_context(|| format!("cannot read {}", path.display()))
                };
                let (before, after) = (read(&old_path)?, read(&new_path)?);
                if before != after {
                    let (a, b) = (
                        old_path.display().to_string(),
                        new_path.display().to_string(),
                    );
                    out.push_str(&format!("diff -ru {a} {b}\n"));
                    let diff = TextDiff::from_lines(&before, &after);
                    out.push_str(
                        &diff
                            .unified_diff()
                            .context_radius(3)
                            .header(&a, &b)
                            .to_string(),
                    );
                }
            }
        }
    }
    Ok(())
}

/// The names in a folder, sorted, leaving out build output.
fn entries(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name != "target" {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// What a "Try it" client does.
enum Client {
    /// Runs curl with these arguments, after `curl`, the URL last.
    Curl(&'static [&'static str]),
    /// The same, with this path in the URL, such as `/create`.
    CurlPath(&'static str, &'static [&'static str]),
    /// The same, with one URL for each of these paths: curl asks for them
    /// one after the other, on one connection if the server keeps it.
    CurlPaths(&'static [&'static str], &'static [&'static str]),
    /// Types these lines into a TCP connection, as with `nc`, reading each
    /// echo before the next line.
    Typed(&'static [&'static str]),
    /// Runs curl as [`Client::CurlPath`] does, then presses Ctrl-C in the
    /// server's terminal (sends it SIGINT), and shows its shutdown.
    CurlThenCtrlC(&'static str, &'static [&'static str]),
}

/// One "Try it": a stage, a name, what its client does, and the options
/// its server is started with (shown on its `cargo run` line).
struct TryIt {
    stage: &'static str,
    name: &'static str,
    client: Client,
    server_args: &'static [&'static str],
}

const TRY_IT: &[TryIt] = &[
    TryIt {
        stage: "part4-tcp-echo",
        name: "echo",
        client: Client::Typed(&["hello", "world"]),
        server_args: &[],
    },
    TryIt {
        stage: "part5-http-httparse",
        name: "curl",
        client: Client::Curl(&["-i"]),
        server_args: &[],
    },
    TryIt {
        stage: "part5-http-httparse",
        name: "bad-content-length",
        client: Client::Curl(&["-i", "-H", "Content-Length: -1"]),
        server_args: &[],
    },
    TryIt {
        stage: "part5-oo-session",
        name: "curl",
        client: Client::Curl(&["-i"]),
        server_args: &[],
    },
    TryIt {
        stage: "part5-oo-session",
        name: "head",
        client: Client::Curl(&["-I"]),
        server_args: &[],
    },
    TryIt {
        stage: "part6-custom-parser",
        name: "curl",
        client: Client::Curl(&["-i"]),
        server_args: &[],
    },
    TryIt {
        stage: "part6-custom-parser",
        name: "no-space-after-colon",
        client: Client::Curl(&["-i", "-H", "Name:no-space-needed"]),
        server_args: &[],
    },
    TryIt {
        stage: "part6-custom-parser",
        name: "space-before-colon",
        client: Client::Curl(&["-i", "-H", "X-Name : value"]),
        server_args: &[],
    },
    TryIt {
        stage: "part6-custom-parser",
        name: "post-body",
        client: Client::Curl(&["-i", "-d", "abc=def"]),
        server_args: &[],
    },
    TryIt {
        stage: "part7-app-interface",
        name: "curl",
        client: Client::Curl(&["-i"]),
        server_args: &[],
    },
    TryIt {
        stage: "part7-app-interface",
        name: "create",
        client: Client::CurlPath("/create", &["-i", "-d", "name=Ada"]),
        server_args: &[],
    },
    TryIt {
        stage: "part7-app-interface",
        name: "not-found",
        client: Client::CurlPath("/nothing-here", &["-i"]),
        server_args: &[],
    },
    TryIt {
        stage: "part8-web-framework",
        name: "query",
        client: Client::CurlPath("/?name=J%C3%BCrgen+X&b", &["-i"]),
        server_args: &[],
    },
    TryIt {
        stage: "part8-web-framework",
        name: "json",
        client: Client::CurlPath("/some_json", &["-i", "-X", "POST"]),
        server_args: &[],
    },
    TryIt {
        stage: "part8-web-framework",
        name: "method-not-allowed",
        client: Client::CurlPath("/create", &["-i"]),
        server_args: &[],
    },
    TryIt {
        stage: "part9-keep-alive",
        name: "two-urls",
        client: Client::CurlPaths(&["/index.html", "/missing"], &["-i"]),
        server_args: &[],
    },
    TryIt {
        stage: "part9-keep-alive",
        name: "close",
        client: Client::CurlPath("/index.html", &["-i", "-H", "Connection: close"]),
        server_args: &[],
    },
    TryIt {
        stage: "part9-keep-alive",
        name: "http-1-0",
        client: Client::CurlPaths(
            &["/index.html", "/index.html"],
            &["-i", "--http1.0", "-H", "Connection: keep-alive"],
        ),
        server_args: &[],
    },
    // One worker, so that the log names the same one on every run.
    TryIt {
        stage: "part10-thread-pool",
        name: "two-urls",
        client: Client::CurlPaths(&["/index.html", "/missing"], &["-i"]),
        server_args: &["--workers", "1"],
    },
    TryIt {
        stage: "part10-thread-pool",
        name: "ctrl-c",
        client: Client::CurlThenCtrlC("/index.html", &["-i"]),
        server_args: &["--workers", "1"],
    },
    // One loop, so that the log names the same one on every run.
    TryIt {
        stage: "part11-event-loop",
        name: "two-urls",
        client: Client::CurlPaths(&["/index.html", "/missing"], &["-i"]),
        server_args: &["--workers", "1"],
    },
    TryIt {
        stage: "part11-event-loop",
        name: "ctrl-c",
        client: Client::CurlThenCtrlC("/index.html", &["-i"]),
        server_args: &["--workers", "1"],
    },
    // A short sleep, then a page, over one connection: the task awaits the
    // handler, and the log names one task.
    TryIt {
        stage: "part12-async",
        name: "sleep",
        client: Client::CurlPaths(&["/sleep?ms=200", "/index.html"], &["-i"]),
        server_args: &["--workers", "1"],
    },
    TryIt {
        stage: "part12-async",
        name: "ctrl-c",
        client: Client::CurlThenCtrlC("/index.html", &["-i"]),
        server_args: &["--workers", "1"],
    },
];

/// Whether the "Try it" transcripts need curl (all but the echo's do).
pub fn try_it_needs_curl() -> bool {
    TRY_IT.iter().any(|t| {
        matches!(
            t.client,
            Client::Curl(_)
                | Client::CurlPath(..)
                | Client::CurlPaths(..)
                | Client::CurlThenCtrlC(..)
        )
    })
}

/// The stage of each "Try it", in the table's order: the layout test holds
/// every stage to having one.
pub fn try_it_stages() -> Vec<&'static str> {
    TRY_IT.iter().map(|t| t.stage).collect()
}

/// Every "Try it" transcript, run for real against the stages' binaries:
/// `try-it/<stage>-<name>-client.console` with the command and what it
/// printed, and `…-server.console` with what the server logged meanwhile.
pub fn try_it() -> Result<Vec<Generated>> {
    let bin_dir = build_stages()?;
    let mut generated = Vec::new();
    for try_it in TRY_IT {
        let (client, server) = run_try_it(try_it, &bin_dir)
            .with_context(|| format!("Try it {} of {}", try_it.name, try_it.stage))?;
        let path = |side: &str| format!("try-it/{}-{}-{side}.console", try_it.stage, try_it.name);
        generated.push(Generated {
            path: path("client"),
            text: client,
        });
        generated.push(Generated {
            path: path("server"),
            text: server,
        });
    }
    Ok(generated)
}

/// One run of stage-check for its chapter: its arguments, and the server
/// its `--exec` starts, as a path in the build folder and as the book shows
/// the command (the command a learner would type).
struct CheckRun {
    name: &'static str,
    args: &'static [&'static str],
    exec: Option<(&'static str, &'static str)>,
}

const CHECK_RUNS: &[CheckRun] = &[
    CheckRun {
        name: "part4-pass",
        args: &["part4"],
        exec: Some(("part4-tcp-echo", "cargo run -q -p part4-tcp-echo --")),
    },
    CheckRun {
        name: "part4-fail",
        args: &["part4"],
        exec: Some((
            "examples/broken-one-client-at-a-time",
            "cargo run -q -p stage-check --example broken-one-client-at-a-time --",
        )),
    },
    CheckRun {
        name: "part4-list",
        args: &["part4", "--list"],
        exec: None,
    },
    CheckRun {
        name: "part5-list",
        args: &[
            "part5",
            "--list",
            "--only",
            "host_required",
            "--only",
            "answer_after_body",
        ],
        exec: None,
    },
    CheckRun {
        name: "part5-fail",
        args: &["part5", "--only", "answer_after_body"],
        exec: Some((
            "examples/broken-answers-before-body",
            "cargo run -q -p stage-check --example broken-answers-before-body --",
        )),
    },
    CheckRun {
        name: "part5-one-flaw",
        args: &["part5", "--rules", "http"],
        exec: Some((
            "examples/broken-no-empty-line",
            "cargo run -q -p stage-check --example broken-no-empty-line --",
        )),
    },
    CheckRun {
        name: "part5-json",
        args: &[
            "part5",
            "--only",
            "bad_request_line",
            "--only",
            "head_request",
            "--format",
            "json",
        ],
        exec: Some(("part5-oo-session", "cargo run -q -p part5-oo-session --")),
    },
    CheckRun {
        name: "part5-json-fail",
        args: &[
            "part5",
            "--only",
            "well_formed_response",
            "--format",
            "json",
        ],
        exec: Some((
            "examples/broken-no-empty-line",
            "cargo run -q -p stage-check --example broken-no-empty-line --",
        )),
    },
    // Part 10's chapter: a pool that starves the next client, seen.
    CheckRun {
        name: "part10-starves",
        args: &["part10", "--only", "next_client_served_past_idle_ones"],
        exec: Some((
            "examples/broken-pool-starves-next-client",
            "cargo run -q -p stage-check --example broken-pool-starves-next-client --",
        )),
    },
    // Part 11's chapter: a loop that waits for a client to take its answers.
    CheckRun {
        name: "part11-blocks-on-write",
        args: &["part11", "--only", "unread_answers_do_not_delay_others"],
        exec: Some((
            "examples/broken-loop-blocks-on-write",
            "cargo run -q -p stage-check --example broken-loop-blocks-on-write --",
        )),
    },
    // Part 12's chapter: an async handler that blocks its thread.
    CheckRun {
        name: "part12-blocking-sleep",
        args: &["part12", "--only", "awaiting_handler_does_not_delay_others"],
        exec: Some((
            "examples/broken-async-blocking-sleep",
            "cargo run -q -p stage-check --example broken-async-blocking-sleep --",
        )),
    },
];

/// What each stage-check run of its chapter checks: its first argument, a
/// stage's name or short form (`part4`). Not every stage has a run; the
/// layout test holds each run to a stage that exists.
pub fn check_run_stages() -> Vec<&'static str> {
    CHECK_RUNS.iter().map(|run| run.args[0]).collect()
}

/// Every stage-check run of its chapter, for real: `stage-check/<name>.console`
/// with the command and what it printed.
pub fn check_runs() -> Result<Vec<Generated>> {
    let bin_dir = build_stages()?;
    CHECK_RUNS
        .iter()
        .map(|run| {
            let mut command = Command::new(bin_dir.join("stage-check"));
            command.args(run.args);
            let mut shown = format!("cargo run -q -p stage-check -- {}", quoted(run.args));
            if let Some((program, shown_program)) = run.exec {
                command.arg("--exec").arg(bin_dir.join(program));
                shown.push_str(&format!(" --exec \"{shown_program}\""));
            }
            // A run with a failing check exits with 1: that is the point.
            let output = command.env("NO_COLOR", "1").output()?;
            let printed = String::from_utf8_lossy(&output.stdout);
            Ok(Generated {
                path: format!("stage-check/{}.console", run.name),
                text: format!("$ {shown}\n{}", normalise_check_run(&printed)),
            })
        })
        .collect()
}

/// What a run of part 11's check of unread answers shows for how much its
/// client had sent when the check gave up: that depends on the sizes of
/// the machine's socket buffers, and varies from run to run.
const SHOWN_SENT_KIB: &str = "8192";

/// Puts fixed ports, times and amounts in a stage-check run's output: every
/// port becomes 5000, every time one that reads well, and what a client had
/// sent [`SHOWN_SENT_KIB`]. What stage-check sent is left as it is, its user
/// agent included: no curl ran.
fn normalise_check_run(printed: &str) -> String {
    let printed = replace_numbers_after(printed, "127.0.0.1:", |_| SHOWN_SERVER_PORT.into());
    let printed = replace_numbers_after(&printed, "had sent ", |_| SHOWN_SENT_KIB.into());
    replace_version_after(&printed, "\"seconds\":", "\"seconds\":0.001")
}

/// Runs one "Try it" on a fresh server: returns the client's side and the
/// server's, as a reader would see them in two terminals.
fn run_try_it(try_it: &TryIt, bin_dir: &Path) -> Result<(String, String)> {
    let mut command = Command::new(bin_dir.join(try_it.stage));
    command.args(["--port", "0"]).args(try_it.server_args);
    let mut server = Server::start(command)?;
    let addr = server.addr();
    let (shown_command, printed) = match try_it.client {
        Client::Curl(args)
        | Client::CurlPath(_, args)
        | Client::CurlPaths(_, args)
        | Client::CurlThenCtrlC(_, args) => {
            let paths: &[&str] = match &try_it.client {
                Client::CurlPath(path, _) | Client::CurlThenCtrlC(path, _) => {
                    std::slice::from_ref(path)
                }
                Client::CurlPaths(paths, _) => paths,
                _ => &[""],
            };
            let output = Command::new("curl")
                .args(["--silent", "--show-error", "--max-time", "5"])
                .args(args)
                .args(
                    paths
                        .iter()
                        .map(|path| format!("localhost:{}{path}", addr.port())),
                )
                .output()
                .context("cannot run curl")?;
            if !output.status.success() {
                bail!("curl failed: {}", String::from_utf8_lossy(&output.stderr));
            }
            // A URL with a query string is quoted, as a shell needs it.
            let shown_urls: Vec<String> = paths
                .iter()
                .map(|path| {
                    let url = format!("localhost:{SHOWN_SERVER_PORT}{path}");
                    if path.contains(['?', '&']) {
                        format!("'{url}'")
                    } else {
                        url
                    }
                })
                .collect();
            let shown = format!("curl {} {}", quoted(args), shown_urls.join(" "));
            (
                shown,
                String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n"),
            )
        }
        Client::Typed(lines) => {
            let mut stream = TcpStream::connect(addr)?;
            stream.set_read_timeout(Some(Duration::from_secs(5)))?;
            let mut printed = String::new();
            for line in lines {
                let typed = format!("{line}\n");
                stream.write_all(typed.as_bytes())?;
                let mut echo = vec![0; typed.len()];
                stream.read_exact(&mut echo)?;
                // What the terminal shows: the line typed, then its echo.
                printed.push_str(&typed);
                printed.push_str(&String::from_utf8_lossy(&echo));
            }
            (format!("nc localhost {SHOWN_SERVER_PORT}"), printed)
        }
    };
    // The server's log is complete once it logged the close of the one
    // connection there was (`Socket with … closed.`, or from part 9 on
    // `… closed: why.`); curl's second connection, if the first closed,
    // comes after it.
    let connections = |lines: &[String]| {
        let count = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
        (count("Socket established"), count("Socket with"))
    };
    let closed = server.log().wait_for(Duration::from_secs(10), |lines| {
        let (opened, closed) = connections(lines);
        (closed > 0 && closed == opened).then_some(())
    });
    if closed.is_none() {
        bail!(
            "the server never logged the close: {:?}",
            server.log().lines()
        );
    }
    let mut logged = server.log().lines();
    if let Client::CurlThenCtrlC(..) = try_it.client {
        logged.extend(interrupt(&mut server)?);
    }
    // A terminal shows the next prompt on a line of its own.
    let newline = if printed.ends_with('\n') { "" } else { "\n" };
    let client = format!("$ {shown_command}\n{printed}{newline}");
    let options = if try_it.server_args.is_empty() {
        String::new()
    } else {
        format!(" -- {}", quoted(try_it.server_args))
    };
    let server_side = format!(
        "$ cargo run -p {}{options}\n{}\n",
        try_it.stage,
        logged.join("\n")
    );
    let port = addr.port().to_string();
    Ok((normalise(&client, &port), normalise(&server_side, &port)))
}

/// Presses Ctrl-C in the server's terminal: sends it SIGINT with `kill`.
/// Returns what the terminal then shows: `^C`, then the lines the server
/// logs until it exits, which it must within a few seconds, with status 0.
fn interrupt(server: &mut Server) -> Result<Vec<String>> {
    let before = server.log().count();
    let sent = Command::new("kill")
        .args(["-INT", &server.pid().to_string()])
        .status()?;
    if !sent.success() {
        bail!("kill -INT failed");
    }
    let exited =
        stage_check::wait::poll_until(Duration::from_secs(10), Duration::from_millis(20), || {
            server.exit_status()
        });
    match exited {
        Some(status) if status.success() => {}
        other => bail!("the server did not exit with 0 after Ctrl-C: {other:?}"),
    }
    // Its last line may still be on its way to us from the pipe.
    let last = server.log().wait_for(Duration::from_secs(5), |lines| {
        lines
            .iter()
            .any(|l| l.starts_with("Shut down:"))
            .then_some(())
    });
    if last.is_none() {
        bail!("the server exited without its `Shut down:` line");
    }
    let mut shown = vec!["^C".to_string()];
    shown.extend(server.log().lines().into_iter().skip(before));
    Ok(shown)
}

/// Shell-quotes arguments that need it, for the command shown.
fn quoted(args: &[&str]) -> String {
    let quote = |arg: &&str| {
        if arg.contains([' ', ':', '*']) {
            format!("'{arg}'")
        } else {
            arg.to_string()
        }
    };
    args.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// What the transcripts show for part 11's first log line, which says what
/// the machine allows: the limits of open files of a Linux desktop
/// (systemd's defaults), raised from the soft one to the hard one.
const SHOWN_OPEN_FILES: &str = "Raised the limit of open files from 1024 to 524288.";

/// Puts the fixed ports, the curl version and the limit of open files in
/// place of this run's, in what a real curl and the server printed.
fn normalise(text: &str, server_port: &str) -> String {
    let text: String = text
        .split_inclusive('\n')
        .map(|line| {
            let open_files = line.starts_with("Raised the limit of open files")
                || line.starts_with("The limit of open files is");
            if open_files {
                let end = &line[line.trim_end().len()..];
                format!("{SHOWN_OPEN_FILES}{end}")
            } else {
                line.to_string()
            }
        })
        .collect();
    let text = text
        .replace(
            &format!("localhost:{server_port}"),
            &format!("localhost:{SHOWN_SERVER_PORT}"),
        )
        .replace(
            &format!("127.0.0.1:{server_port}"),
            &format!("127.0.0.1:{SHOWN_SERVER_PORT}"),
        );
    // Each client port in the order met, shown as 42702, 42703, …: the
    // same connection keeps its number, another gets the next.
    let clients = std::cell::RefCell::new(Vec::<String>::new());
    let text = replace_numbers_after(&text, "127.0.0.1:", |port| {
        if port == SHOWN_SERVER_PORT {
            return port.to_string();
        }
        let mut clients = clients.borrow_mut();
        let index = match clients.iter().position(|seen| seen == port) {
            Some(index) => index,
            None => {
                clients.push(port.to_string());
                clients.len() - 1
            }
        };
        (SHOWN_CLIENT_PORT + index as u32).to_string()
    });
    replace_version_after(&text, "curl/", SHOWN_CURL)
}

/// Replaces the run of digits after each `prefix` by what `with` makes of it.
fn replace_numbers_after(text: &str, prefix: &str, with: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let after = at + prefix.len();
        out.push_str(&rest[..after]);
        let digits = rest[after..].bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push_str(&with(&rest[after..after + digits]));
        }
        rest = &rest[after + digits..];
    }
    out.push_str(rest);
    out
}

/// Replaces `prefix` and the version (digits and dots) after it by `shown`.
fn replace_version_after(text: &str, prefix: &str, shown: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at]);
        let after = at + prefix.len();
        let version = rest[after..]
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        out.push_str(shown);
        rest = &rest[after + version..];
    }
    out.push_str(rest);
    out
}

/// Builds every stage's binary, and stage-check's with its examples, in the
/// profile this program was built in, and returns the folder they are in.
pub fn build_stages() -> Result<PathBuf> {
    let profile = if cfg!(debug_assertions) {
        Profile::Debug
    } else {
        Profile::Release
    };
    stage_check::tools::build_stages(profile)
}

/// The checks each stage beyond the series (part 9 on) introduces, as a
/// table for its chapter: `stage-check/<short>-rules.md`, each check with
/// what it proves and the rule it holds a server to, from stage-check's own
/// entries. The series' stages tell the original's flaws instead.
pub fn rule_tables() -> Vec<Generated> {
    stage_check::STAGES
        .iter()
        .filter(|stage| stage.part >= 9)
        .map(|stage| {
            let mut text = String::from("| check | what passing it proves | the rule |\n");
            text.push_str("| --- | --- | --- |\n");
            let checks = stage_check::checks(*stage, stage_check::Rules::All);
            for check in checks.iter().filter(|check| check.since == stage.part) {
                let rule = match check.rule {
                    stage_check::Rule::Http(sections) => format!("HTTP: {sections}"),
                    stage_check::Rule::Stage(why) => format!("the stage's: {why}"),
                };
                // A `|` inside a cell would end it.
                let cell = |text: &str| text.replace('|', "\\|");
                text.push_str(&format!(
                    "| `{}` | {} | {} |\n",
                    check.name,
                    cell(check.proves),
                    cell(&rule)
                ));
            }
            Generated {
                path: format!("stage-check/{}-rules.md", stage.short),
                text,
            }
        })
        .collect()
}

/// One paragraph that a chapter quotes from a benchmark page of
/// `docs/src/under-load/`, which the load benchmark writes: the paragraph of
/// `page` that starts with `opening`, written to `quotes/<name>.md`.
struct Quote {
    name: &'static str,
    page: &'static str,
    opening: &'static str,
}

const QUOTES: &[Quote] = &[
    // Part 11's chapter: why a thread per waiting client is the problem.
    Quote {
        name: "part10-silent-clients",
        page: "thread-pool.md",
        opening: "Clients that connect and send nothing",
    },
];

/// The paragraphs the chapters quote from the benchmark's pages, as the
/// benchmark wrote them: a figure quoted is never retyped, and follows the
/// page when the benchmark runs again.
pub fn quotes() -> Result<Vec<Generated>> {
    let dir = workspace_root().join("docs/src/under-load");
    QUOTES
        .iter()
        .map(|quote| {
            let path = dir.join(quote.page);
            let page = fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let Some(paragraph) = page
                .split("\n\n")
                .find(|paragraph| paragraph.starts_with(quote.opening))
            else {
                bail!(
                    "{} has no paragraph that starts with {:?}",
                    path.display(),
                    quote.opening
                );
            };
            Ok(Generated {
                path: format!("quotes/{}.md", quote.name),
                text: format!("> {}\n", paragraph.trim_end().replace('\n', "\n> ")),
            })
        })
        .collect()
}

/// The checks of each exercise of a stage from part 11 on, as a table for
/// its chapter: `stage-check/<short>-exercises.md`, each check with what
/// passing it proves, from stage-check's own entries. Part 11's chapter
/// shows what its first exercise measures, the stall a slow handler
/// causes, in the check's own words and figures.
pub fn exercise_tables() -> Vec<Generated> {
    stage_check::STAGES
        .iter()
        .filter(|stage| stage.part >= 11)
        .map(|stage| {
            let mut text = String::from("| exercise | check | what passing it proves |\n");
            text.push_str("| --- | --- | --- |\n");
            for exercise in stage_check::exercises(*stage) {
                for check in exercise.checks {
                    text.push_str(&format!(
                        "| `{}` | `{}` | {} |\n",
                        exercise.name,
                        check.name,
                        check.proves.replace('|', "\\|")
                    ));
                }
            }
            Generated {
                path: format!("stage-check/{}-exercises.md", stage.short),
                text,
            }
        })
        .collect()
}

/// One stage's row of the closing page's table: what it adds, and what it
/// pays for it, in words; the figures come from the benchmark's page.
struct Step {
    stage: &'static str,
    adds: &'static str,
    costs: &'static str,
}

/// The series, one row a stage: the closing page's words. The figures
/// beside them are the load benchmark's ([`journey`]).
const JOURNEY: &[Step] = &[
    Step {
        stage: "part4-tcp-echo",
        adds: "a TCP server that echoes, a thread per client",
        costs: "no HTTP at all: the load benchmark does not run it",
    },
    Step {
        stage: "part5-http-httparse",
        adds: "HTTP: a library parser, one request per connection",
        costs: "a thread per connection, and a close after every answer",
    },
    Step {
        stage: "part5-oo-session",
        adds: "the handler as a `Session`",
        costs: "nothing measurable: the same server, arranged",
    },
    Step {
        stage: "part6-custom-parser",
        adds: "our own incremental parser",
        costs: "code of our own to get right, for a parser that takes bytes as they come",
    },
    Step {
        stage: "part7-app-interface",
        adds: "an application behind an interface, `http`'s types",
        costs: "a request and a response built as values, for every request",
    },
    Step {
        stage: "part8-web-framework",
        adds: "a small framework: routes, queries, `IntoResponse`",
        costs: "a route looked up per request",
    },
    Step {
        stage: "part9-keep-alive",
        adds: "keep-alive, pipelining, timeouts",
        costs: "a thread held for every kept connection, idle or not",
    },
    Step {
        stage: "part10-thread-pool",
        adds: "a fixed pool of workers, `503` when full, a graceful shutdown",
        costs: "a silent client holds a worker: a fresh request waits behind them",
    },
    Step {
        stage: "part11-event-loop",
        adds: "a few event loops: many connections per thread, waiting on none",
        costs: "a connection's states, output and timers written by hand; a slow handler stalls its loop",
    },
    Step {
        stage: "part12-async",
        adds: "async functions on tokio, an asynchronous application",
        costs: "a runtime of some size, and code that must never block its thread",
    },
];

/// A table of the benchmark's page `figures.md`: the one after the
/// paragraph that starts with `opening`, as its rows of cells.
fn figures_table(page: &str, opening: &str) -> Result<Vec<Vec<String>>> {
    let mut paragraphs = page.split("\n\n");
    if !paragraphs.any(|paragraph| paragraph.starts_with(opening)) {
        bail!("the benchmark's figures.md has no paragraph that starts with {opening:?}");
    }
    let table = paragraphs.next().unwrap_or_default();
    Ok(table
        .lines()
        .skip(2)
        .map(|line| {
            line.trim_matches('|')
                .split('|')
                .map(|cell| cell.trim().to_string())
                .collect()
        })
        .collect())
}

/// The figure of `server` in the row for `count` connections, column
/// `column`, without what the page adds in brackets (the ratios).
fn figure(rows: &[Vec<String>], count: &str, server: &str, column: usize) -> String {
    rows.iter()
        .find(|row| {
            row.first().map(String::as_str) == Some(count)
                && row.get(1).map(String::as_str) == Some(server)
        })
        .and_then(|row| row.get(column))
        .map(|cell| cell.split(" (").next().unwrap_or_default().to_string())
        .unwrap_or_else(|| "not measured".to_string())
}

/// The closing page's table: every stage, what it adds and what it costs,
/// with the load benchmark's figures for it from `under-load/figures.md`
/// (50 connections, one request each and kept alive; 1,000 idle
/// connections: the threads, and a fresh request's time among them).
/// Written to `journey.md`; nothing in it is typed by hand but the words.
pub fn journey() -> Result<Vec<Generated>> {
    let path = workspace_root().join("docs/src/under-load/figures.md");
    let page =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let closing = figures_table(&page, "Under load, one request per connection")?;
    let kept = figures_table(&page, "Under load, with keep-alive")?;
    let idle = figures_table(&page, "With idle connections held open")?;
    let mut text = String::from(
        "| stage | what it adds | what it costs | requests/s, 50 connections, one request each | requests/s, 50 kept connections | threads, 1,000 idle connections | fresh request among them (ms) |\n",
    );
    text.push_str("| --- | --- | --- | ---: | ---: | ---: | ---: |\n");
    let mut row = |name: &str, adds: &str, costs: &str| {
        text.push_str(&format!(
            "| {name} | {adds} | {costs} | {} | {} | {} | {} |\n",
            figure(&closing, "50", name.trim_matches('`'), 2),
            figure(&kept, "50", name.trim_matches('`'), 2),
            figure(&idle, "1,000", name.trim_matches('`'), 3),
            figure(&idle, "1,000", name.trim_matches('`'), 6),
        ));
    };
    for step in JOURNEY {
        row(&format!("`{}`", step.stage), step.adds, step.costs);
    }
    row(
        "nginx",
        "the yardstick: a loop per worker process, in C",
        "–",
    );
    Ok(vec![Generated {
        path: "journey.md".to_string(),
        text,
    }])
}

/// Every generated part.
pub fn all() -> Result<Vec<Generated>> {
    let mut generated = diffs()?;
    generated.extend(rule_tables());
    generated.extend(exercise_tables());
    generated.extend(quotes()?);
    generated.extend(sources::pages()?);
    generated.extend(try_it()?);
    generated.extend(check_runs()?);
    generated.extend(bench::tables()?);
    generated.extend(journey()?);
    Ok(generated)
}

/// Writes `generated` into [`generated_dir`], replacing what was there.
pub fn write(generated: &[Generated]) -> Result<()> {
    let dir = generated_dir();
    for file in generated {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, &file.text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The generated files that differ from what is written in the book, by
/// path: empty when the book is up to date.
pub fn drifted(generated: &[Generated]) -> Vec<String> {
    let dir = generated_dir();
    generated
        .iter()
        .filter(|file| {
            fs::read_to_string(dir.join(&file.path)).ok().as_deref() != Some(file.text.as_str())
        })
        .map(|file| file.path.clone())
        .collect()
}

/// Every `{{#include file:anchor}}` in the book's chapters whose file or
/// anchor is missing, as "chapter: what is wrong". (mdBook itself includes
/// nothing for a missing anchor, and says nothing.)
pub fn broken_includes() -> Result<Vec<String>> {
    let src = workspace_root().join("docs/src");
    let mut broken = Vec::new();
    for chapter in markdown_files(&src)? {
        let text = fs::read_to_string(&chapter)?;
        let name = chapter
            .strip_prefix(&src)
            .unwrap_or(&chapter)
            .display()
            .to_string();
        for include in includes(&text) {
            let (file, anchor) = match include.split_once(':') {
                Some((file, anchor)) if !anchor.chars().all(|c| c.is_ascii_digit()) => {
                    (file, Some(anchor))
                }
                _ => (include.split(':').next().unwrap_or(include), None),
            };
            let Some(dir) = chapter.parent() else {
                continue;
            };
            let Ok(source) = fs::read_to_string(dir.join(file)) else {
                broken.push(format!("{name}: {file} does not exist"));
                continue;
            };
            if let Some(anchor) = anchor {
                let starts = source
                    .lines()
                    .any(|l| l.trim_end().ends_with(&format!("ANCHOR: {anchor}")));
                let ends = source
                    .lines()
                    .any(|l| l.trim_end().ends_with(&format!("ANCHOR_END: {anchor}")));
                if !(starts && ends) {
                    broken.push(format!("{name}: {file} has no anchor {anchor}"));
                }
            }
        }
    }
    Ok(broken)
}

/// What follows `{{#include ` (or `#rustdoc_include`) up to `}}`, for each.
fn includes(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for directive in ["{{#include ", "{{#rustdoc_include "] {
        let mut rest = text;
        while let Some(at) = rest.find(directive) {
            rest = &rest[at + directive.len()..];
            if let Some(end) = rest.find("}}") {
                found.push(rest[..end].trim());
            }
        }
    }
    found
}

/// The Markdown files under `dir`, at any depth.
pub(crate) fn markdown_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(markdown_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "md") {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_versions_are_normalised() {
        let text = "Host: localhost:38211\nSocket established with 127.0.0.1:51234.\n\
                    Listening on 127.0.0.1:38211\nUser-Agent: curl/8.5.0\r\n";
        assert_eq!(
            normalise(text, "38211"),
            "Host: localhost:5000\nSocket established with 127.0.0.1:42702.\n\
             Listening on 127.0.0.1:5000\nUser-Agent: curl/7.88.1\r\n"
        );
    }

    #[test]
    fn the_limit_of_open_files_is_shown_as_on_a_desktop() {
        for line in [
            "Raised the limit of open files from 4096 to 1048576.",
            "The limit of open files is 20000.",
        ] {
            let text = format!("{line}\nListening on 127.0.0.1:38211\n");
            assert_eq!(
                normalise(&text, "38211"),
                format!("{SHOWN_OPEN_FILES}\nListening on 127.0.0.1:5000\n")
            );
        }
    }

    #[test]
    fn stage_checks_own_user_agent_is_quoted_as_sent() {
        let printed = r#"{"sent":"User-Agent: curl/7.69.1","seconds":0.0173} 127.0.0.1:38211"#;
        assert_eq!(
            normalise_check_run(printed),
            r#"{"sent":"User-Agent: curl/7.69.1","seconds":0.001} 127.0.0.1:5000"#
        );
    }

    #[test]
    fn the_journey_has_every_stage_in_order() {
        let journey: Vec<&str> = JOURNEY.iter().map(|step| step.stage).collect();
        assert_eq!(journey, stages());
    }

    #[test]
    fn a_figure_is_taken_without_its_ratios() {
        let page = "Under load, one request per connection.\n\n| c | s | r |\n| --- | --- | --- |\n| 50 | nginx | 25,943 (1.00×, 1.88×) |\n";
        let rows = figures_table(page, "Under load, one").unwrap();
        assert_eq!(figure(&rows, "50", "nginx", 2), "25,943");
        assert_eq!(figure(&rows, "50", "part12-async", 2), "not measured");
    }

    #[test]
    fn what_a_client_had_sent_is_shown_fixed() {
        let printed = "reads none of the answers (P had sent 8532 KiB), with `--workers 1`";
        assert_eq!(
            normalise_check_run(printed),
            "reads none of the answers (P had sent 8192 KiB), with `--workers 1`"
        );
    }

    #[test]
    fn includes_are_found() {
        let text = "a {{#include ../../x.rs:here}} b {{#rustdoc_include y.rs}} {{#include z.diff}}";
        assert_eq!(includes(text), ["../../x.rs:here", "z.diff", "y.rs"]);
    }

    #[test]
    fn arguments_are_quoted_where_a_shell_needs_it() {
        assert_eq!(
            quoted(&["-i", "-H", "Content-Length: -1"]),
            "-i -H 'Content-Length: -1'"
        );
    }
}
