//! The framework's parts, one by one, without a server: an `App` is an
//! application, so a test can call it directly with a request.

use futures_util::FutureExt;
use http::header::{ALLOW, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use part12_async::application::Application;
use part12_async::framework::{self, App, Html, IntoResponse, Json, Query};

/// Calls `app` with `method target` and no body. Every handler here is a
/// plain one, whose future is done from the start: `now_or_never` takes
/// its answer without a runtime.
fn call(app: &App, method: Method, target: &str) -> Response<Vec<u8>> {
    let mut request = Request::new(Vec::new());
    *request.method_mut() = method;
    *request.uri_mut() = target.parse().expect("a valid target");
    app.call(request)
        .now_or_never()
        .expect("a plain handler answers at once")
}

fn text(response: &Response<Vec<u8>>) -> &str {
    std::str::from_utf8(response.body()).expect("a text body")
}

#[test]
fn query_strings_are_decoded_as_browsers_encode_them() {
    let pairs = |query: &str| Query::parse(query).pairs;
    let owned = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(pairs("a=1&b"), owned(&[("a", "1"), ("b", "")]));
    assert_eq!(pairs("name=J%C3%BCrgen+X"), owned(&[("name", "Jürgen X")]));
    assert_eq!(pairs("k=1&k=2"), owned(&[("k", "1"), ("k", "2")]));
    assert_eq!(pairs("a%26b=c%3Dd"), owned(&[("a&b", "c=d")]));
    assert_eq!(pairs(""), owned(&[]));
    assert_eq!(Query::parse("k=1&k=2").get("k"), Some("1"));
    assert_eq!(Query::parse("k=1").get("x"), None);
}

#[test]
fn routes_are_found_by_method_and_path() {
    // A closure names its argument's type: the framework takes plain and
    // async handlers, and the compiler needs the type to tell which.
    let app = App::new()
        .get("/", |_: framework::Request| "root")
        .post("/", |_: framework::Request| "posted")
        .get("/query", |request: framework::Request| {
            request.query.get("q").unwrap_or("none").to_string()
        });
    assert_eq!(text(&call(&app, Method::GET, "/")), "root");
    assert_eq!(text(&call(&app, Method::POST, "/")), "posted");
    assert_eq!(text(&call(&app, Method::GET, "/query?q=x%20y")), "x y");
    // HEAD is answered by the GET handler; the server drops the body.
    assert_eq!(call(&app, Method::HEAD, "/").status(), StatusCode::OK);
}

#[test]
fn unknown_paths_get_404_and_unknown_methods_405_with_allow() {
    let app = App::new()
        .get("/page", |_: framework::Request| "page")
        .post("/form", |_: framework::Request| "form");
    let missing = call(&app, Method::GET, "/nowhere");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(!missing.body().is_empty());
    let wrong = call(&app, Method::DELETE, "/page");
    assert_eq!(wrong.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.headers()[ALLOW], "GET, HEAD");
    let wrong = call(&app, Method::GET, "/form");
    assert_eq!(wrong.headers()[ALLOW], "POST");
}

#[test]
fn handlers_return_anything_that_turns_into_a_response() {
    let media_type = |response: Response<Vec<u8>>| {
        let value = response.headers()[CONTENT_TYPE].to_str().unwrap_or("");
        (
            response.status(),
            value.to_string(),
            response.body().clone(),
        )
    };
    assert_eq!(
        media_type("hi".into_response()),
        (
            StatusCode::OK,
            "text/plain; charset=utf-8".into(),
            b"hi".to_vec()
        )
    );
    assert_eq!(
        media_type(String::from("hi").into_response()).1,
        "text/plain; charset=utf-8"
    );
    assert_eq!(
        media_type(Html("<p>hi</p>").into_response()).1,
        "text/html; charset=utf-8"
    );
    let json = media_type(Json(serde_json::json!({"hello": "world"})).into_response());
    assert_eq!(json.1, "application/json");
    assert_eq!(json.2, br#"{"hello":"world"}"#);
    let created = media_type((StatusCode::CREATED, Html("made")).into_response());
    assert_eq!(created.0, StatusCode::CREATED);
    assert_eq!(created.1, "text/html; charset=utf-8");
    let mut teapot = Response::new(b"short and stout".to_vec());
    *teapot.status_mut() = StatusCode::IM_A_TEAPOT;
    assert_eq!(teapot.into_response().status(), StatusCode::IM_A_TEAPOT);
}
