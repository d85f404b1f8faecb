//! The application: the post's `app.py`.
//!
//! A function from a request to a response, and nothing else: no socket,
//! no parser, no thread. The server (`main.rs`) runs it through the
//! [`Application`](part7_app_interface::application::Application) interface,
//! and so could any other server that speaks it: `examples/hyper.rs` serves
//! this very file with hyper.

use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use part7_app_interface::application::Connection;

/// The page `GET /` answers, as in every stage since part 5.
const PAGE: &[u8] = b"<html><body>Hello World</body></html>";

// ANCHOR: app
/// Answers `GET /` (and `HEAD /`) with the page, `POST /create` with a short
/// text that says what it got, anything else with `404`.
pub fn app(request: Request<Vec<u8>>) -> Response<Vec<u8>> {
    // STARTER part7-app-interface, left to the learner: "Match the method and
    // the path: `GET` and `HEAD` of `/` answer the page (`PAGE`, with
    // `answer`), `POST /create` answers `create(&request)`, anything else
    // `not_found(&request)`."
    // A pair of values is matched like a tuple in Python's `match`.
    match (request.method(), request.uri().path()) {
        // HEAD gets the same answer: the server leaves the body out.
        (&Method::GET | &Method::HEAD, "/") => {
            answer(StatusCode::OK, "text/html; charset=utf-8", PAGE.to_vec())
        }
        (&Method::POST, "/create") => create(&request),
        _ => not_found(&request),
    }
    // STARTER end
}
// ANCHOR_END: app

/// What `POST /create` answers: the body it got, and its media type.
fn create(request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    // A `HeaderMap` finds a name in any case: `content-type` and
    // `Content-Type` are the same header. (The post's server looks the
    // type up case by case, and misses it when a client writes it otherwise.)
    let media_type = match request.headers().get(CONTENT_TYPE) {
        Some(value) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
        None => "no Content-Type".to_string(),
    };
    let mut text = format!("Created from {media_type}: ").into_bytes();
    text.extend_from_slice(request.body());
    text.push(b'\n');
    answer(StatusCode::OK, "text/plain; charset=utf-8", text)
}

/// A `404` that says what was not found, and where.
fn not_found(request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    // The server's own address, from the connection (see `Connection`).
    let server = match request.extensions().get::<Connection>() {
        Some(connection) => connection.server.to_string(),
        None => "this server".to_string(),
    };
    let text = format!(
        "404 Not Found: no {} {} on {server}\n",
        request.method(),
        request.uri().path()
    );
    answer(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        text.into_bytes(),
    )
}

/// A response with `status`, a `Content-Type` and `body`. The server adds
/// `Content-Length` and `Connection` itself.
fn answer(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    // `from_static` takes a text written in the program (`'static`), which
    // is checked once, here, rather than parsed into a `Result`.
    let content_type = HeaderValue::from_static(content_type);
    response.headers_mut().insert(CONTENT_TYPE, content_type);
    response
}
