//! How the command line shows a check's result: one line when it passed, a
//! block saying what went wrong when it failed, for a person; or one JSON
//! object per check, one per line, for a program (a class's autograder).
//!
//! The text for a person carries colours as ANSI escape codes; the stream
//! it is written to (`anstream::stdout()`) drops them when the output is not
//! a terminal, or when `NO_COLOR` is set.

use std::fmt;
use std::time::Duration;

use anstyle::{AnsiColor, Style};

use crate::conn::shown;
use crate::{Check, Outcome};

const PASSED: Style = AnsiColor::Green.on_default().bold();
const FAILED: Style = AnsiColor::Red.on_default().bold();
const SKIPPED: Style = AnsiColor::Yellow.on_default();

/// One check's result, with what the server printed meanwhile.
pub struct Verdict<'a> {
    pub check: &'a Check,
    pub outcome: &'a Outcome,
    /// How long the check took.
    pub took: Duration,
    /// Shown with a failure: the server's lines on standard error during the
    /// check, and whether it exited (a crash explains many a failure).
    pub server_said: Vec<String>,
}

impl Verdict<'_> {
    /// The result for a person: `PASS  name`, `SKIP  name: why`, or `FAIL  name`
    /// and, indented below it, what was checked, sent, received and expected,
    /// and a hint.
    pub fn human(&self) -> String {
        let name = self.check.name;
        match self.outcome {
            Outcome::Passed => format!("{PASSED}PASS{PASSED:#}  {name}\n"),
            Outcome::Skipped(why) => format!("{SKIPPED}SKIP{SKIPPED:#}  {name}: {why}\n"),
            Outcome::Failed(failure) => {
                let mut block = format!("checks:   {}\n", self.check.proves);
                block.push_str(&failure.report(self.check.hint));
                block.push_str(&server_said(&self.server_said));
                let indented = block.replace('\n', "\n      ");
                format!("{FAILED}FAIL{FAILED:#}  {name}\n      {indented}\n")
            }
        }
    }

    /// The result for a program, as one line of JSON:
    /// `{"name": …, "outcome": "passed" | "failed" | "skipped", "proves": …,
    /// "seconds": …}`, and on failure `expected`, `sent`, `received` (bytes
    /// escaped and cut, as a person sees them), `hint` and `server_said`; on
    /// a skip, `reason`.
    ///
    /// serde_json writes the JSON: escaping every control character and
    /// quote right is easy to get subtly wrong by hand, and the crate is
    /// already in the workspace's tree.
    pub fn json(&self) -> String {
        let mut object = serde_json::json!({
            "name": self.check.name,
            "proves": self.check.proves,
            "seconds": (self.took.as_secs_f64() * 1000.0).round() / 1000.0,
        });
        let outcome = match self.outcome {
            Outcome::Passed => "passed",
            Outcome::Skipped(reason) => {
                object["reason"] = reason.as_str().into();
                "skipped"
            }
            Outcome::Failed(failure) => {
                object["expected"] = failure.expected.as_str().into();
                object["sent"] = shown(&failure.sent).into();
                object["received"] = shown(&failure.received).into();
                object["hint"] = self.check.hint.into();
                object["server_said"] = self.server_said.clone().into();
                "failed"
            }
        };
        object["outcome"] = outcome.into();
        object.to_string()
    }
}

/// What the server printed on standard error, to follow a failure's report:
/// `server:   ` before the first line, the others aligned under it. Empty
/// when it printed nothing.
pub fn server_said(lines: &[String]) -> String {
    let mut text = String::new();
    for (i, line) in lines.iter().enumerate() {
        text.push_str(if i == 0 {
            "\nserver:   "
        } else {
            "\n          "
        });
        text.push_str(line);
    }
    text
}

/// How many checks passed, failed, were skipped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Tally {
    /// Counts one more outcome.
    pub fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed(_) => self.failed += 1,
            Outcome::Skipped(_) => self.skipped += 1,
        }
    }
}

/// `3 passed, 1 failed, 2 skipped`: the closing line of a run, the form test
/// runners print, so that CI systems can read it too.
impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failed = if self.failed > 0 {
            FAILED
        } else {
            Style::new()
        };
        write!(f, "{} passed, ", self.passed)?;
        write!(f, "{failed}{} failed{failed:#}", self.failed)?;
        if self.skipped > 0 {
            write!(f, ", {} skipped", self.skipped)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::Failure;
    use crate::{Stage, checks};

    fn plain(text: &str) -> String {
        anstream::adapter::strip_str(text).to_string()
    }

    fn verdict<'a>(outcome: &'a Outcome, server_said: Vec<String>) -> Verdict<'a> {
        Verdict {
            check: &checks(Stage::Echo)[0],
            outcome,
            took: Duration::from_millis(1234),
            server_said,
        }
    }

    fn failure() -> Outcome {
        Outcome::Failed(Failure {
            expected: "b\"hello\\n\" back".into(),
            sent: b"hello\n".to_vec(),
            received: b"HELLO\r\n\"".to_vec(),
        })
    }

    #[test]
    fn a_pass_is_one_line_and_a_skip_says_why() {
        let passed = verdict(&Outcome::Passed, Vec::new());
        assert_eq!(plain(&passed.human()), "PASS  echo_one_message\n");
        let skipped = Outcome::Skipped("needs curl".into());
        assert_eq!(
            plain(&verdict(&skipped, Vec::new()).human()),
            "SKIP  echo_one_message: needs curl\n"
        );
    }

    #[test]
    fn a_failure_shows_the_exchange_indented() {
        let outcome = failure();
        let said = vec!["Traceback".into(), "  File".into()];
        let text = plain(&verdict(&outcome, said).human());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "FAIL  echo_one_message");
        assert_eq!(lines[1], "      checks:   a message comes back unchanged");
        assert_eq!(lines[2], "      sent:     b\"hello\\n\"");
        assert_eq!(lines[3], "      received: b\"HELLO\\r\\n\\\"\"");
        assert!(lines[5].starts_with("      hint:     Send back exactly"));
        assert_eq!(lines[6], "      server:   Traceback");
        assert_eq!(lines[7], "                  File");
    }

    #[test]
    fn json_is_one_line_with_every_field() {
        let outcome = failure();
        let line = verdict(&outcome, Vec::new()).json();
        assert!(!line.contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["name"], "echo_one_message");
        assert_eq!(value["outcome"], "failed");
        assert_eq!(value["seconds"], 1.234);
        assert_eq!(value["received"], "b\"HELLO\\r\\n\\\"\"");
        assert!(value["hint"].as_str().unwrap().contains("book: Part 4"));
        let skipped = Outcome::Skipped("needs curl".into());
        let value: serde_json::Value =
            serde_json::from_str(&verdict(&skipped, Vec::new()).json()).unwrap();
        assert_eq!(value["outcome"], "skipped");
        assert_eq!(value["reason"], "needs curl");
    }

    #[test]
    fn the_tally_reads_like_a_test_runner() {
        let mut tally = Tally::default();
        for outcome in [Outcome::Passed, Outcome::Passed, failure()] {
            tally.add(&outcome);
        }
        assert_eq!(plain(&tally.to_string()), "2 passed, 1 failed");
        tally.add(&Outcome::Skipped(String::new()));
        assert_eq!(plain(&tally.to_string()), "2 passed, 1 failed, 1 skipped");
    }
}
