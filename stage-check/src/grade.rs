//! `stage-check grade FOLDER --stage STAGE`: a class graded with one
//! command.
//!
//! FOLDER holds one folder per submission, each with a file `start`: one
//! line, the command that starts the server, run from inside that folder
//! (with `--port N` appended, or N put in place of `{port}`, as `--exec`
//! does). Every check of the stage runs against each submission, one after
//! the other, and the grades come out as one table, a row per submission
//! and a column per check, in CSV (for a spreadsheet) and in Markdown (to
//! read, or to paste into an issue):
//!
//! ```text
//! | submission | `well_formed_response` | `request_in_pieces` | … | score | note |
//! | --- | --- | --- | --- | --- | --- |
//! | alice | pass | pass | … | 25/25 |  |
//! | bob | pass | FAIL | … | 22/25 |  |
//! | carol |  |  | … | 0/25 | did not start: … it exited (exit status: 1) before listening |
//! ```

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use stage_check::{Check, Outcome, Stage};

use crate::{Checking, select, stage_names, start};

/// Grade a class: run a stage's checks against every submission in FOLDER.
///
/// FOLDER holds a folder per submission, each with a file `start`: one
/// line, the command that starts its server, run from inside that folder,
/// with `--port N` appended or N put in place of `{port}` (as --exec does).
/// Writes one table, a row per submission and a column per check (pass,
/// FAIL, skip, n.j. for not judged) and the score, in CSV and in Markdown.
#[derive(clap::Args)]
pub(crate) struct GradeArgs {
    /// The folder of submissions, one folder each.
    folder: PathBuf,

    /// The stage whose checks to run: a stage's crate name, or a short form.
    #[arg(long, value_parser = stage_names())]
    stage: String,

    #[command(flatten)]
    checking: Checking,

    /// How long each server may take to listen.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    start_timeout: u64,

    /// Where to write the table as CSV; `-` for standard output.
    #[arg(long, value_name = "FILE", default_value = "grades.csv")]
    csv: String,

    /// Where to write the table as Markdown; standard output unless given.
    #[arg(long, value_name = "FILE", default_value = "-")]
    markdown: String,
}

/// One submission's row: its name, each check's cell (none when it was
/// not graded), its score, and a note: why it was not graded, or what else
/// to know (it was started again without --read-timeout).
struct Row {
    name: String,
    cells: Vec<&'static str>,
    score: u32,
    note: String,
}

/// Grades every submission, one after the other, saying on standard error
/// how each went, then writes the tables. Exit code 0 once they are
/// written, whatever the grades.
pub(crate) fn grade(args: &GradeArgs) -> anyhow::Result<ExitCode> {
    let Some(stage) = Stage::from_name(&args.stage) else {
        // Not reached: clap accepts only the names `from_name` knows.
        anyhow::bail!("no stage `{}`", args.stage);
    };
    let selected = select(stage, &args.stage, None, &args.checking);
    let max_score = stage.max_score(&selected);
    let mut rows = Vec::new();
    for (name, dir) in submissions(&args.folder)? {
        let row = grade_one(stage, &selected, args, name, &dir);
        eprintln!("{}: {}/{max_score} {}", row.name, row.score, row.note);
        rows.push(row);
    }
    let header: Vec<&str> = selected.iter().map(|check| check.name).collect();
    write_to(&args.csv, &csv(&header, &rows, max_score))?;
    write_to(&args.markdown, &markdown(&header, &rows, max_score))?;
    Ok(ExitCode::SUCCESS)
}

/// The submissions in `folder`: each folder's name and path, by name.
fn submissions(folder: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let entries =
        fs::read_dir(folder).with_context(|| format!("cannot list {}", folder.display()))?;
    let mut found = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            found.push((name.into_owned(), path));
        }
    }
    found.sort();
    Ok(found)
}

/// Starts the submission in `dir` by its `start` file, and runs `selected`
/// against it.
fn grade_one(stage: Stage, selected: &[&Check], args: &GradeArgs, name: String, dir: &Path) -> Row {
    let not_graded = |why: String| Row {
        name: name.clone(),
        cells: Vec::new(),
        score: 0,
        note: why,
    };
    let start_file = dir.join("start");
    let Ok(text) = fs::read_to_string(&start_file) else {
        return not_graded("did not start: no file `start`".into());
    };
    let command_line = text.lines().map(str::trim).find(|line| !line.is_empty());
    let Some(command_line) = command_line else {
        return not_graded("did not start: `start` is empty".into());
    };
    let within = Duration::from_secs(args.start_timeout);
    let mut subject = match start(dir, command_line, stage, &args.checking, within) {
        Ok(subject) => subject,
        // The first line says why; what the server said follows it.
        Err(error) => {
            let why = format!("{error:#}");
            return not_graded(format!("did not start: {}", first_line(&why)));
        }
    };
    let mut cells = Vec::new();
    let ran = crate::run_checks(stage, selected, &mut subject, |verdict| {
        cells.push(cell(verdict.outcome));
        Ok(())
    });
    let note = match &subject.refused {
        Some(said) => format!("started again without --read-timeout ({said})"),
        None => String::new(),
    };
    match ran {
        Ok(tally) => Row {
            name,
            cells,
            score: tally.score,
            note,
        },
        Err(error) => not_graded(format!("not graded: {error}")),
    }
}

/// A check's outcome as a cell of the table.
fn cell(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "pass",
        Outcome::Failed(_) => "FAIL",
        Outcome::Skipped(_) => "skip",
        Outcome::NotJudged { .. } => "n.j.",
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// The table as CSV: `submission`, a column per check, `score`,
/// `max_score` and `note` (why a submission was not graded).
fn csv(header: &[&str], rows: &[Row], max_score: u32) -> String {
    let mut text = String::new();
    let mut line = |fields: Vec<String>| {
        let fields: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
        text.push_str(&fields.join(","));
        text.push('\n');
    };
    let mut names = vec!["submission".to_string()];
    names.extend(header.iter().map(|name| name.to_string()));
    names.extend(["score", "max_score", "note"].map(String::from));
    line(names);
    for row in rows {
        let mut fields = vec![row.name.clone()];
        fields.extend(cells(row, header.len()));
        fields.extend([
            row.score.to_string(),
            max_score.to_string(),
            row.note.clone(),
        ]);
        line(fields);
    }
    text
}

/// A row's cells, as many as there are `columns`: empty ones when it was
/// not graded.
fn cells(row: &Row, columns: usize) -> Vec<String> {
    let mut cells: Vec<String> = row.cells.iter().map(|cell| cell.to_string()).collect();
    cells.resize(columns, String::new());
    cells
}

/// A field of CSV, quoted when it holds a comma, a quote or a line end
/// (RFC 4180), its quotes doubled.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// The table in Markdown: `submission`, a column per check, `score` as
/// `n/max`, and `note`.
fn markdown(header: &[&str], rows: &[Row], max_score: u32) -> String {
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    let mut names = vec!["submission".to_string()];
    names.extend(header.iter().map(|name| format!("`{name}`")));
    names.extend(["score", "note"].map(String::from));
    let mut text = line(&names);
    text.push_str(&line(&vec!["---".to_string(); names.len()]));
    for row in rows {
        let mut all = vec![markdown_text(&row.name)];
        all.extend(cells(row, header.len()));
        all.push(format!("{}/{max_score}", row.score));
        all.push(markdown_text(&row.note));
        text.push_str(&line(&all));
    }
    text
}

/// Text for a cell of a Markdown table: no `|`, which would end the cell,
/// and no line end, which would end the table.
fn markdown_text(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Writes `text` to the file `path`, or to standard output for `-`.
fn write_to(path: &str, text: &str) -> anyhow::Result<()> {
    if path == "-" {
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes())?;
        return Ok(out.flush()?);
    }
    fs::write(path, text).with_context(|| format!("cannot write {path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Row> {
        vec![
            Row {
                name: "alice".into(),
                cells: vec!["pass", "FAIL"],
                score: 1,
                note: String::new(),
            },
            Row {
                name: "bob, jr".into(),
                cells: Vec::new(),
                score: 0,
                note: "did not start: it said \"no\" | bye".into(),
            },
        ]
    }

    #[test]
    fn the_table_as_csv_and_as_markdown() {
        let header = ["one", "two"];
        assert_eq!(
            csv(&header, &rows(), 2),
            "submission,one,two,score,max_score,note\n\
             alice,pass,FAIL,1,2,\n\
             \"bob, jr\",,,0,2,\"did not start: it said \"\"no\"\" | bye\"\n"
        );
        assert_eq!(
            markdown(&header, &rows(), 2),
            "| submission | `one` | `two` | score | note |\n\
             | --- | --- | --- | --- | --- |\n\
             | alice | pass | FAIL | 1/2 |  |\n\
             | bob, jr |  |  | 0/2 | did not start: it said \"no\" \\| bye |\n"
        );
    }
}
