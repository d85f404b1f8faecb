//! # The load benchmark: the stages under load, next to nginx
//!
//! ```text
//! cargo run --release -p load            # the full run: figures and plots for the book
//! cargo run --release -p load -- --quick # a second per case: only "was every request answered?"
//! ```
//!
//! It builds every HTTP stage in release mode, starts each on a free port
//! with `--quiet`, and, when nginx is installed, starts nginx too
//! (`servers/nginx.sh --keep-alive-timeout …`), set up to serve the same
//! page: what a production server does with the same work. Then, in
//! interleaved rounds (every server once per round, so that a noisy moment
//! of the machine falls on all of them alike):
//!
//! - **Load, one request per connection**: `wrk` sends requests over 1, 10,
//!   50 and 200 connections at once, each asking `Connection: close`, so
//!   that every server answers once and closes, as the stages up to part 8
//!   always do; we keep requests/s and the median (p50) and 99th percentile
//!   (p99) latency.
//! - **Load, keep-alive**: the same, but wrk asks nothing, and sends its next
//!   request on the same connection for as long as the server keeps it
//!   open. Part 9 and nginx do; the stages before part 9 still close after
//!   every answer, so wrk connects again for each request.
//! - **Idle connections**: we open 100, 1,000, 3,000 and 10,000 connections
//!   that send nothing, then count the server's threads and its memory, and
//!   time a fresh request made meanwhile, each count on a server started
//!   for it, whose memory at rest it is compared with. The stages with a thread per
//!   connection (up to part 9) stop at 3,000: beyond, they would only show
//!   more threads, in more memory.
//! - **Idle keep-alive connections**, for the servers that keep them: the
//!   same, but each connection first sends one request and reads its answer,
//!   and the server then holds it open for a next request that never comes
//!   (a thread per connection holds them all; part 10's pool closes idle
//!   ones while others wait, and refuses what its queue has no room for, so
//!   we also count how many the server still holds).
//!
//! Each figure is the median over the rounds, and is shown as a ratio to
//! nginx's and to part 5's (or, with keep-alive, to the same server's with
//! one request per connection), measured in the same run; socket errors and
//! answers that were not 2xx are added up over the rounds. The full run
//! writes the tables and the plots into the book (`docs/src/under-load/`),
//! with the pool's own page (`thread-pool.md`: its goals, measured, and what it
//! does with idle clients) and the event loop's (`event-loop.md`: its goals,
//! measured against nginx's); `--quick` writes nothing and fails if a request
//! under load got no 2xx answer, or met a socket error: it is what CI runs.
//!
//! The load generator is [wrk](https://github.com/wg/wrk), from the
//! distribution's packages: one small C program on epoll, so one thread of
//! it keeps up with nginx and leaves the other core to the server. Its Lua
//! hooks (`load/wrk.lua`) count non-2xx answers and print the figures as JSON.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use stage_check::tools::Profile;

mod asynchronous;
mod event_loop;
mod goals;
mod measure;
mod pool;
mod report;

use measure::{Idle, Load, Quiet};

/// The HTTP stages in series order: stage-check's list, so that a stage
/// added there is measured here too.
fn stages() -> Vec<&'static stage_check::Stage> {
    stage_check::STAGES
        .iter()
        .filter(|stage| stage.kind == stage_check::Kind::Http)
        .collect()
}

/// The stage every figure is also compared with: the first HTTP stage.
const BASELINE: &str = "part5-http-httparse";

/// The name nginx goes by in the figures.
const NGINX: &str = "nginx";

/// The stage with a pool of threads, which has goals of its own
/// ([`pool`]), and the stage it improves on, which has a thread per
/// connection.
const POOL: &str = "part10-thread-pool";
const THREAD_PER_CONNECTION: &str = "part9-keep-alive";

/// The pool's size and its queue's: its defaults, given on its command line
/// so that the figures say what they were measured with.
const WORKERS: u32 = 100;
const QUEUE: u32 = 1_000;

/// The stage with event loops, which has goals of its own
/// ([`event_loop`]), measured against nginx's.
const EVENT_LOOP: &str = "part11-event-loop";

/// The stage on tokio, which has goals of its own ([`asynchronous`]),
/// measured against nginx's and hyper's: with its default runtime
/// (`--runtime multi-thread`) under its own name, and with one runtime per
/// thread under [`PER_CORE`].
const ASYNC: &str = "part12-async";

/// Part 12 with `--runtime per-core`: one single-threaded runtime per
/// thread, each with a listener of its own on the same port.
const PER_CORE: &str = "part12-async (per-core)";

/// The name hyper goes by in the figures: part 12's example `part12-hyper`,
/// the same application served by hyper, on part 12's default runtime
/// (tokio's multi-thread one, a thread per core).
const HYPER: &str = "hyper";

/// The example of part 12 that serves its application with hyper.
const HYPER_EXAMPLE: &str = "part12-hyper";

/// How many event loops part 11 runs, and threads part 12's runtime has:
/// as many as nginx's worker processes,
/// which `worker_processes auto` (`servers/nginx.conf`) makes one per core,
/// so that the two are compared with the same number of threads serving.
fn event_loops() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

/// The most connections part 11 and part 12 hold at once (`--max-connections`): above
/// the most idle connections, with room for the fresh requests made
/// meanwhile, so that none of them is refused.
const MAX_CONNECTIONS: u32 = 11_000;

/// Connections at once, under load.
const CONCURRENCY: &[u32] = &[1, 10, 50, 200];

/// Idle connections held open while a fresh request is timed.
const IDLE: &[u32] = &[100, 1_000, 3_000, 10_000];

/// The most idle connections a stage with a thread per connection (up to
/// part 9) is measured with: 3,000 threads already show the price, and
/// 10,000 would only show more of it.
const THREAD_PER_CONNECTION_IDLE: u32 = 3_000;

/// The stages' read timeout here: longer than the whole run, so that no idle
/// connection is dropped while it is measured.
const READ_TIMEOUT: Duration = Duration::from_secs(600);

/// How long part 9 and nginx keep a quiet connection open for its next
/// request: as long as the read timeout, for the same reason. (Under wrk's
/// load no connection is quiet for even a second, so their default of 5 s
/// would measure the same.)
const KEEP_ALIVE_TIMEOUT: Duration = READ_TIMEOUT;

#[derive(Parser)]
#[command(about = "Every HTTP stage next to nginx, under wrk and with idle connections")]
struct Args {
    /// A second per case, one round, nothing written: fails only if a
    /// request got no 2xx answer or met a socket error (for CI).
    #[arg(long)]
    quick: bool,
    /// How many rounds the full run takes (the figures are their medians).
    #[arg(long, default_value_t = FULL.rounds,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    rounds: usize,
}

/// How long and how often to measure, and which cases.
pub struct Plan {
    pub rounds: usize,
    /// How long wrk runs for each server and concurrency, in whole seconds.
    pub seconds: u32,
    /// How many fresh requests are timed with each count of idle connections.
    pub fresh_requests: usize,
    /// Whether wrk checks that every answer is a 2xx, at some cost to its
    /// speed; otherwise it counts only those of 400 and more.
    pub every_status: bool,
    /// Connections at once, one request per connection; and with keep-alive.
    pub close: &'static [u32],
    pub keep_alive: &'static [u32],
    /// Idle connections that sent nothing; and idle keep-alive connections.
    pub idle: &'static [u32],
    pub idle_kept_alive: &'static [u32],
    /// Whether part 12 is measured with its second runtime too
    /// (`--runtime per-core`), under load only.
    pub per_core: bool,
}

const FULL: Plan = Plan {
    rounds: 5,
    seconds: 2,
    fresh_requests: 21,
    every_status: false,
    close: CONCURRENCY,
    keep_alive: CONCURRENCY,
    idle: IDLE,
    idle_kept_alive: IDLE,
    per_core: true,
};

/// For CI, within about three minutes on two busy cores: every case of one
/// request per connection; with keep-alive, the cases of the pool's and the
/// event loop's goals (requests/s at 50 connections, socket errors at 200);
/// and the smallest count of idle connections and 3,000, the largest that
/// every server is measured with (the goals on idle connections are judged
/// at the largest count measured); part 12 with its default runtime only.
const QUICK: Plan = Plan {
    rounds: 1,
    seconds: 1,
    fresh_requests: 3,
    every_status: true,
    close: CONCURRENCY,
    keep_alive: &[50, 200],
    idle: &[100, 3_000],
    idle_kept_alive: &[100, 3_000],
    per_core: false,
};

/// How wrk uses its connections under load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every request says `Connection: close`: one request per connection,
    /// whatever the server would do.
    Close,
    /// Requests say nothing of the connection: the next one goes on the
    /// same connection if the server kept it open, or on a new one.
    KeepAlive,
}

impl Mode {
    /// What a sentence or a table calls it.
    pub fn said(self) -> &'static str {
        match self {
            Mode::Close => "one request per connection",
            Mode::KeepAlive => "keep-alive",
        }
    }
}

/// A server under test: one of the stages, nginx, or hyper.
pub struct Contender {
    pub name: String,
    pub server: stage_check::Server,
    /// Whether it keeps a connection open after an answer, when the client
    /// does not ask it to close: nginx here, and part 9 on.
    pub keeps_alive: bool,
    /// The most idle connections it is measured with: every count for a
    /// server that serves many connections per thread, fewer for a thread
    /// per connection ([`THREAD_PER_CONNECTION_IDLE`]).
    pub most_idle: u32,
    /// How to start another of it: each count of idle connections is
    /// measured on a server of its own, started for it, so that its memory
    /// is compared with the same server's at rest, not with what an earlier
    /// measurement left in it.
    pub launch: Launch,
}

/// How a server is started.
pub enum Launch {
    /// One of the stages: its program and its arguments.
    Stage(std::path::PathBuf, Vec<String>),
    /// A line for the shell, given a free port (nginx's, from
    /// `servers/nginx.sh`).
    Shell(String),
}

impl Launch {
    /// Starts the server, and waits until it listens.
    pub fn start(&self) -> anyhow::Result<stage_check::Server> {
        let server = match self {
            Launch::Stage(program, args) => {
                let mut command = Command::new(program);
                command.args(args);
                stage_check::Server::start(command)
            }
            Launch::Shell(line) => stage_check::Server::exec(line, None, Duration::from_secs(10)),
        };
        server.with_context(|| format!("cannot start {}", self))
    }
}

impl std::fmt::Display for Launch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Launch::Stage(program, args) => write!(f, "{} {}", program.display(), args.join(" ")),
            Launch::Shell(line) => f.write_str(line),
        }
    }
}

/// Every figure of one run, as measured in each round: (server, case) → one
/// measurement per round, where the case is the number of connections.
#[derive(Default)]
pub struct Results {
    /// Under load, one request per connection.
    pub load: Vec<(String, u32, Vec<Load>)>,
    /// Under load, with keep-alive.
    pub keep_alive: Vec<(String, u32, Vec<Load>)>,
    /// With idle connections that sent nothing.
    pub idle: Vec<(String, u32, Vec<Idle>)>,
    /// With idle keep-alive connections, each answered once.
    pub idle_kept_alive: Vec<(String, u32, Vec<Idle>)>,
}

fn main() -> std::process::ExitCode {
    match run(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let plan = if args.quick {
        QUICK
    } else {
        Plan {
            rounds: args.rounds,
            ..FULL
        }
    };
    measure::wrk_version().context("wrk is not installed: apt-get install wrk")?;
    // Thousands of idle connections are as many open files, here and in each
    // server (which inherits the limit): each side holds one per connection,
    // and a few hundred more (wrk's, the fresh requests', its own).
    let open_files = measure::raise_open_files_limit(IDLE[IDLE.len() - 1] as u64 + 1_000)?;
    eprintln!("open files: at most {open_files} a process");

    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("no workspace folder")?;
    let programs = stage_check::tools::build_stages(Profile::Release)?;
    let mut contenders = Vec::new();
    match nginx(workspace) {
        Some(launch) => contenders.push(Contender {
            name: NGINX.into(),
            server: launch.start()?,
            keeps_alive: true,
            most_idle: u32::MAX,
            launch,
        }),
        None => eprintln!("nginx is not installed (apt-get install nginx-light): no ratios to it"),
    }
    for stage in stages() {
        // Part 9 on: the stage keeps connections, and takes
        // `--keep-alive-timeout`.
        let keeps_alive = stage.persistent;
        let mut args: Vec<String> = ["--port", "0", "--quiet", "--read-timeout"]
            .map(String::from)
            .into();
        args.push(READ_TIMEOUT.as_secs().to_string());
        if keeps_alive {
            args.push("--keep-alive-timeout".into());
            args.push(KEEP_ALIVE_TIMEOUT.as_secs().to_string());
        }
        if stage.name == POOL {
            args.extend(["--workers".into(), WORKERS.to_string()]);
            args.extend(["--queue".into(), QUEUE.to_string()]);
        }
        if stage.name == EVENT_LOOP || stage.name == ASYNC {
            args.extend(["--workers".into(), event_loops().to_string()]);
            args.extend(["--max-connections".into(), MAX_CONNECTIONS.to_string()]);
        }
        // Up to part 9, a thread per connection; part 10's pool, part 11's
        // loops and part 12's runtime serve many connections with few threads.
        let most_idle = match stage.pooled() {
            true => u32::MAX,
            false => THREAD_PER_CONNECTION_IDLE,
        };
        let program = programs.join(stage.name);
        if stage.name == ASYNC && plan.per_core {
            // The second runtime under load only: what an idle connection
            // costs is the task's, whichever runtime runs it.
            let mut args = args.clone();
            args.extend(["--runtime".into(), "per-core".into()]);
            let launch = Launch::Stage(program.clone(), args);
            contenders.push(Contender {
                name: PER_CORE.into(),
                server: launch.start()?,
                keeps_alive,
                most_idle: 0,
                launch,
            });
        }
        if stage.name == ASYNC {
            args.extend(["--runtime".into(), "multi-thread".into()]);
        }
        let launch = Launch::Stage(program, args);
        contenders.push(Contender {
            name: stage.name.to_string(),
            server: launch.start()?,
            keeps_alive,
            most_idle,
            launch,
        });
    }
    // hyper, serving part 12's application: its example takes a port and
    // nothing else (no --quiet: it logs nothing per connection; no
    // timeouts: it keeps a quiet connection for as long as the client does).
    let launch = Launch::Stage(
        programs.join("examples").join(HYPER_EXAMPLE),
        ["--port", "0"].map(String::from).into(),
    );
    contenders.push(Contender {
        name: HYPER.into(),
        server: launch.start()?,
        keeps_alive: true,
        most_idle: u32::MAX,
        launch,
    });

    let script = workspace.join("load/wrk.lua");
    let mut results = Results::default();
    for round in 0..plan.rounds {
        eprintln!("round {} of {}", round + 1, plan.rounds);
        // Each round starts with a different server, so that none is always
        // the one measured right after another's load.
        if round > 0 {
            contenders.rotate_left(1);
        }
        // Each server both ways one right after the other, so that the
        // ratio of the two meets the same moment of the machine.
        for &connections in CONCURRENCY {
            for contender in &contenders {
                for (mode, cases, all) in [
                    (Mode::Close, plan.close, &mut results.load),
                    (Mode::KeepAlive, plan.keep_alive, &mut results.keep_alive),
                ] {
                    if !cases.contains(&connections) {
                        continue;
                    }
                    let load = measure::load(contender, connections, mode, &plan, &script)?;
                    eprintln!(
                        "  {:<20} {connections:>4} connections, {mode:?}: {load}",
                        contender.name
                    );
                    push(all, &contender.name, connections, load);
                }
            }
        }
        for (quiet, cases, all) in [
            (Quiet::Silent, plan.idle, &mut results.idle),
            (
                Quiet::KeptAlive,
                plan.idle_kept_alive,
                &mut results.idle_kept_alive,
            ),
        ] {
            for &idle in cases {
                // A server that closes after its answer holds no connection
                // for a next request: there is nothing to measure.
                let held = contenders
                    .iter()
                    .filter(|c| quiet == Quiet::Silent || c.keeps_alive)
                    .filter(|c| idle <= c.most_idle);
                for contender in held {
                    let figures = measure::idle(contender, idle, quiet, &plan)?;
                    eprintln!(
                        "  {:<20} {idle:>5} idle, {quiet:?}: {figures}",
                        contender.name
                    );
                    push(all, &contender.name, idle, figures);
                }
            }
        }
    }

    eprintln!("measured in {:.0} s", started.elapsed().as_secs_f64());
    let problems = report::problems(&results);
    let names = names(&contenders);
    let table = report::table(&results, &names);
    println!("{table}");
    println!("{}", pool::goals_table(&results));
    println!("{}", event_loop::goals_table(&results));
    println!("{}", asynchronous::goals_table(&results));
    let answered_well = "Every request under load was answered with a 2xx, without a socket error.";
    if args.quick {
        if !problems.is_empty() {
            bail!(
                "not every request was answered well:\n{}",
                problems.join("\n")
            );
        }
        println!("{answered_well}");
        return Ok(());
    }
    // The full run writes what it found, errors too: its tables count them.
    let folder = workspace.join("docs/src/under-load");
    report::write(&folder, &results, &names, &table)?;
    println!("Written: {}", folder.display());
    match problems.is_empty() {
        true => println!("{answered_well}"),
        false => println!(
            "Not every request was answered well (the tables count them):\n{}",
            problems.join("\n")
        ),
    }
    Ok(())
}

/// The servers' names in the order of the figures: nginx, then the stages
/// (part 12's second runtime right after its first), then hyper.
fn names(contenders: &[Contender]) -> Vec<String> {
    in_order(contenders.iter().map(|c| c.name.clone()).collect())
}

/// `names` in the order of the figures, as [`names`] says.
fn in_order(mut names: Vec<String>) -> Vec<String> {
    let order = stages();
    let place = |name: &str| -> usize {
        let stage = |name: &str| order.iter().position(|stage| stage.name == name);
        match name {
            NGINX => 0,
            PER_CORE => 2 * stage(ASYNC).unwrap_or(order.len()) + 2,
            HYPER => usize::MAX,
            // `usize::MAX - 1`: a name of no stage, which there is none of.
            name => stage(name).map_or(usize::MAX - 1, |i| 2 * i + 1),
        }
    };
    names.sort_by_key(|name| place(name));
    names
}

pub(crate) fn push<K: PartialEq + Copy, T>(
    all: &mut Vec<(String, K, Vec<T>)>,
    name: &str,
    key: K,
    value: T,
) {
    match all.iter_mut().find(|(n, k, _)| n == name && *k == key) {
        Some((_, _, values)) => values.push(value),
        None => all.push((name.to_string(), key, vec![value])),
    }
}

/// How to start nginx on a free port, from `servers/nginx.sh`, if nginx is
/// installed, keeping connections open as part 9 does.
fn nginx(workspace: &Path) -> Option<Launch> {
    let installed = ["nginx", "/usr/sbin/nginx"]
        .iter()
        .any(|nginx| Command::new(nginx).arg("-v").output().is_ok());
    if !installed {
        return None;
    }
    // `exec`: the shell that runs the line becomes nginx, so that the
    // server's processes, counted and measured, are nginx's alone.
    // The quotes keep a folder name with spaces in one piece.
    Some(Launch::Shell(format!(
        "exec '{}' --keep-alive-timeout {}",
        workspace.join("servers/nginx.sh").display(),
        KEEP_ALIVE_TIMEOUT.as_secs()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_baseline_is_the_first_http_stage() {
        assert_eq!(stages().first().map(|stage| stage.name), Some(BASELINE));
        assert!(!stages().iter().any(|stage| stage.name == "part4-tcp-echo"));
        // Both ways of serving a connection are measured: closing it after
        // one answer (up to part 8), and keeping it (part 9 on).
        assert!(stages().iter().any(|stage| !stage.persistent));
        assert!(stages().iter().any(|stage| stage.persistent));
    }

    #[test]
    fn the_pool_follows_the_thread_per_connection() {
        let names: Vec<&str> = stages().iter().map(|stage| stage.name).collect();
        let pool = names.iter().position(|&name| name == POOL);
        let before = names.iter().position(|&name| name == THREAD_PER_CONNECTION);
        assert_eq!(pool.zip(before).map(|(p, b)| p - b), Some(1), "{names:?}");
        // Both keep connections, so both are measured with idle keep-alive
        // connections, and given the same keep-alive timeout.
        for name in [THREAD_PER_CONNECTION, POOL] {
            assert!(
                stages().iter().any(|s| s.name == name && s.persistent),
                "{name}"
            );
        }
    }

    #[test]
    fn the_event_loop_is_measured_with_every_count_of_idle_connections() {
        let stage = stages().into_iter().find(|stage| stage.name == EVENT_LOOP);
        // Kept connections, served many to a thread: measured with idle
        // keep-alive connections, and with more than a thread per
        // connection is.
        assert!(stage.is_some_and(|stage| stage.persistent && stage.pooled()));
        assert!(IDLE[IDLE.len() - 1] > THREAD_PER_CONNECTION_IDLE);
        assert!(IDLE.contains(&THREAD_PER_CONNECTION_IDLE));
        // Room for the most idle connections, and a fresh request besides.
        assert!(MAX_CONNECTIONS > IDLE[IDLE.len() - 1]);
    }

    #[test]
    fn part_12_is_measured_with_both_runtimes_next_to_hyper() {
        // Part 12 takes the same bounds as part 11, so both are started
        // alike; its second runtime, under load only, in the full run alone.
        let stage = stages().into_iter().find(|stage| stage.name == ASYNC);
        assert!(stage.is_some_and(|stage| stage.persistent && stage.pooled()));
        const { assert!(FULL.per_core && !QUICK.per_core) };
        // Its second runtime right after it, hyper last, whatever the
        // order of the round.
        let names = [HYPER, PER_CORE, ASYNC, EVENT_LOOP, NGINX, BASELINE].map(String::from);
        assert_eq!(
            in_order(names.into()),
            [NGINX, BASELINE, EVENT_LOOP, ASYNC, PER_CORE, HYPER]
        );
    }

    #[test]
    fn the_quick_plan_measures_a_part_of_every_kind() {
        for cases in [
            QUICK.close,
            QUICK.keep_alive,
            QUICK.idle,
            QUICK.idle_kept_alive,
        ] {
            assert!(!cases.is_empty());
        }
        // Every quick case is one of the full run's, so that its table has
        // the same rows, only fewer of them.
        for (quick, full) in [
            (QUICK.close, FULL.close),
            (QUICK.keep_alive, FULL.keep_alive),
            (QUICK.idle, FULL.idle),
            (QUICK.idle_kept_alive, FULL.idle_kept_alive),
        ] {
            assert!(quick.iter().all(|case| full.contains(case)));
        }
    }
}
