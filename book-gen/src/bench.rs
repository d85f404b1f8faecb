//! The figures of "How fast is it", from the benchmark's own output.
//!
//! `cargo run -p book-gen -- bench` runs part 6's benchmark
//! (`cargo bench -p part6-custom-parser --bench parsers`) several times, and
//! as many times again with the "make it faster" exercise's patch applied,
//! one run of each in turn, so that both meet the same neighbours on a
//! shared machine. It keeps what criterion printed, as it printed it, in
//! `docs/src/generated/how-fast/runs/`. The tables the chapter shows are
//! made from those files alone, by [`tables`]: `cargo run -p book-gen`
//! writes them, and the drift test fails when they no longer match.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{Generated, generated_dir, workspace_root};

/// The stage the benchmark belongs to.
pub const STAGE: &str = "part6-custom-parser";

/// The exercise of "How fast is it", whose patch is timed against the stage.
pub const EXERCISE: &str = "faster_checks";

/// The label of the runs of the stage as it is, in the runs' file names.
const AS_IS: &str = "stage";

/// The runs' folder, under [`generated_dir`].
const RUNS: &str = "how-fast/runs";

/// Where criterion keeps its record of each case, in a folder named after it.
fn criterion_dir() -> PathBuf {
    workspace_root().join("target/criterion")
}

/// Runs the benchmark `rounds` times on the stage as it is and `rounds`
/// times with the exercise's patch, in turn, and writes what each run
/// printed into the runs' folder, replacing the runs kept before.
pub fn run(rounds: usize) -> Result<()> {
    let root = workspace_root();
    let status = Command::new("git")
        .args(["status", "--porcelain", "--", STAGE])
        .current_dir(&root)
        .output()
        .context("cannot run git")?;
    if !status.stdout.is_empty() {
        bail!("{STAGE} has changes of its own: commit or stash them first");
    }
    let dir = generated_dir().join(RUNS);
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    fs::create_dir_all(&dir)?;
    for round in 1..=rounds {
        for label in [AS_IS, EXERCISE] {
            eprintln!("round {round} of {rounds}: {label}");
            let output = if label == AS_IS {
                bench()?
            } else {
                let _patched = Patched::apply(&exercise_patch())?;
                bench()?
            };
            fs::write(dir.join(format!("{label}-{round}.txt")), output)?;
        }
    }
    Ok(())
}

/// The patch of the exercise.
fn exercise_patch() -> PathBuf {
    workspace_root()
        .join("docs/exercises")
        .join(STAGE)
        .join(format!("{EXERCISE}.patch"))
}

/// The exercise's patch, applied to the stage for as long as this lives.
struct Patched(PathBuf);

impl Patched {
    fn apply(patch: &Path) -> Result<Self> {
        git_apply(patch, false)?;
        Ok(Patched(patch.to_path_buf()))
    }
}

impl Drop for Patched {
    fn drop(&mut self) {
        if let Err(error) = git_apply(&self.0, true) {
            eprintln!(
                "could not take the patch out again ({error}): run `git checkout -- {STAGE}`"
            );
        }
    }
}

fn git_apply(patch: &Path, reverse: bool) -> Result<()> {
    let mut command = Command::new("git");
    command.arg("apply").arg(format!("--directory={STAGE}"));
    if reverse {
        command.arg("-R");
    }
    let status = command.arg(patch).current_dir(workspace_root()).status()?;
    if !status.success() {
        bail!("git apply {} failed", patch.display());
    }
    Ok(())
}

/// One run of the benchmark: what criterion printed in its one-line-per-case
/// format, then the bytes each case parses (from criterion's own record of
/// the run), one `bytes <case> <n>` line each.
fn bench() -> Result<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["bench", "--quiet", "-p", STAGE, "--bench", "parsers"])
        .args(["--", "--output-format", "bencher"])
        .output()
        .context("cannot run cargo bench")?;
    if !output.status.success() {
        bail!(
            "cargo bench failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut printed = String::from_utf8(output.stdout)?;
    for case in Run::parse(&printed)?.cases() {
        let record = criterion_dir().join(&case).join("ours/new/benchmark.json");
        let text = fs::read_to_string(&record)
            .with_context(|| format!("cannot read {}", record.display()))?;
        let bytes = number_after(&text, "\"Bytes\":")
            .with_context(|| format!("no throughput in {}", record.display()))?;
        printed.push_str(&format!("bytes {case} {bytes}\n"));
    }
    Ok(printed)
}

/// One run: the time of each parser on each case, in nanoseconds, in the
/// order printed; and the bytes of each case.
#[derive(Debug, Default)]
struct Run {
    times: Vec<(String, String, f64)>,
    bytes: BTreeMap<String, f64>,
}

impl Run {
    fn parse(text: &str) -> Result<Run> {
        let mut run = Run::default();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("bytes ") {
                let (case, bytes) = rest
                    .rsplit_once(' ')
                    .context("a bytes line without bytes")?;
                run.bytes.insert(case.to_string(), bytes.parse()?);
            }
        }
        for ((case, parser), ns) in parse_times_in_order(text)? {
            run.times.push((case, parser, ns));
        }
        Ok(run)
    }

    fn time(&self, case: &str, parser: &str) -> Option<f64> {
        self.times
            .iter()
            .find(|(c, p, _)| c == case && p == parser)
            .map(|(_, _, ns)| *ns)
    }

    fn cases(&self) -> Vec<String> {
        let mut cases: Vec<String> = Vec::new();
        for (case, _, _) in &self.times {
            if !cases.contains(case) {
                cases.push(case.clone());
            }
        }
        cases
    }
}

/// The `test <case>/<parser> ... bench: <n> ns/iter (+/- <d>)` lines, in order.
fn parse_times_in_order(text: &str) -> Result<Vec<((String, String), f64)>> {
    let mut found = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let (id, result) = rest
            .split_once(" ... bench:")
            .with_context(|| format!("not a result: {line}"))?;
        let (case, parser) = id
            .rsplit_once('/')
            .with_context(|| format!("no parser in {id}"))?;
        let ns = result
            .split_whitespace()
            .next()
            .with_context(|| format!("no time in {line}"))?
            .replace(',', "")
            .parse::<f64>()?;
        found.push(((case.to_string(), parser.to_string()), ns));
    }
    Ok(found)
}

/// The number after `prefix` in `text`.
fn number_after(text: &str, prefix: &str) -> Option<u64> {
    let at = text.find(prefix)? + prefix.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The runs kept, by label (`stage` or the exercise's name), in run order.
fn read_runs() -> Result<BTreeMap<String, Vec<Run>>> {
    let dir = generated_dir().join(RUNS);
    let mut runs: BTreeMap<String, Vec<(usize, Run)>> = BTreeMap::new();
    for entry in fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .context("a run without a name")?;
        let (label, round) = name.rsplit_once('-').context("a run without a number")?;
        let text = fs::read_to_string(&path)?;
        let run = Run::parse(&text).with_context(|| format!("in {}", path.display()))?;
        runs.entry(label.to_string())
            .or_default()
            .push((round.parse()?, run));
    }
    Ok(runs
        .into_iter()
        .map(|(label, mut runs)| {
            runs.sort_by_key(|(round, _)| *round);
            (label, runs.into_iter().map(|(_, run)| run).collect())
        })
        .collect())
}

/// The median of `values`.
fn median(mut values: Vec<f64>) -> f64 {
    stage_check::tools::median(&mut values)
}

/// A time in ns as a reader likes it: `673 ns`, `15.4 µs`, `2.83 ms`.
fn time(ns: f64) -> String {
    let (value, unit) = if ns < 1_000.0 {
        (ns, "ns")
    } else if ns < 1_000_000.0 {
        (ns / 1_000.0, "µs")
    } else {
        (ns / 1_000_000.0, "ms")
    };
    format!("{} {unit}", three_digits(value))
}

/// A ratio or a time with three significant digits at most: `0.704`,
/// `7.41`, `26.3`, `673`.
fn three_digits(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else if value >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// A count with its thousands grouped: `1,048,648`.
fn grouped(count: f64) -> String {
    let digits = format!("{count:.0}");
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The ratio of each run, its median and its range, as one cell.
fn ratio_cell(ratios: Vec<f64>) -> String {
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(0.0, f64::max);
    format!(
        "**{}** ({}–{})",
        three_digits(median(ratios)),
        three_digits(low),
        three_digits(high)
    )
}

/// The pairs of cases whose time per byte the chapter compares: the same
/// pieces, more bytes.
const GROWTH: [(&str, &str); 2] = [
    ("7 KiB head, 16-byte pieces", "1 KiB head, 16-byte pieces"),
    ("1 MiB body, 1 KiB pieces", "64 KiB body, 1 KiB pieces"),
];

/// The chapter's tables, made from the runs kept:
/// `how-fast/parsers.md` (each case, both parsers), `how-fast/growth.md`
/// (time per byte as the request grows) and `how-fast/exercise.md` (ours
/// before and after the exercise).
pub fn tables() -> Result<Vec<Generated>> {
    let runs = read_runs()?;
    let Some(stage) = runs.get(AS_IS) else {
        bail!("no runs of the stage kept: run `cargo run -p book-gen -- bench`");
    };
    let Some(solved) = runs.get(EXERCISE) else {
        bail!("no runs of {EXERCISE} kept: run `cargo run -p book-gen -- bench`");
    };
    let cases = stage[0].cases();
    let rounds = stage.len();
    let times = |runs: &[Run], case: &str, parser: &str| -> Result<Vec<f64>> {
        runs.iter()
            .map(|run| {
                run.time(case, parser)
                    .with_context(|| format!("no time for {case}/{parser}"))
            })
            .collect()
    };

    let mut parsers = String::from(
        "| Case | bytes | ours | httparse (part 5) | our throughput ÷ httparse's |\n\
         | --- | ---: | ---: | ---: | ---: |\n",
    );
    for case in &cases {
        let ours = times(stage, case, "ours")?;
        let theirs = times(stage, case, "httparse")?;
        let ratios = ours.iter().zip(&theirs).map(|(o, t)| t / o).collect();
        let bytes = stage[0].bytes.get(case).copied().unwrap_or_default();
        parsers.push_str(&format!(
            "| {case} | {} | {} | {} | {} |\n",
            grouped(bytes),
            time(median(ours)),
            time(median(theirs)),
            ratio_cell(ratios)
        ));
    }
    parsers.push_str(&format!(
        "\nTimes are the median of {rounds} runs; the ratio is the median of the \
         {rounds} runs' ratios, with the lowest and highest in brackets.\n"
    ));

    let mut growth = String::from(
        "| Time per byte, larger case ÷ smaller case | ours | httparse (part 5) |\n\
         | --- | ---: | ---: |\n",
    );
    for (large, small) in GROWTH {
        let bytes = |case: &str| {
            stage[0]
                .bytes
                .get(case)
                .copied()
                .with_context(|| format!("no bytes for {case}"))
        };
        let (large_bytes, small_bytes) = (bytes(large)?, bytes(small)?);
        let mut cells = Vec::new();
        for parser in ["ours", "httparse"] {
            let large_times = times(stage, large, parser)?;
            let small_times = times(stage, small, parser)?;
            let per_byte = large_times
                .iter()
                .zip(&small_times)
                .map(|(l, s)| (l / large_bytes) / (s / small_bytes))
                .collect();
            cells.push(three_digits(median(per_byte)));
        }
        growth.push_str(&format!(
            "| {large} ÷ {small} | {} | {} |\n",
            cells[0], cells[1]
        ));
    }

    let mut exercise = String::from(
        "| Case | ours, as in the stage | ours, with the exercise | speed-up |\n\
         | --- | ---: | ---: | ---: |\n",
    );
    for case in &cases {
        let before = times(stage, case, "ours")?;
        let after = times(solved, case, "ours")?;
        let ratios = before.iter().zip(&after).map(|(b, a)| b / a).collect();
        exercise.push_str(&format!(
            "| {case} | {} | {} | {} |\n",
            time(median(before)),
            time(median(after)),
            ratio_cell(ratios)
        ));
    }
    exercise.push_str(&format!(
        "\nMedians of {rounds} runs of each, taken in turn; the speed-up is the \
         median of the ratios of runs taken one after the other.\n"
    ));

    Ok(vec![
        Generated {
            path: "how-fast/parsers.md".into(),
            text: parsers,
        },
        Generated {
            path: "how-fast/growth.md".into(),
            text: growth,
        },
        Generated {
            path: "how-fast/exercise.md".into(),
            text: exercise,
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_read_back() {
        let run = Run::parse(
            "test curl request/ours ... bench:         125 ns/iter (+/- 10)\n\
             test curl request/httparse ... bench:       1,127 ns/iter (+/- 15)\n\
             bytes curl request 78\n",
        )
        .unwrap();
        assert_eq!(run.time("curl request", "ours"), Some(125.0));
        assert_eq!(run.time("curl request", "httparse"), Some(1127.0));
        assert_eq!(run.bytes.get("curl request"), Some(&78.0));
        assert_eq!(run.cases(), ["curl request"]);
    }

    #[test]
    fn figures_read_well() {
        assert_eq!(time(673.2), "673 ns");
        assert_eq!(time(15_400.0), "15.4 µs");
        assert_eq!(time(2_830_000.0), "2.83 ms");
        assert_eq!(three_digits(0.7041), "0.704");
        assert_eq!(grouped(78.0), "78");
        assert_eq!(grouped(1_048_648.0), "1,048,648");
        assert_eq!(ratio_cell(vec![1.0, 2.0, 0.5]), "**1.00** (0.500–2.00)");
    }
}
