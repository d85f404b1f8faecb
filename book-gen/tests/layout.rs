//! The workspace's layout, held to what is written about it:
//!
//! - every stage of `stage_check::STAGES` is in each place a stage must be
//!   (CONTRIBUTING.md's checklist), so that a stage added in one place and
//!   forgotten in another fails here, naming the stage and the place;
//! - every path a README or CONTRIBUTING.md names exists.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

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

/// The files git knows of, tracked or new (not ignored), that exist: paths
/// from the top, `/`-separated.
fn repository_files() -> Vec<String> {
    let output = Command::new("git")
        .args(["ls-files", "--cached", "--others", "--exclude-standard"])
        .current_dir(root())
        .output()
        .expect("cannot run git");
    assert!(output.status.success(), "git ls-files failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|path| root().join(path).exists())
        .map(String::from)
        .collect()
}

/// The text of a Markdown file without its fenced code blocks, which hold
/// commands and their output, not paths to check.
fn prose(markdown: &str) -> String {
    let mut kept = String::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    kept
}

/// The targets of the relative links, `[text](target)`, without `#fragment`:
/// not web addresses (`https:`, `mailto:`) and not anchors of the same page.
fn link_targets(prose: &str) -> Vec<&str> {
    prose
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|target| target.split('#').next().unwrap_or(""))
        .filter(|target| !target.is_empty() && !target.contains(':'))
        .collect()
}

/// What ends a file name: the kinds of file this repository holds.
const EXTENSIONS: &[&str] = &[
    ".rs", ".md", ".sh", ".js", ".py", ".toml", ".conf", ".lua", ".patch",
];

/// The backticked tokens that look like a path of this repository. The
/// rule is simple on purpose: a token is a path when it contains a `/` or
/// ends in one of [`EXTENSIONS`], unless it holds what a path here never
/// does: a space (a command line, `cargo run -p load`), `*`, `<` or `{` (a
/// pattern or a placeholder, `docs/src/<stage>.md`), or `:` (a web address
/// or a Rust path); or starts with `/` (a URL path such as `/index.html`).
fn path_tokens(prose: &str) -> Vec<&str> {
    // Between the 1st and 2nd backtick, the 3rd and 4th, …: a code span.
    prose
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|token| {
            let looks_like_path =
                token.contains('/') || EXTENSIONS.iter().any(|ext| token.ends_with(ext));
            let never_in_a_path = token.contains(|c: char| c.is_whitespace() || "*<{:".contains(c))
                || token.starts_with('/');
            looks_like_path && !never_in_a_path && !token.is_empty()
        })
        .collect()
}

#[test]
fn every_path_a_readme_names_exists() {
    let files = repository_files();
    let documents = files
        .iter()
        .filter(|path| path.rsplit('/').next() == Some("README.md") || *path == "CONTRIBUTING.md");
    let root = root();
    let mut broken = Vec::new();
    for document in documents {
        let text = prose(&read(document));
        let folder = root
            .join(document)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        // A link leads where it would on GitHub: from the file's own folder.
        for target in link_targets(&text) {
            if !folder.join(target).exists() {
                broken.push(format!("{document}: the link to {target} leads nowhere"));
            }
        }
        // A path in backticks is written from the file's folder, or from
        // the top; a bare file name (`main.rs` in the README's table, where
        // the column says which stage) needs a file of that name somewhere.
        for token in path_tokens(&text) {
            let exists = if token.contains('/') {
                folder.join(token).exists() || root.join(token).exists()
            } else {
                files
                    .iter()
                    .any(|path| path.rsplit('/').next() == Some(token))
            };
            if !exists {
                broken.push(format!(
                    "{document}: `{token}` names nothing in the repository"
                ));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "paths that do not exist:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_rules_pick_the_paths_out() {
    let text = prose(
        "See [the book](docs/src/SUMMARY.md#top), [a site](https://example.com), \
         [here](#here); run `cargo run -p load`, read `src/lib.rs` and `main.rs`, \
         not `docs/src/<stage>.md`, `/index.html`, `http::Request` or `Html`.\n\
         ```sh\ncat `not/this.rs`\n```\n",
    );
    assert_eq!(link_targets(&text), ["docs/src/SUMMARY.md"]);
    assert_eq!(path_tokens(&text), ["src/lib.rs", "main.rs"]);
}

/// The book's chapters speak of the checker's version and of the read
/// timeout a whole run needs as the code has them: every `stage-check-vX`
/// tag and `stage-check X` record names [`stage_check::VERSION`], and every
/// `--read-timeout N` of a check command of the chapters for teachers and
/// for checking a server is the tests' own.
#[test]
fn the_chapters_name_the_checkers_version_and_read_timeout() {
    let version = stage_check::VERSION;
    let read_timeout = stage_check::harness::TEST_READ_TIMEOUT
        .as_secs()
        .to_string();
    let mut wrong = Vec::new();
    for chapter in ["docs/src/teaching.md", "docs/src/stage-check.md"] {
        let text = read(chapter);
        for prefix in ["stage-check-v", "\"stage-check "] {
            for (at, _) in text.match_indices(prefix) {
                let named: String = text[at + prefix.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect();
                let named = named.trim_end_matches('.');
                if !named.is_empty() && named != version {
                    wrong.push(format!("{chapter}: {prefix}{named}, not {version}"));
                }
            }
        }
        if chapter.ends_with("teaching.md") {
            for (at, _) in text.match_indices("--read-timeout ") {
                let named: String = text[at + 15..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if !named.is_empty() && named != read_timeout {
                    wrong.push(format!(
                        "{chapter}: --read-timeout {named}, not {read_timeout}"
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
