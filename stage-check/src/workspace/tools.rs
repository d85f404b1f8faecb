//! What this workspace's tools share, the load benchmark (`load`) and the
//! book's generator (`book-gen`): building every stage, and the median of a
//! benchmark's rounds.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use crate::STAGES;

/// Which of cargo's profiles to build with: `Debug`, as `cargo build`, or
/// `Release`, as `cargo build --release`, for measuring speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Debug,
    Release,
}

/// Builds every stage's program, and stage-check's own with its examples,
/// and returns the folder cargo put the programs in (the examples are in
/// its `examples` folder): as cargo reports it, so that a `CARGO_TARGET_DIR`
/// elsewhere is followed.
pub fn build_stages(profile: Profile) -> anyhow::Result<PathBuf> {
    // Cargo tells the program it runs which cargo that is.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args([
            "build",
            "--quiet",
            "--message-format=json-render-diagnostics",
        ])
        .args(["--bins", "--examples", "-p", "stage-check"]);
    for stage in STAGES {
        command.args(["-p", stage.name]);
    }
    if profile == Profile::Release {
        command.arg("--release");
    }
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run cargo build")?;
    if !output.status.success() {
        bail!("cargo build of the stages failed");
    }
    // One JSON message a line; the one for a program names its file.
    let first = STAGES[0].name;
    output
        .stdout
        .split(|&b| b == b'\n')
        .filter_map(|line| serde_json::from_slice::<serde_json::Value>(line).ok())
        .find(|message| message["target"]["name"] == first)
        .and_then(|message| Some(PathBuf::from(message["executable"].as_str()?)))
        .and_then(|program| Some(program.parent()?.to_path_buf()))
        .with_context(|| format!("cargo reported no program for {first}"))
}

/// The middle one of `values` (which it sorts), or the mean of the two
/// middle ones when their number is even; NaN for none.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }
}
