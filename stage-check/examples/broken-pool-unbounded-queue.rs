//! A learner's pooled server whose queue has no bound.
//!
//! **The flaw:** when every worker is busy, each new connection joins the
//! queue, however long it is: it never answers `503`. Under a flood the
//! queue grows without end, each connection in it holding a socket and
//! memory, and a client at its back waits for minutes with no word, where
//! a quick `503 Service Unavailable` with `Retry-After` would have told it
//! to come back (RFC 9110, section 15.6.4). The Rust Book's pool has this
//! flaw: its channel has no bound.
//!
//! Everything else is right: while the workers keep up, it is served well.
//! See `stage-check` find it (`full_queue_answered_503`, which fills the
//! workers and the queue of a `--workers 2 --queue 2` server and wants a
//! `503` for the next client, fails):
//!
//! ```text
//! cargo run -p stage-check -- part10 --exec "cargo run -q -p stage-check --example broken-pool-unbounded-queue --"
//! ```

use std::io;

mod learner;
use learner::pool;

fn main() -> io::Result<()> {
    pool::serve(pool::Steps {
        queue_full,
        ..pool::RIGHT
    })
}

/// FLAW: the queue is never full.
fn queue_full(_waiting: usize, _bound: usize) -> bool {
    false
}
