//! The pool's page (`thread-pool.md`, which part 10's chapter includes, and
//! `thread-pool-idle.svg`): part 10's goals, each
//! measured in the same run as what it is held to; its idle keep-alive
//! connections next to part 9's and nginx's; and, in sentences made of
//! those figures, what a pool does with thousands of idle clients.

use std::fmt::Write as _;
use std::path::Path;

use crate::goals::{Goal, Verdict};
use crate::measure::{BATCH, Idle, Missed};
use crate::report::{
    FRESH, Figure, HELD, MEMORY, Panel, REFUSED, REQUESTS, SLOWEST, THREADS, cases, measured,
    median, number, per_round, ratio_cell, rounds, series, x_max,
};
use crate::{
    CONCURRENCY, IDLE, NGINX, POOL, QUEUE, READ_TIMEOUT, Results, THREAD_PER_CONNECTION, WORKERS,
};

/// How many threads beyond its workers a pool may run and still be "its
/// workers and a few": its main thread and its signal handler's, with room
/// for as many again.
const A_FEW: u32 = 4;

/// The connections at once of the goal on requests/s with keep-alive.
const KEEP_ALIVE_GOAL_AT: u32 = 50;

/// The median of one idle figure of `name`, for `case` idle connections.
fn idle_figure(
    all: &[(String, u32, Vec<Idle>)],
    name: &str,
    case: u32,
    figure: Figure<Idle>,
) -> f64 {
    median(all, name, case, figure.of)
}

/// The pool's goals, as this run measured them.
fn goals(results: &Results) -> Vec<Goal> {
    let mut goals = Vec::new();

    // The thread count stays flat: the workers and a few, whatever the
    // number of idle clients.
    let kept = &results.idle_kept_alive;
    let measured_cases = cases(kept);
    let least = measured_cases.iter().copied().min().unwrap_or(IDLE[0]);
    let most = measured_cases
        .iter()
        .copied()
        .max()
        .unwrap_or(IDLE[IDLE.len() - 1]);
    let threads = |name: &str, case| idle_figure(kept, name, case, THREADS);
    let limit = WORKERS + A_FEW;
    let (measured, verdict) = match threads(POOL, most) {
        at_most if at_most.is_nan() => ("–".into(), Verdict::NotMeasured),
        at_most => {
            let at_least = threads(POOL, least);
            let flat = at_most <= at_least || at_least.is_nan();
            let mut text = format!("{} threads", number(at_most, 0));
            if !at_least.is_nan() {
                let _ = write!(
                    text,
                    "; {} at {}",
                    number(at_least, 0),
                    number(least.into(), 0)
                );
            }
            // A thread per connection is measured with fewer.
            if let Some(case) = largest(kept, THREAD_PER_CONNECTION) {
                let part9 = number(threads(THREAD_PER_CONNECTION, case), 0);
                let _ = match case == most {
                    true => write!(text, " ({THREAD_PER_CONNECTION}: {part9})"),
                    false => write!(
                        text,
                        " ({THREAD_PER_CONNECTION}: {part9} at {})",
                        number(case.into(), 0)
                    ),
                };
            }
            let met = flat && at_most <= f64::from(limit);
            (text, if met { Verdict::Met } else { Verdict::NotMet })
        }
    };
    goals.push(Goal {
        what: format!(
            "threads with {} idle keep-alive connections",
            number(most.into(), 0)
        ),
        measured,
        goal: format!("at most {limit} (the {WORKERS} workers and a few), as with fewer"),
        verdict,
    });

    // No socket errors at the most connections at once, either way.
    let busiest = CONCURRENCY[CONCURRENCY.len() - 1];
    goals.extend(crate::goals::no_socket_errors(results, POOL, busiest));

    // With keep-alive, as many requests a second as the thread per
    // connection: each round's ratio, the two measured one after the other.
    let at = KEEP_ALIVE_GOAL_AT;
    let pool = per_round(&results.keep_alive, POOL, at, REQUESTS.of);
    let before = per_round(&results.keep_alive, THREAD_PER_CONNECTION, at, REQUESTS.of);
    let ratios: Vec<f64> = pool.iter().zip(&before).map(|(a, b)| a / b).collect();
    let ratio = stage_check::tools::median(&mut ratios.clone());
    let (measured, verdict) = match ratio.is_nan() {
        true => ("–".into(), Verdict::NotMeasured),
        false => (
            format!(
                "{} against {}: {}",
                number(median(&results.keep_alive, POOL, at, REQUESTS.of), 0),
                number(
                    median(&results.keep_alive, THREAD_PER_CONNECTION, at, REQUESTS.of),
                    0
                ),
                ratio_cell(&pool, &before)
            ),
            Verdict::of_rounds(ratio, &ratios, |ratio| ratio >= 1.0),
        ),
    };
    goals.push(Goal {
        what: format!("requests/s with keep-alive at {at} connections"),
        measured,
        goal: format!("at least {THREAD_PER_CONNECTION}'s (1.00×)"),
        verdict,
    });
    goals
}

/// The goals as a table: what, measured, goal, met or not.
pub fn goals_table(results: &Results) -> String {
    crate::goals::table(
        &format!("Goals of {POOL} (`--workers {WORKERS} --queue {QUEUE}`), measured in this run:"),
        &goals(results),
    )
}

/// The largest number of idle connections `name` was measured with: fewer
/// for a thread per connection than for the others.
fn largest(all: &[(String, u32, Vec<Idle>)], name: &str) -> Option<u32> {
    all.iter()
        .filter(|(n, _, _)| n == name)
        .map(|(_, case, _)| *case)
        .max()
}

/// The servers the pool's page compares: nginx, the thread per connection
/// and the pool, those of them measured.
fn compared(names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|name| [NGINX, THREAD_PER_CONNECTION, POOL].contains(&name.as_str()))
        .cloned()
        .collect()
}

/// One idle figure's cell: the median, or what a fresh request got instead.
fn cell(all: &[(String, u32, Vec<Idle>)], name: &str, case: u32, figure: Figure<Idle>) -> String {
    let value = idle_figure(all, name, case, figure);
    match value.is_finite() {
        true => number(value, figure.decimals),
        false => missed(all, name, case).unwrap_or_else(|| "–".into()),
    }
}

/// What a fresh request got instead of an answer, in the first round it
/// got no answer, as a table says it.
fn missed(all: &[(String, u32, Vec<Idle>)], name: &str, case: u32) -> Option<String> {
    rounds(all, name, case).find_map(|idle| idle.fresh_missed.map(Missed::text))
}

/// The same, as a sentence says it, after "A fresh request".
fn missed_said(all: &[(String, u32, Vec<Idle>)], name: &str, case: u32) -> Option<String> {
    rounds(all, name, case).find_map(|idle| idle.fresh_missed.map(Missed::said))
}

/// The idle keep-alive connections of the compared servers: held open,
/// refused, threads, memory, and a fresh request's time meanwhile.
fn idle_table(results: &Results, names: &[String]) -> String {
    let kept = &results.idle_kept_alive;
    let mut out = String::from(
        "| idle keep-alive connections | server | held open | refused (503) | threads \
         | memory (MiB) | fresh request, median (ms) | slowest (ms) |\n\
         | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for case in cases(kept) {
        // A thread per connection is measured with fewer idle connections.
        let with_case = measured(kept, &compared(names))
            .into_iter()
            .filter(|name| rounds(kept, name, case).next().is_some());
        for name in with_case {
            let cells: Vec<String> = [HELD, REFUSED, THREADS, MEMORY, FRESH, SLOWEST]
                .into_iter()
                .map(|figure| cell(kept, &name, case, figure))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {name} | {} |",
                number(case.into(), 0),
                cells.join(" | ")
            );
        }
    }
    out
}

/// How the text calls a server: "part 9" for a stage, by its part's
/// number; nginx by its name.
fn called(name: &str) -> String {
    match stage_check::STAGES.iter().find(|stage| stage.name == name) {
        Some(stage) => format!("part {}", stage.part),
        None => name.to_string(),
    }
}

/// `text` with its first letter in capitals, to begin a sentence.
fn capitalised(text: &str) -> String {
    let mut letters = text.chars();
    match letters.next() {
        Some(first) => first.to_uppercase().chain(letters).collect(),
        None => String::new(),
    }
}

/// What the pool did with the most idle clients, and with silent ones, in
/// sentences made of the figures. Empty when the pool was not measured so.
fn what_it_does(results: &Results) -> String {
    let kept = &results.idle_kept_alive;
    let silent = &results.idle;
    let (Some(least), Some(most)) = (cases(kept).into_iter().min(), cases(kept).into_iter().max())
    else {
        return String::new();
    };
    if idle_figure(kept, POOL, most, HELD).is_nan() {
        return String::new();
    }
    let count = |value: f64| number(value, 0);
    let mib = |value: f64| number(value, 1);
    let ms = |value: f64| number(value, 3);
    let (pool, before) = (called(POOL), called(THREAD_PER_CONNECTION));
    let mut out = String::new();

    // Idle keep-alive clients: what it held, closed and refused.
    let held = idle_figure(kept, POOL, most, HELD);
    let refused = idle_figure(kept, POOL, most, REFUSED);
    let closed = f64::from(most) - held - refused;
    let threads = idle_figure(kept, POOL, most, THREADS);
    let threads_least = idle_figure(kept, POOL, least, THREADS);
    let _ = write!(
        out,
        "**What a pool does with {most_text} idle clients.** The benchmark \
         opened {most_text} connections, {BATCH} at a time; each sent one \
         request, read its answer, and fell quiet. ",
        most_text = count(most.into()),
    );
    // A thread per connection is measured with fewer idle clients.
    if let Some(case) = largest(kept, THREAD_PER_CONNECTION) {
        let held = idle_figure(kept, THREAD_PER_CONNECTION, case, HELD);
        let _ = write!(
            out,
            "{}, a thread each: {} threads, in {} MiB. ",
            match case == most {
                true => format!("{} held {} of them open", capitalised(&before), count(held)),
                false => format!(
                    "{}, measured with no more than {}, held {} of those open",
                    capitalised(&before),
                    count(case.into()),
                    count(held),
                ),
            },
            count(idle_figure(kept, THREAD_PER_CONNECTION, case, THREADS)),
            mib(idle_figure(kept, THREAD_PER_CONNECTION, case, MEMORY)),
        );
    }
    let _ = write!(
        out,
        "{} held {} open when it was measured, with {} threads ({}), in {} MiB. \
         It had closed the other {}: while connections waited in its queue, \
         a worker that held an idle one closed it to take a waiting one (it \
         looks every 100 ms), and an answer it gave while others waited said \
         `Connection: close`{}. ",
        capitalised(&pool),
        count(held),
        count(threads),
        match threads == threads_least {
            true => format!("as many as with {}", count(least.into())),
            false => format!("{} with {}", count(threads_least), count(least.into())),
        },
        mib(idle_figure(kept, POOL, most, MEMORY)),
        count(closed),
        match held < BATCH.min(WORKERS as usize) as f64 {
            true => format!(
                ", so that even of the last {BATCH} to come, most were told to \
                 close: others of them still waited when they were answered"
            ),
            false => String::new(),
        },
    );
    match refused == 0.0 {
        true => {
            let _ = write!(
                out,
                "It refused none: they came {BATCH} at a time, and its queue \
                 holds {}. ",
                count(QUEUE.into())
            );
        }
        false => {
            let _ = write!(
                out,
                "It refused {} with `503 Service Unavailable`: its queue, which \
                 holds {}, was full. ",
                count(refused),
                count(QUEUE.into())
            );
        }
    }
    out.push_str(
        "A client whose idle connection was closed has lost nothing: its next \
         request opens a new connection, as HTTP lets a server close an idle \
         one at any time. ",
    );
    match missed_said(kept, POOL, most) {
        Some(missed) => {
            let _ = write!(out, "A fresh request meanwhile {missed}. ");
        }
        None => {
            let _ = write!(
                out,
                "A fresh request meanwhile took {} ms at the median, {} ms at \
                 the slowest. ",
                ms(idle_figure(kept, POOL, most, FRESH)),
                ms(idle_figure(kept, POOL, most, SLOWEST)),
            );
        }
    }
    if !idle_figure(kept, NGINX, most, HELD).is_nan() {
        let _ = write!(
            out,
            "nginx held {} with {} threads, in {} MiB ({} MiB with {}): it \
             keeps an idle connection without a thread.",
            count(idle_figure(kept, NGINX, most, HELD)),
            count(idle_figure(kept, NGINX, most, THREADS)),
            mib(idle_figure(kept, NGINX, most, MEMORY)),
            mib(idle_figure(kept, NGINX, least, MEMORY)),
            count(least.into()),
        );
    }
    out.push_str("\n\n");

    // Clients that never send a request: each holds a worker.
    let silent_cases = cases(silent);
    if !silent_cases
        .iter()
        .all(|&case| !idle_figure(silent, POOL, case, HELD).is_nan())
    {
        return out;
    }
    let _ = write!(
        out,
        "Clients that connect and send nothing are another matter: a worker \
         waits for a first request until its read timeout ({} s here; 30 s by \
         default), then answers `408`. ",
        READ_TIMEOUT.as_secs()
    );
    for &case in &silent_cases {
        let held = idle_figure(silent, POOL, case, HELD);
        let refused = idle_figure(silent, POOL, case, REFUSED);
        let with_workers = held.min(WORKERS.into());
        let _ = write!(
            out,
            "With {}, {pool} held {}{}: {} with a worker{}. A fresh request ",
            count(case.into()),
            match held == f64::from(case) {
                true => "them all".to_string(),
                false => count(held),
            },
            match refused == 0.0 {
                true => String::new(),
                false => format!(" and refused {}", count(refused)),
            },
            count(with_workers),
            match held > with_workers {
                true => format!(", {} in its queue", count(held - with_workers)),
                false => String::new(),
            },
        );
        let _ = match missed_said(silent, POOL, case) {
            Some(missed) => write!(out, "{missed}. "),
            None => write!(
                out,
                "took {} ms. ",
                ms(idle_figure(silent, POOL, case, FRESH))
            ),
        };
    }
    if let Some(last) = largest(silent, THREAD_PER_CONNECTION) {
        let _ = write!(
            out,
            "{}, with {}, answered one in {} ms, at the price of {} threads. ",
            capitalised(&before),
            count(last.into()),
            ms(idle_figure(silent, THREAD_PER_CONNECTION, last, FRESH)),
            count(idle_figure(silent, THREAD_PER_CONNECTION, last, THREADS)),
        );
    }
    out.push_str(
        "A pool bounds its threads and its memory, and with them the clients \
         it serves at once: an idle keep-alive connection it can let go, but \
         a client that has not yet sent its request holds a worker until the \
         read timeout frees it.\n",
    );
    out
}

/// Writes `thread-pool.md` (under `head`: what wrote it, and the machine) and
/// `thread-pool-idle.svg` into `folder`.
pub fn write(folder: &Path, results: &Results, names: &[String], head: &str) -> anyhow::Result<()> {
    let text = format!(
        "{head} Medians over the rounds; {POOL}, {THREAD_PER_CONNECTION} and \
         nginx ran with the same keep-alive timeout, {} s.\n\n{}\n\
         With idle keep-alive connections, each of which sent one request, read \
         its answer and fell quiet: how many of them the server still held \
         open when it was measured, how many it refused, its threads and its \
         memory (PSS), and the time of a fresh request made meanwhile \
         (connect, send, read to the close).\n\n{}\n\
         ![Threads and memory against idle keep-alive connections, per server]\
         (under-load/thread-pool-idle.svg)\n\n{}",
        crate::KEEP_ALIVE_TIMEOUT.as_secs(),
        goals_table(results),
        idle_table(results, names),
        what_it_does(results),
    );
    std::fs::write(folder.join("thread-pool.md"), text)?;
    let kept = &results.idle_kept_alive;
    let compared = compared(names);
    let x_axis = ("idle keep-alive connections", 0.0..x_max(&cases(kept)));
    crate::report::plot_side_by_side(
        &folder.join("thread-pool-idle.svg"),
        "Idle keep-alive connections: a thread each, or a pool",
        [
            Panel {
                caption: "threads",
                x_axis: x_axis.clone(),
                y_label: "threads",
                series: series(kept, &compared, THREADS.of),
            },
            Panel {
                caption: "memory (PSS)",
                x_axis,
                y_label: "memory (MiB)",
                series: series(kept, &compared, MEMORY.of),
            },
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::goals::verdicts;
    use crate::measure::Load;

    /// Results as a run might give them: part 9 a thread per connection,
    /// part 10 holding one per worker.
    fn results(pool_requests: &[f64], pool_errors: u64) -> Results {
        let mut results = Results::default();
        for &idle in IDLE {
            for (name, threads, held) in [
                (NGINX, 3, idle),
                (THREAD_PER_CONNECTION, idle + 1, idle),
                (POOL, WORKERS + 2, idle.min(WORKERS)),
            ] {
                // A thread per connection is measured with fewer.
                if name == THREAD_PER_CONNECTION && idle > crate::THREAD_PER_CONNECTION_IDLE {
                    continue;
                }
                let figures = Idle {
                    threads: threads.into(),
                    held: held.into(),
                    memory_mib: 10.0,
                    fresh_ms: 0.1,
                    fresh_slowest_ms: 90.0,
                    ..Idle::default()
                };
                crate::push(&mut results.idle_kept_alive, name, idle, figures);
                let silent = match name == POOL {
                    true => Idle {
                        fresh_ms: f64::INFINITY,
                        fresh_slowest_ms: f64::INFINITY,
                        fresh_missed: Some(Missed::Unanswered),
                        ..figures
                    },
                    false => figures,
                };
                crate::push(&mut results.idle, name, idle, silent);
            }
        }
        for &connections in CONCURRENCY {
            for (name, rounds, errors) in [
                (THREAD_PER_CONNECTION, &[1000.0, 1000.0, 1000.0][..], 0),
                (POOL, pool_requests, pool_errors),
            ] {
                for &requests_per_second in rounds {
                    let load = Load {
                        requests: 100,
                        requests_per_second,
                        socket_errors: errors,
                        ..Load::default()
                    };
                    crate::push(&mut results.load, name, connections, load);
                    crate::push(&mut results.keep_alive, name, connections, load);
                }
            }
        }
        results
    }

    #[test]
    fn the_goals_are_judged_by_their_figures() {
        let met = results(&[1100.0, 1000.0, 900.0], 0);
        assert_eq!(
            verdicts(goals(&met)),
            [Verdict::Met, Verdict::Met, Verdict::Met, Verdict::Met]
        );
        let table = goals_table(&met);
        assert!(
            table.contains(
                "| threads with 10,000 idle keep-alive connections | 102 threads; 102 at 100 \
                 (part9-keep-alive: 3,001 at 3,000) |"
            ),
            "{table}"
        );
        assert!(
            table.contains("| 0 in 3 rounds (0 answers not 2xx) | 0 | met |"),
            "{table}"
        );
        // Slower in the median round, faster in another: within the noise.
        let noisy = results(&[1100.0, 900.0, 800.0], 1);
        assert_eq!(
            verdicts(goals(&noisy)),
            [
                Verdict::Met,
                Verdict::NotMet,
                Verdict::NotMet,
                Verdict::NotMetWithinNoise
            ]
        );
        let slower = results(&[900.0, 900.0, 900.0], 0);
        assert_eq!(verdicts(goals(&slower))[3], Verdict::NotMet);
        assert_eq!(
            verdicts(goals(&Results::default()))[0],
            Verdict::NotMeasured
        );
    }

    #[test]
    fn threads_that_grow_with_the_clients_miss_the_goal() {
        let mut results = results(&[1000.0], 0);
        for (name, case, rounds) in &mut results.idle_kept_alive {
            if name == POOL && *case == IDLE[IDLE.len() - 1] {
                rounds[0].threads = u64::from(WORKERS) + 3;
            }
        }
        // Within the workers and a few, but more than with 100 idle clients.
        assert_eq!(verdicts(goals(&results))[0], Verdict::NotMet);
    }

    #[test]
    fn the_page_says_what_the_pool_held_and_what_it_let_go() {
        let results = results(&[1000.0], 0);
        let names = [NGINX, "part8-web-framework", THREAD_PER_CONNECTION, POOL].map(String::from);
        let table = idle_table(&results, &names);
        assert!(
            table.contains(&format!(
                "| 3,000 | {POOL} | 100 | 0 | 102 | 10.0 | 0.100 | 90.000 |"
            )),
            "{table}"
        );
        assert!(!table.contains("part8"), "{table}");
        let text = what_it_does(&results);
        for said in [
            "Part 10 held 100 open when it was measured, with 102 threads (as many as with 100)",
            "It had closed the other 9,900",
            "It refused none",
            "Part 9, measured with no more than 3,000, held 3,000 of those open, a thread \
             each: 3,001 threads",
            "With 100, part 10 held them all: 100 with a worker. A fresh request got no answer within 2 s.",
            "With 1,000, part 10 held 100: 100 with a worker.",
        ] {
            assert!(text.contains(said), "{said}: {text}");
        }
        let folder = std::env::temp_dir().join(format!("load-pool-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        write(&folder, &results, &names, "head").unwrap();
        let page = std::fs::read_to_string(folder.join("thread-pool.md")).unwrap();
        assert!(page.starts_with("head Medians over the rounds"), "{page}");
        let plot = std::fs::read_to_string(folder.join("thread-pool-idle.svg")).unwrap();
        assert!(
            plot.contains(POOL) && plot.contains("memory (PSS)"),
            "{plot}"
        );
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
