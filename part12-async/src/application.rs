//! The interface between the server and an application: the Rust form of
//! the post's WSGI, made asynchronous from part 12 on, as ASGI made WSGI.
//!
//! In Python, WSGI is a convention: an application is any callable
//! `app(environ, start_response)`, and the server builds `environ`, a dict
//! of strings, from the request. In Rust the convention is a trait, and the
//! request and the response are values of the `http` crate's types, the
//! vocabulary that Rust's servers, frameworks and clients share (hyper,
//! axum, reqwest): [`Request`] and [`Response`], here with the whole body
//! as bytes, `Vec<u8>`.
//!
//! The server knows an application only through [`Application`]; the
//! application knows nothing of sockets. Either side can be swapped.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use http::{Request, Response};

// ANCHOR: application
/// A response still to come: a future that gives one when it is done.
///
/// Each async function's future is a type of its own, which only the
/// compiler can name, so the interface takes any of them the way part 8's
/// framework took any handler: behind a pointer, `Box<dyn Future …>`.
/// `Pin` promises the runtime that the future stays where it is while it
/// runs (an `async fn`'s state may point into itself); `Send`, that the
/// runtime may move it to another thread between two polls.
pub type ResponseFuture = Pin<Box<dyn Future<Output = Response<Vec<u8>>> + Send + 'static>>;

/// An application: something that turns a request into a response, in its
/// own time. Python's ASGI says the same with `async def app(scope,
/// receive, send)`; here it is one method that returns a future.
///
/// The server awaits the future: while the application waits (for a
/// timer, a database, another server), the thread serves the other
/// connections. An application that blocks its thread instead, with
/// `std::thread::sleep` say, still stalls them: `async` lets code wait
/// without blocking, it does not make blocking code wait politely.
///
/// `Send + Sync` because the runtime's threads call the same application
/// at the same time; `'static` because it lives as long as the server.
pub trait Application: Send + Sync + 'static {
    /// Answers one request. It gets the request whole, body included, and
    /// owns it: it may take it apart, and keep it in its future.
    fn call(&self, request: Request<Vec<u8>>) -> ResponseFuture;
}

/// Every function (or closure) from a request to a future of a response is
/// an application, an `async fn` first of all: `call` calls it, and boxes
/// its future.
impl<F, Fut> Application for F
where
    F: Fn(Request<Vec<u8>>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Vec<u8>>> + Send + 'static,
{
    fn call(&self, request: Request<Vec<u8>>) -> ResponseFuture {
        Box::pin(self(request))
    }
}
// ANCHOR_END: application

// ANCHOR: connection
/// What the server knows of the connection a request came on, which the
/// request itself does not say: WSGI's `SERVER_NAME`, `SERVER_PORT` and
/// `REMOTE_ADDR`. The server puts it in every request's extensions, a
/// type-keyed map the `http` crate carries for such things; an application
/// reads it with `request.extensions().get::<Connection>()`.
///
/// Both addresses come from the socket. (The post's server writes its own
/// name and port as constants, which are wrong as soon as it listens
/// elsewhere.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connection {
    /// The address the server accepted the connection on.
    pub server: SocketAddr,
    /// The client's address.
    pub client: SocketAddr,
}
// ANCHOR_END: connection
