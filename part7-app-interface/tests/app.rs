//! The application as its users meet it: served by this stage's binary, and,
//! unchanged, by hyper (`examples/hyper.rs`). Both servers must give the same
//! answers, and each must tell the application its own address, taken from
//! the socket.
//!
//! `cargo test` builds the example before it runs the tests; a narrower run
//! (`cargo test --test app`) may not, and then the hyper test shows as
//! ignored, saying why (and fails under CI, which builds everything). That
//! is why this file has a `main` of its own, which lists its tests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
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
        Trial::test("the_server_tells_the_application_its_own_address", || {
            the_server_tells_the_application_its_own_address();
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
        .join("part7-hyper")
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
    "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST /create HTTP/1.1\r\nHost: x\r\ncontent-TYPE: text/x-lesson\r\nContent-Length: 8\r\n\r\nname=Ada",
    "POST /create HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n",
];

fn the_application_answers() {
    let server = our_server();
    let page = ask(server.addr(), REQUESTS[0]);
    assert_eq!(page.status_line, "HTTP/1.1 200 OK");
    assert_eq!(page.body, "<html><body>Hello World</body></html>");
    // The media type is found however the client writes the header's name.
    let created = ask(server.addr(), REQUESTS[1]);
    assert_eq!(created.body, "Created from text/x-lesson: name=Ada\n");
    assert_eq!(
        created.content_type.as_deref(),
        Some("text/plain; charset=utf-8")
    );
}

fn the_server_tells_the_application_its_own_address() {
    let server = our_server();
    let missing = ask(server.addr(), "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(missing.status_line, "HTTP/1.1 404 Not Found");
    // The port was chosen by the system (`--port 0`): no constant has it.
    assert_eq!(missing.body, "404 Not Found: no GET /missing on <server>\n");
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
