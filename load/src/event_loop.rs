//! The event loop's page (`event-loop.md`): part 11's goals, each measured
//! in the same run as the nginx figure it is held to; its figures under
//! load and with idle connections, next to nginx's, part 10's and part
//! 9's; and, from a file the benchmark does not write
//! (`event-loop-profile.md`), where its time goes.
//!
//! The page has no plot and no link of its own: it is a page of the book,
//! and a chapter may include it too, and a relative path cannot lead to the
//! same file from both places.

use std::fmt::Write as _;
use std::path::Path;

use crate::goals::{Goal, Verdict};
use crate::measure::{Idle, Load};
use crate::report::{
    FRESH, Figure, HELD, MEMORY, PER_CONNECTION, REQUESTS, THREADS, cases, measured, median,
    number, per_round, ratio_cell, rounds,
};
use crate::{
    CONCURRENCY, EVENT_LOOP, KEEP_ALIVE_TIMEOUT, MAX_CONNECTIONS, Mode, NGINX, POOL, Results,
    THREAD_PER_CONNECTION, event_loops,
};

/// The connections at once of the goals on requests/s.
const REQUESTS_GOAL_AT: u32 = 50;

/// Requests/s against nginx's, at least, with keep-alive: part 11 does
/// what nginx's workers do, one loop per core, with as many of them.
const KEEP_ALIVE_GOAL: f64 = 1.0;

/// The same with one request per connection, where a new connection's
/// accept and close are the kernel's work as much as the server's.
const CLOSE_GOAL: f64 = 0.9;

/// What an idle connection may add to the server's memory, at most, in
/// KiB: a buffer it does not hold, and a little state.
const MEMORY_GOAL_KIB: f64 = 4.0;

/// A fresh request's time with many idle connections, at most, as a
/// multiple of nginx's in the same round.
const FRESH_GOAL: f64 = 1.5;

/// The file, beside the page, that says where part 11's time goes: written
/// by hand from a profile, and included in the page.
pub const PROFILE: &str = "event-loop-profile.md";

/// The servers the page compares, in its order.
const COMPARED: [&str; 4] = [NGINX, THREAD_PER_CONNECTION, POOL, EVENT_LOOP];

/// The goal that part 11's requests/s at [`REQUESTS_GOAL_AT`] connections,
/// used as `mode` says, be at least `at_least` times nginx's: each round's
/// ratio, the two measured one right after the other.
fn requests_goal(all: &[(String, u32, Vec<Load>)], mode: Mode, at_least: f64) -> Goal {
    let at = REQUESTS_GOAL_AT;
    let part11 = per_round(all, EVENT_LOOP, at, REQUESTS.of);
    let nginx = per_round(all, NGINX, at, REQUESTS.of);
    let ratios: Vec<f64> = part11.iter().zip(&nginx).map(|(a, b)| a / b).collect();
    let ratio = stage_check::tools::median(&mut ratios.clone());
    let measured = match ratio.is_nan() {
        true => "–".into(),
        false => format!(
            "{} against {}: {}",
            number(median(all, EVENT_LOOP, at, REQUESTS.of), 0),
            number(median(all, NGINX, at, REQUESTS.of), 0),
            ratio_cell(&part11, &nginx)
        ),
    };
    Goal {
        what: format!("requests/s at {at} connections, {}", mode.said()),
        measured,
        goal: format!("at least {at_least:.2}× nginx's"),
        verdict: Verdict::of_rounds(ratio, &ratios, |ratio| ratio >= at_least),
    }
}

/// The goals on idle connections of one kind (`kind`, as the table says
/// it), at the most of them measured: what each adds to part 11's memory,
/// and a fresh request's time meanwhile against nginx's.
fn idle_goals(all: &[(String, u32, Vec<Idle>)], kind: &str) -> Vec<Goal> {
    let Some(most) = largest(all, EVENT_LOOP) else {
        return Vec::new();
    };
    let count = number(most.into(), 0);
    let figure = |name: &str, figure: Figure<Idle>| median(all, name, most, figure.of);

    let each = per_round(all, EVENT_LOOP, most, PER_CONNECTION.of);
    let per_connection = figure(EVENT_LOOP, PER_CONNECTION);
    let mut measured = format!(
        "{} KiB ({} MiB in all)",
        number(per_connection, 2),
        number(figure(EVENT_LOOP, MEMORY), 1)
    );
    let nginx = figure(NGINX, PER_CONNECTION);
    if !nginx.is_nan() {
        let _ = write!(measured, "; nginx: {} KiB", number(nginx, 2));
    }
    let memory = Goal {
        what: format!("memory (PSS) per connection, {count} {kind}"),
        measured,
        goal: format!("at most {MEMORY_GOAL_KIB:.0} KiB"),
        verdict: Verdict::of_rounds(per_connection, &each, |kib| kib <= MEMORY_GOAL_KIB),
    };

    let part11 = per_round(all, EVENT_LOOP, most, FRESH.of);
    let nginx = per_round(all, NGINX, most, FRESH.of);
    let ratios: Vec<f64> = part11.iter().zip(&nginx).map(|(a, b)| a / b).collect();
    let ratio = stage_check::tools::median(&mut ratios.clone());
    let missed = rounds(all, EVENT_LOOP, most).find_map(|idle| idle.fresh_missed);
    let (measured, verdict) = match (missed, ratio.is_nan()) {
        (Some(missed), _) => (missed.text(), Verdict::NotMet),
        (None, true) => ("–".into(), Verdict::NotMeasured),
        (None, false) => (
            format!(
                "{} ms against {} ms: {}",
                number(figure(EVENT_LOOP, FRESH), 3),
                number(figure(NGINX, FRESH), 3),
                ratio_cell(&part11, &nginx)
            ),
            Verdict::of_rounds(ratio, &ratios, |ratio| ratio <= FRESH_GOAL),
        ),
    };
    let fresh = Goal {
        what: format!("a fresh request's time, {count} {kind}"),
        measured,
        goal: format!("at most {FRESH_GOAL:.2}× nginx's"),
        verdict,
    };
    vec![memory, fresh]
}

/// The largest number of idle connections `name` was measured with.
pub fn largest(all: &[(String, u32, Vec<Idle>)], name: &str) -> Option<u32> {
    all.iter()
        .filter(|(n, _, _)| n == name)
        .map(|(_, case, _)| *case)
        .max()
}

/// Part 11's goals, as this run measured them.
fn goals(results: &Results) -> Vec<Goal> {
    let mut goals = vec![
        requests_goal(&results.keep_alive, Mode::KeepAlive, KEEP_ALIVE_GOAL),
        requests_goal(&results.load, Mode::Close, CLOSE_GOAL),
    ];
    goals.extend(idle_goals(
        &results.idle_kept_alive,
        "idle keep-alive connections",
    ));
    goals.extend(idle_goals(
        &results.idle,
        "idle connections that sent nothing",
    ));
    let busiest = CONCURRENCY[CONCURRENCY.len() - 1];
    goals.extend(crate::goals::no_socket_errors(results, EVENT_LOOP, busiest));
    goals
}

/// How part 11 was started, as the page and the goals' title say it.
fn started_with() -> String {
    format!(
        "`--workers {} --max-connections {}`",
        event_loops(),
        MAX_CONNECTIONS
    )
}

/// The goals as a table: what, measured, goal, met or not.
pub fn goals_table(results: &Results) -> String {
    crate::goals::table(
        &format!(
            "Goals of {EVENT_LOOP} ({}), measured in this run:",
            started_with()
        ),
        &goals(results),
    )
}

/// Requests/s under load, both ways, of the servers of `names` that are
/// among `compared`, with `subject`'s ratio to nginx's round by round, and
/// its latency and errors. Part 12's page shows the same table.
pub fn load_table(results: &Results, names: &[String], subject: &str, compared: &[&str]) -> String {
    let names = measured(&results.load, &among(names, compared));

    let mut out = format!(
        "| connections | way | {} | {subject} ÷ nginx | {subject} p99 (ms) \
         | {subject} socket errors | {subject} not 2xx |\n\
         | ---: | --- |{} ---: | ---: | ---: | ---: |\n",
        names
            .iter()
            .map(|name| format!("{name} (requests/s)"))
            .collect::<Vec<_>>()
            .join(" | "),
        " ---: |".repeat(names.len()),
    );
    for (mode, all) in [
        (Mode::KeepAlive, &results.keep_alive),
        (Mode::Close, &results.load),
    ] {
        for case in cases(all) {
            let cells: Vec<String> = names
                .iter()
                .map(|name| number(median(all, name, case, REQUESTS.of), 0))
                .collect();
            let part11 = per_round(all, subject, case, REQUESTS.of);
            let nginx = per_round(all, NGINX, case, REQUESTS.of);
            let total = |of: fn(&Load) -> u64| -> u64 { rounds(all, subject, case).map(of).sum() };
            let _ = writeln!(
                out,
                "| {case} | {} | {} | {} | {} | {} | {} |",
                mode.said(),
                cells.join(" | "),
                ratio_cell(&part11, &nginx),
                number(median(all, subject, case, |l| l.p99_ms), 3),
                total(|l| l.socket_errors),
                total(|l| l.not_2xx),
            );
        }
    }
    out
}

/// The idle connections of both kinds, of the servers of `names` that are
/// among `compared`: held open, threads, memory, memory per connection, and
/// a fresh request's time meanwhile. Part 12's page shows the same table.
pub fn idle_table(results: &Results, names: &[String], compared: &[&str]) -> String {
    let names = among(names, compared);
    let mut out = String::from(
        "| idle connections | kind | server | held open | threads | memory (MiB) \
         | per connection (KiB) | fresh request (ms) |\n\
         | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for (kind, all) in [
        ("kept alive", &results.idle_kept_alive),
        ("sent nothing", &results.idle),
    ] {
        for case in cases(all) {
            for name in names
                .iter()
                .filter(|name| rounds(all, name, case).next().is_some())
            {
                let cells: Vec<String> = [HELD, THREADS, MEMORY, PER_CONNECTION, FRESH]
                    .into_iter()
                    .map(|figure| {
                        let value = median(all, name, case, figure.of);
                        match value.is_finite() {
                            true => number(value, figure.decimals),
                            false => rounds(all, name, case)
                                .find_map(|idle| idle.fresh_missed.map(|m| m.text()))
                                .unwrap_or_else(|| "–".into()),
                        }
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "| {} | {kind} | {name} | {} |",
                    number(case.into(), 0),
                    cells.join(" | ")
                );
            }
        }
    }
    out
}

/// The servers of `names` that are among `compared`, in the order of `names`.
fn among(names: &[String], compared: &[&str]) -> Vec<String> {
    names
        .iter()
        .filter(|name| compared.contains(&name.as_str()))
        .cloned()
        .collect()
}

/// Writes `event-loop.md` into `folder`, under `written` (what wrote it)
/// and `measured_on` (the machine and the tools).
pub fn write(
    folder: &Path,
    results: &Results,
    names: &[String],
    written: &str,
    measured_on: &str,
) -> anyhow::Result<()> {
    let loops = event_loops();
    let text = format!(
        "{written}\n\n# Part 11 under load\n\n{measured_on} Medians over the \
         rounds. Part 11 (`{EVENT_LOOP}`) ran with {started}: {loops} event \
         loops, as many as nginx's worker processes (`worker_processes auto` \
         in `servers/nginx.conf`: one per core, {loops} on this machine), and \
         room for more connections than the most idle ones. It, nginx, \
         {POOL} and {THREAD_PER_CONNECTION} kept a quiet connection for the \
         same {timeout} s.\n\n\
         {goals}\n\
         The ratios to nginx are the median of each round's, with the lowest \
         and highest in brackets: in a round, the two were measured one right \
         after the other. A figure per connection is the server's memory (PSS) \
         with the idle connections, less its memory at rest, divided by their \
         number: each count of idle connections is measured on a server \
         started for it, which has answered a few requests.\n\n\
         ## Under load\n\n\
         Requests/s with wrk, as in the tables of \"How fast is it\", for the \
         servers of this page; with keep-alive first.\n\n{load}\n\
         ## Idle connections\n\n\
         Held open, each kept alive after one answer or silent since its \
         connect, while a fresh request is timed. {THREAD_PER_CONNECTION}, a \
         thread per connection, is measured with at most {fewer} of \
         them.\n\n{idle}\n\
         ## Where the time goes\n\n\
         {{{{#include {PROFILE}}}}}\n",
        started = started_with(),
        timeout = KEEP_ALIVE_TIMEOUT.as_secs(),
        goals = goals_table(results),
        load = load_table(results, names, EVENT_LOOP, &COMPARED),
        fewer = number(crate::THREAD_PER_CONNECTION_IDLE.into(), 0),
        idle = idle_table(results, names, &COMPARED),
    );
    std::fs::write(folder.join("event-loop.md"), text)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IDLE;
    use crate::goals::verdicts;

    /// Results as a run might give them: part 11 at `speed` times nginx's
    /// requests/s in every round, each idle connection costing it `kib`,
    /// its fresh request taking `fresh_ms` where nginx's takes 0.1 ms.
    fn results(speed: &[f64], kib: f64, fresh_ms: f64) -> Results {
        let mut results = Results::default();
        for &connections in CONCURRENCY {
            for (round, &speed) in speed.iter().enumerate() {
                let nginx = 10_000.0 + 1_000.0 * round as f64;
                for (name, requests_per_second) in [(NGINX, nginx), (EVENT_LOOP, nginx * speed)] {
                    let load = Load {
                        requests: 100,
                        requests_per_second,
                        ..Load::default()
                    };
                    crate::push(&mut results.load, name, connections, load);
                    crate::push(&mut results.keep_alive, name, connections, load);
                }
            }
        }
        for &idle in IDLE {
            for (name, per_connection_kib, fresh_ms) in
                [(NGINX, 0.3, 0.1), (EVENT_LOOP, kib, fresh_ms)]
            {
                let figures = Idle {
                    threads: 4,
                    held: idle.into(),
                    memory_mib: 10.0,
                    per_connection_kib,
                    fresh_ms,
                    fresh_slowest_ms: fresh_ms,
                    ..Idle::default()
                };
                for _ in speed {
                    crate::push(&mut results.idle, name, idle, figures);
                    crate::push(&mut results.idle_kept_alive, name, idle, figures);
                }
            }
        }
        results
    }

    #[test]
    fn the_goals_are_judged_against_nginx() {
        use Verdict::*;
        let met = results(&[1.0, 1.1, 1.2], 1.0, 0.12);
        // Keep-alive, one per connection, twice memory and fresh request
        // (kept alive, then silent), socket errors both ways.
        assert_eq!(
            verdicts(goals(&met)),
            [Met, Met, Met, Met, Met, Met, Met, Met]
        );
        let table = goals_table(&met);
        assert!(
            table.contains(
                "| requests/s at 50 connections, keep-alive | 12,100 against 11,000: \
                 1.10× (1.00–1.20×) | at least 1.00× nginx's | met |"
            ),
            "{table}"
        );
        assert!(
            table.contains(
                "| memory (PSS) per connection, 10,000 idle keep-alive connections \
                 | 1.00 KiB (10.0 MiB in all); nginx: 0.30 KiB | at most 4 KiB | met |"
            ),
            "{table}"
        );
        // Slower than nginx in the median round, but not in every one: within
        // the noise for keep-alive; above 0.9× with one per connection.
        let noisy = results(&[0.95, 0.92, 1.01], 5.0, 0.2);
        assert_eq!(
            verdicts(goals(&noisy))[..6],
            [NotMetWithinNoise, Met, NotMet, NotMet, NotMet, NotMet]
        );
        assert_eq!(
            verdicts(goals(&Results::default()))[..2],
            [NotMeasured, NotMeasured]
        );
    }

    #[test]
    fn the_page_shows_part_11_next_to_nginx_and_includes_its_profile() {
        let results = results(&[1.0], 1.0, 0.12);
        let names = [NGINX, "part8-web-framework", POOL, EVENT_LOOP].map(String::from);
        let folder = std::env::temp_dir().join(format!("load-event-loop-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        write(&folder, &results, &names, "written", "measured").unwrap();
        let page = std::fs::read_to_string(folder.join("event-loop.md")).unwrap();
        for shown in [
            "written\n\n# Part 11 under load\n\nmeasured Medians",
            &format!("(`{EVENT_LOOP}`) ran with `--workers {}", event_loops()),
            "| 50 | keep-alive | 10,000 | 10,000 | 1.00× | 0.000 | 0 | 0 |",
            &format!("| 10,000 | kept alive | {EVENT_LOOP} | 10,000 | 4 | 10.0 | 1.00 | 0.120 |"),
            "{{#include event-loop-profile.md}}",
        ] {
            assert!(page.contains(shown), "{shown}: {page}");
        }
        // The servers compared only; part 10 was not measured here.
        assert!(!page.contains("part8"), "{page}");
        assert!(!page.contains(&format!("{POOL} (requests/s)")), "{page}");
        assert!(!page.contains(&format!("| {POOL} |")), "{page}");
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
