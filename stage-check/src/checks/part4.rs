//! The checks part 4 introduces, for the echo stage: every byte sent comes
//! back, on as many connections at once as there are clients, until the
//! client closes.

use std::net::SocketAddr;

use crate::client::{Conn, Failure, IO_TIMEOUT, shown};
use crate::{Check, Needs, Rule, Target};

/// What the echo checks hold a server to: no RFC, the lesson of Part 4.
const ECHO_RULE: &str =
    "the echo server of Part 4, which speaks no HTTP: every byte back, to many clients at once";

/// Sends `message` and waits until all of it has come back.
pub(crate) fn echo(conn: &mut Conn, message: &[u8]) -> Result<(), Failure> {
    let before = conn.received().len();
    conn.send(message)?;
    let back = conn.read_until_length(before + message.len(), IO_TIMEOUT);
    if back.is_err() || &conn.received()[before..] != message {
        return Err(conn.fail(format!(
            "{} back within {} s",
            shown(message),
            IO_TIMEOUT.as_secs()
        )));
    }
    Ok(())
}

pub(crate) const ECHO_ONE_MESSAGE: Check = Check {
    name: "echo_one_message",
    proves: "a message comes back unchanged",
    rule: Rule::Stage(ECHO_RULE),
    since: 4,
    hint: "Send back exactly the bytes you received (book: Part 4).",
    needs: Needs::Nothing,
    run: echo_one_message,
};

fn echo_one_message(target: &Target) -> Result<(), Failure> {
    let mut conn = Conn::open(target.addr)?;
    echo(&mut conn, b"hello\n")
}

pub(crate) const ECHO_MANY_MESSAGES: Check = Check {
    name: "echo_many_messages",
    proves: "one connection carries many messages, each echoed in turn",
    rule: Rule::Stage(ECHO_RULE),
    since: 4,
    hint: "Receive in a loop until the client closes, not just once (book: Part 4, step 2).",
    needs: Needs::Nothing,
    run: echo_many_messages,
};

fn echo_many_messages(target: &Target) -> Result<(), Failure> {
    let mut conn = Conn::open(target.addr)?;
    for message in [&b"one\n"[..], b"two\n", b"three\n", b"four\n", b"five\n"] {
        echo(&mut conn, message)?;
    }
    Ok(())
}

pub(crate) const ECHO_EVERY_BYTE_VALUE: Check = Check {
    name: "echo_every_byte_value",
    proves: "all 256 byte values come back unchanged, not only text",
    rule: Rule::Stage(ECHO_RULE),
    since: 4,
    hint: "Echo bytes, not text: do not decode, trim or add line endings (book: Part 4).",
    needs: Needs::Nothing,
    run: echo_every_byte_value,
};

fn echo_every_byte_value(target: &Target) -> Result<(), Failure> {
    let every_byte: Vec<u8> = (0..=255).collect();
    let mut conn = Conn::open(target.addr)?;
    echo(&mut conn, &every_byte)
}

pub(crate) const ECHO_LARGE_MESSAGE: Check = Check {
    name: "echo_large_message",
    proves: "64 KiB sent at once come back whole, whatever the size of one read",
    rule: Rule::Stage(ECHO_RULE),
    since: 4,
    hint: "One read returns at most what it asks for; send back every byte of every read, with a loop that sends all (book: Part 4).",
    needs: Needs::Nothing,
    run: echo_large_message,
};

fn echo_large_message(target: &Target) -> Result<(), Failure> {
    let message: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
    let mut conn = Conn::open(target.addr)?;
    // 64 KiB fits in the socket buffers on the way there and back, so
    // sending it all before reading cannot block both sides.
    echo(&mut conn, &message)
}

pub(crate) const ECHO_UNTIL_CLIENT_CLOSES: Check = Check {
    name: "echo_until_client_closes",
    proves: "when the client closes its side, the server closes too",
    rule: Rule::Stage(ECHO_RULE),
    since: 4,
    hint: "A read of zero bytes means the client closed: close the socket and end the loop (book: Part 4, step 2).",
    needs: Needs::Nothing,
    run: echo_until_client_closes,
};

fn echo_until_client_closes(target: &Target) -> Result<(), Failure> {
    let mut conn = Conn::open(target.addr)?;
    echo(&mut conn, b"bye\n")?;
    conn.finish_sending();
    conn.read_to_close(IO_TIMEOUT)
}

pub(crate) const ECHO_CLIENTS_IN_PARALLEL: Check = Check {
    name: "echo_clients_in_parallel",
    proves: "a second client is echoed while the first is still connected",
    rule: Rule::Stage(ECHO_RULE),
    since: 4,
    hint: "Serve each client on a thread of its own (book: Part 4, step 3).",
    needs: Needs::Nothing,
    run: echo_clients_in_parallel,
};

fn echo_clients_in_parallel(target: &Target) -> Result<(), Failure> {
    let mut first = Conn::open(target.addr)?;
    echo(&mut first, b"first\n")?;
    // The first client stays connected. A server that serves one client at
    // a time never reads from the second.
    let mut second = Conn::open(target.addr)?;
    echo(&mut second, b"second\n").map_err(|mut failure| {
        failure.expected = format!("{} while another client is connected", failure.expected);
        failure
    })?;
    echo(&mut first, b"first again\n")
}

pub(crate) const ECHO_TRANSCRIPT: Check = Check {
    name: "echo_transcript",
    proves: "the server's log reads as the post's: socket established, Received b'…', socket closed",
    rule: Rule::Stage(ECHO_RULE),
    since: 4,
    hint: "Print `Socket established with <address>.`, `Received <bytes>` per read and `Socket with <address> closed.` (book: Part 4, Try it).",
    needs: Needs::Log,
    run: echo_transcript,
};

fn echo_transcript(target: &Target) -> Result<(), Failure> {
    let (lines, me) = echo_and_read_log(target, &[b"hello\n"])?;
    let expected = [
        format!("Socket established with {me}."),
        r"Received b'hello\n'".to_string(),
        format!("Socket with {me} closed."),
    ];
    if lines != expected {
        return Err(Failure {
            expected: format!("this transcript:\n{}", expected.join("\n")),
            sent: b"hello\n".to_vec(),
            received: lines.join("\n").into_bytes(),
            see: None,
        });
    }
    Ok(())
}

/// Echoes `messages` one after the other on a new connection, closes it,
/// and returns what the server logged for it (or, if that does not come
/// in time, its whole log), with our side's address, which the log names.
pub(crate) fn echo_and_read_log(
    target: &Target,
    messages: &[&[u8]],
) -> Result<(Vec<String>, SocketAddr), Failure> {
    let Some(log) = &target.log else {
        return Err(Failure::new("the server's log"));
    };
    let mut conn = Conn::open(target.addr)?;
    for message in messages {
        echo(&mut conn, message)?;
    }
    conn.finish_sending();
    conn.read_to_close(IO_TIMEOUT)?;
    let Some(me) = conn.local_addr() else {
        return Err(Failure::new("to know our own address"));
    };
    let lines = log
        .connection(me, IO_TIMEOUT)
        .unwrap_or_else(|| log.lines());
    Ok((lines, me))
}
