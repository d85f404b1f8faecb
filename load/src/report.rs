//! What the run found: its problems, a table of medians and ratios, and the
//! book's copy of them (`figures.md`, and SVG plots drawn with plotters).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::Context;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
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
    stage_check::tools::median(&mut values)
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
        (
            "connections at once (logarithmic scale)",
            (1.0..x_max(CONCURRENCY)).log_scale(),
        ),
        "requests/s",
        &series(&results.load, CONCURRENCY, names, LOAD_FIGURES[0].of),
    )?;
    plot(
        &folder.join("idle-memory.svg"),
        "Memory (PSS) with idle connections open",
        ("idle connections", 0.0..x_max(IDLE)),
        "memory (MiB)",
        &series(&results.idle, IDLE, names, IDLE_FIGURES[1].of),
    )?;
    plot(
        &folder.join("idle-latency.svg"),
        "A fresh request's time with idle connections open",
        ("idle connections", 0.0..x_max(IDLE)),
        "fresh request (ms)",
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

/// The lines' colours, nginx's first: Okabe and Ito's palette, which
/// readers with any kind of colour blindness tell apart.
const COLORS: &[(u8, u8, u8)] = &[
    (0, 0, 0),
    (0, 114, 178),
    (230, 159, 0),
    (0, 158, 115),
    (204, 121, 167),
    (213, 94, 0),
    (86, 180, 233),
];

/// One line per server, with its points marked, the y axis from zero.
fn plot<X>(
    path: &Path,
    caption: &str,
    (x_label, x_range): (&str, X),
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> anyhow::Result<()>
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let points = || series.iter().flat_map(|(_, points)| points.iter());
    // Room above the highest point for the legend, so that it hides none.
    let y_max = points().map(|p| p.1).fold(0.0, f64::max) * 1.45;
    let draw = || -> Result<(), Box<dyn std::error::Error + '_>> {
        let root = SVGBackend::new(path, (720, 420)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 20))
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
        for ((name, points), &(r, g, b)) in series.iter().zip(COLORS.iter().cycle()) {
            let color = RGBColor(r, g, b);
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
            .position(SeriesLabelPosition::UpperRight)
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

/// The end of an x axis that shows every case, with a little room to spare.
fn x_max<K: Copy + Into<f64>>(cases: &[K]) -> f64 {
    cases.iter().map(|&case| case.into()).fold(0.0, f64::max) * 1.05
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

    #[test]
    fn each_cell_is_a_median_with_its_ratios() {
        let load = |requests_per_second| Load {
            requests_per_second,
            ..Load::default()
        };
        let mut results = Results::default();
        for (name, rounds) in [
            (NGINX, [1000.0, 3000.0, 2000.0]),
            (BASELINE, [500.0, 400.0, 600.0]),
        ] {
            for &c in CONCURRENCY {
                for r in rounds {
                    crate::push(&mut results.load, name, c, load(r));
                }
            }
        }
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
    fn the_plots_are_drawn() {
        let folder = std::env::temp_dir().join(format!("load-plots-{}", std::process::id()));
        let mut results = Results::default();
        for (i, name) in [NGINX, BASELINE].iter().enumerate() {
            for &c in CONCURRENCY {
                let requests_per_second = 1000.0 * (i + 1) as f64 + c as f64;
                crate::push(
                    &mut results.load,
                    name,
                    c,
                    Load {
                        requests_per_second,
                        ..Load::default()
                    },
                );
            }
            for &idle in IDLE {
                let memory_mib = 5.0 + (i as f64) * idle as f64 / 100.0;
                crate::push(
                    &mut results.idle,
                    name,
                    idle,
                    Idle {
                        memory_mib,
                        threads: 1,
                        fresh_ms: 0.1,
                    },
                );
            }
        }
        let names = [NGINX.to_string(), BASELINE.to_string()];
        write(&folder, &results, &names, "table").unwrap();
        for file in [
            "figures.md",
            "requests.svg",
            "idle-memory.svg",
            "idle-latency.svg",
        ] {
            let text = std::fs::read_to_string(folder.join(file)).unwrap();
            assert!(
                text.contains(if file.ends_with(".svg") {
                    NGINX
                } else {
                    "table"
                }),
                "{file}"
            );
        }
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
