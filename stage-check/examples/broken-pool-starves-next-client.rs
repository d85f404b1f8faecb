//! A learner's pooled server whose workers keep their idle connections
//! whoever waits.
//!
//! **The flaw:** a worker on a kept connection waits for its next request
//! until the keep-alive timeout, even when other connections wait in the
//! queue for a worker; and its answers never say `Connection: close` to
//! make room. With as many idle browsers as workers, a new client waits
//! the whole keep-alive timeout before a worker takes it: the pool serves
//! whoever came first, not whoever has a request. Closing an idle
//! connection is allowed at any time (RFC 9112, section 9.5), so the
//! worker should give it up.
//!
//! Everything else is right: with a free worker for everyone, it is served
//! well. See `stage-check` find it (`next_client_served_past_idle_ones`,
//! which leaves both workers of a `--workers 2` server on idle kept
//! connections and wants the next client answered within a second, long
//! before the keep-alive timeout, fails):
//!
//! ```text
//! cargo run -p stage-check -- part10 --exec "cargo run -q -p stage-check --example broken-pool-starves-next-client --"
//! ```

use std::io;

mod learner;
use learner::pool;

fn main() -> io::Result<()> {
    pool::serve(pool::Steps {
        gives_way,
        ..pool::RIGHT
    })
}

/// FLAW: never give a connection up for one that waits.
fn gives_way(_waiting: usize) -> bool {
    false
}
