//! Writes the book's generated parts into `docs/src/generated/`: the diffs
//! between neighbouring stages, the "Try it" transcripts, the stage-check
//! runs, the pages of the source files the chapters link to, and the tables
//! of "How fast is it".
//!
//! ```text
//! cargo run -p book-gen                         # after changing a stage or a chapter
//! cargo run -p book-gen -- bench                # runs the benchmark again (minutes), then the above
//! cargo run -p book-gen -- bench --rounds 3     # with 3 rounds instead of 5
//! cargo run -p book-gen -- starters             # each stage as a starter, in target/starters/
//! ```
//!
//! Run it after changing a stage; `cargo test -p book-gen` fails until then.

use clap::{Parser, Subcommand};

/// The command line, which clap builds from these types: each `///` comment
/// becomes the help text, as `help=` does in Python's argparse.
#[derive(Parser)]
#[command(about = "Writes the book's generated parts into docs/src/generated/")]
struct Args {
    /// What to do first; with none, only the generated parts are written.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Runs part 6's parser benchmark again and keeps its runs, then writes
    /// the generated parts (their tables come from those runs).
    Bench {
        /// Each case, each parser, this many times, so that the median stands.
        #[arg(long, default_value_t = 5,
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
        rounds: usize,
    },
    /// Writes each stage as a starter to hand out, `<out>/<stage>/`: a crate
    /// of its own, with the lesson's bodies left to the learner. Writes
    /// nothing else.
    Starters {
        /// The folder to write the starters into [default: target/starters].
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Keep the lesson, dropping only the markers: the stage itself, as
        /// a standalone crate.
        #[arg(long)]
        solved: bool,
    },
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    match args.command {
        Some(Command::Bench { rounds }) => book_gen::bench::run(rounds)?,
        Some(Command::Starters { out, solved }) => {
            use book_gen::starters::{self, Mode};
            let out = out.unwrap_or_else(starters::default_out);
            let mode = if solved { Mode::Solved } else { Mode::Starter };
            starters::write_all(&out, mode)?;
            for stage in book_gen::stages() {
                println!("written  {}", out.join(stage).display());
            }
            return Ok(());
        }
        None => {}
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
