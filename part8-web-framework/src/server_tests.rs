//! Tests of the server's side of the interface, with applications the demo
//! does not have: one that panics, one that frames its answers wrongly, one
//! that never sees a request the `http` types refuse.
//! Each runs the real `serve_forever` on a port of its own, over real sockets.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use http::{Request, Response, StatusCode};

use super::{Application, serve_forever};

/// Serves `app` on a free port, on a thread that runs until the test ends.
fn serve(app: impl Application) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = listener.local_addr().expect("its address");
    let app: Arc<dyn Application> = Arc::new(app);
    thread::spawn(move || serve_forever(listener, Duration::from_secs(5), app));
    addr
}

/// Sends `request` and reads the answer, until the server closes.
fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).expect("a connection");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("a timeout");
    stream.write_all(request).expect("the request sent");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("the answer");
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn a_panicking_application_costs_its_client_a_500_and_nothing_more() {
    let addr = serve(|_: Request<Vec<u8>>| -> Response<Vec<u8>> { panic!("on purpose") });
    for _ in 0..3 {
        let answer = exchange(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(
            answer.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
            "{answer:?}"
        );
        assert!(answer.contains("\r\nConnection: close\r\n"), "{answer:?}");
    }
    // The answer to HEAD is a head alone, even for a 500.
    let answer = exchange(addr, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 500 "), "{answer:?}");
    assert!(answer.ends_with("\r\n\r\n"), "{answer:?}");
}

#[test]
fn the_server_frames_the_answer_whatever_the_application_says() {
    let addr = serve(|_: Request<Vec<u8>>| {
        let mut response = Response::new(b"four".to_vec());
        *response.status_mut() = StatusCode::IM_A_TEAPOT;
        let headers = response.headers_mut();
        headers.insert("Content-Length", "99".parse().expect("a value"));
        headers.insert("Connection", "keep-alive".parse().expect("a value"));
        headers.append("X-Twice", "1".parse().expect("a value"));
        headers.append("X-Twice", "2".parse().expect("a value"));
        response
    });
    let answer = exchange(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        answer,
        "HTTP/1.1 418 I'm a teapot\r\n\
         x-twice: 1\r\n\
         x-twice: 2\r\n\
         Content-Length: 4\r\n\
         Connection: close\r\n\
         \r\n\
         four"
    );
}

#[test]
fn a_target_the_http_types_refuse_is_answered_400() {
    let addr = serve(|_: Request<Vec<u8>>| Response::new(b"never".to_vec()));
    // Our parser lets the bytes through; `http::Uri` finds no URI in them.
    let answer = exchange(addr, b"GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer:?}"
    );
    assert!(!answer.ends_with("never"), "{answer:?}");
}
