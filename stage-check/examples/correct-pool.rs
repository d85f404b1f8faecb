//! A learner's pooled server, every step right: the one the part 10
//! `broken-*` examples each change a step of.
//!
//! **Correct:** a fixed set of workers, fed by a queue of at most `--queue`
//! connections; one more is answered `503` with `Retry-After: 1` and
//! closed. A worker gives its idle kept connection up to one that waits,
//! and its answers say `Connection: close` while one does. On SIGINT or
//! SIGTERM it stops accepting, closes the idle connections, lets requests
//! in progress finish, and exits with status 0. Otherwise it serves as
//! `correct-keep-alive` does: part 8's application, kept connections,
//! pipelining, both timeouts.
//!
//! ```text
//! cargo run -p stage-check -- part10 --exec "cargo run -q -p stage-check --example correct-pool --"
//! ```

use std::io;

mod learner;

fn main() -> io::Result<()> {
    learner::pool::serve(learner::pool::RIGHT)
}
