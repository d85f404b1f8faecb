//! What the run found: its problems, a table of medians and ratios, and the
//! book's copy of them (`figures.md`, and SVG plots drawn with plotters).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::Context;
use plotters::prelude::*;

use crate::measure::{self, Idle, Load};
use crate::{BASELINE, CONCURRENCY, IDLE, NGINX, Results};

/// Every request that got no 2xx answer or met a socket error, per case.
pub fn problems(results: &Results) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, connections, rounds) in &results.load {
        for load in rounds {
            if load.requests == 0 || load.socket_errors > 0 || load.not_2xx > 0 {
                problems.push(format!("{name}, {connections} connections: {load}"));
            }
        }
    }
    problems
}

/// Measurements of one kind, per server and case (connections at once, or
/// idle connections), one per round: `Results::load` or `Results::idle`.
type Measured<K, T> = [(String, K, Vec<T>)];

/// One figure of a measurement, and how many decimals it is shown with.
struct Figure<T> {
    of: fn(&T) -> f64,
    decimals: usize,
}

const LOAD_FIGURES: [Figure<Load>; 3] = [
    Figure {
        of: |l| l.requests_per_second,
        decimals: 0,
    },
    Figure {
        of: |l| l.p50_ms,
        decimals: 3,
    },
    Figure {
        of: |l| l.p99_ms,
        decimals: 3,
    },
];

const IDLE_FIGURES: [Figure<Idle>; 3] = [
    Figure {
        of: |i| i.threads as f64,
        decimals: 0,
    },
    Figure {
        of: |i| i.memory_mib,
        decimals: 1,
    },
    Figure {
        of: |i| i.fresh_ms,
        decimals: 3,
    },
];

/// The median over the rounds of one figure, for one server and case.
fn median<K: PartialEq, T>(all: &Measured<K, T>, name: &str, case: K, of: fn(&T) -> f64) -> f64 {
    let mut values: Vec<f64> = all
        .iter()
        .filter(|(n, c, _)| n == name && *c == case)
        .flat_map(|(_, _, rounds)| rounds.iter().map(of))
        .collect();
    measure::median(&mut values)
}

/// One table row per case and server: the case, the server, then each
/// figure's median with its ratios.
fn rows<K: PartialEq + Copy + Into<f64>, T>(
    out: &mut String,
    all: &Measured<K, T>,
    cases: &[K],
    names: &[String],
    figures: &[Figure<T>],
) {
    let has_nginx = names.iter().any(|name| name == NGINX);
    for &case in cases {
        for name in names {
            let cells: Vec<String> = figures
                .iter()
                .map(|figure| {
                    let of = |server: &str| median(all, server, case, figure.of);
                    let nginx = has_nginx.then(|| of(NGINX));
                    with_ratios(of(name), nginx, of(BASELINE), figure.decimals)
                })
                .collect();
            let case = number(case.into(), 0);
            let _ = writeln!(out, "| {case} | {name} | {} |", cells.join(" | "));
        }
    }
}

/// `value`, then its ratio to nginx's and to part 5's: `12,345 (0.52×, 1.00×)`.
fn with_ratios(value: f64, nginx: Option<f64>, baseline: f64, decimals: usize) -> String {
    let ratio = |to: f64| format!("{:.2}×", value / to);
    let mut cell = number(value, decimals);
    match nginx {
        Some(nginx) => write!(cell, " ({}, {})", ratio(nginx), ratio(baseline)),
        None => write!(cell, " ({})", ratio(baseline)),
    }
    .expect("writing to a String");
    cell
}

/// `12345.6` as `12,346` (with `decimals` = 0), or `0.123` with 3.
fn number(value: f64, decimals: usize) -> String {
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

/// The two tables of medians, in Markdown, which reads as plain text too.
pub fn table(results: &Results, names: &[String]) -> String {
    let ratios = if names.iter().any(|name| name == NGINX) {
        "in brackets, the ratio to nginx's figure and to part 5's (`part5-http-httparse`)"
    } else {
        "in brackets, the ratio to part 5's figure (`part5-http-httparse`)"
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Under load, one request per connection: medians over the rounds; {ratios}.\n"
    );
    let _ = writeln!(
        out,
        "| connections | server | requests/s | p50 latency (ms) | p99 latency (ms) |"
    );
    let _ = writeln!(out, "| ---: | --- | ---: | ---: | ---: |");
    rows(&mut out, &results.load, CONCURRENCY, names, &LOAD_FIGURES);
    let _ = writeln!(
        out,
        "\nWith idle connections held open: the threads and the memory (PSS) of \
         the server's processes, and the median time of a fresh request \
         (connect, send, read to the close); {ratios}.\n"
    );
    let _ = writeln!(
        out,
        "| idle connections | server | threads | memory (MiB) | fresh request (ms) |"
    );
    let _ = writeln!(out, "| ---: | --- | ---: | ---: | ---: |");
    rows(&mut out, &results.idle, IDLE, names, &IDLE_FIGURES);
    out
}

/// Writes the book's copy: `figures.md` (the machine, then the tables) and
/// the three plots.
pub fn write(
    folder: &Path,
    results: &Results,
    names: &[String],
    table: &str,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(folder)?;
    let figures = format!(
        "<!-- Written by `cargo run --release -p load`: rerun it, do not edit. -->\n\n\
         Measured on {}, with {}.\n\n{table}",
        machine(),
        tools()
    );
    std::fs::write(folder.join("figures.md"), figures)?;

    plot(
        &folder.join("requests.svg"),
        "Requests/s, one request per connection",
        "connections at once",
        "requests/s",
        &series(&results.load, CONCURRENCY, names, LOAD_FIGURES[0].of),
    )?;
    plot(
        &folder.join("idle-memory.svg"),
        "Memory (PSS) with idle connections open",
        "idle connections",
        "MiB",
        &series(&results.idle, IDLE, names, IDLE_FIGURES[1].of),
    )?;
    plot(
        &folder.join("idle-latency.svg"),
        "A fresh request's time with idle connections open",
        "idle connections",
        "ms",
        &series(&results.idle, IDLE, names, IDLE_FIGURES[2].of),
    )?;
    Ok(())
}

/// One line of points per server: (case, median of the figure).
fn series<K: PartialEq + Copy + Into<f64>, T>(
    all: &Measured<K, T>,
    cases: &[K],
    names: &[String],
    of: fn(&T) -> f64,
) -> Vec<(String, Vec<(f64, f64)>)> {
    names
        .iter()
        .map(|name| {
            let points = cases
                .iter()
                .map(|&case| (case.into(), median(all, name, case, of)));
            (name.clone(), points.collect())
        })
        .collect()
}

/// One line per server, on a logarithmic x axis that starts at zero on y.
fn plot(
    path: &Path,
    caption: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> anyhow::Result<()> {
    let points = || series.iter().flat_map(|(_, points)| points.iter());
    let x_min = points().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let x_max = points().map(|p| p.0).fold(0.0, f64::max);
    let y_max = points().map(|p| p.1).fold(0.0, f64::max) * 1.1;
    let draw = || -> Result<(), Box<dyn std::error::Error + '_>> {
        let root = SVGBackend::new(path, (720, 420)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d((x_min..x_max).log_scale(), 0.0..y_max.max(1e-9))?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_label_formatter(&|x| number(*x, 0))
            .y_label_formatter(&|y| number(*y, if y_max < 10.0 { 2 } else { 0 }))
            .draw()?;
        for (i, (name, points)) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.9))
            .draw()?;
        root.present()?;
        Ok(())
    };
    draw()
        .map_err(|error| anyhow::anyhow!("{error}"))
        .with_context(|| format!("cannot draw {}", path.display()))
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
    format!(
        "{cores} cores of an {model} (Linux {}), shared with other work",
        kernel.trim()
    )
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
