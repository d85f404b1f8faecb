//! What every stage shares and no lesson changes.
//!
//! Each stage of the series is its own crate, so that `diff -ru` between two
//! neighbours shows exactly what one step teaches. What *no* step changes
//! lives here instead, written once:
//!
//! - [`response`]: the post's `http_response` module, formatting a response.
//!   It always writes a well-formed one (the original forgets the empty line
//!   when the body is empty, and never says `Connection: close`).
//! - [`parser`]: the interface every request parser offers (the callbacks of
//!   a "protocol" object, like httptools'), its errors and its size limits, so
//!   part 6 can drop its own parser in where part 5 used httparse.
//! - [`log`]: the per-connection log lines, and `--quiet`.
//! - [`close`]: closing a connection so that the client can still read the
//!   answer ("lingering close").
//!
//! The `test-support` feature adds `parser::Recorder`, a protocol that writes
//! down every call, for the stages' tests; the stages themselves do without.

pub mod close;
pub mod log;
pub mod parser;
pub mod response;
