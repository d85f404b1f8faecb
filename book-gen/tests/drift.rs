//! The book cannot drift from the workspace: each test here fails when a
//! generated part of `docs/src/generated/` is no longer what the workspace
//! produces, when a chapter includes code through an anchor that is gone, or
//! when a link of the built book leads nowhere. `cargo run -p book-gen`
//! brings the generated parts up to date.

use std::path::PathBuf;

/// What to do about generated parts that differ, by who is likely to see it.
fn out_of_date(drifted: &[String]) -> String {
    // The diffs, the transcripts and the source pages follow the stages'
    // code; a stage changed for an exercise changes them too.
    let stages: Vec<&str> = book_gen::stages()
        .into_iter()
        .filter(|stage| drifted.iter().any(|path| path.contains(stage)))
        .collect();
    let stages = if stages.is_empty() {
        "the stage".to_string()
    } else {
        stages.join(", ")
    };
    format!(
        "the book is out of date; these generated parts differ: {drifted:?}\n\
         \n\
         - Doing an exercise in a stage? Then this is expected: the book shows \
         the stages as they are in the repository. Test your stage alone with \
         `cargo test -p <stage>` (here: {stages}), and when you are done, put it \
         back with `git checkout -- <stage>` (or keep your work aside with \
         `git stash`).\n\
         - Changed a stage or a chapter for the book? Run `cargo run -p book-gen`, \
         and commit what it writes."
    )
}

#[test]
fn the_diffs_between_stages_match() {
    let drifted = book_gen::drifted(&book_gen::diffs().unwrap());
    assert!(drifted.is_empty(), "{}", out_of_date(&drifted));
}

#[test]
fn the_tables_of_rules_match_the_checks() {
    let drifted = book_gen::drifted(&book_gen::rule_tables());
    assert!(drifted.is_empty(), "{}", out_of_date(&drifted));
}

#[test]
fn the_source_pages_match() {
    let drifted = book_gen::drifted(&book_gen::sources::pages().unwrap());
    assert!(drifted.is_empty(), "{}", out_of_date(&drifted));
    assert!(
        !book_gen::sources::summary_drifted().unwrap(),
        "{}",
        out_of_date(&["../SUMMARY.md".to_string()])
    );
}

#[test]
fn the_how_fast_tables_match_the_runs_kept() {
    let drifted = book_gen::drifted(&book_gen::bench::tables().unwrap());
    assert!(drifted.is_empty(), "{}", out_of_date(&drifted));
}

#[test]
fn the_tables_of_exercises_match_their_checks() {
    let drifted = book_gen::drifted(&book_gen::exercise_tables());
    assert!(drifted.is_empty(), "{}", out_of_date(&drifted));
}

#[test]
fn the_journey_matches_the_benchmark_pages() {
    let drifted = book_gen::drifted(&book_gen::journey().unwrap());
    assert!(drifted.is_empty(), "{}", out_of_date(&drifted));
}

#[test]
fn the_quoted_figures_match_the_benchmark_pages() {
    let drifted = book_gen::drifted(&book_gen::quotes().unwrap());
    assert!(drifted.is_empty(), "{}", out_of_date(&drifted));
}

#[test]
fn the_try_it_transcripts_and_stage_check_runs_match() {
    // Outside CI, on a machine without curl, there is nothing to compare with.
    if std::env::var_os("CI").is_none() && !stage_check::conn::curl_available() {
        assert!(book_gen::try_it_needs_curl());
        eprintln!("not compared: curl is not installed (CI installs it)");
        return;
    }
    let mut generated = book_gen::try_it().unwrap();
    generated.extend(book_gen::check_runs().unwrap());
    let drifted = book_gen::drifted(&generated);
    assert!(drifted.is_empty(), "{}", out_of_date(&drifted));
}

#[test]
fn every_include_resolves() {
    let broken = book_gen::broken_includes().unwrap();
    assert!(
        broken.is_empty(),
        "missing includes or anchors:\n{}",
        broken.join("\n")
    );
}

/// Builds the book as `mdbook serve docs` does, and follows every link.
#[test]
fn every_link_of_the_book_leads_somewhere() {
    let Some(mdbook) = book_gen::links::mdbook() else {
        let install = book_gen::links::MDBOOK_INSTALL;
        // CI installs mdBook: there, not finding it is a failure.
        assert!(
            std::env::var_os("CI").is_none(),
            "mdbook is not installed: `{install}`"
        );
        eprintln!("links not checked: mdbook is not installed; install it with `{install}`");
        return;
    };
    let dest: PathBuf =
        std::env::temp_dir().join(format!("http-from-sockets-book-{}", std::process::id()));
    book_gen::links::build_book(&mdbook, &dest).unwrap();
    let broken = book_gen::links::broken(&dest);
    let _ = std::fs::remove_dir_all(&dest);
    let broken = broken.unwrap();
    assert!(
        broken.is_empty(),
        "links of the book that lead nowhere:\n{}",
        broken.join("\n")
    );
}

/// The numbers the chapters quote from the code are the code's: the limits
/// of `common::parser`, wherever a sentence ties a number to the answer it
/// gets (`431`, `413`). And no chapter counts `stage-check`'s checks in
/// figures: their number changes as checks are added, so the prose says
/// "the same checks", and `--list` shows them.
#[test]
fn the_numbers_in_the_prose_are_the_codes() {
    use common::parser::{MAX_BODY_BYTES, MAX_HEAD_BYTES, MAX_HEADERS};
    let limits = [
        (" KiB", MAX_HEAD_BYTES / 1024, "431"),
        (" headers", MAX_HEADERS, "431"),
        (" MiB", MAX_BODY_BYTES / (1024 * 1024), "413"),
    ];
    let mut wrong = Vec::new();
    for (name, text) in chapters() {
        // Sentences run over line ends; one line of text is easier to scan.
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for (unit, limit, status) in limits {
            for (number, after) in numbers_before(&text, unit) {
                // The rest of the sentence, or of the table cell.
                let window: String = after
                    .chars()
                    .take(80)
                    .take_while(|c| !matches!(c, '.' | '|'))
                    .collect();
                let about_the_limit = window.contains(status) || window.contains("MAX_");
                if about_the_limit && number != limit {
                    wrong.push(format!(
                        "{name}: \"{number}{unit}\" where the code says {limit}"
                    ));
                }
            }
        }
        for unit in [" checks", " `stage-check` checks"] {
            for (number, _) in numbers_before(&text, unit) {
                wrong.push(format!(
                    "{name}: \"{number}{unit}\": say \"the same checks\""
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The book's own Markdown (not the generated parts), by path.
fn chapters() -> Vec<(String, String)> {
    let src = book_gen::workspace_root().join("docs/src");
    let mut found = Vec::new();
    for dir in [src.clone(), src.join("exercises")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                let name = path.strip_prefix(&src).unwrap().display().to_string();
                found.push((name, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    found
}

/// Each number written just before `unit` (`8 KiB`, `1,200 headers`), with
/// the text that follows it.
fn numbers_before<'a>(text: &'a str, unit: &str) -> Vec<(usize, &'a str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(unit) {
        let end = from + at;
        let digits: String = text[..end]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit() || *c == ',')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .filter(char::is_ascii_digit)
            .collect();
        if let Ok(number) = digits.parse() {
            found.push((number, &text[end + unit.len()..]));
        }
        from = end + unit.len();
    }
    found
}

#[test]
fn the_readme_shows_a_real_failure() {
    // The README's sample failure is the FAIL block of a generated run, and
    // that run is compared with a real one above.
    let generated = book_gen::generated_dir().join("stage-check/part5-fail.console");
    let run = std::fs::read_to_string(generated).unwrap();
    let block: Vec<&str> = run
        .lines()
        .skip_while(|line| !line.starts_with("FAIL"))
        .take_while(|line| !line.is_empty())
        .collect();
    assert!(block.len() > 3, "no FAIL block in {run}");
    let readme = std::fs::read_to_string(book_gen::workspace_root().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("```text\n{}\n```", block.join("\n"))),
        "README.md's sample failure is not this real one:\n{}",
        block.join("\n")
    );
}
