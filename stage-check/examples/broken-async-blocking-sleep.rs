//! A learner's async server whose slow handler blocks its thread.
//!
//! **The flaw:** `GET /sleep` waits with `std::thread::sleep` inside the
//! async handler (Python's `time.sleep` inside an `async def`), where it
//! should `.await` tokio's timer. A blocking call never hands the thread
//! back to the runtime: for the whole sleep, every other task on that
//! thread waits too, and with `--workers 1` that is every client. The
//! answer to `/sleep` itself is right, and late by exactly the sleep.
//!
//! Everything else is right: while no handler blocks, it is served well.
//! See `stage-check` find it (`awaiting_handler_does_not_delay_others`,
//! which asks for a page on one thread while `/sleep` waits, fails):
//!
//! ```text
//! cargo run -p stage-check -- part12 --exec "cargo run -q -p stage-check --example broken-async-blocking-sleep --"
//! ```

use std::io;
use std::time::Duration;

mod learner;
use learner::async_server::{self, Pause, Steps};

fn main() -> io::Result<()> {
    async_server::serve(Steps {
        wait: block_the_thread,
    })
}

/// FLAW: an async block that sleeps the way a thread does: the thread
/// that runs it runs nothing else until the sleep ends.
fn block_the_thread(duration: Duration) -> Pause {
    Box::pin(async move { std::thread::sleep(duration) })
}
