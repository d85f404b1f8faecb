//! A learner's server on event loops, every step right: the one the part
//! 11 `broken-*` examples each change a step of.
//!
//! **Correct:** `--workers` threads, each a `mio` event loop serving many
//! connections with non-blocking sockets, all accepting from one
//! listener. A loop never waits on one client: it writes what a socket
//! takes and keeps the rest for when it is writable, and stops reading
//! from a client with more than 64 KiB of answers unsent. At most
//! `--max-connections` are held; one more is answered `503` with
//! `Retry-After: 1` and closed. Its timers (408 after `--read-timeout`,
//! the silent close after `--keep-alive-timeout`, the lingering close) are
//! deadlines the loop looks at, not threads that sleep. On SIGINT or
//! SIGTERM it stops accepting, closes the idle connections, lets requests
//! in progress finish, and exits with status 0. Otherwise it serves as
//! `correct-keep-alive` does: part 8's application, kept connections,
//! pipelining, both timeouts.
//!
//! ```text
//! cargo run -p stage-check -- part11 --exec "cargo run -q -p stage-check --example correct-event-loop --"
//! ```

use std::io;

mod learner;

fn main() -> io::Result<()> {
    learner::event_loop::serve(learner::event_loop::RIGHT)
}
