//! The event loop: one thread that serves many connections, and never waits
//! on any of them. It asks the system one question, "which of my sockets
//! can I read or write without waiting?" (`Poll::poll`, epoll on Linux), and
//! does what each answer allows, up to the point where it would wait. Then it
//! asks again. Python's `asyncio` and `selectors` do the same, and so does
//! every loop of nginx.
//!
//! What a connection does is its `Session`'s business (`main.rs`); the loop
//! keeps the books: which socket is which (`Token`s), what each waits for
//! (`Interest`), and when each must give up waiting (the timers).

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::log;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::{Limits, Next, Session, refuse_full};
use part11_event_loop::application::Application;

/// The listener's token: what `poll` says when a client is waiting to be
/// accepted. A token is a number we choose for each source of events.
pub const LISTENER: Token = Token(0);
/// The waker's token: another thread (the signal handler) wants our
/// attention.
pub const WAKER: Token = Token(1);
/// The first of the connections' tokens; each gets the next number.
const FIRST_CONNECTION: usize = 2;

/// How many bytes one read takes from a socket. One buffer serves every
/// connection of the loop, so a large one costs nothing per connection.
const READ_SIZE: usize = 64 * 1024;

/// How long the loop stops accepting after `accept` failed, such as with
/// "too many open files", rather than spin through the same error.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

// ANCHOR: shared
/// What every loop shares: the shutdown flag, and the count of open
/// connections, which `--max-connections` bounds across the loops.
pub struct Shared {
    shutting_down: AtomicBool,
    open: AtomicUsize,
    max_connections: usize,
}

impl Shared {
    pub fn new(max_connections: usize) -> Self {
        Shared {
            shutting_down: AtomicBool::new(false),
            open: AtomicUsize::new(0),
            max_connections,
        }
    }

    /// Starts the shutdown. Returns `true` the first time only: `swap` sets
    /// the flag and says what it was, in one step.
    pub fn shut_down(&self) -> bool {
        !self.shutting_down.swap(true, Ordering::SeqCst)
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// How many connections the loops hold.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Counts one more connection, unless that would be one too many.
    /// `fetch_update` retries if another loop changed the count meanwhile,
    /// so that two loops never both take the last place.
    fn try_open(&self) -> bool {
        self.open
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |open| {
                (open < self.max_connections).then_some(open + 1)
            })
            .is_ok()
    }

    fn closed(&self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}
// ANCHOR_END: shared

// ANCHOR: entry
/// A connection as the loop knows it: its session, and what the loop has
/// told the system and the timers about it, to tell them again only when
/// it changes.
struct Entry {
    session: Session,
    /// When the session must give up waiting, as filed in `timers`; `None`
    /// while it is not filed.
    deadline: Option<Instant>,
    /// What the socket is registered for.
    interest: Interest,
}
// ANCHOR_END: entry

// ANCHOR: event_loop
/// One loop: its poll, its share of the listener, and its connections.
pub struct EventLoop {
    /// Which loop this is, from 1: the `Worker N` of the log.
    id: u64,
    poll: Poll,
    /// Our handle on the listening socket, which every loop shares; `None`
    /// once the server shuts down.
    listener: Option<TcpListener>,
    /// The connections, by token: a Python `dict`.
    connections: HashMap<Token, Entry>,
    next_token: usize,
    /// Every connection's deadline, soonest first: a sorted set of
    /// `(when, token)` pairs, so that the first is the next to come.
    timers: BTreeSet<(Instant, Token)>,
    /// Connections whose turn ended with bytes left to read: they go on
    /// before the loop waits again.
    unfinished: Vec<Token>,
    /// When to try `accept` again, after it failed.
    accept_again: Option<Instant>,
    /// The one read buffer, lent to each connection in turn.
    data: Vec<u8>,
    shared: Arc<Shared>,
    limits: Limits,
    app: Arc<dyn Application>,
}
// ANCHOR_END: event_loop

impl EventLoop {
    /// A loop of its own `poll`, with `listener` registered in it.
    pub fn new(
        id: u64,
        poll: Poll,
        mut listener: TcpListener,
        shared: Arc<Shared>,
        limits: Limits,
        app: Arc<dyn Application>,
    ) -> io::Result<Self> {
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        Ok(EventLoop {
            id,
            poll,
            listener: Some(listener),
            connections: HashMap::new(),
            next_token: FIRST_CONNECTION,
            timers: BTreeSet::new(),
            unfinished: Vec::new(),
            accept_again: None,
            data: vec![0; READ_SIZE],
            shared,
            limits,
            app,
        })
    }

    // ANCHOR: run
    /// Serves until the server shuts down and the last connection is done.
    pub fn run(mut self) {
        // The events of one `poll`: a reused list, like the read buffer.
        let mut events = Events::with_capacity(1024);
        loop {
            if self.listener.is_none() && self.connections.is_empty() {
                return;
            }
            // Wait for an event, or until the nearest deadline; not at all
            // if some connection has work left.
            let timeout = if self.unfinished.is_empty() {
                self.next_deadline()
                    .map(|deadline| deadline.saturating_duration_since(Instant::now()))
            } else {
                Some(Duration::ZERO)
            };
            if let Err(error) = self.poll.poll(&mut events, timeout) {
                // A signal arrived meanwhile (`EINTR`): just ask again.
                if error.kind() != io::ErrorKind::Interrupted {
                    log!("Could not poll: {error}.");
                }
                continue;
            }
            // One clock reading for the whole round, as nginx does.
            let now = Instant::now();
            for event in &events {
                match event.token() {
                    LISTENER => self.accept(now),
                    WAKER => self.on_wake(now),
                    token => self.serve(token, now),
                }
            }
            for token in std::mem::take(&mut self.unfinished) {
                self.serve(token, now);
            }
            self.expire(now);
        }
    }
    // ANCHOR_END: run

    /// The soonest time the loop has something to do without an event.
    fn next_deadline(&self) -> Option<Instant> {
        let timer = self.timers.first().map(|&(deadline, _)| deadline);
        match (timer, self.accept_again) {
            (Some(timer), Some(accept)) => Some(timer.min(accept)),
            (timer, accept) => timer.or(accept),
        }
    }

    // ANCHOR: accept
    /// Accepts every client waiting, until `accept` would wait.
    fn accept(&mut self, now: Instant) {
        loop {
            let Some(listener) = &self.listener else {
                return;
            };
            let (stream, address) = match listener.accept() {
                Ok(client) => client,
                // Every client is in; or another loop took this one.
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) => {
                    log!("Could not accept a connection: {error}.");
                    self.accept_again = Some(now + ACCEPT_PAUSE);
                    return;
                }
            };
            log!("Socket established with {address}.");
            if !self.shared.try_open() {
                refuse_full(stream, address);
                continue;
            }
            log!("Worker {} serves {address}.", self.id);
            let token = Token(self.next_token);
            self.next_token += 1;
            let session = Session::new(stream, address, self.limits, &self.app, &self.shared, now);
            let deadline = session.deadline();
            let mut entry = Entry {
                deadline: Some(deadline),
                interest: session.interest(),
                session,
            };
            // From now on, `poll` tells us when this socket has bytes for us.
            if let Err(error) =
                self.poll
                    .registry()
                    .register(entry.session.stream(), token, entry.interest)
            {
                log!("Could not watch the connection to {address}: {error}.");
                self.shared.closed();
                continue;
            }
            self.timers.insert((deadline, token));
            self.connections.insert(token, entry);
        }
    }
    // ANCHOR_END: accept

    // ANCHOR: on_wake
    /// The signal handler woke us: the server shuts down. The listener goes
    /// (once every loop has dropped its handle, the system refuses new
    /// clients), and each connection gets a turn, in which one that waits
    /// for a request closes.
    fn on_wake(&mut self, now: Instant) {
        if !self.shared.is_shutting_down() {
            return;
        }
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        self.accept_again = None;
        let tokens: Vec<Token> = self.connections.keys().copied().collect();
        for token in tokens {
            self.serve(token, now);
        }
    }
    // ANCHOR_END: on_wake

    // ANCHOR: serve
    /// Gives the connection of `token` its turn: it does what it can without
    /// waiting. Then the loop files what it waits for next.
    fn serve(&mut self, token: Token, now: Instant) {
        let Some(entry) = self.connections.get_mut(&token) else {
            // Closed earlier in this round.
            return;
        };
        // A panic of the server's own code costs this connection, and
        // nothing more: the loop, and its other connections, go on.
        let data = &mut self.data;
        let next = panic::catch_unwind(AssertUnwindSafe(|| entry.session.serve(data, now)));
        self.settle(token, next, now);
    }
    // ANCHOR_END: serve

    // ANCHOR: expire
    /// Handles every deadline that has passed: each connection hears of it,
    /// and closes or answers `408`.
    fn expire(&mut self, now: Instant) {
        if self.accept_again.is_some_and(|when| when <= now) {
            self.accept_again = None;
            self.accept(now);
        }
        // The timers past `now` stay; those up to it are taken out, each to
        // be handled once in this round.
        let later = self.timers.split_off(&(now, Token(usize::MAX)));
        let passed = std::mem::replace(&mut self.timers, later);
        for (_, token) in passed {
            let Some(entry) = self.connections.get_mut(&token) else {
                continue;
            };
            entry.deadline = None;
            let data = &mut self.data;
            let next = panic::catch_unwind(AssertUnwindSafe(|| entry.session.expire(data, now)));
            self.settle(token, next, now);
        }
    }
    // ANCHOR_END: expire

    // ANCHOR: settle
    /// After a turn: closes the connection, or files its deadline and what
    /// it waits for, telling the system only what changed.
    fn settle(&mut self, token: Token, next: std::thread::Result<Next>, now: Instant) {
        let next = next.unwrap_or_else(|_| {
            log!("Worker {} lost a connection to a panic.", self.id);
            Next::Close("the server failed")
        });
        let Some(entry) = self.connections.get_mut(&token) else {
            return;
        };
        match next {
            Next::Close(reason) => {
                let address = entry.session.address();
                if let Some(deadline) = entry.deadline {
                    self.timers.remove(&(deadline, token));
                }
                // mio asks that a socket leave the poll before it closes
                // (epoll would forget it anyway; other systems need it).
                let _ = self.poll.registry().deregister(entry.session.stream());
                // Dropping the session closes its socket.
                self.connections.remove(&token);
                self.shared.closed();
                log!("Socket with {address} closed: {reason}.");
                return;
            }
            Next::Again => self.unfinished.push(token),
            Next::Wait => {}
        }
        // A deadline already past comes up in the next round.
        let deadline = entry.session.deadline().max(now);
        if entry.deadline != Some(deadline) {
            if let Some(filed) = entry.deadline {
                self.timers.remove(&(filed, token));
            }
            self.timers.insert((deadline, token));
            entry.deadline = Some(deadline);
        }
        let interest = entry.session.interest();
        if interest != entry.interest {
            let changed = self
                .poll
                .registry()
                .reregister(entry.session.stream(), token, interest);
            if let Err(error) = changed {
                log!("Could not watch the connection: {error}.");
            }
            entry.interest = interest;
        }
    }
    // ANCHOR_END: settle
}

/// A loop's waker: `wake` makes its `poll` return with the `WAKER` token,
/// from any thread.
pub fn waker(poll: &Poll) -> io::Result<Waker> {
    Waker::new(poll.registry(), WAKER)
}
