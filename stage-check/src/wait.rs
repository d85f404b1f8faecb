//! Waiting for what nothing announces: a process that exits, a thread count
//! that falls, a page that loads. There is no event to wait on, so we ask
//! again and again, a little apart, until the answer comes or time runs out.
//! (Where there is something to wait on, such as a channel, we wait on that
//! instead.)

use std::thread;
use std::time::{Duration, Instant};

/// Calls `ready` every `every` until it returns `Some`, for at most
/// `within`, and returns what it returned; `None` when time ran out.
///
/// `ready` is called once more at the end, so an answer that came just as
/// time ran out still counts. A Python `while not ready(): sleep(every)`
/// with a deadline, where the `Option` says both "done?" and "with what?".
pub fn poll_until<T>(
    within: Duration,
    every: Duration,
    mut ready: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = ready() {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        thread::sleep(every);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_until_ready_or_out_of_time() {
        let mut calls = 0;
        let third = poll_until(Duration::from_secs(5), Duration::ZERO, || {
            calls += 1;
            (calls == 3).then_some(calls)
        });
        assert_eq!(third, Some(3));
        let never = poll_until(Duration::from_millis(20), Duration::from_millis(5), || {
            None::<()>
        });
        assert_eq!(never, None);
    }
}
