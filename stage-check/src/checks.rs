//! Every check of the series, grouped by the part that introduces it, and
//! the order they run in.
//!
//! Each check is a constant, its [`Check`] entry (name, what it proves, its
//! rule, its hint) right above the function that runs it: `part4.rs` holds
//! the echo stage's, `part5.rs` to `part12.rs` the HTTP stages' part by
//! part, and [`refusals`] the requests a server must refuse, as rows of
//! one table.

use crate::Check;

pub(crate) mod part10;
pub(crate) mod part11;
pub(crate) mod part12;
pub(crate) mod part4;
pub(crate) mod part5;
pub(crate) mod part6;
pub(crate) mod part7;
pub(crate) mod part8;
pub(crate) mod part9;
pub(crate) mod refusals;

/// The request curl sends in the post, byte for byte.
pub(crate) const CURL_REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: localhost:5000\r\nUser-Agent: curl/7.69.1\r\nAccept: */*\r\n\r\n";

/// The page every request gets in the post.
pub(crate) const PAGE: &[u8] = b"<html><body>Hello World</body></html>";

/// The echo stage's checks, in the order they run.
pub(crate) const ECHO: &[&Check] = &[
    &part4::ECHO_ONE_MESSAGE,
    &part4::ECHO_MANY_MESSAGES,
    &part4::ECHO_EVERY_BYTE_VALUE,
    &part4::ECHO_LARGE_MESSAGE,
    &part4::ECHO_UNTIL_CLIENT_CLOSES,
    &part4::ECHO_CLIENTS_IN_PARALLEL,
    &part4::ECHO_TRANSCRIPT,
];

/// The HTTP stages' checks, in the order they run: from the most basic
/// rules to the most advanced, so that the first failure is the one to fix
/// first. A later part's check sits next to the part 5 check it takes
/// further (`request_byte_by_byte` right after `request_in_pieces`), which
/// is why the order is written out here rather than taken file by file. A
/// stage leaves out the checks of later parts (see
/// [`checks()`](crate::checks())). A check left out of this list is used
/// nowhere, and the compiler says so (`dead_code`).
///
/// `&part5::WELL_FORMED_RESPONSE` borrows the constant: the list holds
/// references to checks (`&Check`), much as a Python list holds references
/// to its objects.
pub(crate) const HTTP: &[&Check] = &[
    &part5::WELL_FORMED_RESPONSE,
    &part5::HELLO_WORLD_PAGE,
    &part5::TRANSCRIPT,
    &part5::ERROR_RESPONSE_WELL_FORMED,
    &part5::REQUEST_IN_PIECES,
    &part6::REQUEST_BYTE_BY_BYTE,
    &part5::BODY_WITH_CONTENT_LENGTH,
    &part5::ANSWER_AFTER_BODY,
    &part5::ANSWER_AFTER_CHUNKED_BODY,
    &part5::HEAD_REQUEST,
    &part5::EXPECT_CONTINUE,
    &refusals::HOST_REQUIRED,
    &part6::HEADER_WITHOUT_SPACE,
    &part6::MANY_HEADERS,
    &part6::BYTES_AFTER_BODY,
    &refusals::BAD_REQUEST_LINE,
    &refusals::BAD_HEADER_LINE,
    &refusals::CONTENT_LENGTH_NOT_A_NUMBER,
    &refusals::CONTENT_LENGTHS_DISAGREE,
    &part5::CONTENT_LENGTH_AND_TRANSFER_ENCODING,
    &part5::TRANSFER_ENCODING_ALONE,
    &refusals::HEAD_TOO_LARGE,
    &refusals::BODY_TOO_LARGE,
    &part5::CLIENT_LEAVES_EARLY,
    &part5::BAD_INPUT_THEN_GOOD,
    &part5::QUIET_CLIENT_TIMED_OUT,
    &part5::CLIENTS_IN_PARALLEL,
    &part5::MANY_CLIENTS_AT_ONCE,
    &part5::CURL,
    &part5::CURL_UPLOAD,
    // A connection kept for request after request (part 9 on): kept at
    // all first, then what each request on it must get, then the shapes a
    // server must refuse, then the limits, the idle timer the longest.
    &part9::TWO_REQUESTS_ONE_CONNECTION,
    &part9::PIPELINED_IN_ORDER,
    &part9::SECOND_REQUEST_BYTE_BY_BYTE,
    &part9::HEAD_THEN_GET,
    &part9::BODY_DRAINED_BEFORE_NEXT,
    &part9::CONNECTION_CLOSE_HONOURED,
    &part9::HTTP10_CLOSES,
    &part9::HTTP10_KEEP_ALIVE,
    &part9::REFUSAL_CLOSES,
    &part9::HALF_CLOSE_ANSWERED,
    &part9::SMUGGLING_BOTH_LENGTHS,
    &part9::SMUGGLING_OBFUSCATED_CHUNKED,
    &part9::SMUGGLING_CONFLICTING_LENGTHS,
    &part9::SMUGGLING_BARE_LF_IN_CHUNKS,
    &part9::MAX_REQUESTS_THEN_CLOSE,
    &part9::IDLE_CLOSED_SILENTLY,
    // A pool of workers (part 10 on), each check against a server of its
    // own: the threads it runs, its queue's bound, idle connections let go
    // for a client that waits, and its shutdown, which ends it.
    &part10::THREADS_BOUNDED_BY_POOL,
    &part10::FULL_QUEUE_ANSWERED_503,
    &part10::NEXT_CLIENT_SERVED_PAST_IDLE_ONES,
    &part10::GRACEFUL_SHUTDOWN,
    // Event loops (part 11 on), each against a server of its own: idle
    // connections held on few threads, then the clients that would stall
    // a loop, one sending slowly, one never reading its answers.
    &part11::IDLE_CONNECTIONS_HELD_BY_FEW_THREADS,
    &part11::SLOW_SENDER_DOES_NOT_DELAY_OTHERS,
    &part11::UNREAD_ANSWERS_DO_NOT_DELAY_OTHERS,
    // Async tasks (part 12 on), against a server of its own: a handler
    // that awaits delays no one else.
    &part12::AWAITING_HANDLER_DOES_NOT_DELAY_OTHERS,
    // The application's (part 7 on), after the server's.
    &part7::CREATE_ANSWERS_ITS_BODY,
    &part7::UNKNOWN_PATH_NOT_FOUND,
    &part7::BODIES_KEPT_APART,
    &part7::BODY_IN_PIECES,
    &part7::HEADER_NAME_IN_ANY_CASE,
    &part8::QUERY_DECODED,
    &part8::QUERY_KEY_WITHOUT_VALUE,
    &part8::MEDIA_TYPES,
    &part8::NOT_FOUND_FRAMED,
    &part8::METHOD_NOT_ALLOWED_WITH_ALLOW,
];

/// The earlier parts' checks that mean more on a connection the server
/// keeps (a [persistent](crate::Stage::persistent) stage, part 9 on), each
/// with what it then proves: `--list` says so for such a stage. The checks
/// are the same; what the server says of the connection decides which
/// branch of them it meets.
pub(crate) const ON_A_KEPT_CONNECTION: &[(&Check, &str)] = &[
    (
        &part5::WELL_FORMED_RESPONSE,
        "the answer leaves out Connection: close, and a second request on the connection is answered: it is read by its framing, never by the close",
    ),
    (
        &part5::TRANSCRIPT,
        "the log numbers each answer (`Response sent (request 1 of this connection).`) and says why the socket closed (`…closed: the client closed it.`)",
    ),
    (
        &part6::BYTES_AFTER_BODY,
        "the bytes after the body are the next request, pipelined, and get the second answer, where a stage that closes after one answer leaves them unanswered",
    ),
];

/// Part 10's checks that mean more on event loops (part 11 on), each with
/// the check as it reads there: its name and its run the same, what it
/// proves, its rule and its hint those of the loops. A stage of part 11 on
/// runs the second in place of the first (see [`checks()`](crate::checks())),
/// and the check itself starts its server with the options of the stage
/// ([`Target::event_loops`](crate::Target::event_loops)).
pub(crate) const ON_EVENT_LOOPS: &[(&Check, &Check)] = &[
    (
        &part10::THREADS_BOUNDED_BY_POOL,
        &part10::THREADS_BOUNDED_ON_LOOPS,
    ),
    (
        &part10::FULL_QUEUE_ANSWERED_503,
        &part10::FULL_SERVER_ANSWERED_503,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn each_check_is_listed_once() {
        for list in [ECHO, HTTP] {
            let mut names = HashSet::new();
            for check in list {
                assert!(names.insert(check.name), "{} is listed twice", check.name);
            }
        }
    }

    #[test]
    fn what_a_kept_connection_changes_is_of_earlier_checks() {
        for (check, _) in ON_A_KEPT_CONNECTION {
            assert!(check.since < 9, "{}", check.name);
            assert!(HTTP.iter().any(|c| c.name == check.name), "{}", check.name);
        }
    }

    #[test]
    fn what_event_loops_change_is_the_text_of_part_10_checks() {
        for (check, on_loops) in ON_EVENT_LOOPS {
            assert_eq!((check.since, on_loops.since), (10, 11), "{}", check.name);
            assert_eq!(check.name, on_loops.name);
            assert_eq!(check.needs, on_loops.needs, "{}", check.name);
            assert!(
                std::ptr::fn_addr_eq(check.run, on_loops.run),
                "{}",
                check.name
            );
            assert_ne!(check.proves, on_loops.proves, "{}", check.name);
            assert!(HTTP.iter().any(|c| c.name == check.name), "{}", check.name);
        }
    }

    #[test]
    fn the_smuggling_lengths_add_up() {
        // The attempt whose Content-Length covers the chunks and the
        // request hidden after them, and the one whose chunk holds it.
        let hidden = b"0\r\n\r\nGET /hidden-cl-te HTTP/1.1\r\nHost: localhost\r\n\r\n";
        assert_eq!(hidden.len(), 52);
        let chunk = b"GET /hidden-te-cl HTTP/1.1\r\nHost: localhost\r\n\r\n";
        assert_eq!(chunk.len(), 0x2f);
    }
}
