//! The application as its users meet it: served by this stage's binary, and,
//! unchanged, by hyper (`examples/hyper.rs`). Both servers must give the same
//! answers: the framework's routes, decoded queries, media types, `404` and
//! `405`.
//!
//! `cargo test` builds the example before it runs the tests; a narrower run
//! (`cargo test --test app`) may not, and then, outside CI, the hyper half
//! says so and passes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use stage_check::Server;

/// This stage's binary, started on a free port.
fn our_server() -> Server {
    let mut command = Command::new(env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))));
    command.args(["--port", "0", "--quiet"]);
    Server::start(command).expect("the stage starts")
}

/// The hyper example, started on a free port, if it was built.
fn hyper_server() -> Option<Server> {
    // This test runs from target/<profile>/deps; examples are built next door.
    let exe = std::env::current_exe().expect("the test's own path");
    let examples: PathBuf = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary is in target/<profile>/deps")
        .join("examples");
    let program = examples.join("part8-hyper");
    if !program.exists() {
        let why = format!("{} is not built: run `cargo test`", program.display());
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("not run: {why}");
        return None;
    }
    let mut command = Command::new(program);
    command.args(["--port", "0"]);
    Some(Server::start(command).expect("the hyper example starts"))
}

/// An answer, reduced to what the application decides: the status line, the
/// media type, the body, with the server's own address in it written
/// `<server>`.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status_line: String,
    content_type: Option<String>,
    body: String,
}

/// Sends `request` on a new connection, and reads the answer to the close.
fn ask(addr: SocketAddr, request: &str) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("a connection");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("a timeout");
    stream
        .write_all(request.as_bytes())
        .expect("the request sent");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("the answer");
    let text = String::from_utf8(bytes).expect("a text answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head that ends");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default().to_string();
    let content_type = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-type")
            .then(|| value.trim().to_string())
    });
    Answer {
        status_line,
        content_type,
        body: body.replace(&addr.to_string(), "<server>"),
    }
}

/// The requests both servers get.
const REQUESTS: &[&str] = &[
    "GET /?a=1&b HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /?name=J%C3%BCrgen+X HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST /create HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    "POST /some_json HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /create HTTP/1.1\r\nHost: x\r\n\r\n",
];

/// What each of [`REQUESTS`] must get: status line, media type, body.
const ANSWERS: &[(&str, Option<&str>, &str)] = &[
    (
        "HTTP/1.1 200 OK",
        Some("text/plain; charset=utf-8"),
        "Query: [(\"a\", \"1\"), (\"b\", \"\")]\n",
    ),
    (
        "HTTP/1.1 200 OK",
        Some("text/plain; charset=utf-8"),
        "Query: [(\"name\", \"Jürgen X\")]\n",
    ),
    (
        "HTTP/1.1 200 OK",
        Some("text/plain; charset=utf-8"),
        "Created from no Content-Type: abc\n",
    ),
    (
        "HTTP/1.1 200 OK",
        Some("application/json"),
        "{\"hello\":\"world\"}",
    ),
    (
        "HTTP/1.1 200 OK",
        Some("text/html; charset=utf-8"),
        "<html><body>Hello World</body></html>",
    ),
    (
        "HTTP/1.1 404 Not Found",
        Some("text/plain; charset=utf-8"),
        "404 Not Found: no page at /missing\n",
    ),
    (
        "HTTP/1.1 405 Method Not Allowed",
        Some("text/plain; charset=utf-8"),
        "405 Method Not Allowed: this page takes POST\n",
    ),
];

#[test]
fn the_application_answers() {
    let server = our_server();
    for (request, (status_line, content_type, body)) in REQUESTS.iter().zip(ANSWERS) {
        let expected = Answer {
            status_line: status_line.to_string(),
            content_type: content_type.map(str::to_string),
            body: body.to_string(),
        };
        assert_eq!(ask(server.addr(), request), expected, "{request:?}");
    }
}

#[test]
fn hyper_serves_the_same_application_the_same_way() {
    let Some(hyper) = hyper_server() else {
        return;
    };
    let ours = our_server();
    for request in REQUESTS {
        assert_eq!(
            ask(hyper.addr(), request),
            ask(ours.addr(), request),
            "{request:?}"
        );
    }
}
