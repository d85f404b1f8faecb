//! The book's exercises, and the checks that prove each one done.
//!
//! An exercise changes one stage: a `quit` command for the echo server, a
//! `404` for paths that have no page, chunked bodies for our own parser. Its
//! checks prove the change from outside, like every other check, so they
//! judge a learner's solution in any language as well as the book's
//! reference solution (`docs/exercises/<stage>/<name>.patch`), which the
//! book's tests apply, build and check.
//!
//! Exercise checks are kept apart from a stage's own [`checks()`](crate::checks()),
//! which the stage as it stands must pass, and which an exercise's checks
//! must fail on (that is how we know they test something). The command line
//! runs them with `--exercise NAME`: the stage's checks, less those the
//! exercise changes on purpose, then the exercise's own.

use crate::{Check, Kind, Rules, Stage, checks};

mod echo;
mod http;

/// What an exercise's checks hold a server to: the exercise's task.
pub(crate) const EXERCISE_RULE: &str =
    "the book's exercise asks it of the stage, beyond what the stage itself does";

/// One exercise: a change to a stage, and the checks that prove it made.
pub struct Exercise {
    /// A short name, unique among all exercises, such as `not_found`; also
    /// the name of its reference solution, `<name>.patch`.
    pub name: &'static str,
    /// The stage (crate) whose chapter sets it, such as `part5-http-httparse`.
    pub stage: &'static str,
    /// What to do, in one line.
    pub task: &'static str,
    /// What the solved server must be started with for the checks, such as
    /// `--max-clients 1`; most exercises need nothing.
    pub server_args: &'static [&'static str],
    /// The stage's checks that a solved server fails on purpose, each with
    /// why: `--exercise` leaves them out.
    pub changes: &'static [(&'static str, &'static str)],
    /// The exercise's own checks.
    pub checks: &'static [Check],
}

impl Exercise {
    /// The checks `--exercise` runs: those of the exercise's kind of stage,
    /// less the ones it [`changes`](Exercise::changes), then its own.
    pub fn full_checks(&self, stage: Stage) -> Vec<&'static Check> {
        let changed = |check: &&Check| self.changes.iter().any(|(name, _)| *name == check.name);
        let mut full: Vec<&Check> = checks(stage, Rules::All);
        full.retain(|check| !changed(check));
        full.extend(self.checks);
        full
    }

    /// The stage whose chapter sets it.
    pub fn home(&self) -> Stage {
        Stage::from_name(self.stage).expect("an exercise names a stage")
    }
}

/// The exercises for `stage`: those its part's chapter sets, in the book's
/// order. (An exercise of an earlier part may not fit a later stage: part
/// 7's application answers `404` where part 5's exercise asks for the page.)
pub fn exercises(stage: Stage) -> Vec<&'static Exercise> {
    kind_exercises(stage.kind)
        .iter()
        .filter(|exercise| exercise.home().part == stage.part)
        .collect()
}

fn kind_exercises(kind: Kind) -> &'static [Exercise] {
    match kind {
        Kind::Echo => echo::EXERCISES,
        Kind::Http => http::EXERCISES,
    }
}

/// Every exercise, with the stage whose chapter sets it.
pub fn all_exercises() -> impl Iterator<Item = (Stage, &'static Exercise)> {
    [Kind::Echo, Kind::Http]
        .into_iter()
        .flat_map(kind_exercises)
        .map(|exercise| (exercise.home(), exercise))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::all_checks;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_among_exercises_and_checks() {
        let mut exercise_names = HashSet::new();
        let mut check_names: HashSet<&str> = [Kind::Echo, Kind::Http]
            .into_iter()
            .flat_map(all_checks)
            .map(|check| check.name)
            .collect();
        for (_, exercise) in all_exercises() {
            assert!(exercise_names.insert(exercise.name), "{}", exercise.name);
            for check in exercise.checks {
                assert!(check_names.insert(check.name), "{}", check.name);
            }
        }
    }

    #[test]
    fn each_exercise_belongs_to_a_stage_of_its_kind() {
        for (stage, exercise) in all_exercises() {
            assert!(exercises(stage).iter().any(|e| e.name == exercise.name));
            assert!(!exercise.checks.is_empty(), "{}", exercise.name);
            for check in exercise.checks {
                assert_eq!(check.since, stage.part, "{}", check.name);
            }
            for (changed, why) in exercise.changes {
                assert!(
                    checks(stage, Rules::All)
                        .iter()
                        .any(|check| check.name == *changed),
                    "{} changes no check `{changed}`",
                    exercise.name
                );
                assert!(!why.is_empty());
            }
        }
    }

    #[test]
    fn full_checks_leave_out_what_the_exercise_changes() {
        for (stage, exercise) in all_exercises() {
            let full = exercise.full_checks(stage);
            assert_eq!(
                full.len(),
                checks(stage, Rules::All).len() - exercise.changes.len() + exercise.checks.len()
            );
            for (changed, _) in exercise.changes {
                assert!(full.iter().all(|check| check.name != *changed));
            }
        }
    }
}
