//! How the command line shows a check's result: one line when it passed, a
//! block saying what went wrong when it failed, for a person; or, for a
//! program (a class's autograder), one JSON object per check, one per line,
//! and a summary with the score last; or a JUnit XML report, the format
//! the test reports of GitLab, Jenkins and GitHub read.
//!
//! The text for a person carries colours as ANSI escape codes; the stream
//! it is written to (`anstream::stdout()`) drops them when the output is not
//! a terminal, or when `NO_COLOR` is set.

use std::fmt;
use std::time::Duration;

use anstyle::{AnsiColor, Style};

use crate::client::shown;
use crate::{Check, Outcome, Stage};

/// Who judged, as the records say: `stage-check 0.1.0`.
pub const CHECKER: &str = concat!("stage-check ", env!("CARGO_PKG_VERSION"));

const PASSED: Style = AnsiColor::Green.on_default().bold();
const FAILED: Style = AnsiColor::Red.on_default().bold();
const SKIPPED: Style = AnsiColor::Yellow.on_default();
const NOT_JUDGED: Style = AnsiColor::Yellow.on_default();

/// One check's result, with what the server printed meanwhile.
pub struct Verdict<'a> {
    pub check: &'a Check,
    pub outcome: &'a Outcome,
    /// How long the check took.
    pub took: Duration,
    /// Shown with a failure: the server's lines on standard error during the
    /// check, and whether it exited (a crash explains many a failure).
    pub server_said: Vec<String>,
    /// What HTTP recommends and the server did not do: shown, never a failure.
    pub notes: Vec<String>,
}

impl Verdict<'_> {
    /// The result for a person: `PASS  HTTP   name`, `SKIP  stage  name: why`,
    /// `----  HTTP   name: not judged: see other_check (what was seen)`, or
    /// `FAIL  HTTP   name` and, indented below it, what was checked, the rule,
    /// what was sent, received and expected, and a hint. Notes follow, indented.
    pub fn human(&self) -> String {
        let name = self.check.name;
        let kind = self.check.rule.kind();
        let mut text = match self.outcome {
            Outcome::Passed => format!("{PASSED}PASS{PASSED:#}  {kind:5}  {name}\n"),
            Outcome::Skipped(why) => {
                format!("{SKIPPED}SKIP{SKIPPED:#}  {kind:5}  {name}: {why}\n")
            }
            Outcome::NotJudged { see, failure } => format!(
                "{NOT_JUDGED}----{NOT_JUDGED:#}  {kind:5}  {name}: not judged: see {see} \
                 (expected {})\n",
                failure.expected
            ),
            Outcome::Failed(_) => {
                let indented = self.failure_block().replace('\n', "\n             ");
                format!("{FAILED}FAIL{FAILED:#}  {kind:5}  {name}\n             {indented}\n")
            }
        };
        for note in &self.notes {
            text.push_str(&format!("             note:     {note}\n"));
        }
        text
    }

    /// What a failure shows, one field a line: what the check proves, its
    /// rule, what was sent, received and expected, the hint, and what the
    /// server said. Empty unless the check failed.
    fn failure_block(&self) -> String {
        let Outcome::Failed(failure) = self.outcome else {
            return String::new();
        };
        let mut block = format!("checks:   {}\n", self.check.proves);
        block.push_str(&format!("rule:     {}\n", self.check.rule.describe()));
        block.push_str(&failure.report(self.check.hint));
        block.push_str(&server_said(&self.server_said));
        block
    }

    /// The result as a JUnit `<testcase>`, its class the kind of rule
    /// (`HTTP` or `stage`): with a `<failure>` holding the failure's
    /// report, or `<skipped>` saying why for a check skipped or not judged.
    pub fn junit(&self) -> String {
        let inside = match self.outcome {
            Outcome::Passed => String::new(),
            Outcome::Skipped(why) => format!("<skipped message=\"{}\"/>", xml(why)),
            Outcome::NotJudged { see, failure } => format!(
                "<skipped message=\"{}\"/>",
                xml(&format!(
                    "not judged: see {see} (expected {})",
                    failure.expected
                ))
            ),
            Outcome::Failed(failure) => format!(
                "<failure message=\"{}\">{}</failure>",
                xml(&format!("expected {}", failure.expected)),
                xml(&self.failure_block())
            ),
        };
        testcase(
            self.check.name,
            self.check.rule.kind(),
            self.took.as_secs_f64(),
            &inside,
        )
    }

    /// The result for a program, as one line of JSON:
    /// `{"name": …, "outcome": "passed" | "failed" | "not_judged" |
    /// "skipped", "kind": "HTTP" | "stage", "rule": …, "proves": …,
    /// "seconds": …, "notes": […]}`; on failure `expected`, `sent`,
    /// `received` (bytes escaped and cut, as a person sees them), `hint` and
    /// `server_said`; when not judged, `see` (the check that failed) and
    /// `expected`; on a skip, `reason`. `rule` is the RFC sections for an
    /// HTTP check, or why the stage asks it.
    ///
    /// serde_json writes the JSON: escaping every control character and
    /// quote right is easy to get subtly wrong by hand, and the crate is
    /// already in the workspace's tree.
    pub fn json(&self) -> String {
        let mut object = serde_json::json!({
            "name": self.check.name,
            "kind": self.check.rule.kind(),
            "rule": self.check.rule.source(),
            "proves": self.check.proves,
            "seconds": (self.took.as_secs_f64() * 1000.0).round() / 1000.0,
            "notes": self.notes,
        });
        let outcome = match self.outcome {
            Outcome::Passed => "passed",
            Outcome::Skipped(reason) => {
                object["reason"] = reason.as_str().into();
                "skipped"
            }
            Outcome::NotJudged { see, failure } => {
                object["see"] = (*see).into();
                object["expected"] = failure.expected.as_str().into();
                "not_judged"
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

/// How many checks passed, failed, were not judged, were skipped; and the
/// score: the points of those that passed, out of the points of all.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub not_judged: usize,
    pub skipped: usize,
    pub score: u32,
    pub max_score: u32,
}

impl Tally {
    /// Counts one more outcome, of a check worth `points` (see
    /// [`Stage::points`]). Every check counts towards the most there is
    /// to score, skipped ones too: a grade is out of the whole stage.
    pub fn add(&mut self, outcome: &Outcome, points: u32) {
        self.max_score += points;
        match outcome {
            Outcome::Passed => {
                self.passed += 1;
                self.score += points;
            }
            Outcome::Failed(_) => self.failed += 1,
            Outcome::NotJudged { .. } => self.not_judged += 1,
            Outcome::Skipped(_) => self.skipped += 1,
        }
    }
}

/// `3 passed, 1 failed, 2 not judged, 2 skipped`: the closing line of a run, the form test
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
        if self.not_judged > 0 {
            write!(f, ", {} not judged", self.not_judged)?;
        }
        if self.skipped > 0 {
            write!(f, ", {} skipped", self.skipped)?;
        }
        Ok(())
    }
}

/// The summary that closes a JSON run, one line:
/// `{"summary": true, "stage": …, "checker": "stage-check 0.1.0", "passed":
/// n, "failed": n, "skipped": n, "not_judged": n, "score": x, "max_score":
/// y}`.
pub fn summary_json(stage: Stage, tally: &Tally) -> String {
    serde_json::json!({
        "summary": true,
        "stage": stage.name,
        "checker": CHECKER,
        "passed": tally.passed,
        "failed": tally.failed,
        "skipped": tally.skipped,
        "not_judged": tally.not_judged,
        "score": tally.score,
        "max_score": tally.max_score,
    })
    .to_string()
}

/// The one record of a JSON run whose server did not start (or that
/// found nothing listening): `{"did_not_start": true, "stage": …,
/// "checker": …, "why": …}`.
pub fn did_not_start_json(stage: Stage, why: &str) -> String {
    serde_json::json!({
        "did_not_start": true,
        "stage": stage.name,
        "checker": CHECKER,
        "why": why,
    })
    .to_string()
}

/// A JUnit report: one `<testsuite>` named after the stage, holding the
/// `cases` ([`Verdict::junit`]), which `tally` counts.
pub fn junit_suite(stage: Stage, tally: &Tally, seconds: f64, cases: &[String]) -> String {
    let mut xml_text = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    xml_text.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" \
         time=\"{seconds:.3}\">\n",
        xml(stage.name),
        cases.len(),
        tally.failed,
        tally.skipped + tally.not_judged,
    ));
    for case in cases {
        xml_text.push_str(&format!("    {case}\n"));
    }
    xml_text.push_str("  </testsuite>\n</testsuites>\n");
    xml_text
}

/// The JUnit report of a server that did not start: one failed test,
/// `server_started`, saying why.
pub fn junit_did_not_start(stage: Stage, why: &str) -> String {
    let failure = format!(
        "<failure message=\"{}\">{}</failure>",
        xml("the server to start"),
        xml(why)
    );
    let tally = Tally {
        failed: 1,
        ..Tally::default()
    };
    junit_suite(
        stage,
        &tally,
        0.0,
        &[testcase("server_started", "stage-check", 0.0, &failure)],
    )
}

/// One `<testcase>`, holding `inside` (a failure, a skip, or nothing).
fn testcase(name: &str, class: &str, seconds: f64, inside: &str) -> String {
    format!(
        "<testcase name=\"{}\" classname=\"{}\" time=\"{seconds:.3}\">{inside}</testcase>",
        xml(name),
        xml(class)
    )
}

/// `text` as XML may hold it, in an element or an attribute: the five
/// characters XML gives a meaning escaped, line ends kept as
/// character references (an attribute would turn them into spaces), and
/// the control characters XML 1.0 cannot hold at all replaced by `?`.
pub fn xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\n' => escaped.push_str("&#10;"),
            '\t' | '\r' => escaped.push_str(&format!("&#{};", c as u32)),
            c if c.is_control() => escaped.push('?'),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Failure;
    use crate::{Kind, all_checks};

    fn plain(text: &str) -> String {
        anstream::adapter::strip_str(text).to_string()
    }

    fn verdict<'a>(outcome: &'a Outcome, server_said: Vec<String>) -> Verdict<'a> {
        Verdict {
            check: all_checks(Kind::Echo)[0],
            outcome,
            took: Duration::from_millis(1234),
            server_said,
            notes: Vec::new(),
        }
    }

    fn failure() -> Outcome {
        Outcome::Failed(Failure {
            expected: "b\"hello\\n\" back".into(),
            sent: b"hello\n".to_vec(),
            received: b"HELLO\r\n\"".to_vec(),
            see: None,
        })
    }

    #[test]
    fn a_pass_is_one_line_and_a_skip_says_why() {
        let passed = verdict(&Outcome::Passed, Vec::new());
        assert_eq!(plain(&passed.human()), "PASS  stage  echo_one_message\n");
        let skipped = Outcome::Skipped("needs curl".into());
        assert_eq!(
            plain(&verdict(&skipped, Vec::new()).human()),
            "SKIP  stage  echo_one_message: needs curl\n"
        );
    }

    #[test]
    fn a_failure_shows_the_exchange_indented() {
        let outcome = failure();
        let said = vec!["Traceback".into(), "  File".into()];
        let text = plain(&verdict(&outcome, said).human());
        let lines: Vec<&str> = text.lines().collect();
        let indent = " ".repeat("FAIL  stage  ".len());
        assert_eq!(lines[0], "FAIL  stage  echo_one_message");
        assert_eq!(
            lines[1],
            format!("{indent}checks:   a message comes back unchanged")
        );
        assert!(lines[2].starts_with(&format!("{indent}rule:     the stage's rule")));
        assert_eq!(lines[3], format!("{indent}sent:     b\"hello\\n\""));
        assert_eq!(lines[4], format!("{indent}received: b\"HELLO\\r\\n\\\"\""));
        assert!(lines[6].starts_with(&format!("{indent}hint:     Send back exactly")));
        assert_eq!(lines[7], format!("{indent}server:   Traceback"));
        assert_eq!(lines[8], format!("{indent}            File"));
    }

    #[test]
    fn json_is_one_line_with_every_field() {
        let outcome = failure();
        let line = verdict(&outcome, Vec::new()).json();
        assert!(!line.contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["name"], "echo_one_message");
        assert_eq!(value["outcome"], "failed");
        assert_eq!(value["kind"], "stage");
        assert!(value["rule"].as_str().unwrap().contains("Part 4"));
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
            tally.add(&outcome, 1);
        }
        assert_eq!(plain(&tally.to_string()), "2 passed, 1 failed");
        tally.add(&Outcome::Skipped(String::new()), 1);
        assert_eq!(plain(&tally.to_string()), "2 passed, 1 failed, 1 skipped");
        tally.add(
            &Outcome::NotJudged {
                see: "echo_one_message",
                failure: Failure::new("x"),
            },
            1,
        );
        assert_eq!(
            plain(&tally.to_string()),
            "2 passed, 1 failed, 1 not judged, 1 skipped"
        );
        // Points: those of the passed checks, out of those of all.
        tally.add(&Outcome::Passed, 3);
        assert_eq!((tally.score, tally.max_score), (5, 8));
    }

    #[test]
    fn the_json_summary_and_the_record_of_a_server_that_did_not_start() {
        let stage = Stage::from_name("part5-oo-session").unwrap();
        let mut tally = Tally::default();
        for outcome in [Outcome::Passed, failure()] {
            tally.add(&outcome, 1);
        }
        let summary: serde_json::Value =
            serde_json::from_str(&summary_json(stage, &tally)).unwrap();
        assert_eq!(summary["summary"], true);
        assert_eq!(summary["stage"], "part5-oo-session");
        assert!(
            summary["checker"]
                .as_str()
                .unwrap()
                .starts_with("stage-check ")
        );
        assert_eq!(
            (summary["passed"].as_u64(), summary["failed"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(
            (summary["score"].as_u64(), summary["max_score"].as_u64()),
            (Some(1), Some(2))
        );
        let none: serde_json::Value =
            serde_json::from_str(&did_not_start_json(stage, "it exited")).unwrap();
        assert_eq!(none["did_not_start"], true);
        assert_eq!(none["why"], "it exited");
    }

    #[test]
    fn junit_escapes_what_xml_gives_a_meaning() {
        assert_eq!(
            xml("<a href=\"x\">&'\n\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&#10;?"
        );
        let outcome = failure();
        let case = verdict(&outcome, vec!["<panic>".into()]).junit();
        assert!(case.starts_with(
            "<testcase name=\"echo_one_message\" classname=\"stage\" time=\"1.234\">\
             <failure message=\"expected b&quot;hello\\n&quot; back\">checks:   "
        ));
        assert!(case.contains("server:   &lt;panic&gt;</failure></testcase>"));
        let skipped = Outcome::Skipped("needs curl".into());
        assert!(
            verdict(&skipped, Vec::new())
                .junit()
                .contains("<skipped message=\"needs curl\"/>")
        );
        let stage = Stage::from_name("part4").unwrap();
        let suite = junit_did_not_start(stage, "it exited & said <nothing>");
        assert!(suite.contains("<testsuite name=\"part4-tcp-echo\" tests=\"1\" failures=\"1\""));
        assert!(suite.contains("<testcase name=\"server_started\""));
        assert!(suite.contains("it exited &amp; said &lt;nothing&gt;"));
    }

    #[test]
    fn not_judged_names_the_check_to_see_and_notes_follow_any_result() {
        let outcome = Outcome::NotJudged {
            see: "echo_many_messages",
            failure: Failure::new("an answer"),
        };
        let mut not_judged = verdict(&outcome, Vec::new());
        not_judged.notes = vec!["a note".into()];
        assert_eq!(
            plain(&not_judged.human()),
            "----  stage  echo_one_message: not judged: see echo_many_messages \
             (expected an answer)\n             note:     a note\n"
        );
        let value: serde_json::Value = serde_json::from_str(&not_judged.json()).unwrap();
        assert_eq!(value["outcome"], "not_judged");
        assert_eq!(value["see"], "echo_many_messages");
        assert_eq!(value["kind"], "stage");
        assert_eq!(value["notes"][0], "a note");
    }
}
