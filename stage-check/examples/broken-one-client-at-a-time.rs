//! A learner's echo server that serves one client after the other.
//!
//! **The flaw:** no threads. The accept loop serves each client itself,
//! until that client leaves, and only then accepts the next one: a second
//! client can connect (the system queues it), but gets no echo while the
//! first is still connected. This is the post's part 4, step 2; step 3 gives
//! each client a thread of its own.
//!
//! Like the post's server, it prints nothing when it starts: `stage-check`
//! finds it by its port.
//!
//! See `stage-check` find it (the check `echo_clients_in_parallel` fails):
//!
//! ```text
//! cargo run -p stage-check -- part4 --exec "cargo run -q -p stage-check --example broken-one-client-at-a-time --"
//! ```

use std::io;

mod learner;

fn main() -> io::Result<()> {
    let (listener, read_timeout) = learner::listen()?;
    // FLAW: the client is served right here, in the accept loop, instead of
    // on a thread of its own: the next `accept` waits until it has left.
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        learner::connection(stream, read_timeout, learner::echo);
    }
    Ok(())
}
