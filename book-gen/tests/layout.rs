//! The workspace's layout, held to what is written about it:
//!
//! - every stage of `stage_check::STAGES` is in each place a stage must be
//!   (CONTRIBUTING.md's checklist), so that a stage added in one place and
//!   forgotten in another fails here, naming the stage and the place.

use std::fs;
use std::path::PathBuf;

use stage_check::STAGES;

fn root() -> PathBuf {
    book_gen::workspace_root()
}

/// A file of the workspace, by its path from the top.
fn read(path: &str) -> String {
    fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The folders listed in `members = [...]` of the root `Cargo.toml`.
fn members() -> Vec<String> {
    let top = read("Cargo.toml");
    let start = top
        .find("members = [")
        .expect("no `members = [` in Cargo.toml")
        + 11;
    let end = start + top[start..].find(']').expect("no `]` after `members = [`");
    top[start..end]
        .lines()
        // A TOML comment runs from `#` to the end of the line.
        .map(|line| line.split('#').next().unwrap_or(""))
        .flat_map(|line| line.split(','))
        .map(|member| member.trim().trim_matches('"').to_string())
        .filter(|member| !member.is_empty())
        .collect()
}

#[test]
fn every_stage_is_in_every_place_a_stage_must_be() {
    let summary = read("docs/src/SUMMARY.md");
    let readme = read("README.md");
    let members = members();
    let try_it = book_gen::try_it_stages();
    let mut missing = Vec::new();
    for stage in STAGES {
        let name = stage.name;
        // Each place, and whether the stage is there.
        let places = [
            (
                format!("chapter docs/src/{name}.md"),
                root().join(format!("docs/src/{name}.md")).is_file(),
            ),
            (
                format!("line in docs/src/SUMMARY.md linking {name}.md"),
                summary.contains(&format!("]({name}.md)")),
            ),
            (
                format!("row in the README's table of stages (\"| [`{name}`]\")"),
                readme
                    .lines()
                    .any(|line| line.starts_with(&format!("| [`{name}`]"))),
            ),
            (
                "\"Try it\" row in TRY_IT (book-gen/src/lib.rs)".to_string(),
                try_it.contains(&name),
            ),
            (
                format!("{name}/tests/stage_check.rs"),
                root().join(name).join("tests/stage_check.rs").is_file(),
            ),
            (
                "folder in the workspace's members (Cargo.toml)".to_string(),
                members.iter().any(|member| member == name),
            ),
        ];
        for (place, there) in places {
            if !there {
                missing.push(format!("{name}: no {place}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "a stage of stage_check::STAGES is missing from a place every stage needs \
         (see CONTRIBUTING.md, \"Adding a stage\"):\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_try_it_and_stage_check_run_names_a_stage() {
    // The other way round: a row left behind by a stage renamed or removed.
    // A run of stage-check names a stage or its short form (`part4`); not
    // every stage has one, only those the chapter "Check your own server"
    // shows.
    let known = |arg: &str| STAGES.iter().any(|s| s.name == arg || s.short == arg);
    let mut unknown = Vec::new();
    for stage in book_gen::try_it_stages() {
        if !known(stage) {
            unknown.push(format!("TRY_IT has a row for {stage:?}"));
        }
    }
    for stage in book_gen::check_run_stages() {
        if !known(stage) {
            unknown.push(format!("CHECK_RUNS has a run of {stage:?}"));
        }
    }
    assert!(
        unknown.is_empty(),
        "rows of book-gen/src/lib.rs for no stage of stage_check::STAGES:\n{}",
        unknown.join("\n")
    );
}
