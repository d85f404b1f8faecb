//! The pool's shared state: the bounded queue of accepted connections that
//! wait for a worker, and the flag that says the server is shutting down.
//!
//! The queue is Python's `queue.Queue(maxsize=N)`, written out: `push` is
//! its `put_nowait` (which raises `queue.Full` where ours hands the item
//! back), `pop` its blocking `get`. Under both is a `Mutex` around a
//! `VecDeque` (a double-ended queue, Python's `collections.deque`), and a
//! `Condvar` (Python's `threading.Condition`) on which idle workers sleep
//! until there is work.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

// ANCHOR: queue
/// A queue that holds at most `capacity` items, shared by the thread that
/// accepts and the workers that serve.
pub struct Queue<T> {
    waiting: Mutex<Waiting<T>>,
    /// Signalled when an item arrives, or when the queue closes.
    ready: Condvar,
    capacity: usize,
}

/// What the lock guards: the items, whether more may come, and how many
/// workers sleep in `pop`, each of which will take the next item pushed.
struct Waiting<T> {
    items: VecDeque<T>,
    closed: bool,
    sleeping: usize,
}

impl<T> Queue<T> {
    /// An empty queue that takes at most `capacity` items.
    pub fn new(capacity: usize) -> Self {
        Queue {
            waiting: Mutex::new(Waiting {
                items: VecDeque::with_capacity(capacity),
                closed: false,
                sleeping: 0,
            }),
            ready: Condvar::new(),
            capacity,
        }
    }

    /// Adds `item` at the back, unless the queue is full or closed: then
    /// `item` comes back in the `Err`, for the caller to deal with. It
    /// never waits: the thread that accepts must go on accepting.
    pub fn push(&self, item: T) -> Result<(), T> {
        // STARTER part10-thread-pool, left to the learner: "Take the lock
        // (`self.lock()`); when the queue is closed or holds `capacity`
        // items, hand `item` back in an `Err`; else push it at the back and
        // wake one sleeping worker (`notify_one`)."
        let mut waiting = self.lock();
        if waiting.closed || waiting.items.len() >= self.capacity {
            return Err(item);
        }
        waiting.items.push_back(item);
        // One item, one worker to wake.
        self.ready.notify_one();
        Ok(())
        // STARTER end
    }

    /// Takes the item at the front, waiting for one if there is none.
    /// `None` once the queue is closed and empty: the worker's cue to stop.
    pub fn pop(&self) -> Option<T> {
        // STARTER part10-thread-pool, left to the learner: "Take the lock,
        // then loop: an item at the front is returned; a closed queue
        // returns `None`; else `self.ready.wait(guard)` sleeps without the
        // lock, and gives it back on waking."
        let mut waiting = self.lock();
        loop {
            if let Some(item) = waiting.items.pop_front() {
                return Some(item);
            }
            if waiting.closed {
                return None;
            }
            // Lets go of the lock while asleep, and takes it again on
            // waking; a wake-up may find nothing (another worker was
            // faster, or the system woke us for no reason), so we loop.
            waiting.sleeping += 1;
            waiting = self
                .ready
                .wait(waiting)
                .unwrap_or_else(PoisonError::into_inner);
            waiting.sleeping -= 1;
        }
        // STARTER end
    }

    /// How many items wait.
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// How many items wait with no worker on its way to them: those beyond
    /// the sleeping workers, which `push` has woken, or will wake.
    pub fn unserved(&self) -> usize {
        let waiting = self.lock();
        waiting.items.len().saturating_sub(waiting.sleeping)
    }

    /// Takes no more items; the workers finish what waits, then stop.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// The lock. A thread that panicked while holding it "poisons" it; our
    /// critical sections cannot panic halfway, so the data is whole, and we
    /// take it as it is.
    fn lock(&self) -> MutexGuard<'_, Waiting<T>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
// ANCHOR_END: queue

// ANCHOR: pool
/// What every worker, the accepting thread and the signal handler share,
/// each through an `Arc<Pool<T>>`.
pub struct Pool<T> {
    /// The connections that wait for a worker.
    pub queue: Queue<T>,
    /// Set once, when the signal comes; read by every worker between reads.
    shutting_down: AtomicBool,
    /// How many workers are serving a connection right now.
    busy: AtomicUsize,
}

impl<T> Pool<T> {
    /// A pool whose queue holds at most `capacity` connections.
    pub fn new(capacity: usize) -> Self {
        Pool {
            queue: Queue::new(capacity),
            shutting_down: AtomicBool::new(false),
            busy: AtomicUsize::new(0),
        }
    }

    /// Whether a connection waits for a worker, and no sleeping worker is
    /// on its way to take it: then a worker should not keep an idle
    /// connection for its next request.
    pub fn others_waiting(&self) -> bool {
        self.queue.unserved() > 0
    }

    /// Says the server is shutting down; `true` the first time only.
    pub fn shut_down(&self) -> bool {
        // `swap` sets the flag and returns what it was, in one step, so two
        // signals at once cannot both be "the first".
        !self.shutting_down.swap(true, Ordering::SeqCst)
    }

    /// Whether the server is shutting down.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// How many connections are being served now.
    pub fn busy(&self) -> usize {
        self.busy.load(Ordering::SeqCst)
    }

    /// Counts a worker as busy until the returned guard is dropped, however
    /// the worker's session ends (a panic included).
    pub fn busy_guard(&self) -> Busy<'_> {
        self.busy.fetch_add(1, Ordering::SeqCst);
        Busy(&self.busy)
    }
}

/// A worker's mark as busy: dropping it takes the mark off. Rust's `Drop`
/// runs when the value goes out of scope, like a Python `with` block's exit.
pub struct Busy<'a>(&'a AtomicUsize);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
// ANCHOR_END: pool

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;
    use std::time::{Duration, Instant};

    #[test]
    fn the_queue_refuses_beyond_its_capacity_and_hands_back_in_order() {
        let queue = Queue::new(2);
        assert_eq!(queue.push(1), Ok(()));
        assert_eq!(queue.push(2), Ok(()));
        assert_eq!(queue.push(3), Err(3), "full: the item comes back");
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.pop(), Some(1));
        assert_eq!(queue.push(3), Ok(()), "room again");
        queue.close();
        assert_eq!(queue.push(4), Err(4), "closed: nothing more");
        assert_eq!(
            (queue.pop(), queue.pop(), queue.pop()),
            (Some(2), Some(3), None)
        );
    }

    #[test]
    fn a_waiting_worker_wakes_for_an_item_and_for_the_close() {
        let queue = Arc::new(Queue::new(1));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let queue = Arc::clone(&queue);
                thread::spawn(move || queue.pop())
            })
            .collect();
        // One of the two workers gets the item; the close wakes the other,
        // with nothing. (Whether they sleep already or not: the same.)
        assert_eq!(queue.push("work"), Ok(()));
        queue.close();
        let mut got: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        got.sort();
        assert_eq!(got, [None, Some("work")]);
    }

    #[test]
    fn an_item_a_sleeping_worker_will_take_is_not_unserved() {
        let queue = Arc::new(Queue::new(4));
        let worker = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || queue.pop())
        };
        // Once the worker sleeps in `pop`, an item pushed has it on its way.
        let deadline = Instant::now() + Duration::from_secs(5);
        while queue.lock().sleeping == 0 {
            assert!(Instant::now() < deadline, "the worker never slept");
            thread::yield_now();
        }
        assert_eq!(queue.push(1), Ok(()));
        assert_eq!(queue.unserved(), 0, "the sleeper takes it");
        assert_eq!(worker.join().unwrap(), Some(1));
        // With no worker asleep, every item waits unserved.
        assert_eq!((queue.push(2), queue.push(3)), (Ok(()), Ok(())));
        assert_eq!(queue.unserved(), 2);
    }

    #[test]
    fn busy_counts_until_the_guard_is_dropped_and_shut_down_is_said_once() {
        let pool: Pool<()> = Pool::new(1);
        {
            let _one = pool.busy_guard();
            let _two = pool.busy_guard();
            assert_eq!(pool.busy(), 2);
        }
        assert_eq!(pool.busy(), 0);
        assert!(!pool.is_shutting_down());
        assert!(pool.shut_down());
        assert!(!pool.shut_down(), "the second signal is not the first");
        assert!(pool.is_shutting_down());
    }
}
