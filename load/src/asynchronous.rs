//! Part 12's page (`async.md`): its goals, each measured in the same run as
//! the nginx or hyper figure it is held to; its two runtimes side by side,
//! which is how the stage's default is chosen; and its figures under load
//! and with idle connections, next to nginx's, part 11's and hyper's.
//!
//! Like part 11's page ([`crate::event_loop`]), it has no plot and no link
//! of its own, so that a chapter may include it too.

use std::fmt::Write as _;
use std::path::Path;

use crate::event_loop::{idle_table, largest, load_table};
use crate::goals::{Goal, Verdict};
use crate::measure::{Idle, Load};
use crate::report::{MEMORY, PER_CONNECTION, REQUESTS, median, number, per_round, ratio_cell};
use crate::{
    ASYNC, EVENT_LOOP, HYPER, KEEP_ALIVE_TIMEOUT, MAX_CONNECTIONS, Mode, NGINX, PER_CORE, Results,
    event_loops,
};

/// The connections at once of the goals on requests/s.
const REQUESTS_GOAL_AT: u32 = 50;

/// Requests/s with keep-alive against nginx's and hyper's, at least: a task
/// per connection on tokio should cost no more than part 11's loops did,
/// and our own HTTP/1.1 no more than hyper's.
const KEEP_ALIVE_GOAL: f64 = 1.0;

/// What an idle connection may add to the server's memory, at most, in
/// KiB: a task's state (its future) and a socket's registration, but no
/// buffer while it waits.
const MEMORY_GOAL_KIB: f64 = 8.0;

/// The connections at once of the goal on latency: the most measured.
const LATENCY_GOAL_AT: u32 = 200;

/// The p99 latency, at most, as a multiple of nginx's in the same round.
const LATENCY_GOAL: f64 = 1.0;

/// The servers the page compares, in their order.
const COMPARED: [&str; 5] = [NGINX, EVENT_LOOP, ASYNC, PER_CORE, HYPER];

/// The cases the two runtimes are compared at: connections at once.
const RUNTIMES_AT: [u32; 2] = [50, 200];

/// The goal that part 12's `of` at `at` connections, with keep-alive, be
/// `meets` times `against`'s: each round's ratio, the two measured one
/// right after the other. `what` names the figure, `goal` says the bound.
#[allow(clippy::too_many_arguments)]
fn ratio_goal(
    all: &[(String, u32, Vec<Load>)],
    what: &str,
    at: u32,
    of: fn(&Load) -> f64,
    decimals: usize,
    against: &str,
    goal: String,
    meets: impl Fn(f64) -> bool,
) -> Goal {
    let part12 = per_round(all, ASYNC, at, of);
    let other = per_round(all, against, at, of);
    let ratios: Vec<f64> = part12.iter().zip(&other).map(|(a, b)| a / b).collect();
    let ratio = stage_check::tools::median(&mut ratios.clone());
    let measured = match ratio.is_nan() {
        true => "–".into(),
        false => format!(
            "{} against {}: {}",
            number(median(all, ASYNC, at, of), decimals),
            number(median(all, against, at, of), decimals),
            ratio_cell(&part12, &other)
        ),
    };
    Goal {
        what: format!("{what} at {at} connections, {}", Mode::KeepAlive.said()),
        measured,
        goal,
        verdict: Verdict::of_rounds(ratio, &ratios, meets),
    }
}

/// The goal on idle connections of one kind (`kind`, as the table says
/// it), at the most of them measured: what each adds to part 12's memory.
fn memory_goal(all: &[(String, u32, Vec<Idle>)], kind: &str) -> Option<Goal> {
    let most = largest(all, ASYNC)?;
    let each = per_round(all, ASYNC, most, PER_CONNECTION.of);
    let per_connection = median(all, ASYNC, most, PER_CONNECTION.of);
    let mut measured = format!(
        "{} KiB ({} MiB in all)",
        number(per_connection, 2),
        number(median(all, ASYNC, most, MEMORY.of), 1)
    );
    for other in [NGINX, HYPER] {
        let kib = median(all, other, most, PER_CONNECTION.of);
        if !kib.is_nan() {
            let _ = write!(measured, "; {other}: {} KiB", number(kib, 2));
        }
    }
    Some(Goal {
        what: format!(
            "memory (PSS) per connection, {} {kind}",
            number(most.into(), 0)
        ),
        measured,
        goal: format!("at most {MEMORY_GOAL_KIB:.0} KiB"),
        verdict: Verdict::of_rounds(per_connection, &each, |kib| kib <= MEMORY_GOAL_KIB),
    })
}

/// Part 12's goals, as this run measured them.
fn goals(results: &Results) -> Vec<Goal> {
    let requests = |against: &str| {
        ratio_goal(
            &results.keep_alive,
            "requests/s",
            REQUESTS_GOAL_AT,
            REQUESTS.of,
            0,
            against,
            format!("at least {KEEP_ALIVE_GOAL:.2}× {against}'s"),
            |ratio| ratio >= KEEP_ALIVE_GOAL,
        )
    };
    let mut goals = vec![requests(NGINX), requests(HYPER)];
    goals.extend(memory_goal(
        &results.idle_kept_alive,
        "idle keep-alive connections",
    ));
    goals.extend(memory_goal(
        &results.idle,
        "idle connections that sent nothing",
    ));
    goals.push(ratio_goal(
        &results.keep_alive,
        "p99 latency (ms)",
        LATENCY_GOAL_AT,
        |load| load.p99_ms,
        3,
        NGINX,
        format!("at most {LATENCY_GOAL:.2}× nginx's"),
        |ratio| ratio <= LATENCY_GOAL,
    ));
    goals.extend(crate::goals::no_socket_errors(
        results,
        ASYNC,
        LATENCY_GOAL_AT,
    ));
    goals
}

/// How part 12 was started, as the page and the goals' title say it.
fn started_with() -> String {
    format!(
        "`--workers {} --max-connections {} --runtime multi-thread`",
        event_loops(),
        MAX_CONNECTIONS
    )
}

/// The goals as a table: what, measured, goal, met or not.
pub fn goals_table(results: &Results) -> String {
    crate::goals::table(
        &format!(
            "Goals of {ASYNC} ({}), measured in this run:",
            started_with()
        ),
        &goals(results),
    )
}

/// The two runtimes side by side: requests/s both ways at
/// [`RUNTIMES_AT`] connections, per-core's ratio to multi-thread's round
/// by round, and each one's p99 latency; then which answered more. `None`
/// when the run measured one runtime only (`--quick`).
fn runtimes_table(results: &Results) -> Option<String> {
    let mut out = String::from(
        "| connections | way | multi-thread (requests/s) | per-core (requests/s) \
         | per-core ÷ multi-thread | multi-thread p99 (ms) | per-core p99 (ms) |\n\
         | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let mut ratios = Vec::new();
    for (mode, all) in [
        (Mode::KeepAlive, &results.keep_alive),
        (Mode::Close, &results.load),
    ] {
        for at in RUNTIMES_AT {
            let multi = per_round(all, ASYNC, at, REQUESTS.of);
            let per_core = per_round(all, PER_CORE, at, REQUESTS.of);
            if multi.is_empty() || per_core.is_empty() {
                continue;
            }
            let mut each: Vec<f64> = per_core.iter().zip(&multi).map(|(a, b)| a / b).collect();
            ratios.push(stage_check::tools::median(&mut each));
            let p99 = |name: &str| number(median(all, name, at, |l| l.p99_ms), 3);
            let _ = writeln!(
                out,
                "| {at} | {} | {} | {} | {} | {} | {} |",
                mode.said(),
                number(median(all, ASYNC, at, REQUESTS.of), 0),
                number(median(all, PER_CORE, at, REQUESTS.of), 0),
                ratio_cell(&per_core, &multi),
                p99(ASYNC),
                p99(PER_CORE),
            );
        }
    }
    if ratios.is_empty() {
        return None;
    }
    let faster = ratios.iter().filter(|&&ratio| ratio > 1.0).count();
    let overall = stage_check::tools::median(&mut ratios.clone());
    let better = match overall > 1.0 {
        true => "per-core",
        false => "multi-thread",
    };
    let _ = writeln!(
        out,
        "\nPer-core answered more requests/s than multi-thread in {faster} of \
         these {} cases; the median of their ratios is {overall:.2}×: here, \
         **{better}** is the better runtime.",
        ratios.len()
    );
    Some(out)
}

/// Writes `async.md` into `folder`, under `written` (what wrote it) and
/// `measured_on` (the machine and the tools).
pub fn write(
    folder: &Path,
    results: &Results,
    names: &[String],
    written: &str,
    measured_on: &str,
) -> anyhow::Result<()> {
    let threads = event_loops();
    let runtimes = match runtimes_table(results) {
        Some(table) => format!(
            "## The two runtimes\n\n\
             The same stage with `--runtime multi-thread` (tokio's runtime with \
             {threads} threads that take tasks from each other, and one listener) and \
             with `--runtime per-core` ({threads} single-threaded runtimes, each with \
             a listener of its own on the same port, `SO_REUSEPORT`), measured \
             one right after the other; the ratios are the median of each \
             round's, with the lowest and highest in brackets.\n\n{table}\n"
        ),
        None => String::new(),
    };
    let text = format!(
        "{written}\n\n# Part 12 under load\n\n{measured_on} Medians over the \
         rounds. Part 12 (`{ASYNC}`) ran with {started}: {threads} threads, as \
         many as nginx's worker processes (`worker_processes auto` in \
         `servers/nginx.conf`: one per core, {threads} on this machine), and room \
         for more connections than the most idle ones; `{PER_CORE}` is the same \
         with `--runtime per-core`, measured under load only. `{HYPER}` is \
         part 12's application served by hyper (`cargo run --release -p \
         part12-async --example part12-hyper`), on part 12's default runtime: \
         tokio's multi-thread one, with a thread per core. Part 12, part 11 and nginx kept a quiet \
         connection for the same {timeout} s; hyper's example takes no \
         keep-alive timeout, and keeps a quiet connection for as long as the \
         client does.\n\n\
         {goals}\n\
         The ratios are the median of each round's, with the lowest and \
         highest in brackets: in a round, the two were measured one right \
         after the other. A figure per connection is the server's memory (PSS) \
         with the idle connections, less its memory at rest, divided by their \
         number: each count of idle connections is measured on a server \
         started for it, which has answered a few requests.\n\n\
         {runtimes}\
         ## Under load\n\n\
         Requests/s with wrk, as in the tables of \"How fast is it\", for the \
         servers of this page; with keep-alive first.\n\n{load}\n\
         ## Idle connections\n\n\
         Held open, each kept alive after one answer or silent since its \
         connect, while a fresh request is timed.\n\n{idle}",
        started = started_with(),
        timeout = KEEP_ALIVE_TIMEOUT.as_secs(),
        goals = goals_table(results),
        load = load_table(results, names, ASYNC, &COMPARED),
        idle = idle_table(results, names, &COMPARED),
    );
    std::fs::write(folder.join("async.md"), text)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::goals::verdicts;
    use crate::{CONCURRENCY, IDLE};

    /// Results as a run might give them: part 12 at `speed` times nginx's
    /// requests/s and hyper at nginx's, per-core at `per_core` times part
    /// 12's, in every round; each idle connection costing part 12 `kib`;
    /// part 12's p99 `p99` times nginx's.
    fn results(speed: &[f64], per_core: f64, kib: f64, p99: f64) -> Results {
        let mut results = Results::default();
        for &connections in CONCURRENCY {
            for (round, &speed) in speed.iter().enumerate() {
                let nginx = 10_000.0 + 1_000.0 * round as f64;
                for (name, requests_per_second, p99_ms) in [
                    (NGINX, nginx, 2.0),
                    (HYPER, nginx, 2.0),
                    (ASYNC, nginx * speed, 2.0 * p99),
                    (PER_CORE, nginx * speed * per_core, 2.0),
                ] {
                    let load = Load {
                        requests: 100,
                        requests_per_second,
                        p99_ms,
                        ..Load::default()
                    };
                    crate::push(&mut results.load, name, connections, load);
                    crate::push(&mut results.keep_alive, name, connections, load);
                }
            }
        }
        for &idle in IDLE {
            for (name, per_connection_kib) in [(NGINX, 0.5), (ASYNC, kib)] {
                let figures = Idle {
                    threads: 3,
                    held: idle.into(),
                    memory_mib: 10.0,
                    per_connection_kib,
                    fresh_ms: 0.05,
                    ..Idle::default()
                };
                crate::push(&mut results.idle, name, idle, figures);
                crate::push(&mut results.idle_kept_alive, name, idle, figures);
            }
        }
        results
    }

    #[test]
    fn the_goals_are_judged_against_nginx_and_hyper() {
        use Verdict::*;
        // Against nginx, against hyper, memory twice, p99, socket errors
        // both ways.
        let met = results(&[1.1, 1.2, 1.0], 1.0, 2.0, 0.9);
        assert_eq!(verdicts(goals(&met)), [Met, Met, Met, Met, Met, Met, Met]);
        let table = goals_table(&met);
        assert!(
            table.contains(
                "| requests/s at 50 connections, keep-alive | 12,000 against 11,000: \
                 1.10× (1.00–1.20×) | at least 1.00× hyper's | met |"
            ),
            "{table}"
        );
        assert!(
            table.contains(
                "| memory (PSS) per connection, 10,000 idle keep-alive connections \
                 | 2.00 KiB (10.0 MiB in all); nginx: 0.50 KiB | at most 8 KiB | met |"
            ),
            "{table}"
        );
        let missed = results(&[0.9, 0.8, 0.95], 1.0, 9.0, 1.2);
        assert_eq!(
            verdicts(goals(&missed))[..5],
            [NotMet, NotMet, NotMet, NotMet, NotMet]
        );
    }

    #[test]
    fn the_better_runtime_is_said() {
        let faster = runtimes_table(&results(&[1.0, 1.0], 1.2, 2.0, 1.0)).unwrap();
        assert!(
            faster.contains("| 50 | keep-alive | 10,500 | 12,600 | 1.20× |"),
            "{faster}"
        );
        assert!(faster.contains("in 4 of these 4 cases"), "{faster}");
        assert!(faster.contains("**per-core** is the better"), "{faster}");
        let slower = runtimes_table(&results(&[1.0], 0.9, 2.0, 1.0)).unwrap();
        assert!(
            slower.contains("**multi-thread** is the better"),
            "{slower}"
        );
        // `--quick` measures one runtime: no table.
        let mut one = results(&[1.0], 1.0, 2.0, 1.0);
        one.load.retain(|(name, _, _)| name != PER_CORE);
        one.keep_alive.retain(|(name, _, _)| name != PER_CORE);
        assert_eq!(runtimes_table(&one), None);
    }

    #[test]
    fn the_page_shows_part_12_next_to_nginx_and_hyper() {
        let results = results(&[1.0], 1.0, 2.0, 1.0);
        let names = [NGINX, "part8-web-framework", ASYNC, PER_CORE, HYPER].map(String::from);
        let folder = std::env::temp_dir().join(format!("load-async-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        write(&folder, &results, &names, "written", "measured").unwrap();
        let page = std::fs::read_to_string(folder.join("async.md")).unwrap();
        for shown in [
            "written\n\n# Part 12 under load\n\nmeasured Medians",
            &format!("(`{ASYNC}`) ran with `--workers {}", event_loops()),
            "## The two runtimes",
            &format!("| {ASYNC} (requests/s) | {PER_CORE} (requests/s) | {HYPER} (requests/s) |"),
            &format!("| 10,000 | kept alive | {ASYNC} | 10,000 | 3 | 10.0 | 2.00 | 0.050 |"),
        ] {
            assert!(page.contains(shown), "{shown}: {page}");
        }
        assert!(!page.contains("part8"), "{page}");
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
