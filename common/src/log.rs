//! The per-connection log: the `print` calls of the post, and `--quiet`.
//!
//! `log!` works like `println!`, unless the server was started with
//! `--quiet`. The switch is a global flag set once at start-up; an atomic
//! makes it safe to read from every connection's thread.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Turns the per-connection log off (`--quiet`) or on.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Prints one log line, like `println!`, unless the server is `--quiet`.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        if !$crate::log::is_quiet() {
            println!($($arg)*);
        }
    };
}

/// Shows bytes the way Python prints them, `b'GET / HTTP/1.1\r\n'`, so the
/// log reads like the post's: printable ASCII as is, the rest escaped.
pub struct PyBytes<'a>(pub &'a [u8]);

impl fmt::Display for PyBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b'{}'", self.0.escape_ascii())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_print_like_python() {
        let shown = PyBytes(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").to_string();
        assert_eq!(shown, r"b'GET / HTTP/1.1\r\nHost: x\r\n\r\n'");
        assert_eq!(PyBytes(b"\x00\xff'").to_string(), r"b'\x00\xff\''");
        assert_eq!(PyBytes(b"").to_string(), "b''");
    }
}
