//! Formatting an HTTP/1.1 response: the post's `http_response` module.
//!
//! A response is a status line, header lines, an empty line, then the body:
//!
//! ```text
//! HTTP/1.1 200 OK\r\n
//! Content-Length: 37\r\n
//! Connection: close\r\n
//! \r\n
//! <html><body>Hello World</body></html>
//! ```
//!
//! Two things the original gets wrong are fixed here for every stage:
//! the empty line that ends the header block is always written (the original
//! writes it only when there is a body, so a client can't tell where an empty
//! response ends), and `Connection: close` is sent whenever the server closes
//! after the response, since HTTP/1.1 requires a server that does so to say
//! it. Up to part 8 every stage closes after one response, and
//! [`make_response`] always says so; part 9, which keeps connections open,
//! says what it does with [`make_response_with_connection`].

/// The interim answer to `Expect: 100-continue`: "go on, send the body".
/// Clients such as curl wait up to a second for it before sending a large body.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// The canonical reason phrase of a status code, like Python's
/// `http.HTTPStatus(code).phrase`, from the `http` crate's table. Unknown
/// codes get an empty phrase, which HTTP allows: clients go by the code.
pub fn reason_phrase(status_code: u16) -> &'static str {
    http::StatusCode::from_u16(status_code)
        .ok()
        .and_then(|status| status.canonical_reason())
        .unwrap_or("")
}

/// How many bytes a response's head usually takes, and its buffer starts
/// with: a head that fits grows in place, with no copy.
const HEAD_ROOM: usize = 256;

/// The first line of a response, such as `HTTP/1.1 200 OK\r\n`, in a
/// buffer with room for the header lines that follow it.
pub fn create_status_line(status_code: u16) -> Vec<u8> {
    let mut head = Vec::with_capacity(HEAD_ROOM);
    head.extend_from_slice(b"HTTP/1.1 ");
    // A status code is three digits (RFC 9110, section 15), written one by
    // one: `format!` would do it too, at ten times the cost.
    let digits = [
        status_code / 100 % 10,
        status_code / 10 % 10,
        status_code % 10,
    ];
    head.extend(digits.map(|digit| b'0' + digit as u8));
    head.push(b' ');
    head.extend_from_slice(reason_phrase(status_code).as_bytes());
    head.extend_from_slice(b"\r\n");
    head
}

/// Appends one `Name: value\r\n` line per header, in the order given, to
/// the head being built. (The post joins a list of byte strings; appending
/// to the one buffer spares the lines a buffer each.)
pub fn format_headers(head: &mut Vec<u8>, headers: &[(&str, &str)]) {
    for (name, value) in headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
}

// ANCHOR: make_response
/// A whole response: status line, headers, `Content-Length`,
/// `Connection: close`, the empty line, the body.
pub fn make_response(status_code: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    make_response_with_connection(status_code, headers, body, Some("close"))
}

/// The same response without its body, as the answer to a `HEAD` request:
/// `Content-Length` still tells how long the body *would* be.
pub fn make_response_head(
    status_code: u16,
    headers: &[(&str, &str)],
    content_length: usize,
) -> Vec<u8> {
    make_response_head_with_connection(status_code, headers, content_length, Some("close"))
}

/// A whole response, its `Connection` header the one given: `Some("close")`
/// when the server closes after it, `Some("keep-alive")` for an HTTP/1.0
/// client whose connection it keeps, or `None`, no header, when HTTP/1.1's
/// default holds: the connection stays open (RFC 9112, section 9.3).
pub fn make_response_with_connection(
    status_code: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    connection: Option<&str>,
) -> Vec<u8> {
    let mut response =
        make_response_head_with_connection(status_code, headers, body.len(), connection);
    if has_body(status_code) {
        response.extend_from_slice(body);
    }
    response
}

/// The head of [`make_response_with_connection`]'s response, for `HEAD`.
pub fn make_response_head_with_connection(
    status_code: u16,
    headers: &[(&str, &str)],
    content_length: usize,
    connection: Option<&str>,
) -> Vec<u8> {
    // The length's digits, written into a small buffer on the stack: the
    // `itoa` crate does what `to_string` does, with no allocation.
    let mut digits = itoa::Buffer::new();
    let content_length = digits.format(content_length);
    let mut response = create_status_line(status_code);
    format_headers(&mut response, headers);
    // Always sent, 0 included: without it a client can only find the end of
    // the body by waiting for the connection to close. Except where there
    // is no body to frame, and HTTP forbids it (RFC 9110, section 8.6).
    if has_body(status_code) {
        format_headers(&mut response, &[("Content-Length", content_length)]);
    }
    if let Some(connection) = connection {
        format_headers(&mut response, &[("Connection", connection)]);
    }
    response.extend_from_slice(b"\r\n");
    response
}

/// Whether a response with this status has a body: all but `1xx` (interim
/// answers), `204 No Content` and `304 Not Modified` (RFC 9110, sections
/// 15.2, 15.3.5 and 15.4.5; RFC 9112, section 6.3).
fn has_body(status_code: u16) -> bool {
    !(100..200).contains(&status_code) && !matches!(status_code, 204 | 304)
}
// ANCHOR_END: make_response

/// A short plain-text error answer, such as `400 Bad Request` with the reason
/// in the body, for a person reading it with `curl -i`.
pub fn make_error_response(status_code: u16, message: &str) -> Vec<u8> {
    let body = format!("{status_code} {}: {message}\n", reason_phrase(status_code));
    make_response(
        status_code,
        &[("Content-Type", "text/plain; charset=utf-8")],
        body.as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_posts_hello_world_response() {
        let response = make_response(200, &[], b"<html><body>Hello World</body></html>");
        assert_eq!(
            response,
            b"HTTP/1.1 200 OK\r\n\
              Content-Length: 37\r\n\
              Connection: close\r\n\
              \r\n\
              <html><body>Hello World</body></html>"
        );
    }

    #[test]
    fn an_empty_body_still_ends_the_header_block() {
        let response = make_response(200, &[], b"");
        assert_eq!(
            response,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn no_content_has_no_length_and_no_body() {
        let response = make_response(204, &[], b"ignored");
        assert_eq!(
            response,
            b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn headers_come_in_order_before_the_framing_headers() {
        let response = make_response(
            404,
            &[("Content-Type", "text/plain"), ("X-Lesson", "5")],
            b"nope",
        );
        assert_eq!(
            response,
            b"HTTP/1.1 404 Not Found\r\n\
              Content-Type: text/plain\r\n\
              X-Lesson: 5\r\n\
              Content-Length: 4\r\n\
              Connection: close\r\n\
              \r\n\
              nope"
        );
    }

    #[test]
    fn not_modified_has_no_length_and_no_body() {
        let response = make_response(304, &[("ETag", "\"1\"")], b"ignored");
        assert_eq!(
            response,
            b"HTTP/1.1 304 Not Modified\r\nETag: \"1\"\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn a_kept_connection_is_said_or_left_to_the_default() {
        let kept = make_response_with_connection(200, &[], b"hi", None);
        assert_eq!(kept, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
        let http_1_0 = make_response_head_with_connection(200, &[], 2, Some("keep-alive"));
        assert_eq!(
            http_1_0,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n"
        );
        // The functions of the earlier stages are these, saying `close`.
        assert_eq!(
            make_response(200, &[], b"hi"),
            make_response_with_connection(200, &[], b"hi", Some("close"))
        );
    }

    #[test]
    fn a_head_response_announces_the_body_it_leaves_out() {
        let head = make_response_head(200, &[], 37);
        let full = make_response(200, &[], &[b'x'; 37]);
        assert_eq!(head, &full[..full.len() - 37]);
        assert!(head.ends_with(b"Content-Length: 37\r\nConnection: close\r\n\r\n"));
    }

    #[test]
    fn reason_phrases_are_canonical() {
        assert_eq!(create_status_line(200), b"HTTP/1.1 200 OK\r\n");
        assert_eq!(create_status_line(408), b"HTTP/1.1 408 Request Timeout\r\n");
        assert_eq!(
            create_status_line(431),
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
        );
        assert_eq!(create_status_line(299), b"HTTP/1.1 299 \r\n");
    }

    #[test]
    fn error_responses_carry_a_readable_reason() {
        let response = make_error_response(400, "malformed request line");
        let text = String::from_utf8(response).unwrap();
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(text.contains("Content-Type: text/plain; charset=utf-8\r\n"));
        assert!(text.ends_with("\r\n\r\n400 Bad Request: malformed request line\n"));
    }

    #[test]
    fn the_interim_continue_is_a_complete_head() {
        assert_eq!(CONTINUE, b"HTTP/1.1 100 Continue\r\n\r\n");
    }
}
