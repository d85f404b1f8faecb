//! # The load benchmark: the stages under load, next to nginx
//!
//! ```text
//! cargo run --release -p load            # the full run: figures and plots for the book
//! cargo run --release -p load -- --quick # a second per case: only "was every request answered?"
//! ```
//!
//! It builds every HTTP stage in release mode, starts each on a free port
//! with `--quiet`, and, when nginx is installed, starts nginx too
//! (`servers/nginx.sh`), set up to serve the same page and close every
//! connection: what a production server does with the same work. Then, in
//! interleaved rounds (every server once per round, so that a noisy moment
//! of the machine falls on all of them alike):
//!
//! - **Load**: `wrk` sends requests over 1, 10, 50 and 200 connections at
//!   once, one request per connection, as the stages serve them; we keep
//!   requests/s and the median (p50) and 99th percentile (p99) latency.
//! - **Idle connections**: we open 100, 1,000 and 3,000 connections that send
//!   nothing, then count the server's threads and resident memory, and time
//!   a fresh request made meanwhile.
//!
//! Each figure is the median over the rounds, and is shown as a ratio to
//! nginx's and to part 5's, measured in the same run. The full run writes the
//! table and the plots into the book (`docs/src/under-load/`); `--quick`
//! writes nothing and fails only if a request got no 2xx answer, or met a
//! socket error: it is what CI runs.
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

mod measure;
mod report;

use measure::{Idle, Load};

/// The HTTP stages, by package name, in series order: stage-check's list, so
/// that a stage added there is measured here too.
fn stages() -> Vec<&'static str> {
    stage_check::STAGES
        .iter()
        .filter(|stage| stage.kind == stage_check::Kind::Http)
        .map(|stage| stage.name)
        .collect()
}

/// The stage every figure is also compared with: the first HTTP stage.
const BASELINE: &str = "part5-http-httparse";

/// The name nginx goes by in the figures.
const NGINX: &str = "nginx";

/// Connections at once, under load.
const CONCURRENCY: &[u32] = &[1, 10, 50, 200];

/// Idle connections held open while a fresh request is timed.
const IDLE: &[u32] = &[100, 1_000, 3_000];

/// The stages' read timeout here: longer than the whole run, so that no idle
/// connection is dropped while it is measured.
const READ_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Parser)]
#[command(about = "Every HTTP stage next to nginx, under wrk and with idle connections")]
struct Args {
    /// A second per case, one round, nothing written: fails only if a
    /// request got no 2xx answer or met a socket error (for CI).
    #[arg(long)]
    quick: bool,
}

/// How long and how often to measure.
pub struct Plan {
    pub rounds: usize,
    /// How long wrk runs for each server and concurrency, in whole seconds.
    pub seconds: u32,
    /// How many fresh requests are timed with each count of idle connections.
    pub fresh_requests: usize,
    /// Whether wrk checks that every answer is a 2xx, at some cost to its
    /// speed; otherwise it counts only those of 400 and more.
    pub every_status: bool,
}

const FULL: Plan = Plan {
    rounds: 5,
    seconds: 2,
    fresh_requests: 21,
    every_status: false,
};

const QUICK: Plan = Plan {
    rounds: 1,
    seconds: 1,
    fresh_requests: 3,
    every_status: true,
};

/// A server under test: one of the stages, or nginx.
pub struct Contender {
    pub name: String,
    pub server: stage_check::Server,
}

/// Every figure of one run, as measured in each round.
#[derive(Default)]
pub struct Results {
    /// (server, concurrency) → one `Load` per round.
    pub load: Vec<(String, u32, Vec<Load>)>,
    /// (server, idle connections) → one `Idle` per round.
    pub idle: Vec<(String, u32, Vec<Idle>)>,
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
    let plan = if args.quick { QUICK } else { FULL };
    measure::wrk_version().context("wrk is not installed: apt-get install wrk")?;
    // Thousands of idle connections are as many open files, here and in each
    // server (which inherits the limit).
    measure::raise_open_files_limit(IDLE[IDLE.len() - 1] as usize * 2 + 100)?;

    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("no workspace folder")?;
    let programs = stage_check::tools::build_stages(Profile::Release)?;
    let mut contenders = Vec::new();
    match nginx(workspace)? {
        Some(server) => contenders.push(Contender {
            name: NGINX.into(),
            server,
        }),
        None => eprintln!("nginx is not installed (apt-get install nginx-light): no ratios to it"),
    }
    for name in stages() {
        let mut command = Command::new(programs.join(name));
        command.args(["--port", "0", "--quiet", "--read-timeout"]);
        command.arg(READ_TIMEOUT.as_secs().to_string());
        let server =
            stage_check::Server::start(command).with_context(|| format!("cannot start {name}"))?;
        contenders.push(Contender {
            name: name.to_string(),
            server,
        });
    }

    let script = workspace.join("load/wrk.lua");
    let mut results = Results::default();
    for round in 0..plan.rounds {
        eprintln!("round {} of {}", round + 1, plan.rounds);
        // Each round starts with a different server, so that none is always
        // the one measured right after another's load.
        if round > 0 {
            contenders.rotate_left(1);
        }
        for &connections in CONCURRENCY {
            for contender in &contenders {
                let load = measure::load(contender, connections, &plan, &script)?;
                eprintln!(
                    "  {:<20} {connections:>4} connections: {load}",
                    contender.name
                );
                push(&mut results.load, &contender.name, connections, load);
            }
        }
        for &idle in IDLE {
            for contender in &contenders {
                let figures = measure::idle(contender, idle, &plan)?;
                eprintln!("  {:<20} {idle:>5} idle: {figures}", contender.name);
                push(&mut results.idle, &contender.name, idle, figures);
            }
        }
    }

    eprintln!("measured in {:.0} s", started.elapsed().as_secs_f64());
    let problems = report::problems(&results);
    let table = report::table(&results, &names(&contenders));
    println!("{table}");
    if !problems.is_empty() {
        bail!(
            "not every request was answered well:\n{}",
            problems.join("\n")
        );
    }
    if args.quick {
        println!("Every request was answered with a 2xx, without a socket error.");
        return Ok(());
    }
    let folder = workspace.join("docs/src/under-load");
    report::write(&folder, &results, &names(&contenders), &table)?;
    println!("Written: {}", folder.display());
    Ok(())
}

/// The servers' names in the order of the figures: nginx, then the stages.
fn names(contenders: &[Contender]) -> Vec<String> {
    let mut names: Vec<String> = contenders.iter().map(|c| c.name.clone()).collect();
    let order = stages();
    names.sort_by_key(|name| (name != NGINX, order.iter().position(|stage| stage == name)));
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

/// nginx on a free port, from `servers/nginx.sh`, if nginx is installed.
fn nginx(workspace: &Path) -> anyhow::Result<Option<stage_check::Server>> {
    let installed = ["nginx", "/usr/sbin/nginx"]
        .iter()
        .any(|nginx| Command::new(nginx).arg("-v").output().is_ok());
    if !installed {
        return Ok(None);
    }
    // `exec`: the shell that runs the line becomes nginx, so that the
    // server's processes, counted and measured, are nginx's alone.
    // The quotes keep a folder name with spaces in one piece.
    let command_line = format!("exec '{}'", workspace.join("servers/nginx.sh").display());
    let server = stage_check::Server::exec(&command_line, None, Duration::from_secs(10))
        .context("cannot start nginx")?;
    Ok(Some(server))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_baseline_is_the_first_http_stage() {
        assert_eq!(stages().first(), Some(&BASELINE));
        assert!(!stages().contains(&"part4-tcp-echo"));
    }
}
