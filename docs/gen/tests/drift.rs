//! The book cannot drift from the workspace: each test here fails when a
//! generated part of `docs/src/generated/` is no longer what the workspace
//! produces, or when a chapter includes code through an anchor that is gone.
//! `cargo run -p book-gen` brings the generated parts up to date.

const REGENERATE: &str = "the book is out of date: run `cargo run -p book-gen`";

#[test]
fn the_diffs_between_stages_match() {
    let drifted = book_gen::drifted(&book_gen::diffs().unwrap());
    assert!(
        drifted.is_empty(),
        "{REGENERATE}; these differ: {drifted:?}"
    );
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
    assert!(
        drifted.is_empty(),
        "{REGENERATE}; these differ: {drifted:?}"
    );
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
