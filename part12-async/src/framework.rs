//! A small web framework on the application interface: the post's
//! `WSGIApplication`.
//!
//! The application of part 7 is one function that matches every request
//! itself. A framework takes that work off its hands:
//!
//! - **Routes.** [`App`] keeps a handler for each method and path, and
//!   finds the one a request asks for; it answers `404` for a path it does
//!   not know and `405` for a method a known path does not take.
//! - **A request made for handlers.** A handler gets a [`Request`]: the
//!   query string already decoded, the headers, the body.
//! - **Anything that turns into a response.** A handler returns text,
//!   [`Html`], [`Json`], a status with any of these, or a whole response:
//!   whatever implements [`IntoResponse`].
//!
//! And [`App`] is itself an [`Application`]: the server of part 7 runs it
//! as it ran the function, unchanged. The shapes are axum's
//! (`Router::new().route(…)`, `IntoResponse`, `Html`, `Json`, handlers plain
//! or `async`), made small: a learner who knows these knows where to look
//! there.

use std::future::Future;

use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use serde::Serialize;

use crate::application::{Application, ResponseFuture};

// ANCHOR: app
/// An application made of routes: `App::new().get("/", root)`.
///
/// Python registers a handler with a decorator, `@app.get("/")`, a function
/// that runs when the module is loaded and stores the handler in the app.
/// Rust has no decorators of that kind (it runs no code at load time), so the
/// handlers are stored by calling methods on the app, each of which returns
/// the app again, so that the calls chain: the "builder" style.
#[derive(Default)]
pub struct App {
    routes: Vec<Route>,
}

/// One handler, and the method and path it answers.
struct Route {
    method: Method,
    path: String,
    handler: Stored,
}

/// A handler, stored: whatever [`Handler`] it was, a function from a
/// [`Request`] to a response still to come. `Box<dyn …>` is that one type
/// (a function kept behind a pointer, whatever its size), so that every
/// route fits in one `Vec`. `Send + Sync`, since the runtime's threads use
/// it at once.
type Stored = Box<dyn Fn(Request) -> ResponseFuture + Send + Sync>;

// ANCHOR: handler
/// What a route can be given: a plain function from a [`Request`] to
/// anything that turns into a response, as in part 8, or an `async fn` that
/// gives one in its own time. Both turn into the one [`Stored`] type.
///
/// Why two kinds, and the `Kind` parameter: Rust lets a trait be
/// implemented for "every function that returns a response" and for
/// "every function that returns a future" only if the two cannot clash, and
/// to the compiler a type might be both. So the two are two traits,
/// `Handler<Plain>` and `Handler<Async>`, and the compiler picks the one
/// that fits each handler; nobody writes the kind. (axum does the same.)
pub trait Handler<Kind>: Send + Sync + 'static {
    /// Calls the handler, and turns its answer into a response to come.
    fn call(&self, request: Request) -> ResponseFuture;
}

/// The kind of a plain handler: `fn(Request) -> impl IntoResponse`.
pub struct Plain;

/// The kind of an async handler: `async fn(Request) -> impl IntoResponse`.
pub struct Async;

impl<F, R> Handler<Plain> for F
where
    F: Fn(Request) -> R + Send + Sync + 'static,
    R: IntoResponse,
{
    fn call(&self, request: Request) -> ResponseFuture {
        // It answers at once; the future is one that is already done.
        let response = self(request).into_response();
        Box::pin(std::future::ready(response))
    }
}

impl<F, Fut> Handler<Async> for F
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoResponse,
{
    fn call(&self, request: Request) -> ResponseFuture {
        let answer = self(request);
        Box::pin(async move { answer.await.into_response() })
    }
}
// ANCHOR_END: handler

impl App {
    /// An application with no routes yet: every request gets `404`.
    pub fn new() -> App {
        App::default()
    }

    /// Answers `GET path` (and `HEAD path`) with `handler`.
    pub fn get<Kind>(self, path: &str, handler: impl Handler<Kind>) -> App {
        self.route(Method::GET, path, handler)
    }

    /// Answers `POST path` with `handler`.
    pub fn post<Kind>(self, path: &str, handler: impl Handler<Kind>) -> App {
        self.route(Method::POST, path, handler)
    }

    /// Answers `method path` with `handler`; `get` and `post` call this.
    pub fn route<Kind>(mut self, method: Method, path: &str, handler: impl Handler<Kind>) -> App {
        let handler: Stored = Box::new(move |request| handler.call(request));
        self.routes.push(Route {
            method,
            path: path.to_string(),
            handler,
        });
        self
    }
}
// ANCHOR_END: app

// ANCHOR: call
/// The framework is an application: the server calls it like any other.
impl Application for App {
    fn call(&self, request: http::Request<Vec<u8>>) -> ResponseFuture {
        // STARTER part8-web-framework, left to the learner: "Find the routes
        // whose path is the request's: none is a `404` with a short text;
        // among them, the one for the method (a `GET` route answers `HEAD`
        // too) runs its handler with `Request::from(request)`; otherwise
        // `method_not_allowed(&routes)`."
        let path = request.uri().path();
        // `HEAD` asks for what `GET` would answer, without the body, which
        // the server leaves out: so a `GET` route answers it.
        let method = match request.method() {
            &Method::HEAD => Method::GET,
            method => method.clone(),
        };
        let routes: Vec<&Route> = self.routes.iter().filter(|r| r.path == path).collect();
        if routes.is_empty() {
            let text = format!("404 Not Found: no page at {path}\n");
            return Box::pin(std::future::ready(
                (StatusCode::NOT_FOUND, text).into_response(),
            ));
        }
        match routes.iter().find(|route| route.method == method) {
            Some(route) => (route.handler)(Request::from(request)),
            None => Box::pin(std::future::ready(method_not_allowed(&routes))),
        }
        // STARTER end
    }
}

/// `405`, for a path that exists with other methods: HTTP asks it to say
/// which, in `Allow` (RFC 9110, section 15.5.6). `HEAD` goes with `GET`.
fn method_not_allowed(routes: &[&Route]) -> Response<Vec<u8>> {
    let mut allowed: Vec<&str> = Vec::new();
    for route in routes {
        allowed.push(route.method.as_str());
        if route.method == Method::GET {
            allowed.push(Method::HEAD.as_str());
        }
    }
    let allowed = allowed.join(", ");
    let text = format!("405 Method Not Allowed: this page takes {allowed}\n");
    let mut response = (StatusCode::METHOD_NOT_ALLOWED, text).into_response();
    if let Ok(value) = HeaderValue::from_str(&allowed) {
        response.headers_mut().insert(ALLOW, value);
    }
    response
}
// ANCHOR_END: call

// ANCHOR: request
/// What a handler gets: the post's `Request` object.
pub struct Request {
    pub method: Method,
    /// The path, without the query string: `/search`.
    pub path: String,
    /// The query string, decoded: `?q=J%C3%BCrgen+X` gives `q` = `Jürgen X`.
    pub query: Query,
    /// The headers, found by name in any case.
    pub headers: HeaderMap,
    /// The body, whole.
    pub body: Vec<u8>,
}

impl From<http::Request<Vec<u8>>> for Request {
    /// `Request::from(request)`, or `request.into()`: Rust's name for a
    /// conversion that cannot fail.
    fn from(request: http::Request<Vec<u8>>) -> Request {
        let (head, body) = request.into_parts();
        Request {
            path: head.uri.path().to_string(),
            query: Query::parse(head.uri.query().unwrap_or("")),
            method: head.method,
            headers: head.headers,
            body,
        }
    }
}

/// A query string's pairs, decoded, in order, repeated keys kept.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Query {
    pub pairs: Vec<(String, String)>,
}

impl Query {
    /// Decodes a query string, `a=1&b=J%C3%BCrgen+X&c`, with the
    /// `form_urlencoded` crate (the one the `url` crate uses): `%C3%BC` is
    /// the UTF-8 of `ü`, `+` is a space, and `c`, with no `=`, has the
    /// value `""`. (The post splits at `&` and `=` by hand, raises on `c`,
    /// and decodes nothing.)
    pub fn parse(query: &str) -> Query {
        // STARTER part8-web-framework, left to the learner: "Decode the pairs
        // with `form_urlencoded::parse` (it turns `%C3%BC` into `ü` and `+`
        // into a space, and gives a key without `=` the value empty), each as
        // owned `String`s."
        let pairs = form_urlencoded::parse(query.as_bytes())
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        Query { pairs }
        // STARTER end
    }

    /// The first value of `key`, like a Python dict's `query.get(key)`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }
}
// ANCHOR_END: request

// ANCHOR: into_response
/// Anything a handler may return: it turns itself into a response.
pub trait IntoResponse {
    fn into_response(self) -> Response<Vec<u8>>;
}

/// A response is one already.
impl IntoResponse for Response<Vec<u8>> {
    fn into_response(self) -> Response<Vec<u8>> {
        self
    }
}

/// Text, as `text/plain`.
impl IntoResponse for String {
    fn into_response(self) -> Response<Vec<u8>> {
        with_type("text/plain; charset=utf-8", self.into_bytes())
    }
}

/// Text written in the program, as `text/plain`.
impl IntoResponse for &'static str {
    fn into_response(self) -> Response<Vec<u8>> {
        self.to_string().into_response()
    }
}

/// A page of HTML: `Html(text)`.
pub struct Html<T>(pub T);

impl<T: Into<String>> IntoResponse for Html<T> {
    fn into_response(self) -> Response<Vec<u8>> {
        with_type("text/html; charset=utf-8", self.0.into().into_bytes())
    }
}

/// A value sent as JSON: `Json(value)`, for any value serde can serialise.
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response<Vec<u8>> {
        match serde_json::to_vec(&self.0) {
            Ok(json) => with_type("application/json", json),
            // Such as a map whose keys are not text.
            Err(error) => {
                let text = format!("500 Internal Server Error: no JSON: {error}\n");
                (StatusCode::INTERNAL_SERVER_ERROR, text).into_response()
            }
        }
    }
}

/// Any of the above with another status: `(StatusCode::CREATED, "done")`.
impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    fn into_response(self) -> Response<Vec<u8>> {
        let (status, inner) = self;
        let mut response = inner.into_response();
        *response.status_mut() = status;
        response
    }
}

/// A `200` with `body` and its media type. The server adds the framing.
fn with_type(content_type: &'static str, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut response = Response::new(body);
    let content_type = HeaderValue::from_static(content_type);
    response.headers_mut().insert(CONTENT_TYPE, content_type);
    response
}
// ANCHOR_END: into_response
