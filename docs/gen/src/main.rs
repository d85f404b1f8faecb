//! Writes the book's generated parts into `docs/src/generated/`: the diffs
//! between neighbouring stages and the "Try it" transcripts.
//!
//! ```text
//! cargo run -p book-gen
//! ```
//!
//! Run it after changing a stage; `cargo test -p book-gen` fails until then.

fn main() -> anyhow::Result<()> {
    let generated = book_gen::all()?;
    let changed = book_gen::drifted(&generated);
    book_gen::write(&generated)?;
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
