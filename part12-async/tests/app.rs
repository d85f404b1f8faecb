//! The application as its users meet it: served by this stage's binary, and,
//! unchanged, by hyper (`examples/hyper.rs`). Both servers must give the same
//! answers: the framework's routes, decoded queries, media types, `404` and
//! `405`.
//!
//! `cargo test` builds the example before it runs the tests; a narrower run
//! (`cargo test --test app`) may not, and then the hyper test shows as
//! ignored, saying why (and fails under CI, which builds everything). That
//! is why this file has a `main` of its own, which lists its tests.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use libtest_mimic::{Arguments, Trial};
use stage_check::Server;
use stage_check::harness::trial_needing;

/// The tests, the hyper one only where the example is built.
fn main() {
    let arguments = Arguments::from_args();
    let example = hyper_example();
    let missing =
        (!example.exists()).then(|| format!("{}, which `cargo test` builds", example.display()));
    let trials = vec![
        Trial::test("the_application_answers", || {
            the_application_answers();
            Ok(())
        }),
        trial_needing(
            "hyper_serves_the_same_application_the_same_way",
            missing,
            || {
                hyper_serves_the_same_application_the_same_way();
                Ok(())
            },
        ),
    ];
    libtest_mimic::run(&arguments, trials).exit()
}

/// This stage's binary, started on a free port.
fn our_server() -> Server {
    let mut command = Command::new(env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))));
    command.args(["--port", "0", "--quiet"]);
    Server::start(command).expect("the stage starts")
}

/// The hyper example, in the folder where cargo builds examples, next to
/// this test's own (it runs from target/<profile>/deps).
fn hyper_example() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary is in target/<profile>/deps")
        .join("examples")
        .join("part12-hyper")
}

/// The hyper example, started on a free port.
fn hyper_server() -> Server {
    let mut command = Command::new(hyper_example());
    command.args(["--port", "0"]);
    Server::start(command).expect("the hyper example starts")
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

/// Sends `request` on a new connection, closes our sending side, and reads
/// the answer to the close: both servers keep a connection open, and close
/// it once the client is gone.
fn ask(addr: SocketAddr, request: &str) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("a connection");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("a timeout");
    stream
        .write_all(request.as_bytes())
        .expect("the request sent");
    stream.shutdown(Shutdown::Write).expect("our side closed");
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

fn hyper_serves_the_same_application_the_same_way() {
    let hyper = hyper_server();
    let ours = our_server();
    for request in REQUESTS {
        assert_eq!(
            ask(hyper.addr(), request),
            ask(ours.addr(), request),
            "{request:?}"
        );
    }
}
