//! A page in the book for each source file a chapter links to.
//!
//! mdBook serves only the book: a link from a chapter to
//! `../../part6-custom-parser/src/lib.rs` leads nowhere under `mdbook serve`.
//! So a chapter links to `generated/source/part6-custom-parser/src/lib.rs.md`
//! instead, and [`pages`] writes that page, which includes the whole file
//! (a folder gets one page with each of its files). The pages are listed
//! under "The code" at the end of `SUMMARY.md` ([`summary`]), since mdBook
//! renders only the pages listed there.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::{Generated, markdown_files, workspace_root};

/// Where a chapter's link to a source page starts.
const LINK: &str = "](generated/source/";

/// The entry of `SUMMARY.md` after which everything is written here.
const SUMMARY_ENTRY: &str = "- [The code](generated/source/index.md)";

/// The workspace paths the chapters link to, through their pages, sorted.
pub fn linked() -> Result<Vec<String>> {
    let src = workspace_root().join("docs/src");
    let mut paths = Vec::new();
    for chapter in markdown_files(&src)? {
        if chapter.starts_with(src.join("generated")) {
            continue;
        }
        let text = fs::read_to_string(&chapter)?;
        let mut rest = text.as_str();
        while let Some(at) = rest.find(LINK) {
            rest = &rest[at + LINK.len()..];
            let end = rest.find([')', '#']).unwrap_or(rest.len());
            let Some(path) = rest[..end].strip_suffix(".md") else {
                bail!(
                    "{}: a link into generated/source/ that is not to a .md page",
                    chapter.display()
                );
            };
            if path != "index" {
                paths.push(path.to_string());
            }
        }
    }
    // In the series' order: `part10-…` after `part9-…`, where a plain sort
    // of the text would put it before `part4-…`.
    paths.sort_by_key(|path| series_order(path));
    paths.dedup();
    Ok(paths)
}

/// A path's key in the series' order: the text before its first digit,
/// then that number as a number (`part10-thread-pool/…` is `("part", 10)`),
/// then the path itself.
fn series_order(path: &str) -> (String, u32, String) {
    let digits_at = path
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(path.len());
    let (before, rest) = path.split_at(digits_at);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let number = digits.parse().unwrap_or(0);
    (before.to_string(), number, path.to_string())
}

/// The page of each linked path, and the index of them all.
pub fn pages() -> Result<Vec<Generated>> {
    let root = workspace_root();
    let paths = linked()?;
    let mut generated = Vec::new();
    let mut index = String::from(
        "# The code\n\nEvery source file the chapters link to, whole, as it is in the \
         workspace. Open them in your editor to change them.\n\n",
    );
    for path in &paths {
        let full = root.join(path);
        // From the page's folder up to the workspace: `docs/src`, then
        // `generated/source`, then the folders of `path` but its last.
        let up = "../".repeat(path.split('/').count() + 3);
        let mut page = format!("# `{path}`\n");
        if full.is_dir() {
            page.push_str(&format!("\nThe files of the folder `{path}`.\n"));
            for file in files_under(&full)? {
                let relative = file.strip_prefix(&root).unwrap_or(&file);
                let relative = relative.display().to_string().replace('\\', "/");
                let name = relative
                    .strip_prefix(&format!("{path}/"))
                    .unwrap_or(&relative);
                page.push_str(&format!("\n## `{name}`\n\n{}", block(&relative, &up)));
            }
        } else if full.is_file() {
            page.push('\n');
            page.push_str(&block(path, &up));
        } else {
            bail!("a chapter links to {path}, which is not in the workspace");
        }
        index.push_str(&format!("- [`{path}`]({path}.md)\n"));
        generated.push(Generated {
            path: format!("source/{path}.md"),
            text: page,
        });
    }
    generated.push(Generated {
        path: "source/index.md".into(),
        text: index,
    });
    Ok(generated)
}

/// A fenced block that includes the whole of `path`, `up` being the way
/// from the page up to the workspace.
fn block(path: &str, up: &str) -> String {
    let language = match Path::new(path).extension().and_then(|e| e.to_str()) {
        Some("rs") => "rust,noplayground",
        Some("toml") => "toml",
        Some("md") => "markdown",
        Some("sh") => "sh",
        _ => "text",
    };
    // A fence longer than any run of backticks in the file, so that a
    // Markdown file's own code blocks cannot end it (CommonMark's rule).
    let text = fs::read_to_string(workspace_root().join(path)).unwrap_or_default();
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{language}\n{{{{#include {up}{path}}}}}\n{fence}\n")
}

/// The files under `dir`, at any depth, sorted.
pub(crate) fn files_under(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(files_under(&path)?);
        } else {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// `SUMMARY.md` as it should be: as it is, up to "The code", then the
/// source pages.
pub fn summary() -> Result<String> {
    let path = workspace_root().join("docs/src/SUMMARY.md");
    let text = fs::read_to_string(&path)?;
    let kept = match text.find(SUMMARY_ENTRY) {
        Some(at) => &text[..at],
        None => text.as_str(),
    };
    let mut summary = kept.trim_end().to_string();
    summary.push_str(&format!("\n\n{SUMMARY_ENTRY}\n"));
    for path in linked()? {
        summary.push_str(&format!("    - [`{path}`](generated/source/{path}.md)\n"));
    }
    Ok(summary)
}

/// Whether `SUMMARY.md` lists the source pages as [`summary`] would.
pub fn summary_drifted() -> Result<bool> {
    let path = workspace_root().join("docs/src/SUMMARY.md");
    Ok(fs::read_to_string(path)? != summary()?)
}

/// Writes `SUMMARY.md` as [`summary`] makes it.
pub fn write_summary() -> Result<()> {
    let path = workspace_root().join("docs/src/SUMMARY.md");
    fs::write(path, summary()?)?;
    Ok(())
}
