//! Every link of the built book leads somewhere: to a file of the book, and
//! to an element with that id when the link names one (`page.html#id`).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::workspace_root;

/// The version CI installs, and the command that installs it.
pub const MDBOOK_INSTALL: &str = "cargo install mdbook --locked --version 0.5.4";

/// The `mdbook` program: on the `PATH`, or where `cargo install` puts it.
pub fn mdbook() -> Option<PathBuf> {
    let on_path = Command::new("mdbook").arg("--version").output();
    if on_path.is_ok_and(|output| output.status.success()) {
        return Some(PathBuf::from("mdbook"));
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))?;
    let installed = home
        .join("bin")
        .join(format!("mdbook{}", std::env::consts::EXE_SUFFIX));
    installed.exists().then_some(installed)
}

/// Builds the book with `mdbook` into `dest`.
pub fn build_book(mdbook: &Path, dest: &Path) -> Result<()> {
    let output = Command::new(mdbook)
        .arg("build")
        .arg(workspace_root().join("docs"))
        .arg("--dest-dir")
        .arg(dest)
        .output()
        .with_context(|| format!("cannot run {}", mdbook.display()))?;
    if !output.status.success() {
        bail!(
            "mdbook build failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// The links of the built book at `book` that lead nowhere, as
/// "page: link". Links to other sites are not followed.
pub fn broken(book: &Path) -> Result<Vec<String>> {
    let mut pages = Vec::new();
    collect_html(book, &mut pages)?;
    let mut ids: HashMap<PathBuf, Vec<String>> = HashMap::new();
    let mut broken = Vec::new();
    for page in &pages {
        let name = page
            .strip_prefix(book)
            .unwrap_or(page)
            .display()
            .to_string();
        // mdBook's 404 page links from the site's root, wherever it is shown.
        if name == "404.html" {
            continue;
        }
        let html = fs::read_to_string(page)?;
        for link in attribute_values(&html, "href").chain(attribute_values(&html, "src")) {
            let link = link.replace("&amp;", "&");
            if link.contains("://")
                || link.starts_with("mailto:")
                || link.starts_with("javascript:")
            {
                continue;
            }
            let (path, fragment) = match link.split_once('#') {
                Some((path, fragment)) => (path, Some(fragment)),
                None => (link.as_str(), None),
            };
            let path = path.split('?').next().unwrap_or(path);
            let target = if path.is_empty() {
                page.clone()
            } else {
                let target = page.parent().unwrap_or(book).join(path);
                if path.ends_with('/') || target.is_dir() {
                    target.join("index.html")
                } else {
                    target
                }
            };
            if !target.is_file() {
                broken.push(format!("{name}: {link}"));
                continue;
            }
            let Some(fragment) = fragment.filter(|f| !f.is_empty()) else {
                continue;
            };
            if target.extension().is_some_and(|e| e == "html") {
                let known = match ids.get(&target) {
                    Some(known) => known,
                    None => {
                        let text = fs::read_to_string(&target)?;
                        let found = attribute_values(&text, "id").collect();
                        ids.entry(target.clone()).or_insert(found)
                    }
                };
                if !known.iter().any(|id| id == fragment) {
                    broken.push(format!("{name}: {link} (no element with that id)"));
                }
            }
        }
    }
    broken.sort();
    broken.dedup();
    Ok(broken)
}

/// The values of `name="…"` attributes in `html`.
fn attribute_values<'a>(html: &'a str, name: &str) -> impl Iterator<Item = String> + 'a {
    let pattern = format!(" {name}=\"");
    let mut rest = html;
    std::iter::from_fn(move || {
        let at = rest.find(&pattern)?;
        rest = &rest[at + pattern.len()..];
        let end = rest.find('"')?;
        let value = rest[..end].to_string();
        rest = &rest[end..];
        Some(value)
    })
}

/// The `.html` files under `dir`, at any depth.
fn collect_html(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_html(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "html") {
            found.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_to_a_missing_page_or_id_is_found() {
        let dir = std::env::temp_dir().join(format!("book-gen-links-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("sub")).unwrap();
        fs::write(
            dir.join("a.html"),
            r##"<a href="sub/b.html#here">ok</a> <a href="sub/b.html#gone">no id</a>
                <a href="c.html">no page</a> <a href="#top">ok</a> <p id="top"></p>
                <a href="https://example.com/x">not followed</a>"##,
        )
        .unwrap();
        fs::write(
            dir.join("sub/b.html"),
            r#"<h2 id="here"></h2><a href="../a.html">ok</a>"#,
        )
        .unwrap();
        let found = broken(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            found,
            [
                "a.html: c.html",
                "a.html: sub/b.html#gone (no element with that id)"
            ]
        );
    }
}
