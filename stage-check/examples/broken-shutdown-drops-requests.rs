//! A learner's pooled server that exits at once on a signal.
//!
//! **The flaw:** on SIGINT or SIGTERM it ends the process there and then,
//! with status 0, as Python's default Ctrl-C does to a server whose
//! threads are daemons. A request in progress is cut off: its client
//! gets its connection closed, or reset, and no answer, though the server
//! was asked to stop, not to crash. (Every deployment sends SIGTERM
//! before it replaces a server.) A graceful shutdown stops accepting,
//! closes the idle connections, and lets the requests in progress finish,
//! their answers saying `Connection: close`.
//!
//! Everything else is right: until the signal, it is served well. See
//! `stage-check` find it (`graceful_shutdown`, which sends SIGTERM in the
//! middle of a request, then sends the rest and wants its answer, fails):
//!
//! ```text
//! cargo run -p stage-check -- part10 --exec "cargo run -q -p stage-check --example broken-shutdown-drops-requests --"
//! ```

use std::io;
use std::process;

mod learner;
use learner::pool::{self, Shared};

fn main() -> io::Result<()> {
    pool::serve(pool::Steps {
        on_signal,
        ..pool::RIGHT
    })
}

/// FLAW: end the process now, whatever the workers are doing.
fn on_signal(_shared: &Shared) {
    process::exit(0);
}
