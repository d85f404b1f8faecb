//! Tests of the server's side of the interface, with applications the demo
//! does not have: one that panics, one that frames its answers wrongly, one
//! that never sees a request the `http` types refuse; of `--max-requests`;
//! and of a runtime that panics never stop. Each runs the real accepting
//! task on a runtime and a port of its own, over real sockets.
//! (stage-check's part 9 checks, in `tests/stage_check.rs`, hold the rest of
//! keep-alive to HTTP's rules.)

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use http::{Request, Response, StatusCode};

use super::{Application, Limits, Shared, serve};

/// The threads each test's runtime has: few, so that a lost one shows.
const WORKERS: usize = 2;

/// Serves `app` on a free port with at most `max_requests` a connection, on
/// a runtime of its own, on a thread that runs until the test ends.
fn serve_at_most(max_requests: u64, app: impl Application) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener
        .set_nonblocking(true)
        .expect("a non-blocking listener");
    let addr = listener.local_addr().expect("its address");
    let limits = Limits {
        read_timeout: Duration::from_secs(5),
        keep_alive_timeout: Duration::from_secs(5),
        max_requests,
    };
    let shared = Shared::new(Arc::new(app), limits, 100);
    thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::from_std(listener).expect("the listener");
            serve(listener, shared).await;
        });
    });
    addr
}

/// A plain function as an application: its answer is ready at once.
fn plain(
    answer: impl Fn(Request<Vec<u8>>) -> Response<Vec<u8>> + Send + Sync + 'static,
) -> impl Application {
    move |request| std::future::ready(answer(request))
}

/// Serves `app` with the default `--max-requests`.
fn serve_app(app: impl Application) -> std::net::SocketAddr {
    serve_at_most(1000, app)
}

/// Sends `request` (one or more), closes our sending side, and reads the
/// answers until the server closes too: it does once the client is gone.
fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).expect("a connection");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("a timeout");
    stream.write_all(request).expect("the request sent");
    stream.shutdown(Shutdown::Write).expect("our side closed");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("the answer");
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn a_panicking_application_costs_its_client_a_500_and_nothing_more() {
    let addr = serve_app(plain(|_: Request<Vec<u8>>| -> Response<Vec<u8>> {
        panic!("on purpose")
    }));
    // Three on one connection: a panic ends neither it nor the server.
    let answers = exchange(addr, &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(3));
    assert_eq!(
        answers
            .matches("HTTP/1.1 500 Internal Server Error\r\n")
            .count(),
        3,
        "{answers:?}"
    );
    assert!(!answers.contains("Connection: close"), "{answers:?}");
    // The answer to HEAD is a head alone, even for a 500.
    let answer = exchange(addr, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 500 "), "{answer:?}");
    assert!(answer.ends_with("\r\n\r\n"), "{answer:?}");
}

#[test]
fn the_server_frames_the_answer_whatever_the_application_says() {
    let addr = serve_app(plain(|_: Request<Vec<u8>>| {
        let mut response = Response::new(b"four".to_vec());
        *response.status_mut() = StatusCode::IM_A_TEAPOT;
        let headers = response.headers_mut();
        headers.insert("Content-Length", "99".parse().expect("a value"));
        headers.insert("Connection", "keep-alive".parse().expect("a value"));
        headers.append("X-Twice", "1".parse().expect("a value"));
        headers.append("X-Twice", "2".parse().expect("a value"));
        response
    }));
    let answer = exchange(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        answer,
        "HTTP/1.1 418 I'm a teapot\r\n\
         x-twice: 1\r\n\
         x-twice: 2\r\n\
         Content-Length: 4\r\n\
         \r\n\
         four"
    );
}

#[test]
fn a_target_the_http_types_refuse_is_answered_400() {
    let addr = serve_app(plain(|_: Request<Vec<u8>>| {
        Response::new(b"never".to_vec())
    }));
    // Our parser lets the bytes through; `http::Uri` finds no URI in them.
    let answer = exchange(addr, b"GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer:?}"
    );
    assert!(!answer.ends_with("never"), "{answer:?}");
}

#[test]
fn the_last_request_a_connection_may_carry_says_close() {
    let addr = serve_at_most(
        3,
        plain(|_: Request<Vec<u8>>| Response::new(b"ok".to_vec())),
    );
    let answers = exchange(addr, &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(5));
    // Two kept, the third closing, and the two after it never read.
    let kept = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let last = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    assert_eq!(answers, [kept, kept, last].concat());
}

#[test]
fn an_http_1_0_client_is_told_its_connection_is_kept() {
    let addr = serve_app(plain(|_: Request<Vec<u8>>| Response::new(b"ok".to_vec())));
    let answers = exchange(
        addr,
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n\
          GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let kept = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok";
    let closing = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    assert_eq!(answers, [kept, closing].concat());
}

#[test]
fn panics_on_every_connection_leave_the_runtime_whole() {
    let addr = serve_app(plain(|request: Request<Vec<u8>>| {
        if request.uri().path() == "/panic" {
            panic!("on purpose");
        }
        Response::new(b"still here".to_vec())
    }));
    // Five times as many panics as threads, each on a connection of its
    // own: had each cost its thread, none would be left.
    for _ in 0..5 * WORKERS {
        let answer = exchange(addr, b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 500 "), "{answer}");
    }
    let answer = exchange(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(answer.ends_with("still here"), "{answer}");
}

#[test]
fn a_future_that_panics_after_an_await_costs_one_500() {
    let addr = serve_app(|request: Request<Vec<u8>>| async move {
        tokio::task::yield_now().await;
        if request.uri().path() == "/panic" {
            panic!("on purpose, after an await");
        }
        Response::new(b"still here".to_vec())
    });
    let answers = exchange(
        addr,
        b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert!(answers.starts_with("HTTP/1.1 500 "), "{answers}");
    assert!(answers.ends_with("still here"), "{answers}");
}
