//! What Linux's `/proc` says of a server's processes: how many threads they
//! run, how much memory they hold, how many files they have open. A server
//! may be more than one process: nginx's master and its workers, or the
//! program that `cargo run` or a shell started. The figures are summed over
//! the process stage-check started and all its descendants.

use std::io;

/// The process `pid` and its descendants, from `/proc`.
fn family(pid: u32) -> Vec<u32> {
    let mut family = vec![pid];
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return family;
    };
    // Every process with its parent's id.
    let parents: Vec<(u32, u32)> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|child| {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).ok()?;
            // After the name in brackets: the state, then the parent's id.
            let after_name = &stat[stat.rfind(')')? + 2..];
            let parent = after_name.split(' ').nth(1)?.parse().ok()?;
            Some((child, parent))
        })
        .collect();
    // Breadth first: the children of each member join the family in turn.
    let mut i = 0;
    while i < family.len() {
        let parent = family[i];
        family.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    family
}

/// A number field of a `/proc` file, such as `Threads:` in `status`, summed
/// over the family of `pid`; an error when not one of them has the file.
fn sum_field(pid: u32, file: &str, field: &str) -> io::Result<u64> {
    let values: Vec<u64> = family(pid)
        .iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok())
        .filter_map(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        })
        .collect();
    if values.is_empty() {
        return Err(io::Error::other(format!(
            "cannot read `{field}` in /proc/{pid}/{file}"
        )));
    }
    Ok(values.iter().sum())
}

/// How many threads the family of `pid` runs.
pub fn threads(pid: u32) -> io::Result<usize> {
    sum_field(pid, "status", "Threads:").map(|count| count as usize)
}

/// The proportional set size of the family of `pid`, in KiB: each page
/// shared between processes counted once, in shares.
pub fn memory_kib(pid: u32) -> io::Result<u64> {
    sum_field(pid, "smaps_rollup", "Pss:")
}

/// How many files (sockets among them) the family of `pid` holds open.
pub fn open_files(pid: u32) -> usize {
    family(pid)
        .iter()
        .filter_map(|pid| std::fs::read_dir(format!("/proc/{pid}/fd")).ok())
        .map(|fds| fds.count())
        .sum()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_counted() {
        let me = std::process::id();
        assert!(threads(me).unwrap() >= 1);
        assert!(memory_kib(me).unwrap() > 0);
        assert!(open_files(me) >= 3, "at least stdin, stdout and stderr");
        assert!(threads(u32::MAX).is_err(), "no such process");
    }
}
