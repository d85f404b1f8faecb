//! A learner's keep-alive server that answers pipelined requests out of
//! order.
//!
//! **The flaw:** a client may send several requests without waiting for
//! their answers (pipelining, RFC 9112, section 9.3.2). This server takes
//! all the complete requests a read brought in, and answers the last one
//! first, as if they were a stack. But an answer carries no name of its
//! request: the client matches answers to requests by their order alone,
//! so the server must answer in the order the requests came. Here the
//! client takes the answer to its second request for that to its first.
//!
//! Everything else is right: a client that waits for each answer before it
//! sends the next request is served well. See `stage-check` find it (the
//! check that pipelines 16 requests fails):
//!
//! ```text
//! cargo run -p stage-check -- part9 --exec "cargo run -q -p stage-check --example broken-pipeline-out-of-order --"
//! ```

use std::collections::VecDeque;
use std::io;

mod learner;
use learner::keep_alive::{self, Pending};

fn main() -> io::Result<()> {
    keep_alive::serve(keep_alive::Steps {
        next_to_answer,
        ..keep_alive::RIGHT
    })
}

/// FLAW: the newest first, a stack (Python's `list.pop()`), not a queue.
fn next_to_answer(waiting: &mut VecDeque<Pending>) -> Option<Pending> {
    waiting.pop_back()
}
