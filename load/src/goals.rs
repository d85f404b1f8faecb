//! A stage's goals, each measured in the same run as what it is held to,
//! and the table that shows them: what, measured, goal, met or not. The
//! pool's ([`crate::pool`]) and the event loop's ([`crate::event_loop`]).

use std::fmt::Write as _;

use crate::measure::Load;
use crate::report::rounds;
use crate::{Mode, Results};

/// One of a stage's goals: what is measured, its value, the goal, and
/// whether the value meets it.
pub struct Goal {
    pub what: String,
    pub measured: String,
    pub goal: String,
    pub verdict: Verdict,
}

/// The verdicts of `goals`, in their order: what the tests of the stages'
/// goals compare.
#[cfg(test)]
pub fn verdicts(goals: Vec<Goal>) -> Vec<Verdict> {
    goals.into_iter().map(|goal| goal.verdict).collect()
}

/// Whether a goal was met, as the table says it.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Met,
    NotMet,
    /// Not met by the median of the rounds, but by some of them: the
    /// difference is within what the machine's noise makes of it.
    NotMetWithinNoise,
    /// This run did not measure it (`--quick` measures less).
    NotMeasured,
}

impl Verdict {
    /// The table's words for it.
    pub fn text(&self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::NotMet => "not met",
            Verdict::NotMetWithinNoise => "not met by the median; met in some rounds",
            Verdict::NotMeasured => "not measured in this run",
        }
    }

    /// The verdict on figures measured once per round, `median` being the
    /// median of them: met if it meets `meets`; within the noise if some
    /// round's does.
    pub fn of_rounds(median: f64, each: &[f64], meets: impl Fn(f64) -> bool) -> Verdict {
        if median.is_nan() {
            Verdict::NotMeasured
        } else if meets(median) {
            Verdict::Met
        } else if each.iter().any(|&value| meets(value)) {
            Verdict::NotMetWithinNoise
        } else {
            Verdict::NotMet
        }
    }
}

/// The goals as a Markdown table, under `title`.
pub fn table(title: &str, goals: &[Goal]) -> String {
    let mut out = format!(
        "{title}\n\n\
         | what | measured | goal | met? |\n\
         | --- | --- | --- | --- |\n"
    );
    for goal in goals {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            goal.what,
            goal.measured,
            goal.goal,
            goal.verdict.text()
        );
    }
    out
}

/// The goal of no socket error at `connections` at once, one for each way
/// of using them: the errors of `name` added up over the rounds.
pub fn no_socket_errors(results: &Results, name: &str, connections: u32) -> Vec<Goal> {
    let mut goals = Vec::new();
    for (mode, all) in [
        (Mode::Close, &results.load),
        (Mode::KeepAlive, &results.keep_alive),
    ] {
        let measured: Vec<&Load> = rounds(all, name, connections).collect();
        let errors: u64 = measured.iter().map(|load| load.socket_errors).sum();
        let not_2xx: u64 = measured.iter().map(|load| load.not_2xx).sum();
        let (text, verdict) = match measured.len() {
            0 => ("–".into(), Verdict::NotMeasured),
            n => (
                format!(
                    "{errors} in {n} round{} ({not_2xx} answers not 2xx)",
                    if n == 1 { "" } else { "s" }
                ),
                match errors {
                    0 => Verdict::Met,
                    _ => Verdict::NotMet,
                },
            ),
        };
        goals.push(Goal {
            what: format!(
                "socket errors at {connections} connections, {}",
                mode.said()
            ),
            measured: text,
            goal: "0".into(),
            verdict,
        });
    }
    goals
}
