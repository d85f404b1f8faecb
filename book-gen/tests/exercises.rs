//! Every exercise of the book, solved and checked, the way rustlings proves
//! its exercises: each reference solution passes, and the unsolved stage
//! fails.
//!
//! An exercise is a change to one stage; its reference solution is a patch
//! against the stage's folder, `docs/exercises/<stage>/<name>.patch`, and its
//! checks are in stage-check (`stage_check::exercises`). For each exercise,
//! one test:
//!
//! 1. copies the stage into a scratch workspace of its own, outside the
//!    repository, applies the patch with `git apply`, and builds it;
//! 2. starts the solved server and runs what `stage-check --exercise <name>`
//!    runs: the stage's checks, less those the exercise changes on purpose
//!    (`Exercise::changes` says which, and why), then the exercise's own;
//!    all must pass;
//! 3. starts the stage as it is (built the same way, without the patch) and
//!    runs the exercise's own checks, which must all fail: a check that the
//!    unsolved stage passes proves nothing;
//! 4. when the patch changes a file that has unit tests, runs the solved
//!    stage's unit tests.
//!
//! The "make it faster" exercise of "How fast is it" changes no behaviour,
//! so it has no checks of its own: its solution must build, pass the stage's
//! unit tests and every check of the stage; the benchmark shows the rest.
//!
//! A last test checks the book's side: every exercise has its patch and its
//! section in `docs/src/exercises/<stage>.md`, and every patch an exercise.
//!
//! The builds share one target folder, `target/exercises`, so that the
//! dependencies compile once, and a scratch copy that is the same as last
//! time is not built again. Run only these with
//! `cargo test -p book-gen --test exercises`.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use libtest_mimic::{Arguments, Failed, Trial};
use stage_check::{Exercise, Kind, Outcome, Stage, all_exercises};
use support::{READ_TIMEOUT, all_pass, checked, exe, run, start, workspace};

/// The built stages as they are, without a patch, by stage. Holding the lock
/// is also the right to run cargo: one build at a time, so that the binary a
/// build leaves in the shared target folder is copied out before the next
/// build of the same stage overwrites it.
static BUILDS: Mutex<BTreeMap<&'static str, PathBuf>> = Mutex::new(BTreeMap::new());

fn main() {
    let arguments = Arguments::from_args();
    let mut trials = vec![Trial::test(
        "book::every_exercise_has_a_patch_and_a_page",
        every_exercise_has_a_patch_and_a_page,
    )];
    for (stage, exercise) in all_exercises() {
        let name = format!("{}::{}", exercise.stage, exercise.name);
        trials.push(Trial::test(name, move || solve_and_check(stage, exercise)));
    }
    trials.push(Trial::test(
        format!("how-fast::{}", book_gen::bench::EXERCISE),
        solve_the_speed_exercise,
    ));
    libtest_mimic::run(&arguments, trials).exit()
}

/// Steps 1 to 4 above, for one exercise.
fn solve_and_check(stage: Stage, exercise: &'static Exercise) -> Result<(), Failed> {
    let patch = patch_path(exercise);
    let (solved, unsolved) = {
        let mut builds = lock_builds();
        let solved = build(exercise.stage, Some((exercise.name, &patch)))?;
        if let Some(files) = files_with_unit_tests(&solved, &patch)? {
            unit_tests(&solved).map_err(|error| {
                format!("the solved stage's unit tests (of {files}) fail:\n{error}")
            })?;
        }
        let unsolved = match builds.get(exercise.stage) {
            Some(binary) => binary.clone(),
            None => {
                let built = build(exercise.stage, None)?.binary;
                builds.insert(exercise.stage, built.clone());
                built
            }
        };
        (solved, unsolved)
    };

    let server = start(&solved.binary, stage, exercise.server_args)?;
    let mut problems = all_pass(&exercise.full_checks(stage), &server, stage);
    drop(server);

    let server = start(&unsolved, stage, &[])?;
    for check in exercise.checks {
        match checked(check, &server, stage) {
            Outcome::Failed(_) | Outcome::NotJudged { .. } => {}
            Outcome::Passed => problems.push(format!(
                "{} passes on the unsolved stage: it does not test the exercise",
                check.name
            )),
            Outcome::Skipped(reason) => problems.push(format!("{}: not run: {reason}", check.name)),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n\n").into())
    }
}

/// The "make it faster" exercise of "How fast is it": the same server, only
/// faster. Its patch must apply and build, the solved parser must pass the
/// stage's unit tests (the patch adds one), and the solved server every
/// check of its stage. That it is faster, the benchmark shows, not a test.
fn solve_the_speed_exercise() -> Result<(), Failed> {
    let (stage_name, name) = (book_gen::bench::STAGE, book_gen::bench::EXERCISE);
    let stage = Stage::from_name(stage_name).ok_or("no such stage")?;
    let patch = speed_patch_path();
    let solved = {
        let _builds = lock_builds();
        let solved = build(stage_name, Some((name, &patch)))?;
        unit_tests(&solved)
            .map_err(|error| format!("the solved stage's unit tests fail:\n{error}"))?;
        solved
    };
    let server = start(&solved.binary, stage, &[])?;
    let checks = stage_check::checks(stage, stage_check::Rules::All);
    let mut problems = all_pass(&checks, &server, stage);
    let page = fs::read_to_string(workspace().join("docs/src/how-fast.md"))?;
    let include = format!("{{{{#include ../exercises/{stage_name}/{name}.patch}}}}");
    let tests = format!("cargo test -p {stage_name}");
    for needed in [&include, &tests] {
        if !page.contains(needed.as_str()) {
            problems.push(format!("docs/src/how-fast.md has no {needed}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n\n").into())
    }
}

fn speed_patch_path() -> PathBuf {
    workspace()
        .join("docs/exercises")
        .join(book_gen::bench::STAGE)
        .join(format!("{}.patch", book_gen::bench::EXERCISE))
}

/// The lock on [`BUILDS`], even if a test panicked while holding it.
fn lock_builds() -> MutexGuard<'static, BTreeMap<&'static str, PathBuf>> {
    BUILDS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One scratch copy of a stage, built.
struct Built {
    /// The scratch workspace's top folder.
    root: PathBuf,
    /// The copy of the stage in it.
    copy: PathBuf,
    /// The stage's crate.
    stage: &'static str,
    /// The server, copied out of the target folder.
    binary: PathBuf,
}

/// Copies `stage` into a scratch workspace, applies `patch` (named, for its
/// folder) if there is one, and builds it. Call with [`BUILDS`] locked.
fn build(stage: &'static str, patch: Option<(&str, &Path)>) -> Result<Built, Failed> {
    let name = patch.map_or("unsolved", |(name, _)| name);
    // The copy's folder has a name of its own, not the stage's: cargo tells
    // the builds of a package in a shared target folder apart by its path in
    // its workspace, and without that the copies would overwrite each other.
    let folder = format!("{stage}--{name}");
    let root = scratch_dir().join(&folder);
    let fresh = root.with_extension("new");
    remove(&fresh)?;
    copy_dir(&workspace().join(stage), &fresh.join(&folder))?;
    if let Some((_, patch)) = patch {
        run(Command::new("git")
            .arg("apply")
            .arg(patch)
            .current_dir(fresh.join(&folder))
            // Not the repository around the scratch folder, if any: the
            // patch's paths are relative to the stage's folder.
            .env("GIT_CEILING_DIRECTORIES", scratch_dir()))
        .map_err(|error| format!("{} does not apply to {stage}:\n{error}", patch.display()))?;
    }
    standalone(&fresh, &folder)?;
    // The workspace's lock file, so that the versions are the same. Cargo
    // drops what the scratch workspace does not use, in its own copy.
    fs::copy(workspace().join("Cargo.lock"), fresh.join(WORKSPACE_LOCK))?;
    // Keep the copy of last time if nothing changed: cargo then has nothing
    // to rebuild.
    if read_tree(&fresh)? == read_tree(&root).unwrap_or_default() {
        remove(&fresh)?;
    } else {
        remove(&root)?;
        fs::rename(&fresh, &root)?;
        fs::copy(root.join(WORKSPACE_LOCK), root.join("Cargo.lock"))?;
    }
    run(cargo("build", &root, stage).arg("--bins"))
        .map_err(|error| format!("{stage} with {name} does not build:\n{error}"))?;
    // Copied out at once: the next build of the same stage writes the same
    // path in the target folder. (Renamed into place, so that a copy never
    // writes over a binary that runs.)
    let built = target_dir().join("debug").join(exe(stage));
    let binary = root.join(exe("server"));
    let copying = binary.with_extension("new");
    fs::copy(&built, &copying)?;
    fs::rename(&copying, &binary)?;
    Ok(Built {
        copy: root.join(&folder),
        root,
        stage,
        binary,
    })
}

/// The name of the copy of the workspace's lock file in a scratch workspace.
const WORKSPACE_LOCK: &str = "workspace.lock";

/// Turns the copy of a stage in `root`, in `folder`, into a workspace of its
/// own: a top manifest with the workspace's settings and dependencies, their
/// paths made absolute; in the stage's manifest, paths to its neighbours made
/// absolute, and of its dev-dependencies only `common` (with the test helper
/// the unit tests use; the integration tests are not run here).
fn standalone(root: &Path, folder: &str) -> Result<(), Failed> {
    let here = workspace().display().to_string().replace('\\', "/");
    let top = fs::read_to_string(workspace().join("Cargo.toml"))?;
    let Some(start) = top.find("members = [") else {
        return Err("no `members = [` in the workspace's Cargo.toml".into());
    };
    let Some(length) = top[start..].find(']') else {
        return Err("no end to the workspace's members".into());
    };
    let top = format!(
        "{}members = [\"{folder}\"]{}",
        &top[..start],
        &top[start + length + 1..]
    );
    let top = top.replace("path = \"", &format!("path = \"{here}/"));
    fs::write(root.join("Cargo.toml"), top)?;

    let manifest = root.join(folder).join("Cargo.toml");
    let text = fs::read_to_string(&manifest)?;
    let mut kept = Vec::new();
    let mut in_dev_dependencies = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_dev_dependencies = line.trim() == "[dev-dependencies]";
        }
        let kept_dev = line.trim() == "[dev-dependencies]" || line.starts_with("common ");
        if !in_dev_dependencies || kept_dev {
            kept.push(line.replace("path = \"../", &format!("path = \"{here}/")));
        }
    }
    fs::write(manifest, kept.join("\n") + "\n")?;
    Ok(())
}

/// The files the patch changes that hold unit tests, named in one line; or
/// `None` when it changes none.
fn files_with_unit_tests(built: &Built, patch: &Path) -> Result<Option<String>, Failed> {
    let patch = fs::read_to_string(patch)?;
    let mut files = Vec::new();
    for changed in patch.lines().filter_map(|line| line.strip_prefix("+++ b/")) {
        let path = built.copy.join(changed);
        let text = fs::read_to_string(path).unwrap_or_default();
        if changed.starts_with("src/") && text.contains("#[cfg(test)]") {
            files.push(changed.to_string());
        }
    }
    Ok((!files.is_empty()).then(|| files.join(", ")))
}

/// Runs the unit tests of the built stage: its library's, if it has one,
/// and its binary's (the server's own, such as part 11's `server_tests`,
/// which build the server's parts as the patch leaves them).
fn unit_tests(built: &Built) -> Result<(), String> {
    let mut command = cargo("test", &built.root, built.stage);
    if built.copy.join("src/lib.rs").exists() {
        command.arg("--lib");
    }
    run(command.arg("--bins"))
}

/// `cargo <subcommand>` for `stage` in the scratch workspace at `root`,
/// with the shared target folder, and no network: every dependency is in the
/// workspace's lock file, and was fetched when the workspace was built.
fn cargo(subcommand: &str, root: &Path, stage: &str) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .arg(subcommand)
        .current_dir(root)
        .arg("--quiet")
        .arg("--offline")
        .arg("--target-dir")
        .arg(target_dir())
        .args(["-p", stage]);
    command
}

/// The book's side of the exercises: each has its patch, its section in its
/// stage's page (numbered in the order of `stage_check::exercises`, as its
/// checks' hints say), which includes the patch and says how to check it;
/// and each patch belongs to an exercise.
fn every_exercise_has_a_patch_and_a_page() -> Result<(), Failed> {
    let mut problems = Vec::new();
    let mut numbers: HashMap<&str, usize> = HashMap::new();
    for (stage, exercise) in all_exercises() {
        let number = numbers.entry(exercise.stage).or_default();
        *number += 1;
        let name = exercise.name;
        if !patch_path(exercise).exists() {
            problems.push(format!("{name}: no {}", patch_path(exercise).display()));
        }
        let page_path = workspace()
            .join("docs/src/exercises")
            .join(format!("{}.md", exercise.stage));
        let page = fs::read_to_string(&page_path).unwrap_or_default();
        let heading = format!("### Exercise {number}: ");
        let section = page
            .split("\n### ")
            .map(|section| format!("### {}", section.trim_start_matches("### ")))
            .find(|section| section.starts_with(&heading));
        let Some(section) = section else {
            problems.push(format!(
                "{name}: no `{heading}…` in {}",
                page_path.display()
            ));
            continue;
        };
        // Every page opens with how to do an exercise, written once.
        if *number == 1 && !page.starts_with("{{#include doing-an-exercise.md}}") {
            problems.push(format!(
                "{}: does not open with {{{{#include doing-an-exercise.md}}}}",
                page_path.display()
            ));
        }
        let include = format!(
            "{{{{#include ../../exercises/{}/{name}.patch}}}}",
            exercise.stage
        );
        // The commands a learner runs, from the workspace, without assuming
        // where cargo puts its builds: the stage built first, so that
        // stage-check need not wait for the compiler, then the checks, which
        // end green for a solution: the timeout check runs too, given the
        // read timeout.
        let build = format!(
            "$ cargo build -p {}\n$ cargo run -q -p stage-check -- {} --exercise {name}",
            exercise.stage, exercise.stage
        );
        let read_timeout = format!("--read-timeout {} ", READ_TIMEOUT.as_secs());
        let exec = format!("--exec \"cargo run -q -p {} --", exercise.stage);
        let tests = format!("cargo test -p {}", exercise.stage);
        let mut needed = vec![&include, &build, &exec, &tests];
        if stage.kind == Kind::Http {
            needed.push(&read_timeout);
        }
        for needed in needed {
            if !section.contains(needed) {
                problems.push(format!(
                    "{name}: its section (exercise {number}) has no {needed}"
                ));
            }
        }
        let hint = format!("exercise {number})");
        for check in exercise.checks {
            if !check.hint.contains(&hint) {
                problems.push(format!("{}: its hint does not point to {hint}", check.name));
            }
        }
    }
    for entry in fs::read_dir(workspace().join("docs/exercises"))? {
        let stage = entry?.path();
        for patch in fs::read_dir(&stage)? {
            let patch = patch?.path();
            let known = all_exercises().any(|(_, exercise)| patch_path(exercise) == patch)
                || patch == speed_patch_path();
            if !known {
                problems.push(format!("{} belongs to no exercise", patch.display()));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

fn patch_path(exercise: &Exercise) -> PathBuf {
    workspace()
        .join("docs/exercises")
        .join(exercise.stage)
        .join(format!("{}.patch", exercise.name))
}

/// `target/exercises`, next to the folder this test runs from
/// (`target/debug/deps`): the builds here do not touch the workspace's own.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let target = exe.ancestors().nth(3).map(Path::to_path_buf);
    target
        .unwrap_or_else(|| workspace().join("target"))
        .join("exercises")
}

/// A scratch folder outside the repository, the same one every run for the
/// same checkout, so that an unchanged copy is not built again.
fn scratch_dir() -> PathBuf {
    let mut hasher = DefaultHasher::new();
    workspace().hash(&mut hasher);
    std::env::temp_dir().join(format!("http-from-sockets-exercises-{:x}", hasher.finish()))
}

/// Copies the folder `from` to `to`, leaving out build output.
fn copy_dir(from: &Path, to: &Path) -> Result<(), Failed> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let (source, name) = (entry.path(), entry.file_name());
        if source.is_dir() {
            if name != "target" {
                copy_dir(&source, &to.join(name))?;
            }
        } else {
            fs::copy(&source, to.join(name))?;
        }
    }
    Ok(())
}

/// Every file of the scratch workspace at `dir` that goes into a build, with
/// its bytes, by path: not Cargo.lock, which cargo rewrites, nor the server
/// copied out of the target folder.
fn read_tree(dir: &Path) -> Result<BTreeMap<PathBuf, Vec<u8>>, Failed> {
    let mut files = BTreeMap::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder)? {
            let path = entry?.path();
            let relative = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
            let at_the_top = folder == dir;
            let counts = !at_the_top
                || relative == Path::new("Cargo.toml")
                || relative == Path::new(WORKSPACE_LOCK);
            if path.is_dir() {
                folders.push(path);
            } else if counts {
                files.insert(relative, fs::read(&path)?);
            }
        }
    }
    Ok(files)
}

/// Removes `dir` and what it holds, if it exists.
fn remove(dir: &Path) -> Result<(), Failed> {
    match fs::remove_dir_all(dir) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
        _ => Ok(()),
    }
}
