//! A learner's async server on tokio, every step right: the one the part
//! 12 `broken-*` examples each change a step of.
//!
//! **Correct:** a task per connection, on `--workers` threads of tokio's
//! runtime. A task waits for its socket to be readable before it makes
//! room for a read, answers every whole request of what it read, and
//! writes their answers in one `write_all`, reading nothing meanwhile; its
//! `GET /sleep` awaits tokio's timer, so the thread serves other tasks
//! while it waits. Every wait has its timer (408 after `--read-timeout`,
//! the silent close after `--keep-alive-timeout`, a client that takes no
//! answer given up, the lingering close). At most `--max-connections` are
//! held; one more is answered `503` with `Retry-After: 1` and closed. On
//! SIGINT or SIGTERM it stops accepting, closes the idle connections, lets
//! requests in progress finish, and exits with status 0. Otherwise it
//! serves as `correct-keep-alive` does: part 8's application, kept
//! connections, pipelining, both timeouts.
//!
//! ```text
//! cargo run -p stage-check -- part12 --exec "cargo run -q -p stage-check --example correct-async --"
//! ```

use std::io;

mod learner;

fn main() -> io::Result<()> {
    learner::async_server::serve(learner::async_server::RIGHT)
}
