//! The checks part 8 introduces, with its web framework: the query string
//! decoded, each answer with its media type, a framed 404, and a 405 that
//! says which methods a path takes.

use super::PAGE;
use super::part7::{contains, expect_text_with};
use crate::client::{Conn, Failure, Response, exchange, response, shown};
use crate::{Check, Needs, Rule, Target};

/// `GET target`, and its answer read as a `200` text.
fn get_text(target: &Target, path: &str) -> Result<(Conn, Response), Failure> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let conn = exchange(target.addr, request.as_bytes())?;
    let answer = response(&conn, 200)?;
    Ok((conn, answer))
}

pub(crate) const QUERY_DECODED: Check = Check {
    name: "query_decoded",
    proves: "GET /?name=J%C3%BCrgen+X is answered with a text that says `Jürgen X`: the query string percent-decoded, `+` a space",
    rule: Rule::Stage(
        "browsers encode a query string that way (the form encoding of HTML); the original hands its handlers the bytes undecoded",
    ),
    since: 8,
    hint: "Decode the query string with a form decoder (Rust: form_urlencoded; Python: urllib.parse.parse_qsl) before handlers see it (book: Part 8).",
    needs: Needs::Nothing,
    run: query_decoded,
};

fn query_decoded(target: &Target) -> Result<(), Failure> {
    let (conn, answer) = get_text(target, "/?name=J%C3%BCrgen+X")?;
    if !contains(&answer.body, "Jürgen X".as_bytes()) {
        return Err(conn.fail("a text that contains `Jürgen X`, the query decoded"));
    }
    Ok(())
}

pub(crate) const QUERY_KEY_WITHOUT_VALUE: Check = Check {
    name: "query_key_without_value",
    proves: "GET /?alpha=1&beta, a key with no `=`, is answered 200, with both keys in the text",
    rule: Rule::Stage(
        "a key with no value is a valid query string; the original's handler raises on it and the client gets no answer",
    ),
    since: 8,
    hint: "A pair with no `=` has the empty value: split at the first `=` if there is one (book: Part 8).",
    needs: Needs::Nothing,
    run: query_key_without_value,
};

fn query_key_without_value(target: &Target) -> Result<(), Failure> {
    let (conn, _) = get_text(target, "/?alpha=1&beta")?;
    expect_text_with(&conn, &[b"alpha", b"beta"]).map(drop)
}

pub(crate) const MEDIA_TYPES: Check = Check {
    name: "media_types",
    proves: "GET /index.html is the page as text/html, POST /some_json {\"hello\":\"world\"} as application/json, GET / text as text/plain",
    rule: Rule::Stage(
        "each kind of answer says its media type (RFC 9110 §8.3); the original sends `plain/text` and `plain/html`, which are none",
    ),
    since: 8,
    hint: "Give each kind of response its Content-Type: text/plain, text/html, application/json, each with a charset where it is text (book: Part 8).",
    needs: Needs::Nothing,
    run: media_types,
};

fn media_types(target: &Target) -> Result<(), Failure> {
    let media_type = |conn: &Conn, answer: &Response, expected: &str| {
        let actual = answer.header("Content-Type").unwrap_or_default();
        let essence = actual.split(';').next().unwrap_or_default().trim();
        if essence.eq_ignore_ascii_case(expected) {
            Ok(())
        } else {
            Err(conn.fail(format!("Content-Type: {expected}, not {actual:?}")))
        }
    };
    let (conn, page) = get_text(target, "/index.html")?;
    media_type(&conn, &page, "text/html")?;
    if page.body != PAGE {
        return Err(conn.fail(format!("the page, {}", shown(PAGE))));
    }
    let conn = exchange(
        target.addr,
        b"POST /some_json HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n",
    )?;
    let json = response(&conn, 200)?;
    media_type(&conn, &json, "application/json")?;
    let value: Result<serde_json::Value, _> = serde_json::from_slice(&json.body);
    if value.ok() != Some(serde_json::json!({"hello": "world"})) {
        return Err(conn.fail("the JSON object {\"hello\": \"world\"}"));
    }
    let (conn, text) = get_text(target, "/?x=1")?;
    media_type(&conn, &text, "text/plain")
}

pub(crate) const NOT_FOUND_FRAMED: Check = Check {
    name: "not_found_framed",
    proves: "GET /missing gets a 404 with a short text, and a Content-Length that is the text's length",
    rule: Rule::Stage(
        "HTTP lets a body end with the close, but the original's 404 has no body, no length and a head that never ends: the stage frames every answer",
    ),
    since: 8,
    hint: "Answer an unknown path with a response like any other: a status, a text, and the length of the text (book: Part 8).",
    needs: Needs::Nothing,
    run: not_found_framed,
};

fn not_found_framed(target: &Target) -> Result<(), Failure> {
    let conn = exchange(
        target.addr,
        b"GET /missing HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )?;
    let answer = response(&conn, 404)?;
    let length = answer.body.len().to_string();
    if answer.body.is_empty() || answer.header("Content-Length") != Some(length.as_str()) {
        return Err(
            conn.fail("a 404 with a short text, and Content-Length saying the text's length")
        );
    }
    Ok(())
}

pub(crate) const METHOD_NOT_ALLOWED_WITH_ALLOW: Check = Check {
    name: "method_not_allowed_with_allow",
    proves: "GET /create, a path that takes only POST, gets 405 with `Allow` naming POST",
    rule: Rule::Stage(
        "the original answers 404 where the path exists; a 405 must then say in Allow which methods the path takes (RFC 9110 §15.5.6)",
    ),
    since: 8,
    hint: "Look the path up first: a known path with another method gets 405, and `Allow` lists the methods it has (book: Part 8).",
    needs: Needs::Nothing,
    run: method_not_allowed_with_allow,
};

fn method_not_allowed_with_allow(target: &Target) -> Result<(), Failure> {
    let conn = exchange(
        target.addr,
        b"GET /create HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )?;
    let answer = response(&conn, 405)?;
    let allow = answer.header("Allow").unwrap_or_default();
    if !allow.split(',').any(|method| method.trim() == "POST") {
        return Err(conn.fail(format!("Allow: POST, not {allow:?}")));
    }
    Ok(())
}
