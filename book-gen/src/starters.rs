//! The starters: each stage as a repository a teacher can hand out, with the
//! lesson left to the learner.
//!
//! A starter is the stage's crate made standalone (its own `Cargo.toml` with
//! versions, its copy of `common` inside it, the workspace's lock file), with
//! the body of each function the stage teaches replaced by `todo!("hint")`.
//! Which bodies those are, the stages' sources say themselves, by two
//! comment lines around each:
//!
//! ```text
//! fn handle_socket(…) {
//!     // STARTER part4-tcp-echo, left to the learner: "Read into `data` in
//!     // a loop …"
//!     …the body…
//!     // STARTER end
//! }
//! ```
//!
//! The first line names the stage whose starter leaves the lines between to
//! the learner, and the hint between double quotes (over as many comment
//! lines as it takes). A marker stays in the later stages that keep the same
//! function, so that the diffs between stages show only their lessons; the
//! starter of another stage just drops the marker lines. So does
//! [`Mode::Solved`], which keeps every body: the stage itself, standalone,
//! for the tests to prove that the starter is the stage minus its lesson.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::sources::files_under;
use crate::workspace_root;

/// What the start of a marker begins with, and what its end is.
const START: &str = "// STARTER ";
const END: &str = "// STARTER end";

/// What a start line says between the stage's name and the hint.
const LEFT: &str = ", left to the learner: \"";

/// Whether a starter leaves the lesson out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// The lesson's bodies replaced by `todo!`: what the learner gets.
    Starter,
    /// Every body kept, only the markers dropped: the stage, standalone.
    Solved,
}

/// One body a starter leaves to the learner.
#[derive(Debug, PartialEq, Eq)]
pub struct Lesson {
    /// The file, such as `src/main.rs`.
    pub file: String,
    /// The function whose body it is.
    pub function: String,
    /// The hint, on one line.
    pub hint: String,
}

/// `target/starters`, where `cargo run -p book-gen -- starters` writes.
pub fn default_out() -> PathBuf {
    workspace_root().join("target/starters")
}

/// Writes the starter of every stage into `out/<stage>/`.
pub fn write_all(out: &Path, mode: Mode) -> Result<()> {
    for stage in crate::stages() {
        let lessons = write(stage, &out.join(stage), mode)?;
        if mode == Mode::Starter && lessons.is_empty() {
            bail!("{stage} has no STARTER markers: its starter would leave nothing to do");
        }
    }
    Ok(())
}

/// Writes the starter of `stage` into the folder `to`, replacing what was
/// there; returns what it leaves to the learner.
pub fn write(stage: &str, to: &Path, mode: Mode) -> Result<Vec<Lesson>> {
    let root = workspace_root();
    let from = root.join(stage);
    if to.exists() {
        fs::remove_dir_all(to).with_context(|| format!("cannot remove {}", to.display()))?;
    }
    let mut lessons = Vec::new();
    for file in files_under(&from.join("src"))? {
        let relative = file.strip_prefix(&from)?.display().to_string();
        let text = fs::read_to_string(&file)?;
        let (text, found) =
            unmark(&text, stage, mode).with_context(|| format!("in {stage}/{relative}"))?;
        lessons.extend(found.into_iter().map(|(function, hint)| Lesson {
            file: relative.clone(),
            function,
            hint,
        }));
        put(&to.join(&relative), &text)?;
    }
    for file in files_under(&root.join("common/src"))? {
        let relative = file.strip_prefix(&root)?;
        put(&to.join(relative), &fs::read_to_string(&file)?)?;
    }
    let top = fs::read_to_string(root.join("Cargo.toml"))?;
    let manifest = fs::read_to_string(from.join("Cargo.toml"))?;
    let manifest = standalone_manifest(&manifest, &top)?;
    // A workspace of its own: without it, cargo would take a starter that
    // sits inside another workspace (as under `target/` here) for a member
    // that was forgotten. Its copy of `common` is a member by being in it.
    put(
        &to.join("Cargo.toml"),
        &format!(
            "{manifest}\n# The package and its copy of `common`, built together.\n[workspace]\n"
        ),
    )?;
    let common = fs::read_to_string(root.join("common/Cargo.toml"))?;
    put(
        &to.join("common/Cargo.toml"),
        &standalone_manifest(&common, &top)?,
    )?;
    // The versions the stage was built and checked with: the workspace's lock
    // file, trimmed to what the starter uses.
    fs::copy(root.join("Cargo.lock"), to.join("Cargo.lock"))?;
    trim_lock_file(to)?;
    put(&to.join(".gitignore"), "/target\n")?;
    put(&to.join("cargo-generate.toml"), CARGO_GENERATE)?;
    // The jobs that grade a learner's push, on GitHub Classroom and GitLab.
    for (template, path) in CI_JOBS {
        let text = fs::read_to_string(root.join("docs/teaching").join(template))?;
        put(&to.join(path), &ci_job(&text, stage)?)?;
    }
    put(&to.join("README.md"), &readme(stage, &lessons, mode)?)?;
    Ok(lessons)
}

/// The CI jobs every starter carries: each template, in `docs/teaching/`,
/// and where the starter has it.
pub const CI_JOBS: &[(&str, &str)] = &[
    ("classroom.yml", ".github/workflows/classroom.yml"),
    ("gitlab-ci.yml", ".gitlab-ci.yml"),
];

/// The CI job `template` for `stage`: its stage, the options its checks
/// need, and the version of the checker the class is pinned to, filled in.
fn ci_job(template: &str, stage: &str) -> Result<String> {
    Ok(template
        .replace("{stage}", stage)
        .replace("{options}", &check_options(stage)?)
        .replace("{version}", stage_check::VERSION))
}

/// What stage-check needs to be told to check `stage` whole: the read
/// timeout to start an HTTP server with, so that the timeout check runs
/// too, and quickly; and for a stage that keeps connections, its
/// keep-alive timeout, for the check of the idle connection.
fn check_options(stage: &str) -> Result<String> {
    let info = stage_check::Stage::from_name(stage).context("no such stage")?;
    let harness = |timeout: std::time::Duration| timeout.as_secs();
    Ok(match info.kind {
        stage_check::Kind::Http if info.persistent => format!(
            "--read-timeout {} --keep-alive-timeout {}",
            harness(stage_check::harness::TEST_READ_TIMEOUT),
            harness(stage_check::harness::TEST_KEEP_ALIVE_TIMEOUT)
        ),
        stage_check::Kind::Http => {
            format!(
                "--read-timeout {}",
                harness(stage_check::harness::TEST_READ_TIMEOUT)
            )
        }
        stage_check::Kind::Echo => String::new(),
    })
}

/// Leaves in the lock file of the starter at `dir` only the packages it
/// uses, at the versions they had: `cargo update --workspace` updates the
/// starter's own packages only, and needs no network.
fn trim_lock_file(dir: &Path) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["update", "--workspace", "--offline", "--quiet"])
        .current_dir(dir)
        .output()
        .context("cannot run cargo")?;
    if !output.status.success() {
        bail!(
            "cargo cannot read the starter in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// What `cargo generate` reads, which says why in its comments.
const CARGO_GENERATE: &str = "\
# `cargo generate --git <this repository>` makes a copy of this starter for a
# learner, as it is: the package keeps its name, which its `use` lines spell,
# and only Cargo.toml, which holds no template tags, is read for them (the
# `{{` in the sources are Rust's).
[template]
include = [\"Cargo.toml\"]
";

/// Writes `text` to `path`, making its folder first.
fn put(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// `text` with its markers dropped and, in [`Mode::Starter`], the lines
/// between the markers of `stage` replaced by a `todo!` with the hint;
/// with the function and the hint of each body left out.
pub fn unmark(text: &str, stage: &str, mode: Mode) -> Result<(String, Vec<(String, String)>)> {
    let mut out = String::new();
    let mut lessons = Vec::new();
    let mut lines = text.lines().enumerate();
    // The last `fn` line seen: the function a marked body belongs to.
    let mut function = String::new();
    while let Some((number, line)) = lines.next() {
        let trimmed = line.trim_start();
        if let Some(name) = function_name(trimmed) {
            function = name;
        }
        if trimmed == END {
            bail!("line {}: a `{END}` without its start", number + 1);
        }
        // The book's anchors mean nothing outside the book.
        if trimmed.starts_with("// ANCHOR: ") || trimmed.starts_with("// ANCHOR_END: ") {
            continue;
        }
        let Some(marker) = trimmed.strip_prefix(START) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let Some((marked, hint)) = marker.split_once(LEFT) else {
            bail!(
                "line {}: a marker reads `{START}<stage>{LEFT}hint\"`",
                number + 1
            );
        };
        // A stage misspelt would leave its lesson in its starter.
        if !crate::stages().contains(&marked) {
            bail!("line {}: the marker names no stage: {marked}", number + 1);
        }
        // The hint runs to its closing quote, maybe over more comment lines.
        let mut hint = hint.to_string();
        while !hint.ends_with('"') && !hint.ends_with("\".") {
            let Some((_, next)) = lines.next() else {
                bail!("line {}: the hint has no closing quote", number + 1);
            };
            let Some(more) = next.trim_start().strip_prefix("//") else {
                bail!("line {}: the hint has no closing quote", number + 1);
            };
            hint.push(' ');
            hint.push_str(more.trim());
        }
        let hint = hint.trim_end_matches('.').trim_end_matches('"').to_string();
        // The body, up to the end marker.
        let mut body = Vec::new();
        loop {
            let Some((_, next)) = lines.next() else {
                bail!("line {}: a marker without its `{END}`", number + 1);
            };
            if next.trim_start() == END {
                break;
            }
            body.push(next);
        }
        if mode == Mode::Starter && marked == stage {
            let indent = &line[..line.len() - trimmed.len()];
            out.push_str(&todo(indent, &hint));
            lessons.push((function.clone(), hint));
        } else {
            for kept in body {
                out.push_str(kept);
                out.push('\n');
            }
        }
    }
    Ok((out, lessons))
}

/// The name of the function a line declares, if it declares one.
fn function_name(line: &str) -> Option<String> {
    let (_, rest) = line.split_once("fn ")?;
    let before = &line[..line.len() - rest.len() - 3];
    let keywords = ["", "pub ", "pub(crate) ", "const ", "pub const "];
    if !keywords.contains(&before) {
        return None;
    }
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// `todo!("hint")` at `indent`, the hint cut into lines of about 70
/// characters (a `\` at a line's end continues the string).
fn todo(indent: &str, hint: &str) -> String {
    let mut pieces = vec![String::new()];
    for word in hint.split(' ') {
        let last = pieces.last_mut().expect("never empty");
        if !last.is_empty() && last.len() + word.len() > 70 {
            pieces.push(String::new());
        }
        let last = pieces.last_mut().expect("never empty");
        if !last.is_empty() {
            last.push(' ');
        }
        // A `todo!` message is a format string: braces are doubled.
        let word = word
            .replace('\\', "\\\\")
            .replace('{', "{{")
            .replace('}', "}}");
        last.push_str(&word);
    }
    let inner = format!("{indent}    ");
    let joined = pieces.join(&format!(" \\\n{inner} "));
    format!("{indent}todo!(\n{inner}\"{joined}\"\n{indent})\n")
}

/// A member's manifest, made standalone: each `workspace = true` replaced by
/// what the workspace's manifest `top` says (its version, its lints, a
/// dependency's version and features), `common` found in the folder of that
/// name, and of the dev-dependencies only `common`, for the unit tests
/// (the tests that need this workspace, `tests/`, benchmarks and examples are
/// not in a starter).
pub fn standalone_manifest(manifest: &str, top: &str) -> Result<String> {
    let mut out = Vec::new();
    // Comment lines wait for the line they describe, and go with it.
    let mut comments: Vec<&str> = Vec::new();
    let mut section = "";
    for line in manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            comments.push(line);
            continue;
        }
        if trimmed.starts_with('[') {
            section = trimmed;
        }
        match standalone_line(line, section, top)? {
            Some(kept) => {
                out.extend(comments.drain(..).map(str::to_string));
                out.push(kept);
            }
            None => comments.clear(),
        }
    }
    let mut text = out.join("\n") + "\n";
    // The blank lines of the sections left out, in one; and no empty table.
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    Ok(text.replace("[dev-dependencies]\n\n", ""))
}

/// One line of a member's manifest, in `section`, as a starter has it; or
/// `None` when a starter leaves it out.
fn standalone_line(line: &str, section: &str, top: &str) -> Result<Option<String>> {
    let trimmed = line.trim();
    let dev = section == "[dev-dependencies]";
    if section.starts_with("[[") {
        return Ok(None);
    }
    if section == "[lints]" {
        return (trimmed == "[lints]")
            .then(|| workspace_lints(top))
            .transpose();
    }
    let (key, extra) = if let Some(key) = trimmed.strip_suffix(".workspace = true") {
        (key, None)
    } else if let Some((key, rest)) = trimmed.split_once(" = { workspace = true, ") {
        (key, rest.strip_suffix(" }"))
    } else {
        // Such as a path to a neighbouring stage, for the tests a starter
        // does not have.
        let other_dev_dependency = dev && trimmed.contains('=');
        return Ok((!other_dev_dependency).then(|| line.to_string()));
    };
    if section == "[package]" {
        let value = workspace_value(top, "[workspace.package]", key)?;
        return Ok(Some(format!("{key} = {value}")));
    }
    if dev && key != "common" {
        return Ok(None);
    }
    Ok(Some(dependency(top, key, extra)?))
}

/// `key = value` of `table` in the workspace's manifest, the value as written.
fn workspace_value<'a>(top: &'a str, table: &str, key: &str) -> Result<&'a str> {
    let mut lines = top.lines().skip_while(|line| line.trim() != table);
    if lines.next().is_none() {
        bail!("the workspace's Cargo.toml has no {table}");
    }
    for line in lines.take_while(|line| !line.starts_with('[')) {
        if let Some((name, value)) = line.split_once(" = ")
            && name == key
        {
            return Ok(value);
        }
    }
    bail!("the workspace's {table} has no {key}")
}

/// The workspace's table for a dependency, `{ version = "1", features =
/// ["rt"] }`, with the features a member adds (`extra`, `features = [...]`)
/// after its own: what cargo builds for that member.
fn more_features(key: &str, value: &str, extra: &str) -> Result<String> {
    let list = |text: &str| -> Option<Vec<String>> {
        let start = text.find("features = [")? + "features = [".len();
        let end = start + text[start..].find(']')?;
        Some(
            text[start..end]
                .split(',')
                .map(|feature| feature.trim().to_string())
                .filter(|feature| !feature.is_empty())
                .collect(),
        )
    };
    let (Some(mut features), Some(more)) = (list(value), list(extra)) else {
        bail!("{key}: only features can be added to the workspace's table, not {extra}");
    };
    for feature in more {
        if !features.contains(&feature) {
            features.push(feature);
        }
    }
    let start = value.find("features = [").unwrap_or_default();
    let end = start + value[start..].find(']').unwrap_or_default() + 1;
    Ok(format!(
        "{}features = [{}]{}",
        &value[..start],
        features.join(", "),
        &value[end..]
    ))
}

/// A dependency's line in a starter: the workspace's version and features,
/// or `common`'s copy in the starter; with the `extra` of the member's line,
/// such as `features = [...]`.
fn dependency(top: &str, key: &str, extra: Option<&str>) -> Result<String> {
    if key == "common" {
        let extra = extra.map(|extra| format!(", {extra}")).unwrap_or_default();
        return Ok(format!("common = {{ path = \"common\"{extra} }}"));
    }
    let value = workspace_value(top, "[workspace.dependencies]", key)?;
    match extra {
        None => Ok(format!("{key} = {value}")),
        Some(extra) if value.starts_with('"') => {
            Ok(format!("{key} = {{ version = {value}, {extra} }}"))
        }
        Some(extra) => Ok(format!("{key} = {}", more_features(key, value, extra)?)),
    }
}

/// The workspace's lints, as a member's own tables.
fn workspace_lints(top: &str) -> Result<String> {
    let Some(at) = top.find("[workspace.lints.rust]") else {
        bail!("the workspace's Cargo.toml has no [workspace.lints.rust]");
    };
    let rest = &top[at..];
    let end = rest.find("[workspace.dependencies]").unwrap_or(rest.len());
    let lints = rest[..end].trim_end();
    Ok(lints.replace("[workspace.lints.", "[lints."))
}

/// The starter's README: what to build, the hints, how to check it.
fn readme(stage: &str, lessons: &[Lesson], mode: Mode) -> Result<String> {
    let banner = fs::read_to_string(workspace_root().join(stage).join("src/main.rs"))?;
    let banner: Vec<&str> = banner
        .lines()
        .map_while(|line| line.strip_prefix("//!"))
        .map(str::trim_start)
        .collect();
    let title = banner
        .first()
        .and_then(|line| line.strip_prefix("# "))
        .unwrap_or(stage);
    // The banner's "What this stage adds" paragraph.
    let adds: Vec<&str> = banner
        .iter()
        .skip_while(|line| !line.starts_with("**What this stage adds:**"))
        .take_while(|line| !line.is_empty())
        .copied()
        .collect();
    let mut out = format!("# {title}\n\n");
    out.push_str(&adds.join("\n"));
    out.push_str("\n\n## What to write\n\n");
    if mode == Mode::Solved {
        out.push_str("Nothing: this copy is the stage solved, to compare with.\n");
    } else {
        out.push_str(
            "Everything else in the server works already. The bodies of these \
             functions are `todo!`s for you to write; until then the server \
             panics where one is called, and the compiler warns about what only \
             those bodies use:\n\n",
        );
        for lesson in lessons {
            out.push_str(&format!(
                "- `{}` in `{}`: {}\n",
                lesson.function, lesson.file, lesson.hint
            ));
        }
    }
    let options = check_options(stage)?;
    let read_timeout = if options.is_empty() {
        options
    } else {
        format!(" {options}")
    };
    out.push_str(&format!(
        "\n## Check it\n\n\
         `stage-check` starts your server and runs this stage's checks on it, each \
         failure with what it sent, what came back and a hint:\n\n\
         ```sh\n\
         stage-check {stage} --exec \"cargo run -q --\"{read_timeout}\n\
         ```\n\n\
         Install it once, from a checkout of the series' repository or straight \
         from its address:\n\n\
         ```sh\n\
         cargo install --path stage-check                  # in the series' repository\n\
         cargo install --git <the series' repository> stage-check\n\
         ```\n\n\
         Run the server yourself with `cargo run`, and its unit tests with \
         `cargo test`. The chapter of the book this stage goes with is \
         `docs/src/{stage}.md` in the series' repository.\n\n\
         ## Graded on every push\n\n\
         `.github/workflows/classroom.yml` (GitHub Classroom) and `.gitlab-ci.yml` \
         (GitLab) run the same check on every push, with the version of \
         stage-check your class is pinned to, and keep its report.\n"
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_members_features_add_to_the_workspaces() {
        let value = r#"{ version = "1", features = ["rt", "net"] }"#;
        let extra = r#"features = ["net", "time"]"#;
        assert_eq!(
            more_features("tokio", value, extra).unwrap(),
            r#"{ version = "1", features = ["rt", "net", "time"] }"#
        );
        assert!(more_features("tokio", value, "optional = true").is_err());
    }

    const MARKED: &str = "\
fn handle(x: u8) -> u8 {
    // STARTER part4-tcp-echo, left to the learner: \"Add one, and
    // return it.\"
    let y = x + 1;
    y
    // STARTER end
}
";

    #[test]
    fn a_starter_leaves_its_stages_bodies_to_the_learner() {
        let (text, lessons) = unmark(MARKED, "part4-tcp-echo", Mode::Starter).unwrap();
        assert_eq!(
            text,
            "fn handle(x: u8) -> u8 {\n    todo!(\n        \"Add one, and return it.\"\n    )\n}\n"
        );
        assert_eq!(
            lessons,
            [("handle".to_string(), "Add one, and return it.".to_string())]
        );
    }

    #[test]
    fn other_stages_and_the_solved_mode_only_drop_the_markers() {
        let solved = "fn handle(x: u8) -> u8 {\n    let y = x + 1;\n    y\n}\n";
        for (stage, mode) in [
            ("part4-tcp-echo", Mode::Solved),
            ("part5-oo-session", Mode::Starter),
        ] {
            let (text, lessons) = unmark(MARKED, stage, mode).unwrap();
            assert_eq!(text, solved);
            assert!(lessons.is_empty());
        }
    }

    #[test]
    fn a_marker_without_its_end_or_its_stage_is_an_error() {
        let open = MARKED.replace("    // STARTER end\n", "");
        assert!(unmark(&open, "part4-tcp-echo", Mode::Starter).is_err());
        let misspelt = MARKED.replace("part4-tcp-echo", "part4-tcp-ehco");
        assert!(unmark(&misspelt, "part4-tcp-echo", Mode::Solved).is_err());
    }

    #[test]
    fn long_hints_are_cut_into_lines() {
        let hint = "word ".repeat(30);
        let todo = todo("", hint.trim());
        assert!(todo.lines().all(|line| line.len() < 80), "{todo}");
        assert!(todo.contains("word \\\n"));
    }

    #[test]
    fn a_manifest_is_made_standalone() {
        let top = "[workspace.package]\nversion = \"0.1.0\"\n\n\
                   [workspace.lints.rust]\nunsafe_code = \"forbid\"\n\n\
                   [workspace.dependencies]\nanyhow = \"1\"\nclap = { version = \"4\" }\n";
        let member = "[package]\nname = \"x\"\nversion.workspace = true\n\n\
                      [dependencies]\nanyhow.workspace = true\n# Why.\ncommon.workspace = true\n\n\
                      [dev-dependencies]\ncommon = { workspace = true, features = [\"t\"] }\n\
                      # Gone.\nclap.workspace = true\nother = { path = \"../other\" }\n\n\
                      [[test]]\nname = \"t\"\nharness = false\n\n[lints]\nworkspace = true\n";
        assert_eq!(
            standalone_manifest(member, top).unwrap(),
            "[package]\nname = \"x\"\nversion = \"0.1.0\"\n\n\
             [dependencies]\nanyhow = \"1\"\n# Why.\ncommon = { path = \"common\" }\n\n\
             [dev-dependencies]\ncommon = { path = \"common\", features = [\"t\"] }\n\n\
             [lints.rust]\nunsafe_code = \"forbid\"\n"
        );
    }
}
