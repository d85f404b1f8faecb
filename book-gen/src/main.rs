//! Writes the book's generated parts into `docs/src/generated/`: the diffs
//! between neighbouring stages, the "Try it" transcripts, the stage-check
//! runs, the pages of the source files the chapters link to, and the tables
//! of "How fast is it".
//!
//! ```text
//! cargo run -p book-gen              # after changing a stage or a chapter
//! cargo run -p book-gen -- bench     # runs the benchmark again (minutes)
//! cargo run -p book-gen -- bench 3   # with 3 rounds instead of 5
//! ```
//!
//! Run it after changing a stage; `cargo test -p book-gen` fails until then.

use anyhow::{Context, bail};

/// Rounds of the benchmark when none are given: each case, each parser, five
/// times, so that the median stands.
const ROUNDS: usize = 5;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {}
        Some("bench") => {
            let rounds = match args.get(1) {
                Some(rounds) => rounds.parse().context("rounds: a number")?,
                None => ROUNDS,
            };
            book_gen::bench::run(rounds)?;
        }
        Some(other) => bail!("unknown argument {other:?}: give nothing, or `bench [ROUNDS]`"),
    }
    let generated = book_gen::all()?;
    let changed = book_gen::drifted(&generated);
    // The source pages are written afresh: a page no chapter links to goes.
    let sources = book_gen::generated_dir().join("source");
    if sources.exists() {
        std::fs::remove_dir_all(sources)?;
    }
    book_gen::write(&generated)?;
    let summary = if book_gen::sources::summary_drifted()? {
        "updated"
    } else {
        "same"
    };
    book_gen::sources::write_summary()?;
    println!("{summary:>7}  docs/src/SUMMARY.md");
    for file in &generated {
        let mark = if changed.contains(&file.path) {
            "updated"
        } else {
            "same"
        };
        println!("{mark:>7}  docs/src/generated/{}", file.path);
    }
    Ok(())
}
