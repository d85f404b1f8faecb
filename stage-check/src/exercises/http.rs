//! The exercises of the HTTP stages (parts 5 to 12).

use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use super::{EXERCISE_RULE, Exercise};
use crate::checks::part9::MAX_REQUESTS;
use crate::checks::part10::{OWN_TIMEOUT, own_server_with};
use crate::checks::{CURL_REQUEST, PAGE};
use crate::client::{
    BYTE_PAUSE, Conn, Failure, IO_TIMEOUT, Method, Response, WAIT_FOR_REST, answer_at, at_once,
    connection_after, exchange, exchange_in_pieces, expect_body, expect_refusal, next_answer,
    next_exchange, response, response_to_head, send_in_pieces,
};
use crate::harness::TEST_KEEP_ALIVE_TIMEOUT;
use crate::server::Server;
use crate::wait::poll_until;
use crate::{Check, Needs, Rule, System, Target};

pub const EXERCISES: &[Exercise] = &[
    Exercise {
        name: "not_found",
        stage: "part5-http-httparse",
        task: "any path but / and /index.html is answered 404 Not Found",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "not_found_for_other_paths",
            proves: "GET /missing gets 404 with a short text, HEAD /missing its head; /, /index.html and /?lang=en still get the page",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 5,
            hint: "Keep the url the parser reports, and pass it to send_response with the method; cut off a query string (`?…`) before comparing (book: Part 5, exercise 1).",
            needs: Needs::Nothing,
            run: not_found_for_other_paths,
        }],
    },
    Exercise {
        name: "echo_post_body",
        stage: "part5-http-httparse",
        task: "a POST is answered with its own body",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "post_body_echoed",
            proves: "a POST gets its body back as the body of a 200, however the body arrives",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 5,
            hint: "Collect the pieces on_body gets into a Vec<u8>, and pass the whole body to send_response (book: Part 5, exercise 2).",
            needs: Needs::Nothing,
            run: post_body_echoed,
        }],
    },
    Exercise {
        name: "method_not_allowed",
        stage: "part5-oo-session",
        task: "methods other than GET, HEAD and POST are answered 405 Method Not Allowed",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "method_not_allowed",
            proves: "DELETE and PUT get 405 with an Allow header naming GET, HEAD and POST",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 5,
            hint: "In Session::send_response, match on the method; a 405 must say in `Allow` which methods are answered (book: Part 5, second version, exercise 1).",
            needs: Needs::Nothing,
            run: method_not_allowed,
        }],
    },
    Exercise {
        name: "request_counter",
        stage: "part5-oo-session",
        task: "every page carries X-Request-Count, the number of pages the server has sent",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "request_counter_header",
            proves: "X-Request-Count goes up by one per page, and 50 requests from 10 clients at once get 50 different, consecutive numbers",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 5,
            hint: "Share one Arc<AtomicUsize> between every Session, and fetch_add(1) once per page: a read, then a separate write, loses counts (book: Part 5, second version, exercise 2).",
            needs: Needs::Nothing,
            run: request_counter_header,
        }],
    },
    Exercise {
        name: "no_underscores",
        stage: "part6-custom-parser",
        task: "a header name with `_` in it is refused with 400",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "underscore_in_header_name_refused",
            proves: "X_Forwarded_For is answered 400, while X-Forwarded-For gets the page",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 6,
            hint: "HTTP allows `_`, so the parser must not refuse it: let the protocol note it in on_header, and the session answer 400 (book: Part 6, exercise 1).",
            needs: Needs::Nothing,
            run: underscore_in_header_name_refused,
        }],
    },
    Exercise {
        name: "chunked_body",
        stage: "part6-custom-parser",
        task: "bodies sent with Transfer-Encoding: chunked are read, instead of answered 501",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "chunked_body_read",
            proves: "a chunked body (hex sizes, an extension, a trailer) is answered 200 once its last chunk and trailers are in; a size that is not hex gets 400, one over 1 MiB 413",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 6,
            hint: "After the head, read lines again: a chunk's size in hex, then that many bytes and CRLF, until size 0; then trailer lines until an empty one (book: Part 6, exercise 2).",
            needs: Needs::Nothing,
            run: chunked_body_read,
        }],
    },
    Exercise {
        name: "echo_query",
        stage: "part7-app-interface",
        task: "GET /echo answers the query string as it came, as text/plain",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "echo_answers_its_query",
            proves: "GET /echo?a=1&b=%20 gets `a=1&b=%20` and a line end as text/plain, GET /echo an empty line, HEAD /echo its head; the other routes stay",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 7,
            hint: "In app, route (GET or HEAD, \"/echo\") to an answer made of request.uri().query(), which is None without a `?` (book: Part 7, exercise 1).",
            needs: Needs::Nothing,
            run: echo_answers_its_query,
        }],
    },
    Exercise {
        name: "logged_requests",
        stage: "part7-app-interface",
        task: "an application that wraps another one logs each request's method, path and status",
        server_args: &[],
        changes: &[(
            "transcript",
            "the log gains the line this exercise adds, one per request",
        )],
        checks: &[Check {
            name: "requests_logged_with_status",
            proves: "after GET /nothing-here and POST /create, the log says `Answered GET /nothing-here with 404.` and `Answered POST /create with 200.`",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 7,
            hint: "Write fn logged(app: impl Application) -> impl Application returning a closure that notes the method and path, calls app, and logs the status; then run logged(app::app) (book: Part 7, exercise 2).",
            needs: Needs::Log,
            run: requests_logged_with_status,
        }],
    },
    Exercise {
        name: "path_parameter",
        stage: "part8-web-framework",
        task: "a route /hello/{name} takes the name from the path, percent-decoded",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "hello_by_path_parameter",
            proves: "GET /hello/Ada gets `Hello, Ada!`, /hello/J%C3%BCrgen `Hello, Jürgen!`; /hello/ and /hello/a/b get 404, POST /hello/Ada 405",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 8,
            hint: "Match the path against the pattern segment by segment; a `{name}` segment takes any non-empty one, decoded, into request.params (book: Part 8, exercise 1).",
            needs: Needs::Nothing,
            run: hello_by_path_parameter,
        }],
    },
    Exercise {
        name: "handler_errors",
        stage: "part8-web-framework",
        task: "POST /sum adds up the numbers of its body, or answers 400 saying which line is wrong",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "sum_or_bad_request",
            proves: "POST /sum with 1, 2 and 39 on lines of their own gets 42; a line `x` gets 400 naming line 2; a body that is not UTF-8, 400",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 8,
            hint: "Return Result<String, BadRequest> from the handler, use ? on each step, and give the framework impl IntoResponse for Result (book: Part 8, exercise 2).",
            needs: Needs::Nothing,
            run: sum_or_bad_request,
        }],
    },
    Exercise {
        name: "keep_alive_header",
        stage: "part9-keep-alive",
        task: "every answer on a connection the server keeps says Keep-Alive: timeout=T, max=M",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "keep_alive_header_counts_down",
            proves: "on one connection, answer n of the 1,000 it carries says `Keep-Alive: timeout=T, max=1000-n` (T the keep-alive timeout), and the 1,000th `Connection: close` and no Keep-Alive; an HTTP/1.0 request with `Connection: keep-alive` gets `max=999`",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 9,
            hint: "In send_response, when the connection stays open, add `Keep-Alive: timeout={the keep-alive timeout in seconds}, max={max_requests - requests}`; the answer that closes says nothing of a future (book: Part 9, exercise 1).",
            needs: Needs::KeepAliveTimeout,
            run: keep_alive_header_counts_down,
        }],
    },
    Exercise {
        name: "max_connection_age",
        stage: "part9-keep-alive",
        task: "--max-connection-age SECONDS: the first answer after a connection has been open that long says Connection: close, and the server closes",
        server_args: &["--max-connection-age", "1"],
        changes: &[],
        checks: &[Check {
            name: "connection_closed_at_max_age",
            proves: "with --max-connection-age 1, requests a quarter second apart on one connection are kept until it is 1 s old; the first answer after that (by 2 s at the latest) says `Connection: close`, and the server closes; a new connection is kept again",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 9,
            hint: "Note the Instant each session starts; in send_response, once its elapsed() has reached the age, close after the answer as --max-requests does (book: Part 9, exercise 2).",
            needs: Needs::Nothing,
            run: connection_closed_at_max_age,
        }],
    },
    Exercise {
        name: "server_status",
        stage: "part10-thread-pool",
        task: "GET /server-status answers, as text/plain, the pool's workers, how many are busy, and how many connections are queued",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "server_status_counts_the_pool",
            proves: "on a server of its own with --workers 3 and one kept connection idle, GET /server-status on another says `workers: 3`, `busy: 2` and `queued: 0`, as text/plain; once the idle one is closed, `busy: 1` within 2 s",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 10,
            hint: "In send_response, before the application is called, answer GET /server-status yourself from self.pool: the workers (which the pool must be told of), busy(), queue.len() (book: Part 10, exercise 1).",
            needs: Needs::OwnServer(System::Any),
            run: server_status_counts_the_pool,
        }],
    },
    Exercise {
        name: "one_close_per_waiting_client",
        stage: "part10-thread-pool",
        task: "a client that waits for a worker costs one kept connection its close, not every one whose worker asks at that moment",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "one_connection_let_go_per_client",
            proves: "on a server of its own with --workers 2 and two kept connections, one waiting client gets one of them closed and the other kept: two idle ones, by their workers' look-ups; two with requests under way, by their answers' `Connection: close`",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 10,
            hint: "Look and take in one step: a Queue method that, under its lock, pops the front client only while more wait than workers sleep in pop; the session keeps the client it took for, and its worker serves that one next (book: Part 10, exercise 2).",
            needs: Needs::OwnServer(System::Any),
            run: one_connection_let_go_per_client,
        }],
    },
    Exercise {
        name: "slow_route",
        stage: "part11-event-loop",
        task: "GET /sleep?ms=N (1000 by default) answers after N ms in a handler that blocks its thread, as the Rust Book's /sleep does: on the loop, it stalls every connection of that loop",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "slow_route_stalls_its_loop",
            proves: "on a server of its own with --workers 1, GET /sleep?ms=600 gets 200 no sooner than 600 ms after it was sent; the page asked for on a fresh connection once the server has received it waits for it: at least 300 ms",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 11,
            hint: "Add a route .get(\"/sleep\", sleep) in src/app.rs; its handler reads request.query.get(\"ms\"), parses it as a u64 (1000 when missing), and calls std::thread::sleep (book: Part 11, exercise 1).",
            needs: Needs::OwnServer(System::Any),
            run: slow_route_stalls_its_loop,
        }],
    },
    Exercise {
        name: "handlers_on_a_pool",
        stage: "part11-event-loop",
        task: "with the slow route, the application runs on a small pool of threads, off the loop: the answer comes back to the loop through a channel and its Waker, so that a slow handler stalls no other connection",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "slow_handler_stalls_nobody_else",
            proves: "on a server of its own with --workers 1, while GET /sleep?ms=600 runs, the page asked for on a fresh connection comes within 100 ms; the slow answer still comes, no sooner than 600 ms; and GET /sleep?ms=300 pipelined with GET /index.html on one connection gets its two answers in that order",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 11,
            hint: "The session hands each complete request to the pool (a channel of jobs, as part 10's queue) with its token, and reads no further request until the answer is back; a handler thread sends (token, response) on the loop's channel and calls its Waker; on WAKER, the loop gives each answer to its session (book: Part 11, exercise 2).",
            needs: Needs::OwnServer(System::Any),
            run: slow_handler_stalls_nobody_else,
        }],
    },
    Exercise {
        name: "handler_timeout",
        stage: "part12-async",
        task: "--handler-timeout SECONDS: an application that has not answered a request in that long is dropped, and the client gets 503 at once",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "slow_handler_cut_off",
            proves: "on a server of its own with --handler-timeout 1, GET /sleep?ms=3000 gets 503 (or 504) no sooner than 0.5 s and within 2 s, long before the sleep ends; a fresh GET /sleep?ms=100 is still answered `Slept 100 ms`",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 12,
            hint: "Add the option to Args and to Limits; in send_response, put tokio::time::timeout(handler_timeout, …) around the application's future, and answer 503 when it runs out (book: Part 12, exercise 1).",
            needs: Needs::OwnServer(System::Any),
            run: slow_handler_cut_off,
        }],
    },
    Exercise {
        name: "spawn_blocking",
        stage: "part12-async",
        task: "GET /blocking?ms=N (1000 by default) blocks a thread for N ms, as blocking work does, on tokio's threads for blocking (spawn_blocking), so that it stalls no task",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "blocking_work_stalls_nobody",
            proves: "on a server of its own with --workers 1, while GET /blocking?ms=600 runs, the page asked for on a fresh connection comes within 100 ms; the blocking answer still comes, `Blocked 600 ms`, no sooner than 600 ms",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 12,
            hint: "Add a route .get(\"/blocking\", blocking) in src/app.rs, an async fn that hands a closure calling std::thread::sleep to tokio::task::spawn_blocking and awaits it (book: Part 12, exercise 2).",
            needs: Needs::OwnServer(System::Any),
            run: blocking_work_stalls_nobody,
        }],
    },
];

fn not_found_for_other_paths(target: &Target) -> Result<(), Failure> {
    let conn = exchange(target.addr, b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n")?;
    let answer = response(&conn, 404)?;
    if answer.body.is_empty() {
        return Err(conn.fail("a 404 with a short text saying what is wrong"));
    }
    let conn = exchange(target.addr, b"HEAD /missing HTTP/1.1\r\nHost: x\r\n\r\n")?;
    response_to_head(&conn, 404)?;
    for path in ["/", "/index.html", "/?lang=en"] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        let conn = exchange(target.addr, request.as_bytes())?;
        expect_body(&conn, PAGE)?;
    }
    Ok(())
}

fn post_body_echoed(target: &Target) -> Result<(), Failure> {
    let conn = exchange(
        target.addr,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\nabc=def",
    )?;
    expect_body(&conn, b"abc=def")?;
    // Every byte value, in pieces that each take a read of their own.
    let body: Vec<u8> = (0..3000).map(|i| (i % 256) as u8).collect();
    let head = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut pieces = vec![head.as_bytes()];
    pieces.extend(body.chunks(1000));
    let conn = exchange_in_pieces(target.addr, &pieces, BYTE_PAUSE)?;
    expect_body(&conn, &body)
}

fn method_not_allowed(target: &Target) -> Result<(), Failure> {
    for request in [
        &b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    ] {
        let conn = exchange(target.addr, request)?;
        let answer = response(&conn, 405)?;
        let allow = answer.header("Allow").unwrap_or_default();
        let allowed: Vec<&str> = allow.split(',').map(str::trim).collect();
        if !["GET", "HEAD", "POST"].iter().all(|m| allowed.contains(m)) {
            return Err(conn.fail("with the 405, `Allow: GET, HEAD, POST`"));
        }
    }
    Ok(())
}

fn request_counter_header(target: &Target) -> Result<(), Failure> {
    // One after the other: each number one more than the one before.
    let mut last = counted_request(target.addr)?;
    for _ in 0..2 {
        let next = counted_request(target.addr)?;
        if next != last + 1 {
            return Err(Failure::new(format!(
                "X-Request-Count: {} after {last}; got {next}",
                last + 1
            )));
        }
        last = next;
    }
    // At once: no number twice, none left out.
    const CLIENTS: usize = 10;
    const REQUESTS: usize = 5;
    let client = |addr| -> Result<Vec<u64>, Failure> {
        (0..REQUESTS).map(|_| counted_request(addr)).collect()
    };
    let mut numbers: Vec<u64> = at_once(CLIENTS, target.addr, client)?.concat();
    numbers.sort_unstable();
    let expected: Vec<u64> = (last + 1..).take(CLIENTS * REQUESTS).collect();
    if numbers != expected {
        return Err(Failure::new(format!(
            "from {CLIENTS} clients at once, the numbers {} to {}, each once; got {numbers:?}",
            last + 1,
            last + (CLIENTS * REQUESTS) as u64
        )));
    }
    Ok(())
}

/// Asks for the page, and returns the number in its `X-Request-Count`.
fn counted_request(addr: SocketAddr) -> Result<u64, Failure> {
    let conn = exchange(addr, CURL_REQUEST)?;
    let answer = response(&conn, 200)?;
    answer
        .header("X-Request-Count")
        .and_then(|count| count.parse().ok())
        .ok_or_else(|| conn.fail("an `X-Request-Count` header with a number"))
}

fn underscore_in_header_name_refused(target: &Target) -> Result<(), Failure> {
    expect_refusal(
        target,
        b"GET / HTTP/1.1\r\nHost: x\r\nX_Forwarded_For: 10.0.0.1\r\n\r\n",
        400,
    )?;
    let conn = exchange(
        target.addr,
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n",
    )?;
    response(&conn, 200).map(drop)
}

fn chunked_body_read(target: &Target) -> Result<(), Failure> {
    const HEAD: &[u8] = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    // Two chunks, the second with an extension (`;note=x`); then the last
    // chunk, of size 0, and a trailer. No answer before the empty line.
    let mut conn = Conn::open(target.addr)?;
    conn.send(&[HEAD, b"3\r\nabc\r\n"].concat())?;
    conn.expect_silence(WAIT_FOR_REST, "while more chunks are to come")?;
    conn.send(b"4;note=x\r\ndefg\r\n0\r\n")?;
    conn.expect_silence(WAIT_FOR_REST, "while the trailers are to come")?;
    conn.send(b"Checksum: 1\r\n\r\n")?;
    conn.read_to_close(IO_TIMEOUT)?;
    response(&conn, 200)?;
    // Sizes are hex: A is ten bytes. Byte by byte, too.
    let request = [HEAD, b"A\r\n0123456789\r\n0\r\n\r\n"].concat();
    let pieces: Vec<&[u8]> = request.chunks(1).collect();
    send_in_pieces(target, &pieces, BYTE_PAUSE)?;
    expect_refusal(target, &[HEAD, b"zz\r\nabc\r\n0\r\n\r\n"].concat(), 400)?;
    // 200000 in hex is 2 MiB.
    expect_refusal(target, &[HEAD, b"200000\r\n"].concat(), 413)
}

fn echo_answers_its_query(target: &Target) -> Result<(), Failure> {
    for (target_path, expected) in [("/echo?a=1&b=%20", "a=1&b=%20\n"), ("/echo", "\n")] {
        let request = format!("GET {target_path} HTTP/1.1\r\nHost: x\r\n\r\n");
        let conn = exchange(target.addr, request.as_bytes())?;
        let answer = response(&conn, 200)?;
        if answer.body != expected.as_bytes() {
            return Err(conn.fail(format!("the body {:?}", expected)));
        }
        let media_type = answer.header("Content-Type").unwrap_or_default();
        if !media_type.starts_with("text/plain") {
            return Err(conn.fail(format!("Content-Type: text/plain, not {media_type:?}")));
        }
    }
    let conn = exchange(target.addr, b"HEAD /echo?a=1 HTTP/1.1\r\nHost: x\r\n\r\n")?;
    response_to_head(&conn, 200)?;
    // The application's other routes are still there.
    let conn = exchange(target.addr, CURL_REQUEST)?;
    expect_body(&conn, PAGE)
}

fn requests_logged_with_status(target: &Target) -> Result<(), Failure> {
    let Some(log) = &target.log else {
        return Err(Failure::new("the server's log"));
    };
    let requests: [(&[u8], &str); 2] = [
        (
            b"GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n",
            "Answered GET /nothing-here with 404.",
        ),
        (
            b"POST /create HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi",
            "Answered POST /create with 200.",
        ),
    ];
    for (request, line) in requests {
        exchange(target.addr, request)?;
        let logged = log.wait_for(IO_TIMEOUT, |lines| {
            lines.iter().any(|logged| logged == line).then_some(())
        });
        if logged.is_none() {
            return Err(Failure {
                expected: format!("the line `{line}` in the server's log"),
                sent: request.to_vec(),
                received: log.tail(crate::server::SHOWN_LINES).join("\n").into_bytes(),
                see: None,
            });
        }
    }
    Ok(())
}

/// `method path` with `body`, and the answer.
fn ask(target: &Target, method: &str, path: &str, body: &[u8]) -> Result<Conn, Failure> {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    exchange(target.addr, &[head.as_bytes(), body].concat())
}

fn hello_by_path_parameter(target: &Target) -> Result<(), Failure> {
    for (path, greeting) in [
        ("/hello/Ada", "Hello, Ada!"),
        ("/hello/J%C3%BCrgen", "Hello, Jürgen!"),
    ] {
        let conn = ask(target, "GET", path, b"")?;
        let answer = response(&conn, 200)?;
        if String::from_utf8_lossy(&answer.body).trim_end() != greeting {
            return Err(conn.fail(format!("the text {greeting:?}")));
        }
    }
    for path in ["/hello/", "/hello/a/b"] {
        let conn = ask(target, "GET", path, b"")?;
        response(&conn, 404)?;
    }
    let conn = ask(target, "POST", "/hello/Ada", b"")?;
    response(&conn, 405).map(drop)
}

fn sum_or_bad_request(target: &Target) -> Result<(), Failure> {
    let conn = ask(target, "POST", "/sum", b"1\n2\n39\n")?;
    let answer = response(&conn, 200)?;
    if String::from_utf8_lossy(&answer.body).trim() != "42" {
        return Err(conn.fail("the sum, 42"));
    }
    let conn = ask(target, "POST", "/sum", b"1\nx\n")?;
    let answer = response(&conn, 400)?;
    if !String::from_utf8_lossy(&answer.body).contains("line 2") {
        return Err(conn.fail("a 400 whose text names line 2"));
    }
    let conn = ask(target, "POST", "/sum", b"1\n\xff\n")?;
    response(&conn, 400).map(drop)
}

fn keep_alive_header_counts_down(target: &Target) -> Result<(), Failure> {
    let Some(timeout) = target.keep_alive_timeout else {
        return Err(Failure::new("the server's keep-alive timeout"));
    };
    let timeout = timeout.as_secs();
    let mut conn = Conn::open(target.addr)?;
    let mut end = 0;
    for n in 1..=MAX_REQUESTS {
        let (answer, next) = next_exchange(&mut conn, end, CURL_REQUEST, Method::Other)?;
        end = next;
        let said = answer.header("Keep-Alive");
        if n < MAX_REQUESTS {
            let max = MAX_REQUESTS - n;
            if said.and_then(keep_alive_params) != Some((timeout, max)) {
                return Err(conn.fail(format!(
                    "`Keep-Alive: timeout={timeout}, max={max}` on answer {n} of the \
                     {MAX_REQUESTS} a connection carries (--keep-alive-timeout {timeout}, \
                     --max-requests {MAX_REQUESTS})"
                )));
            }
        } else {
            if said.is_some() || answer.keeps_connection() {
                return Err(conn.fail(format!(
                    "`Connection: close` and no `Keep-Alive` on answer {n}, the last that \
                     --max-requests allows: a connection about to close has no timeout"
                )));
            }
            connection_after(&mut conn, &answer, end)?;
        }
    }
    // HTTP/1.0 keeps a connection only when asked to: then it is told too.
    let mut conn = Conn::open(target.addr)?;
    conn.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")?;
    let (answer, _) = next_answer(&mut conn, 0, Method::Other)?;
    let max = MAX_REQUESTS - 1;
    if answer.header("Keep-Alive").and_then(keep_alive_params) != Some((timeout, max)) {
        return Err(conn.fail(format!(
            "`Keep-Alive: timeout={timeout}, max={max}` on the answer to an HTTP/1.0 request \
             with `Connection: keep-alive`, which the server keeps"
        )));
    }
    Ok(())
}

/// The `timeout` and `max` of a `Keep-Alive` value such as
/// `timeout=4, max=2` (in any order and case), when it has both.
fn keep_alive_params(value: &str) -> Option<(u64, usize)> {
    let (mut timeout, mut max) = (None, None);
    for param in value.split(',') {
        let Some((name, number)) = param.split_once('=') else {
            continue;
        };
        let number = number.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "timeout" => timeout = number.parse().ok(),
            "max" => max = number.parse().ok(),
            _ => {}
        }
    }
    timeout.zip(max)
}

/// The age `max_connection_age`'s server is started with
/// (`--max-connection-age 1`).
const MAX_AGE: Duration = Duration::from_secs(1);

/// How far apart the requests on the aging connection are sent: often
/// enough that the connection is never idle for long beside any keep-alive
/// timeout, so that only its age can close it. No pause waits for the
/// server's timer either: whether the age has passed is read off our own
/// clock, with a second's margin.
const PACE: Duration = Duration::from_millis(250);

// The tests' keep-alive timeout (2 s) is at least four times the longest a
// check lets a kept connection sit idle: this pause too.
const _: () = assert!(4 * PACE.as_millis() <= TEST_KEEP_ALIVE_TIMEOUT.as_millis());

/// How old the connection may be, by our clock, when a request is sent that
/// must get `Connection: close`: the age, and a second for the server's
/// clock, which starts when it accepts, to lag ours.
const CLOSED_BY: Duration = Duration::from_secs(2);

fn connection_closed_at_max_age(target: &Target) -> Result<(), Failure> {
    let opened = Instant::now();
    let mut conn = Conn::open(target.addr)?;
    let mut end = 0;
    loop {
        let sent_at = opened.elapsed();
        let (answer, next) = next_exchange(&mut conn, end, CURL_REQUEST, Method::Other)?;
        end = next;
        if !answer.keeps_connection() {
            // The server's clock for this connection started after ours,
            // so a correct server cannot say `close` sooner than this.
            let age = opened.elapsed();
            if age < MAX_AGE {
                return Err(conn.fail(format!(
                    "the connection kept until it is 1 s old (--max-connection-age 1); \
                     the server closed it after {:.1} s",
                    age.as_secs_f32()
                )));
            }
            connection_after(&mut conn, &answer, end)?;
            break;
        }
        if sent_at >= CLOSED_BY {
            return Err(conn.fail(format!(
                "`Connection: close` on the first answer after the connection is 1 s old \
                 (--max-connection-age 1); a request sent {:.1} s after it opened was kept",
                sent_at.as_secs_f32()
            )));
        }
        thread::sleep(PACE);
    }
    // The age is each connection's own, counted from when it opened, not
    // the server's: a new connection is kept again.
    let mut conn = Conn::open(target.addr)?;
    let (answer, _) = next_exchange(&mut conn, 0, CURL_REQUEST, Method::Other)?;
    if !answer.keeps_connection() {
        return Err(conn.fail(
            "a new connection kept after its first answer: the age counts from when each \
             connection opened, not from when the server started",
        ));
    }
    Ok(())
}

/// A request for the page, which part 8 on serves at `/index.html`.
const PAGE_REQUEST: &[u8] = b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";

/// The workers `server_status_counts_the_pool` starts its server with.
const STATUS_WORKERS: u64 = 3;

/// How often the status page is asked again while a count is awaited.
const STATUS_POLL: Duration = Duration::from_millis(50);

/// How long a worker may take to be counted free once its client has
/// closed the connection: the server reads the close at once. A fifth of
/// the server's keep-alive timeout, which would free it too.
const FREED_WITHIN: Duration = Duration::from_secs(2);
const _: () = assert!(5 * FREED_WITHIN.as_millis() <= OWN_TIMEOUT.as_millis());
/// The three counts of the status page.
#[derive(Debug, PartialEq, Eq)]
struct PoolStatus {
    workers: u64,
    busy: u64,
    queued: u64,
}

/// Asks for `GET /server-status` on a connection of its own, and reads the
/// counts of its three lines, `workers: W`, `busy: B` and `queued: Q`.
fn server_status(addr: SocketAddr) -> Result<(Conn, PoolStatus), Failure> {
    let conn = exchange(addr, b"GET /server-status HTTP/1.1\r\nHost: x\r\n\r\n")?;
    let answer = response(&conn, 200)?;
    let media_type = answer.header("Content-Type").unwrap_or_default();
    if !media_type.starts_with("text/plain") {
        return Err(conn.fail(format!(
            "Content-Type: text/plain for the status page, not {media_type:?}"
        )));
    }
    let text = String::from_utf8_lossy(&answer.body);
    let count = |name: &str| {
        text.lines().find_map(|line| {
            let number = line.strip_prefix(name)?.strip_prefix(':')?;
            number.trim().parse().ok()
        })
    };
    match (count("workers"), count("busy"), count("queued")) {
        (Some(workers), Some(busy), Some(queued)) => Ok((
            conn,
            PoolStatus {
                workers,
                busy,
                queued,
            },
        )),
        _ => Err(conn.fail("three lines, `workers: W`, `busy: B` and `queued: Q`, each a number")),
    }
}

/// Asks for the status page every [`STATUS_POLL`], for at most `within`,
/// until it says `workers: 3`, `busy: {busy}` (`who` they are) and
/// `queued: 0`. A worker counts itself free a moment after it closed its
/// connection: a page asked for at once may count it still.
fn until_status(addr: SocketAddr, busy: u64, who: &str, within: Duration) -> Result<(), Failure> {
    let expected = PoolStatus {
        workers: STATUS_WORKERS,
        busy,
        queued: 0,
    };
    let mut last = None;
    let done = poll_until(within, STATUS_POLL, || match server_status(addr) {
        Ok((_, status)) if status == expected => Some(Ok(())),
        Ok(seen) => {
            last = Some(seen);
            None
        }
        Err(failure) => Some(Err(failure)),
    });
    match (done, last) {
        (Some(result), _) => result,
        (None, Some((conn, status))) => Err(conn.fail(format!(
            "`workers: {STATUS_WORKERS}` (--workers {STATUS_WORKERS}), `busy: {busy}` ({who}) \
             and `queued: 0`, within {} s; the page said {status:?}",
            within.as_secs_f32()
        ))),
        (None, None) => Err(Failure::new("the status page")),
    }
}

fn server_status_counts_the_pool(target: &Target) -> Result<(), Failure> {
    let workers = STATUS_WORKERS.to_string();
    let server = own_server_with(target, &["--workers", &workers])?;
    let addr = server.addr();
    let asking = "the connection that asks, and no other";
    until_status(addr, 1, asking, IO_TIMEOUT)?;
    let mut kept = Conn::open(addr)?;
    let (answer, _) = next_exchange(&mut kept, 0, PAGE_REQUEST, Method::Other)?;
    if !answer.keeps_connection() {
        return Err(kept.fail("the connection kept after the answer, to hold its worker"));
    }
    // The kept connection holds a worker while it is idle; the one that
    // asks holds another.
    let both = "a kept idle connection, and the one that asks";
    until_status(addr, 2, both, IO_TIMEOUT)?;
    // Once we close the idle connection, its worker is free again.
    drop(kept);
    let freed = "the one that asks, once the kept idle connection was closed";
    until_status(addr, 1, freed, FREED_WITHIN)
}

/// How long the idle connections are left alone once the waiting client is
/// answered, before a request is sent on each: five of the stage's
/// look-ups, one every 100 ms, in which a second connection would be let
/// go. That nothing more happens cannot be polled for, only waited out.
const SECOND_CLOSE_WITHIN: Duration = Duration::from_millis(500);

const _: () = assert!(10 * SECOND_CLOSE_WITHIN.as_millis() <= OWN_TIMEOUT.as_millis());

/// Waits, within [`IO_TIMEOUT`], until `server` has logged a line that
/// starts with `prefix` and names each of `conns`: its worker took the
/// connection (`Worker N serves ADDR.`), or it accepted it
/// (`Socket established with ADDR.`). Nothing else outside the server
/// shows that either has happened; part 10's log says both.
fn logged_for(server: &Server, prefix: &str, conns: &[&Conn]) -> Result<(), Failure> {
    let addrs: Vec<String> = conns
        .iter()
        .filter_map(|conn| conn.local_addr())
        .map(|addr| format!("{addr}."))
        .collect();
    let all_named = |lines: &[String]| {
        addrs
            .iter()
            .all(|addr| {
                lines
                    .iter()
                    .any(|line| line.starts_with(prefix) && line.ends_with(addr.as_str()))
            })
            .then_some(())
    };
    match server.log().wait_for(IO_TIMEOUT, all_named) {
        Some(()) => Ok(()),
        None => Err(Failure::new(format!(
            "a log line `{prefix}… ADDR.` for each of {} connections within {} s, as part 10 \
             logs it",
            addrs.len(),
            IO_TIMEOUT.as_secs()
        ))),
    }
}

/// The workers `one_connection_let_go_per_client` starts its server with:
/// as many as the kept connections, so that a third client waits.
const TWO_WORKERS: &[&str] = &["--workers", "2"];

/// A request in two halves: the first holds a connection in the middle of
/// a request, where a worker waits for the rest, and does not look up.
const FIRST_HALF: &[u8] = b"GET /index.html HTTP/1.1\r\n";
const SECOND_HALF: &[u8] = b"Host: x\r\n\r\n";

/// Two new connections, each with the first half of a request, once a
/// worker each has taken them.
fn two_in_the_middle_of_a_request(server: &Server) -> Result<[Conn; 2], Failure> {
    let addr = server.addr();
    let mut conns = [Conn::open(addr)?, Conn::open(addr)?];
    for conn in &mut conns {
        conn.send(FIRST_HALF)?;
    }
    logged_for(server, "Worker ", &[&conns[0], &conns[1]])?;
    Ok(conns)
}

/// Sends a request on `conn`, idle since its answer that ended at byte
/// `end`: the answer, or `None` when the server had closed the connection
/// (the read finds it closed, or reset).
fn answered_or_closed(conn: &mut Conn, end: usize) -> Result<Option<Response>, Failure> {
    conn.send_lenient(PAGE_REQUEST);
    let read = conn.read_answer_from(end, Method::Other, IO_TIMEOUT);
    if conn.closed() && conn.received().len() == end {
        return Ok(None);
    }
    read?;
    Ok(Some(answer_at(conn, end, Method::Other)?.0))
}

fn one_connection_let_go_per_client(target: &Target) -> Result<(), Failure> {
    let server = own_server_with(target, TWO_WORKERS)?;
    idle_ones_let_go_once(&server)?;
    answers_let_go_once(&server)
}

/// Two idle kept connections, one waiting client: the workers of both
/// look up every 100 ms, and one of them, not both, lets its connection go.
/// (The stage as it is closes both only when the two look up within the
/// same few microseconds, which happens often, not always;
/// `answers_let_go_once` shows its flaw every time.)
fn idle_ones_let_go_once(server: &Server) -> Result<(), Failure> {
    let addr = server.addr();
    let mut idle = two_in_the_middle_of_a_request(server)?;
    let mut ends = [0; 2];
    for (conn, end) in idle.iter_mut().zip(&mut ends) {
        conn.send(SECOND_HALF)?;
        let (answer, next) = next_answer(conn, 0, Method::Other)?;
        if !answer.keeps_connection() {
            return Err(conn.fail("the connection kept after its answer, to hold its worker"));
        }
        *end = next;
    }
    // Both workers hold an idle connection: the third client waits.
    let conn = exchange(addr, PAGE_REQUEST)?;
    expect_body(&conn, PAGE)?;
    thread::sleep(SECOND_CLOSE_WITHIN);
    let mut answered = 0;
    for (conn, end) in idle.iter_mut().zip(ends) {
        if let Some(answer) = answered_or_closed(conn, end)? {
            if answer.status != 200 {
                return Err(conn.fail("200 for the page on the kept connection"));
            }
            answered += 1;
        }
    }
    match answered {
        1 => Ok(()),
        0 => Err(idle[1].fail(
            "one idle connection let go for the one client that waited (--workers 2), the \
             other kept: both were closed",
        )),
        _ => Err(idle[1].fail(
            "one idle connection let go for the client that waited (--workers 2), as the \
             stage does: both were kept",
        )),
    }
}

/// Two kept connections with requests under way, and one waiting client:
/// the first answer says `Connection: close`, for that client, and the
/// second keeps its connection. The stage as it is says `close` on both,
/// every time: the first closing worker lingers, reading what its client
/// may still send, and the client stays queued meanwhile.
fn answers_let_go_once(server: &Server) -> Result<(), Failure> {
    let [mut first, mut second] = two_in_the_middle_of_a_request(server)?;
    let mut waiting = Conn::open(server.addr())?;
    waiting.send(PAGE_REQUEST)?;
    // Accepted, and so queued: the acceptor queues it as it logs it.
    logged_for(server, "Socket established with ", &[&waiting])?;
    // The first answer goes to a client that waits: it lets its connection
    // go. We keep our side open, so that a server that lingers still has
    // the client queued for the second answer.
    first.send(SECOND_HALF)?;
    let (closing, closing_end) = next_answer(&mut first, 0, Method::Other)?;
    if closing.keeps_connection() {
        return Err(first.fail(
            "`Connection: close` on an answer given while a client waits for a worker \
             (--workers 2), as the stage says it",
        ));
    }
    second.send(SECOND_HALF)?;
    let (kept, kept_end) = next_answer(&mut second, 0, Method::Other)?;
    if !kept.keeps_connection() {
        return Err(second.fail(
            "the connection kept: the one client that waited has been given the connection \
             the first answer closed; this answer said `Connection: close` too",
        ));
    }
    connection_after(&mut first, &closing, closing_end)?;
    waiting.read_answer(Method::Other, IO_TIMEOUT)?;
    expect_body(&waiting, PAGE)?;
    // The kept connection is still served.
    let (again, _) = next_exchange(&mut second, kept_end, PAGE_REQUEST, Method::Other)?;
    if again.status != 200 {
        return Err(second.fail("200 for the page on the kept connection"));
    }
    Ok(())
}

/// The options the part 11 exercises start their server with: one loop,
/// so that the slow request and the fresh one share it.
const ONE_LOOP: &[&str] = &["--workers", "1"];

/// How long the slow request of the part 11 exercises sleeps.
const SLEEP: Duration = Duration::from_millis(600);
const SLEEP_REQUEST: &[u8] = b"GET /sleep?ms=600 HTTP/1.1\r\nHost: x\r\n\r\n";

/// The least the fresh page waits on a loop that the slow request stalls:
/// half of the sleep. The other half is the margin for the time from the
/// server's `Received` line to our request, on a busy machine.
const STALLED_AT_LEAST: Duration = Duration::from_millis(300);
const _: () = assert!(2 * STALLED_AT_LEAST.as_millis() <= SLEEP.as_millis());

/// The most the fresh page may wait once the application runs off the
/// loop: a sixth of the sleep, and many times what a loop with nothing
/// else to do takes to answer it (a millisecond or two).
const ANSWERED_WITHIN: Duration = Duration::from_millis(100);
const _: () = assert!(6 * ANSWERED_WITHIN.as_millis() <= SLEEP.as_millis());

/// Sends the slow request on a connection of its own, and waits, within
/// [`IO_TIMEOUT`], until the server has logged it received: the loop logs
/// what it read before the application answers it. Returns the connection
/// and when the request was sent.
fn slow_request_under_way(server: &Server) -> Result<(Conn, Instant), Failure> {
    request_under_way(server, SLEEP_REQUEST, "/sleep")
}

/// Sends `request`, for `path`, on a connection of its own, and waits,
/// within [`IO_TIMEOUT`], until the server has logged it received. Returns
/// the connection and when the request was sent.
fn request_under_way(
    server: &Server,
    request: &[u8],
    path: &str,
) -> Result<(Conn, Instant), Failure> {
    let mut slow = Conn::open(server.addr())?;
    let sent = Instant::now();
    slow.send(request)?;
    let logged = format!("Received b'GET {path}");
    let received = |lines: &[String]| {
        lines
            .iter()
            .any(|line| line.starts_with(&logged))
            .then_some(())
    };
    match server.log().wait_for(IO_TIMEOUT, received) {
        Some(()) => Ok((slow, sent)),
        None => Err(slow.fail(format!(
            "a log line `Received b'GET {path}…` within {} s, as parts 11 and 12 log it",
            IO_TIMEOUT.as_secs()
        ))),
    }
}

/// The page, asked for on a fresh connection: how long its answer took.
fn fresh_page_delay(addr: SocketAddr) -> Result<Duration, Failure> {
    let asked = Instant::now();
    let conn = exchange(addr, PAGE_REQUEST)?;
    let delay = asked.elapsed();
    expect_body(&conn, PAGE)?;
    Ok(delay)
}

/// Reads the slow request's answer: `200`, no sooner than [`SLEEP`] after
/// it was sent.
fn slow_answer(slow: &mut Conn, sent: Instant) -> Result<(), Failure> {
    slow.read_answer(Method::Other, SLEEP + IO_TIMEOUT)?;
    let took = sent.elapsed();
    response(slow, 200)?;
    if took < SLEEP {
        return Err(slow.fail(format!(
            "the answer to /sleep?ms=600 no sooner than 600 ms after the request; it came \
             after {} ms",
            took.as_millis()
        )));
    }
    Ok(())
}

fn slow_route_stalls_its_loop(target: &Target) -> Result<(), Failure> {
    let server = own_server_with(target, ONE_LOOP)?;
    let (mut slow, sent) = slow_request_under_way(&server)?;
    let delay = fresh_page_delay(server.addr())?;
    slow_answer(&mut slow, sent)?;
    if delay < STALLED_AT_LEAST {
        return Err(slow.fail(format!(
            "the page, asked for on a fresh connection while /sleep?ms=600 ran on the one \
             loop (--workers 1), answered after it: at least {} ms later; it came in {} ms, \
             so the handler does not block the loop",
            STALLED_AT_LEAST.as_millis(),
            delay.as_millis()
        )));
    }
    Ok(())
}

fn slow_handler_stalls_nobody_else(target: &Target) -> Result<(), Failure> {
    let server = own_server_with(target, ONE_LOOP)?;
    let (mut slow, sent) = slow_request_under_way(&server)?;
    let delay = fresh_page_delay(server.addr())?;
    slow_answer(&mut slow, sent)?;
    if delay > ANSWERED_WITHIN {
        return Err(slow.fail(format!(
            "the page, asked for on a fresh connection while /sleep?ms=600 ran (--workers 1), \
             within {} ms: the application runs off the loop; it came in {} ms",
            ANSWERED_WITHIN.as_millis(),
            delay.as_millis()
        )));
    }
    // Pipelined: the slow answer first, then the page, in the order asked.
    let mut conn = Conn::open(server.addr())?;
    conn.send(
        b"GET /sleep?ms=300 HTTP/1.1\r\nHost: x\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
    )?;
    let (first, end) = next_answer(&mut conn, 0, Method::Other)?;
    if first.status != 200 || !first.body.starts_with(b"Slept") {
        return Err(conn.fail("first the answer to /sleep?ms=300, `Slept 300 ms`, then the page"));
    }
    let (second, _) = next_answer(&mut conn, end, Method::Other)?;
    if second.body != PAGE {
        return Err(conn.fail("the page after the answer to /sleep?ms=300, in the order asked"));
    }
    Ok(())
}

/// The handler timeout part 12's first exercise starts its server with.
const HANDLER_TIMEOUT: Duration = Duration::from_secs(1);

/// The slow request of part 12's first exercise: a sleep three times the
/// handler timeout, so that an answer that waits for it is plainly late.
const LONG_SLEEP: Duration = Duration::from_secs(3);
const LONG_SLEEP_REQUEST: &[u8] = b"GET /sleep?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n";

/// The least the cut-off answer waits: half the handler timeout, so that
/// an answer that came at once (not from the timer) fails, and one that
/// came from it passes however the machine's clocks round.
const CUT_OFF_AT_LEAST: Duration = Duration::from_millis(500);

/// The most the cut-off answer may wait: the handler timeout and a second
/// more, a second short of the sleep.
const CUT_OFF_WITHIN: Duration = Duration::from_secs(2);
const _: () = assert!(2 * CUT_OFF_AT_LEAST.as_millis() <= HANDLER_TIMEOUT.as_millis());
const _: () = assert!(CUT_OFF_WITHIN.as_millis() >= 2 * HANDLER_TIMEOUT.as_millis());
const _: () = assert!(CUT_OFF_WITHIN.as_millis() + 1000 <= LONG_SLEEP.as_millis());

fn slow_handler_cut_off(target: &Target) -> Result<(), Failure> {
    let seconds = HANDLER_TIMEOUT.as_secs().to_string();
    let server = own_server_with(target, &["--handler-timeout", &seconds])?;
    let mut slow = Conn::open(server.addr())?;
    let sent = Instant::now();
    slow.send(LONG_SLEEP_REQUEST)?;
    slow.read_answer(Method::Other, CUT_OFF_WITHIN)?;
    let took = sent.elapsed();
    if response(&slow, 503).is_err() {
        response(&slow, 504)?;
    }
    if took < CUT_OFF_AT_LEAST {
        return Err(slow.fail(format!(
            "the 503 once the handler timeout (1 s) has run out, no sooner than {} ms after \
             the request; it came after {} ms",
            CUT_OFF_AT_LEAST.as_millis(),
            took.as_millis()
        )));
    }
    // The server goes on: a handler within the timeout still answers.
    let conn = exchange(
        server.addr(),
        b"GET /sleep?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n",
    )?;
    expect_body(&conn, b"Slept 100 ms\n")?;
    Ok(())
}

/// The blocking request of part 12's second exercise, as long as the
/// sleep of part 11's.
const BLOCKING_REQUEST: &[u8] = b"GET /blocking?ms=600 HTTP/1.1\r\nHost: x\r\n\r\n";

fn blocking_work_stalls_nobody(target: &Target) -> Result<(), Failure> {
    let server = own_server_with(target, ONE_LOOP)?;
    let (mut slow, sent) = request_under_way(&server, BLOCKING_REQUEST, "/blocking")?;
    let delay = fresh_page_delay(server.addr())?;
    slow.read_answer(Method::Other, SLEEP + IO_TIMEOUT)?;
    let took = sent.elapsed();
    let answer = response(&slow, 200)?;
    if answer.body != b"Blocked 600 ms\n" {
        return Err(slow.fail("`Blocked 600 ms`, the answer to /blocking?ms=600"));
    }
    if took < SLEEP {
        return Err(slow.fail(format!(
            "the answer to /blocking?ms=600 no sooner than 600 ms after the request; it came \
             after {} ms",
            took.as_millis()
        )));
    }
    if delay > ANSWERED_WITHIN {
        return Err(slow.fail(format!(
            "the page, asked for on a fresh connection while /blocking?ms=600 ran \
             (--workers 1), within {} ms: the blocking work runs off the runtime's thread; \
             it came in {} ms",
            ANSWERED_WITHIN.as_millis(),
            delay.as_millis()
        )));
    }
    Ok(())
}
