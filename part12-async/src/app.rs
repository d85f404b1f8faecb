//! The application: the post's `app.py`, now written with the framework.
//!
//! Each route is a function from the framework's `Request` to whatever
//! turns into a response: a plain one, or an `async fn` (`/sleep`). No
//! socket, no parser, no `match` on paths: the framework
//! (`src/framework.rs`) finds the handler, and the server (`main.rs`) runs
//! the whole `App` as it ran part 7's function.

use std::time::Duration;

use http::header::CONTENT_TYPE;
use part12_async::framework::{App, Html, Json, Request};
use serde_json::{Value, json};

/// The page, as in every stage since part 5.
const PAGE: &str = "<html><body>Hello World</body></html>";

// ANCHOR: app
/// The application: its routes, each with its handler.
pub fn app() -> App {
    App::new()
        .get("/", root)
        .post("/create", create)
        .post("/some_json", some_json)
        .get("/index.html", index)
        .get("/sleep", sleep)
}
// ANCHOR_END: app

// ANCHOR: handlers
/// `GET /`: the query it got, decoded: `/?name=J%C3%BCrgen+X&b` answers
/// `[("name", "Jürgen X"), ("b", "")]`.
fn root(request: Request) -> String {
    // `{:?}` writes the pairs as Rust would in code, quotes and all.
    format!("Query: {:?}\n", request.query.pairs)
}

/// `POST /create`: the body it got, and its media type.
fn create(request: Request) -> String {
    // The headers find a name in any case, as in part 7.
    let media_type = match request.headers.get(CONTENT_TYPE) {
        Some(value) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
        None => "no Content-Type".to_string(),
    };
    let body = String::from_utf8_lossy(&request.body);
    format!("Created from {media_type}: {body}\n")
}

/// `POST /some_json`: a JSON object.
fn some_json(_request: Request) -> Json<Value> {
    Json(json!({ "hello": "world" }))
}

/// `GET /index.html`: the page.
fn index(_request: Request) -> Html<&'static str> {
    Html(PAGE)
}

/// The longest `GET /sleep` waits, whatever it is asked: a client must not
/// hold a connection for ever with one request.
const LONGEST_SLEEP: Duration = Duration::from_secs(10);

/// `GET /sleep`: waits a second (`?ms=250` says how long), then says so.
/// The Rust Book's `/sleep` blocks its thread with `thread::sleep`; this
/// one awaits a timer, and the thread serves others meanwhile.
async fn sleep(request: Request) -> String {
    let asked = request.query.get("ms").and_then(|ms| ms.parse().ok());
    let wait = Duration::from_millis(asked.unwrap_or(1000)).min(LONGEST_SLEEP);
    tokio::time::sleep(wait).await;
    format!("Slept {} ms\n", wait.as_millis())
}
// ANCHOR_END: handlers
