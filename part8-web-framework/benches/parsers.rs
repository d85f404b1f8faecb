//! How fast is our parser, next to httparse? `cargo bench -p part6-custom-parser`
//!
//! Both parsers are driven the same way: through the same interface
//! (`HttpRequestParser::new`, `feed_data`), reporting to the same cheap
//! protocol, with the same bytes cut into the same pieces. httparse is timed
//! behind part 5's interface, since that is what ours replaces: the numbers
//! include part 5's own work (copying the head, re-parsing it after every
//! piece), as ours include the `SplitBuffer`.
//!
//! Each group reports bytes per second (`Throughput::Bytes`), so that
//! groups of different sizes compare: if the time per byte is the same for a
//! 1 KiB and a 7 KiB head fed in 16-byte pieces, the cost grows in proportion
//! to the bytes, as it should; the post's parser is quadratic there.

use std::hint::black_box;
use std::time::Duration;

use common::parser::Protocol;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// A protocol that does almost nothing, so that the parsers' own work is
/// what is measured. It adds up lengths, so that nothing can be skipped.
#[derive(Default)]
struct Tally {
    bytes: usize,
    complete: bool,
}

impl Protocol for Tally {
    fn on_url(&mut self, url: &[u8]) {
        self.bytes += url.len();
    }
    fn on_header(&mut self, name: &[u8], value: &[u8]) {
        self.bytes += name.len() + value.len();
    }
    fn on_body(&mut self, body: &[u8]) {
        self.bytes += body.len();
    }
    fn on_message_complete(&mut self) {
        self.complete = true;
    }
}

/// The request the post shows, from `curl localhost:5000`.
const CURL: &[u8] =
    b"GET / HTTP/1.1\r\nHost: localhost:5000\r\nUser-Agent: curl/7.69.1\r\nAccept: */*\r\n\r\n";

/// What a browser sends for a page: 12 headers, about 700 bytes.
const BROWSER: &[u8] =
    b"GET /articles/2020/05/writing-an-http-server-from-scratch?page=2 HTTP/1.1\r\n\
Host: blog.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n\
Accept-Language: en-GB,en;q=0.7,fr;q=0.3\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Referer: https://blog.example.com/articles/2020/04/a-tcp-echo-server\r\n\
Connection: keep-alive\r\n\
Cookie: session=6f1c2b9e8d7a4c3b2a1f0e9d8c7b6a5f; theme=dark; lang=en; consent=analytics%3Dno%26ads%3Dno; seen=2020-05-14T09:30Z;\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Sec-Fetch-Dest: document\r\n\
Sec-Fetch-Mode: navigate\r\n\
Sec-Fetch-Site: same-origin\r\n\
\r\n";

/// A POST with a body of `size` bytes.
fn post(size: usize) -> Vec<u8> {
    let head =
        format!("POST /upload HTTP/1.1\r\nHost: localhost:5000\r\nContent-Length: {size}\r\n\r\n");
    let mut request = head.into_bytes();
    request.resize(request.len() + size, b'x');
    request
}

/// A GET whose head is `size` bytes long, most of them in a long cookie.
fn big_head(size: usize) -> Vec<u8> {
    let start = "GET / HTTP/1.1\r\nHost: localhost:5000\r\nCookie: ";
    let cookie = "c".repeat(size - start.len() - "\r\n\r\n".len());
    let request = format!("{start}{cookie}\r\n\r\n").into_bytes();
    assert_eq!(request.len(), size);
    request
}

/// Parses `request`, fed in pieces of `piece` bytes, with our parser.
fn ours(request: &[u8], piece: usize) -> usize {
    let mut parser = part6_custom_parser::HttpRequestParser::new(Tally::default());
    for chunk in request.chunks(piece) {
        parser.feed_data(chunk).expect("a valid request");
    }
    assert!(parser.protocol().complete);
    parser.protocol().bytes
}

/// The same with part 5's parser, that is httparse.
fn httparse(request: &[u8], piece: usize) -> usize {
    let mut parser = part5_oo_session::HttpRequestParser::new(Tally::default());
    for chunk in request.chunks(piece) {
        parser.feed_data(chunk).expect("a valid request");
    }
    assert!(parser.protocol().complete);
    parser.protocol().bytes
}

fn compare(c: &mut Criterion) {
    assert_eq!(BROWSER.len(), 700);
    let cases: Vec<(&str, Vec<u8>, usize)> = vec![
        ("curl request", CURL.to_vec(), CURL.len()),
        ("browser request", BROWSER.to_vec(), BROWSER.len()),
        ("browser request, 1-byte pieces", BROWSER.to_vec(), 1),
        ("64 KiB body, 1 KiB pieces", post(64 * 1024), 1024),
        ("1 MiB body, 1 KiB pieces", post(1024 * 1024), 1024),
        ("1 KiB head, 16-byte pieces", big_head(1024), 16),
        ("7 KiB head, 16-byte pieces", big_head(7 * 1024), 16),
    ];
    for (name, request, piece) in &cases {
        let mut group = c.benchmark_group(*name);
        group.throughput(Throughput::Bytes(request.len() as u64));
        group.bench_function("ours", |b| b.iter(|| ours(black_box(request), *piece)));
        group.bench_function("httparse", |b| {
            b.iter(|| httparse(black_box(request), *piece))
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    // Modest timings: enough for stable figures on a small machine.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = compare
}
criterion_main!(benches);
