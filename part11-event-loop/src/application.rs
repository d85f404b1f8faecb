//! The interface between the server and an application: the Rust form of
//! the post's WSGI.
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

use std::net::SocketAddr;

use http::{Request, Response};

// ANCHOR: application
/// An application: something that turns a request into a response.
///
/// One method, so that any function or closure from a `Request` to a
/// `Response` is an application already (the `impl` below says so), while
/// a type of our own, such as part 8's web framework, can be one too by
/// implementing `call`. (A plain `fn` type would take functions, but no
/// type of our own; a trait takes both.)
///
/// `Send + Sync` because every connection's thread calls the same
/// application at the same time; `'static` because it lives as long as the
/// server, borrowing nothing that could go away first.
pub trait Application: Send + Sync + 'static {
    /// Answers one request. It gets the request whole, body included, and
    /// owns it: it may take it apart.
    fn call(&self, request: Request<Vec<u8>>) -> Response<Vec<u8>>;
}

/// Every function (or closure) from a request to a response is an
/// application: `call` calls it.
impl<F> Application for F
where
    F: Fn(Request<Vec<u8>>) -> Response<Vec<u8>> + Send + Sync + 'static,
{
    fn call(&self, request: Request<Vec<u8>>) -> Response<Vec<u8>> {
        self(request)
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
