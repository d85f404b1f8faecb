//! The client side of a check: what it takes to talk to a server under test
//! and read its answers.
//!
//! - `conn`: [`Conn`], a connection that records every byte it sent and
//!   received, so that a [`Failure`] can show both; [`IO_TIMEOUT`], how long
//!   a check waits unless it says otherwise.
//! - `response`: two readers of an HTTP response, a lenient one
//!   ([`read_response`]) for the checks that judge something else, and a
//!   strict one ([`judge_form`]) for the checks that judge its form; and
//!   [`judge_close`], whether a server that closed said so.
//! - `exchange`: the helpers every HTTP check is written with: send a
//!   request and read until the close (`exchange`), expect a status, a
//!   body, or a refusal (`expect_refusal`); and, on a connection the server
//!   keeps, hold it to what each answer says of the connection
//!   (`connection_after`) and send the next request (`next_exchange`).

mod conn;
mod exchange;
mod response;

pub use conn::{Conn, Failure, IO_TIMEOUT, curl_available, note, shown, take_notes};
pub(crate) use exchange::{
    BYTE_PAUSE, ERROR_FORM, Left, PIECE_PAUSE, WAIT_FOR_REST, WELL_FORMED, answer_at, at_once,
    connection_after, exchange, exchange_in_pieces, exchange_lenient, expect_body, expect_refusal,
    expect_status, next_answer, next_exchange, response, response_to_head, send_in_pieces, status,
};
pub use response::{
    Method, Response, answer_complete, answer_length, judge_close, judge_form, read_response,
    status_of,
};
