//! What the run found: its problems, tables of medians and ratios, and the
//! book's copy of them (`figures.md`, `keep-alive.md`, `thread-pool.md` from
//! [`crate::pool`], `event-loop.md` from [`crate::event_loop`], and SVG plots
//! drawn with plotters).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::Context;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use crate::measure::{self, Idle, Load, Missed};
use crate::{BASELINE, NGINX, Results};

/// Every request that got no 2xx answer or met a socket error, per case.
pub fn problems(results: &Results) -> Vec<String> {
    let mut problems = Vec::new();
    for (all, mode) in [
        (&results.load, "one request per connection"),
        (&results.keep_alive, "keep-alive"),
    ] {
        for (name, connections, rounds) in all {
            for load in rounds {
                if load.requests == 0 || load.socket_errors > 0 || load.not_2xx > 0 {
                    problems.push(format!("{name}, {connections} connections, {mode}: {load}"));
                }
            }
        }
    }
    problems
}

/// Measurements of one kind, per server and case (connections at once, or
/// idle connections), one per round: `Results::load` or `Results::idle`.
type Measured<K, T> = [(String, K, Vec<T>)];

/// One figure of a measurement: how to read it off, how many decimals it
/// is shown with, and how.
#[derive(Clone, Copy)]
pub struct Figure<T> {
    pub of: fn(&T) -> f64,
    pub decimals: usize,
    shown: Shown,
    /// What a cell says in place of a figure that is not a number (infinite:
    /// a fresh request that got no answer), from the round that missed it.
    missed: fn(&T) -> Option<String>,
}

/// How a figure is shown in a table.
#[derive(Clone, Copy, PartialEq)]
enum Shown {
    /// The median over the rounds, with its ratios in brackets.
    WithRatios,
    /// The median over the rounds alone: a count whose ratio says nothing.
    Alone,
    /// The sum over the rounds: errors, of which any one counts.
    Total,
}

/// For the figures that are always numbers.
fn never_missed<T>(_: &T) -> Option<String> {
    None
}

/// Requests per second under load, the figure the keep-alive chapter and
/// the pool's goal compare.
pub const REQUESTS: Figure<Load> = Figure {
    of: |l| l.requests_per_second,
    decimals: 0,
    shown: Shown::WithRatios,
    missed: never_missed,
};

/// The load tables' figures: requests/s, p50 and p99 latency, then socket
/// errors and answers not 2xx.
const LOAD_FIGURES: [Figure<Load>; 5] = [
    REQUESTS,
    Figure {
        of: |l| l.p50_ms,
        decimals: 3,
        shown: Shown::WithRatios,
        missed: never_missed,
    },
    Figure {
        of: |l| l.p99_ms,
        decimals: 3,
        shown: Shown::WithRatios,
        missed: never_missed,
    },
    Figure {
        of: |l| l.socket_errors as f64,
        decimals: 0,
        shown: Shown::Total,
        missed: never_missed,
    },
    Figure {
        of: |l| l.not_2xx as f64,
        decimals: 0,
        shown: Shown::Total,
        missed: never_missed,
    },
];

/// How many of the idle connections the server still held.
pub const HELD: Figure<Idle> = Figure {
    of: |i| i.held as f64,
    decimals: 0,
    shown: Shown::Alone,
    missed: never_missed,
};

/// The server's threads, all its processes' together.
pub const THREADS: Figure<Idle> = Figure {
    of: |i| i.threads as f64,
    decimals: 0,
    shown: Shown::WithRatios,
    missed: never_missed,
};

/// The server's memory (PSS).
pub const MEMORY: Figure<Idle> = Figure {
    of: |i| i.memory_mib,
    decimals: 1,
    shown: Shown::WithRatios,
    missed: never_missed,
};

/// What each idle connection added to the server's memory, in KiB: a
/// small difference of two large figures, whose ratio would mostly be noise.
pub const PER_CONNECTION: Figure<Idle> = Figure {
    of: |i| i.per_connection_kib,
    decimals: 2,
    shown: Shown::Alone,
    missed: never_missed,
};

/// A fresh request's median time, or what it got instead of an answer.
pub const FRESH: Figure<Idle> = Figure {
    of: |i| i.fresh_ms,
    decimals: 3,
    shown: Shown::WithRatios,
    missed: |i| i.fresh_missed.map(Missed::text),
};

/// The idle tables' figures, in their columns' order.
const IDLE_FIGURES: [Figure<Idle>; 5] = [HELD, THREADS, MEMORY, PER_CONNECTION, FRESH];

/// How many of the idle connections the server refused with a `503` (on
/// the pool's page only).
pub const REFUSED: Figure<Idle> = Figure {
    of: |i| i.refused as f64,
    ..HELD
};

/// The slowest fresh request's time (on the pool's page only).
pub const SLOWEST: Figure<Idle> = Figure {
    of: |i| i.fresh_slowest_ms,
    ..FRESH
};

/// The median over the rounds of one figure, for one server and case.
pub fn median<K: PartialEq, T>(
    all: &Measured<K, T>,
    name: &str,
    case: K,
    of: fn(&T) -> f64,
) -> f64 {
    let mut values: Vec<f64> = all
        .iter()
        .filter(|(n, c, _)| n == name && *c == case)
        .flat_map(|(_, _, rounds)| rounds.iter().map(of))
        .collect();
    stage_check::tools::median(&mut values)
}

/// What a figure is compared with, besides nginx's in the same table.
enum Against<'a, T> {
    /// Another server's, in the same table: part 5's.
    Server(&'a str),
    /// The same server's, in another measurement: with keep-alive, its
    /// figure with one request per connection.
    Itself(&'a Measured<u32, T>),
}

/// The cases of a measurement (the numbers of connections), in the order
/// measured.
pub fn cases<K: PartialEq + Copy, T>(all: &Measured<K, T>) -> Vec<K> {
    let mut cases = Vec::new();
    for (_, case, _) in all {
        if !cases.contains(case) {
            cases.push(*case);
        }
    }
    cases
}

/// The servers of `names` that a measurement has figures of, in that order.
pub fn measured<K, T>(all: &Measured<K, T>, names: &[String]) -> Vec<String> {
    let has = |name: &String| all.iter().any(|(n, _, _)| n == name);
    names.iter().filter(|name| has(name)).cloned().collect()
}

/// One table row per case and server measured with it: the case, the
/// server, then each figure as its [`Shown`] says.
fn rows<T>(
    out: &mut String,
    all: &Measured<u32, T>,
    names: &[String],
    figures: &[Figure<T>],
    against: &Against<'_, T>,
) {
    let names = measured(all, names);
    let has_nginx = names.iter().any(|name| name == NGINX);
    for case in cases(all) {
        // A thread per connection is measured with fewer idle connections.
        for name in names
            .iter()
            .filter(|name| rounds(all, name, case).next().is_some())
        {
            let cells: Vec<String> = figures
                .iter()
                .map(|figure| {
                    let of = |server: &str| median(all, server, case, figure.of);
                    let value = of(name);
                    if !value.is_finite() {
                        return rounds(all, name, case)
                            .find_map(figure.missed)
                            .unwrap_or_else(|| "–".into());
                    }
                    match figure.shown {
                        Shown::Total => {
                            let total = rounds(all, name, case).map(figure.of).sum();
                            number(total, figure.decimals)
                        }
                        Shown::Alone => number(value, figure.decimals),
                        Shown::WithRatios => {
                            let nginx = has_nginx.then(|| of(NGINX));
                            let other = match against {
                                Against::Server(server) => of(server),
                                Against::Itself(other) => median(other, name, case, figure.of),
                            };
                            with_ratios(value, nginx, other, figure.decimals)
                        }
                    }
                })
                .collect();
            let case = number(case.into(), 0);
            let _ = writeln!(out, "| {case} | {name} | {} |", cells.join(" | "));
        }
    }
}

/// The measurements of one server and case, one per round.
pub fn rounds<'a, T>(
    all: &'a Measured<u32, T>,
    name: &'a str,
    case: u32,
) -> impl Iterator<Item = &'a T> {
    all.iter()
        .filter(move |(n, c, _)| n == name && *c == case)
        .flat_map(|(_, _, rounds)| rounds.iter())
}

/// `value`, then its ratio to nginx's and to the other figure:
/// `12,345 (0.52×, 1.00×)`. A ratio to a figure that is not a number (a
/// fresh request that got no answer) is a dash.
fn with_ratios(value: f64, nginx: Option<f64>, other: f64, decimals: usize) -> String {
    let ratio = |to: f64| match to.is_finite() {
        true => format!("{:.2}×", value / to),
        false => "–".into(),
    };
    let mut cell = number(value, decimals);
    match nginx {
        Some(nginx) => write!(cell, " ({}, {})", ratio(nginx), ratio(other)),
        None => write!(cell, " ({})", ratio(other)),
    }
    .expect("writing to a String");
    cell
}

/// `12345.6` as `12,346` (with `decimals` = 0), or `0.123` with 3.
pub fn number(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if fraction.is_empty() {
        grouped
    } else {
        format!("{grouped}.{fraction}")
    }
}

/// The four tables of medians, in Markdown, which reads as plain text too.
pub fn table(results: &Results, names: &[String]) -> String {
    let with_nginx = names.iter().any(|name| name == NGINX);
    let ratios = |other: &str| match with_nginx {
        true => format!("in brackets, the ratio to nginx's figure and to {other}"),
        false => format!("in brackets, the ratio to {other}"),
    };
    let capitalised = |text: String| format!("In{}", &text[2..]);
    let part5 = ratios("part 5's (`part5-http-httparse`)");
    let load_head = "| connections | server | requests/s | p50 latency (ms) | p99 latency (ms) \
                     | socket errors | not 2xx |\n\
                     | ---: | --- | ---: | ---: | ---: | ---: | ---: |";
    let idle_head = "| idle connections | server | held open | threads | memory (MiB) \
                     | per connection (KiB) | fresh request (ms) |\n\
                     | ---: | --- | ---: | ---: | ---: | ---: | ---: |";
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Under load, one request per connection (each request asks \
         `Connection: close`): medians over the rounds; {part5}. The last two \
         columns add up the rounds: wrk's socket errors (a connection refused \
         or reset, a read or write that failed, a request over its 5 s \
         timeout), and the answers whose status was not 2xx (a pool's \
         `503`, when its queue is full, among them).\n\n{load_head}"
    );
    let against = Against::Server(BASELINE);
    rows(&mut out, &results.load, names, &LOAD_FIGURES, &against);
    let _ = writeln!(
        out,
        "\nUnder load, with keep-alive: the stages before part 9 still close \
         after every answer, so each of their requests needs a new connection; \
         {}.\n\n{load_head}",
        ratios("the same server's with one request per connection")
    );
    let against = Against::Itself(&results.load);
    rows(
        &mut out,
        &results.keep_alive,
        names,
        &LOAD_FIGURES,
        &against,
    );
    let _ = writeln!(
        out,
        "\nWith idle connections held open, which sent nothing: how many of \
         them the server still held open when measured (a pool refuses those \
         its queue has no room for), the threads and the memory (PSS) of the \
         server's processes, what each idle connection added to that memory \
         (its growth over the same server's at rest, divided by their number: \
         each count is measured on a server started for it), and the median time of a fresh request (connect, send, read \
         to the close); {part5}. The stages with a thread per connection (up \
         to part 9) are measured with at most {} idle connections: beyond, \
         they would show only more threads, in more memory.\n\n{idle_head}",
        number(crate::THREAD_PER_CONNECTION_IDLE.into(), 0)
    );
    let against = Against::Server(BASELINE);
    rows(&mut out, &results.idle, names, &IDLE_FIGURES, &against);
    let _ = writeln!(
        out,
        "\nWith idle keep-alive connections, for the servers that keep \
         connections: each sent one request, read its answer, and fell quiet. \
         A thread per connection holds every one for a next request; a pool \
         closes idle ones while others wait for a worker. {}.\n\n{idle_head}",
        capitalised(ratios(
            "the same server's with idle connections that sent nothing"
        ))
    );
    let against = Against::Itself(&results.idle);
    rows(
        &mut out,
        &results.idle_kept_alive,
        names,
        &IDLE_FIGURES,
        &against,
    );
    out
}

/// The servers the keep-alive chapter compares: nginx, the first stage
/// that keeps connections open (part 9; those that do are the ones measured
/// with idle keep-alive connections), and the stage before it, part 8,
/// which does not. The stages after part 9 have pages of their own
/// ([`crate::pool`]).
fn keep_alive_names(results: &Results, names: &[String]) -> Vec<String> {
    let keepers = measured(&results.idle_kept_alive, names);
    let is_stage = |name: &&String| *name != NGINX;
    let first_keeper = names
        .iter()
        .filter(is_stage)
        .find(|name| keepers.contains(name));
    let closer = names
        .iter()
        .filter(is_stage)
        .take_while(|name| Some(*name) != first_keeper)
        .last();
    names
        .iter()
        .filter(|name| {
            (*name == NGINX && keepers.contains(name))
                || Some(*name) == first_keeper
                || Some(*name) == closer
        })
        .cloned()
        .collect()
}

/// One figure of `name` in each round, for one case.
pub fn per_round<T>(all: &Measured<u32, T>, name: &str, case: u32, of: fn(&T) -> f64) -> Vec<f64> {
    all.iter()
        .filter(|(n, c, _)| n == name && *c == case)
        .flat_map(|(_, _, rounds)| rounds.iter().map(of))
        .collect()
}

/// The ratio of two figures measured in the same rounds: the median of each
/// round's ratio, with the lowest and highest in brackets when there are
/// several that differ, `6.68× (5.16–7.39×)`. A ratio within one round meets one moment
/// of the machine; the ratio of two medians may not.
pub fn ratio_cell(of: &[f64], to: &[f64]) -> String {
    let mut ratios: Vec<f64> = of.iter().zip(to).map(|(a, b)| a / b).collect();
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(0.0, f64::max);
    let median = stage_check::tools::median(&mut ratios);
    match ratios.len() {
        0 => "–".into(),
        // One round, or rounds that all agree (nginx's to its own).
        _ if format!("{low:.2}") == format!("{high:.2}") => format!("{median:.2}×"),
        _ => format!("{median:.2}× ({low:.2}–{high:.2}×)"),
    }
}

/// The keep-alive chapter's tables: requests/s each way, and the ratios
/// that matter, round by round; then what idle keep-alive connections cost.
pub fn keep_alive_table(results: &Results, names: &[String]) -> String {
    let names = keep_alive_names(results, names);
    let requests = REQUESTS.of;
    let has_nginx = names.iter().any(|name| name == NGINX);
    let mut out = String::from(
        "| connections | server | requests/s, one request per connection \
         | requests/s, keep-alive | keep-alive ÷ one per connection \
         | keep-alive ÷ nginx's keep-alive |\n\
         | ---: | --- | ---: | ---: | ---: | ---: |\n",
    );
    for case in cases(&results.keep_alive) {
        let nginx = per_round(&results.keep_alive, NGINX, case, requests);
        for name in &names {
            let close = per_round(&results.load, name, case, requests);
            let kept = per_round(&results.keep_alive, name, case, requests);
            let _ = writeln!(
                out,
                "| {case} | {name} | {} | {} | {} | {} |",
                number(median(&results.load, name, case, requests), 0),
                number(median(&results.keep_alive, name, case, requests), 0),
                ratio_cell(&kept, &close),
                if has_nginx {
                    ratio_cell(&kept, &nginx)
                } else {
                    "–".into()
                }
            );
        }
    }
    let _ = writeln!(
        out,
        "\nThe ratios are the median of each round's, with the lowest and \
         highest in brackets: in a round, the two figures were measured one \
         right after the other.\n\n\
         | idle keep-alive connections | server | threads | memory (MiB) |\n\
         | ---: | --- | ---: | ---: |"
    );
    for case in cases(&results.idle_kept_alive) {
        let names = measured(&results.idle_kept_alive, &names);
        // A thread per connection is measured with fewer idle connections.
        let with_case = names.iter().filter(|name| {
            rounds(&results.idle_kept_alive, name, case)
                .next()
                .is_some()
        });
        for name in with_case {
            let threads = median(&results.idle_kept_alive, name, case, THREADS.of);
            let memory = median(&results.idle_kept_alive, name, case, MEMORY.of);
            let _ = writeln!(
                out,
                "| {} | {name} | {} | {} |",
                number(case.into(), 0),
                number(threads, 0),
                number(memory, 1)
            );
        }
    }
    out
}

/// Writes the book's copy: `figures.md` (the machine, then the tables),
/// `keep-alive.md` (the keep-alive chapter's tables) and the plots.
pub fn write(
    folder: &Path,
    results: &Results,
    names: &[String],
    table: &str,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(folder)?;
    let written = "<!-- Written by `cargo run --release -p load`: rerun it, do not edit. -->";
    let measured_on = format!("Measured on {}, with {}.", machine(), tools());
    crate::pool::write(
        folder,
        results,
        names,
        &format!("{written}\n\n{measured_on}"),
    )?;
    crate::event_loop::write(folder, results, names, written, &measured_on)?;
    crate::asynchronous::write(folder, results, names, written, &measured_on)?;
    std::fs::write(
        folder.join("figures.md"),
        format!("{written}\n\n{measured_on}\n\n{table}"),
    )?;
    std::fs::write(
        folder.join("keep-alive.md"),
        format!(
            "{written}\n\n{measured_on} Medians over the rounds.\n\n{}",
            keep_alive_table(results, names)
        ),
    )?;

    let load_cases = cases(&results.load);
    let idle_cases = cases(&results.idle);
    let connections_axis = || {
        (
            "connections at once (logarithmic scale)",
            (1.0..x_max(&load_cases)).log_scale(),
        )
    };
    plot(
        &folder.join("requests.svg"),
        "Requests/s, one request per connection",
        connections_axis(),
        "requests/s",
        &series(&results.load, names, REQUESTS.of),
    )?;
    plot(
        &folder.join("idle-memory.svg"),
        "Memory (PSS) with idle connections open",
        ("idle connections", 0.0..x_max(&idle_cases)),
        "memory (MiB)",
        &series(&results.idle, names, MEMORY.of),
    )?;
    plot(
        &folder.join("idle-latency.svg"),
        "A fresh request's time with idle connections open",
        ("idle connections", 0.0..x_max(&idle_cases)),
        "fresh request (ms)",
        &series(&results.idle, names, FRESH.of),
    )?;

    // The keep-alive chapter's: each of its servers both ways, in its
    // colour, the way without keep-alive dashed.
    let chosen = keep_alive_names(results, names);
    let mut both_ways = Vec::new();
    let mut idle_memory = Vec::new();
    for (color, name) in chosen.iter().enumerate() {
        let one = std::slice::from_ref(name);
        let ways = [
            (
                &results.keep_alive,
                &results.idle_kept_alive,
                "keep-alive",
                Stroke::Solid,
            ),
            (
                &results.load,
                &results.idle,
                "one request per connection",
                Stroke::Dashed,
            ),
        ];
        for (load, idle, way, stroke) in ways {
            let idle_way = match stroke {
                Stroke::Solid => "kept alive",
                Stroke::Dashed => "never used",
            };
            for (lines, all, way) in [
                (&mut both_ways, series(load, one, REQUESTS.of), way),
                (&mut idle_memory, series(idle, one, MEMORY.of), idle_way),
            ] {
                lines.extend(all.into_iter().map(|line| Line {
                    name: format!("{name}, {way}"),
                    color,
                    stroke,
                    ..line
                }));
            }
        }
    }
    plot(
        &folder.join("keep-alive.svg"),
        "Requests/s, keep-alive and one request per connection",
        connections_axis(),
        "requests/s",
        &both_ways,
    )?;
    plot(
        &folder.join("keep-alive-idle.svg"),
        "Memory (PSS) with idle connections open, kept alive or never used",
        ("idle connections", 0.0..x_max(&idle_cases)),
        "memory (MiB)",
        &idle_memory,
    )?;
    Ok(())
}

/// One line of a plot: its name in the legend, its points, its colour (an
/// index into [`COLORS`]) and its stroke.
pub struct Line {
    name: String,
    points: Vec<(f64, f64)>,
    color: usize,
    stroke: Stroke,
}

#[derive(Clone, Copy, PartialEq)]
enum Stroke {
    Solid,
    /// For the other way of the same server, in its colour.
    Dashed,
}

/// One line of points per server of `names` that `all` has figures of:
/// (case, median of the figure), each server in a colour of its own. A
/// figure that is not a number (a fresh request that got no answer) is no
/// point, and a server with no point is no line: the tables say what it was.
pub fn series<T>(all: &Measured<u32, T>, names: &[String], of: fn(&T) -> f64) -> Vec<Line> {
    measured(all, names)
        .into_iter()
        .enumerate()
        .map(|(color, name)| {
            let points = cases(all)
                .into_iter()
                .map(|case| (case.into(), median(all, &name, case, of)))
                .filter(|(_, y): &(f64, f64)| y.is_finite())
                .collect();
            Line {
                name,
                points,
                color,
                stroke: Stroke::Solid,
            }
        })
        .filter(|line| !line.points.is_empty())
        .collect()
}

/// The lines' colours, nginx's first: Okabe and Ito's palette, which
/// readers with any kind of colour blindness tell apart, and a grey for an
/// eighth server (its yellow is hard to see on white); then four of Paul
/// Tol's muted colours, for the twelve lines of every stage, nginx and hyper.
const COLORS: &[(u8, u8, u8)] = &[
    (0, 0, 0),
    (0, 114, 178),
    (230, 159, 0),
    (0, 158, 115),
    (204, 121, 167),
    (213, 94, 0),
    (86, 180, 233),
    (128, 128, 128),
    (136, 34, 85),
    (153, 153, 51),
    (51, 34, 136),
    (68, 170, 153),
];

/// One line per server, with its points marked, the y axis from zero.
fn plot<X>(
    path: &Path,
    caption: &str,
    x_axis: (&str, X),
    y_label: &str,
    series: &[Line],
) -> anyhow::Result<()>
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::new(path, (720, 420)).into_drawing_area();
        root.fill(&WHITE)?;
        chart(&root, (caption, 20), x_axis, y_label, series)?;
        root.present()?;
        Ok(())
    };
    draw()
        .map_err(|error| anyhow::anyhow!("{error}"))
        .with_context(|| format!("cannot draw {}", path.display()))
}

/// One panel of a plot side by side with another: its caption, its x axis
/// (its name and range), its y axis's name, and its lines.
pub struct Panel<'a> {
    pub caption: &'a str,
    pub x_axis: (&'a str, std::ops::Range<f64>),
    pub y_label: &'a str,
    pub series: Vec<Line>,
}

/// Two plots in one picture, left and right, under one caption: two
/// figures of the same servers and cases.
pub fn plot_side_by_side(path: &Path, caption: &str, panels: [Panel<'_>; 2]) -> anyhow::Result<()> {
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::new(path, (960, 420)).into_drawing_area();
        root.fill(&WHITE)?;
        let root = root.titled(caption, ("sans-serif", 20))?;
        for (area, panel) in root.split_evenly((1, 2)).iter().zip(panels) {
            let x_axis = (panel.x_axis.0, panel.x_axis.1);
            chart(
                area,
                (panel.caption, 16),
                x_axis,
                panel.y_label,
                &panel.series,
            )?;
        }
        root.present()?;
        Ok(())
    };
    draw()
        .map_err(|error| anyhow::anyhow!("{error}"))
        .with_context(|| format!("cannot draw {}", path.display()))
}

/// Draws one chart on `area`: its caption (and the caption's font size),
/// axes, lines, points and legend.
fn chart<X>(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    (caption, size): (&str, u32),
    (x_label, x_range): (&str, X),
    y_label: &str,
    series: &[Line],
) -> Result<(), Box<dyn std::error::Error>>
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let points = || series.iter().flat_map(|line| line.points.iter());
    // Room above the highest point for the legend, so that it hides none.
    let y_max = points().map(|p| p.1).fold(0.0, f64::max) * 1.45;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", size))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range, 0.0..y_max.max(1e-9))?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&|x| number(*x, 0))
        .y_label_formatter(&|y| number(*y, if y_max < 10.0 { 2 } else { 0 }))
        .draw()?;
    for line in series {
        let (r, g, b) = COLORS[line.color % COLORS.len()];
        let color = RGBColor(r, g, b);
        let style = color.stroke_width(2);
        let points = line.points.iter().copied();
        let drawn = match line.stroke {
            Stroke::Solid => chart.draw_series(LineSeries::new(points, style))?,
            Stroke::Dashed => chart.draw_series(DashedLineSeries::new(points, 6, 4, style))?,
        };
        let stroke = line.stroke;
        drawn.label(&line.name).legend(move |(x, y)| {
            let end = match stroke {
                Stroke::Solid => x + 20,
                Stroke::Dashed => x + 8,
            };
            PathElement::new([(x, y), (end, y)], style)
        });
        let marks = line
            .points
            .iter()
            .map(|&p| Circle::new(p, 3, color.filled()));
        chart.draw_series(marks)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .draw()?;
    Ok(())
}

/// The end of an x axis that shows every case, with a little room to spare.
pub fn x_max(cases: &[u32]) -> f64 {
    cases
        .iter()
        .map(|&case| f64::from(case))
        .fold(1.0, f64::max)
        * 1.05
}

/// The processor and the system, for the book's "measured on".
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("an unknown processor");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cores} cores of an {model} (Linux {})", kernel.trim())
}

/// The versions of wrk and nginx.
fn tools() -> String {
    let wrk = measure::wrk_version().unwrap_or_else(|_| "wrk".into());
    let nginx = ["nginx", "/usr/sbin/nginx"]
        .iter()
        .find_map(|nginx| Command::new(nginx).arg("-v").output().ok())
        .map(|output| String::from_utf8_lossy(&output.stderr).trim().to_string())
        .and_then(|line| line.strip_prefix("nginx version: ").map(String::from));
    match nginx {
        Some(nginx) => format!("{wrk} and {nginx}"),
        None => wrk,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CONCURRENCY, IDLE};

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(number(12345.6, 0), "12,346");
        assert_eq!(number(999.0, 0), "999");
        assert_eq!(number(1000.0, 0), "1,000");
        assert_eq!(number(0.1234, 3), "0.123");
        assert_eq!(number(1234567.891, 1), "1,234,567.9");
    }

    #[test]
    fn a_socket_error_or_an_answer_not_2xx_is_a_problem() {
        let good = Load {
            requests: 10,
            ..Load::default()
        };
        let mut results = Results::default();
        crate::push(&mut results.load, NGINX, 1, good);
        assert!(problems(&results).is_empty());
        for bad in [
            Load {
                socket_errors: 1,
                ..good
            },
            Load { not_2xx: 1, ..good },
            Load {
                requests: 0,
                ..good
            },
        ] {
            crate::push(&mut results.load, BASELINE, 10, bad);
        }
        assert_eq!(problems(&results).len(), 3);
    }

    /// Results with each server's requests/s given per round, at every
    /// number of connections.
    fn with_requests(all: &mut Vec<(String, u32, Vec<Load>)>, name: &str, rounds: &[f64]) {
        for &c in CONCURRENCY {
            for &requests_per_second in rounds {
                let load = Load {
                    requests_per_second,
                    ..Load::default()
                };
                crate::push(all, name, c, load);
            }
        }
    }

    #[test]
    fn each_cell_is_a_median_with_its_ratios() {
        let mut results = Results::default();
        with_requests(&mut results.load, NGINX, &[1000.0, 3000.0, 2000.0]);
        with_requests(&mut results.load, BASELINE, &[500.0, 400.0, 600.0]);
        let names = [NGINX.to_string(), BASELINE.to_string()];
        let table = table(&results, &names);
        assert!(
            table.contains("| 50 | nginx | 2,000 (1.00×, 4.00×) |"),
            "{table}"
        );
        assert!(
            table.contains(&format!("| 50 | {BASELINE} | 500 (0.25×, 1.00×) |")),
            "{table}"
        );
    }

    #[test]
    fn keep_alive_is_compared_with_the_same_server_closing() {
        let part9 = "part9-keep-alive";
        let mut results = Results::default();
        with_requests(&mut results.load, NGINX, &[2000.0]);
        with_requests(&mut results.load, BASELINE, &[500.0]);
        with_requests(&mut results.load, part9, &[400.0]);
        with_requests(&mut results.keep_alive, NGINX, &[8000.0]);
        with_requests(&mut results.keep_alive, BASELINE, &[500.0]);
        with_requests(&mut results.keep_alive, part9, &[2000.0]);
        // Only the servers that keep connections open are measured with
        // idle keep-alive connections.
        for name in [NGINX, part9, crate::POOL] {
            crate::push(&mut results.idle_kept_alive, name, 100, Idle::default());
        }
        let names = [NGINX, BASELINE, part9, crate::POOL].map(String::from);
        let table = table(&results, &names);
        // nginx keeps connections 4 times as fast as it closes them; part 9
        // 5 times, at a quarter of nginx's speed; part 5 closes either way.
        assert!(
            table.contains("| 50 | nginx | 8,000 (1.00×, 4.00×) |"),
            "{table}"
        );
        assert!(
            table.contains(&format!("| 50 | {part9} | 2,000 (0.25×, 5.00×) |")),
            "{table}"
        );
        assert!(
            table.contains(&format!("| 50 | {BASELINE} | 500 (0.06×, 1.00×) |")),
            "{table}"
        );
        // The chapter's table: the servers that keep them, and the last
        // stage that does not.
        let chapter = keep_alive_table(&results, &names);
        assert!(
            chapter.contains(&format!("| 50 | {part9} | 400 | 2,000 | 5.00× | 0.25× |")),
            "{chapter}"
        );
        assert!(
            chapter.contains(&format!("| 50 | {BASELINE} | 500 | 500 | 1.00× | 0.06× |")),
            "{chapter}"
        );
        assert!(chapter.contains("| 100 | nginx | 0 | 0.0 |"), "{chapter}");
        // The pool keeps connections too, but has a page of its own.
        assert!(!chapter.contains(crate::POOL), "{chapter}");
    }

    #[test]
    fn errors_are_added_up_and_a_missed_answer_is_said() {
        let mut results = Results::default();
        for socket_errors in [0, 2, 1] {
            let load = Load {
                requests_per_second: 100.0,
                p50_ms: 1.0,
                p99_ms: 2.0,
                socket_errors,
                not_2xx: 3,
                ..Load::default()
            };
            crate::push(&mut results.load, BASELINE, 200, load);
        }
        let unanswered = Idle {
            held: 100,
            threads: 102,
            memory_mib: 10.0,
            fresh_ms: f64::INFINITY,
            fresh_missed: Some(Missed::Unanswered),
            ..Idle::default()
        };
        let answered = Idle {
            fresh_ms: 0.5,
            ..unanswered
        };
        crate::push(&mut results.idle, BASELINE, 100, answered);
        crate::push(&mut results.idle, crate::POOL, 100, unanswered);
        let names = [BASELINE, crate::POOL].map(String::from);
        let table = table(&results, &names);
        // Totals over the rounds, without ratios.
        assert!(
            table.contains(&format!(
                "| 200 | {BASELINE} | 100 (1.00×) | 1.000 (1.00×) | 2.000 (1.00×) | 3 | 9 |"
            )),
            "{table}"
        );
        assert!(
            table.contains(&format!(
                "| 100 | {} | 100 | 102 (1.00×) | 10.0 (1.00×) | 0.00 | no answer within 2 s |",
                crate::POOL
            )),
            "{table}"
        );
    }

    #[test]
    fn a_ratio_is_the_median_of_the_rounds_ratios() {
        // Round by round: 2, 2 and 6; the ratio of the medians would be 3.
        let of = [200.0, 800.0, 300.0];
        let to = [100.0, 400.0, 50.0];
        assert_eq!(ratio_cell(&of, &to), "2.00× (2.00–6.00×)");
        assert_eq!(ratio_cell(&of[..1], &to[..1]), "2.00×");
        assert_eq!(ratio_cell(&[], &[]), "–");
        assert_eq!(ratio_cell(&of, &of), "1.00×");
    }

    #[test]
    fn the_plots_are_drawn() {
        let folder = std::env::temp_dir().join(format!("load-plots-{}", std::process::id()));
        let mut results = Results::default();
        for (i, name) in [NGINX, BASELINE].iter().enumerate() {
            let requests_per_second = 1000.0 * (i + 1) as f64;
            with_requests(&mut results.load, name, &[requests_per_second]);
            with_requests(&mut results.keep_alive, name, &[requests_per_second * 2.0]);
            for &idle in IDLE {
                let memory_mib = 5.0 + (i as f64) * idle as f64 / 100.0;
                let figures = Idle {
                    memory_mib,
                    threads: 1,
                    fresh_ms: 0.1,
                    ..Idle::default()
                };
                crate::push(&mut results.idle, name, idle, figures);
                if *name == NGINX {
                    crate::push(&mut results.idle_kept_alive, name, idle, figures);
                }
            }
        }
        let names = [NGINX.to_string(), BASELINE.to_string()];
        write(&folder, &results, &names, "table").unwrap();
        for (file, shows) in [
            ("figures.md", "table"),
            (
                "keep-alive.md",
                "| 50 | nginx | 1,000 | 2,000 | 2.00× | 1.00× |",
            ),
            ("requests.svg", NGINX),
            ("idle-memory.svg", NGINX),
            ("idle-latency.svg", NGINX),
            ("keep-alive.svg", "nginx, keep-alive"),
            ("keep-alive-idle.svg", "nginx, kept alive"),
            ("thread-pool.md", "| not measured in this run |"),
            ("thread-pool-idle.svg", NGINX),
            ("event-loop.md", "{{#include event-loop-profile.md}}"),
            ("async.md", "# Part 12 under load"),
        ] {
            let text = std::fs::read_to_string(folder.join(file)).unwrap();
            assert!(text.contains(shows), "{file}: {text}");
        }
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
