//! The exercises of the echo stage (part 4).

use std::time::Duration;

use super::{EXERCISE_RULE, Exercise};
use crate::checks::part4::{echo, echo_and_read_log};
use crate::client::{Conn, Failure, IO_TIMEOUT, shown};
use crate::{Check, Needs, Rule, Target};

/// How long a client that must wait its turn has to go unanswered.
const WAITS_AT_LEAST: Duration = Duration::from_millis(500);

pub const EXERCISES: &[Exercise] = &[
    Exercise {
        name: "quit_command",
        stage: "part4-tcp-echo",
        task: "a client that sends the line `quit` gets `bye` back, and is let go",
        server_args: &[],
        changes: &[],
        checks: &[Check {
            name: "quit_says_bye",
            proves: "the line `quit`, ended by \\n or \\r\\n, is answered `bye\\n` and the connection closed; other lines are still echoed",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 4,
            hint: "Compare the bytes received, line end trimmed, with b\"quit\"; then send b\"bye\\n\" and leave the loop (book: Part 4, exercise 1).",
            needs: Needs::Nothing,
            run: quit_says_bye,
        }],
    },
    Exercise {
        name: "message_counter",
        stage: "part4-tcp-echo",
        task: "the log line of a closing connection says how many messages it carried",
        server_args: &[],
        changes: &[(
            "echo_transcript",
            "its last line is the one this exercise changes",
        )],
        checks: &[Check {
            name: "messages_counted_in_log",
            proves: "after three messages, the log says `Socket with <address> closed after 3 messages.`",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 4,
            hint: "Keep a count in a `let mut` before the loop, add one per message received, and put it in the last log line (book: Part 4, exercise 2).",
            needs: Needs::Log,
            run: messages_counted_in_log,
        }],
    },
    Exercise {
        name: "max_clients",
        stage: "part4-tcp-echo",
        task: "`--max-clients N` serves at most N clients at once; the next ones wait their turn",
        server_args: &["--max-clients", "1"],
        changes: &[(
            "echo_clients_in_parallel",
            "it keeps two clients connected at once, which --max-clients 1 forbids",
        )],
        checks: &[Check {
            name: "max_clients_wait_their_turn",
            proves: "with --max-clients 1, a second client is not echoed while the first is connected, and is once the first leaves",
            rule: Rule::Stage(EXERCISE_RULE),
            since: 4,
            hint: "Start the server with --max-clients 1. Before accepting a client, wait until fewer than N are being served; a client's thread gives its place back when it ends (book: Part 4, exercise 3).",
            needs: Needs::Nothing,
            run: max_clients_wait_their_turn,
        }],
    },
];

fn quit_says_bye(target: &Target) -> Result<(), Failure> {
    for quit in [&b"quit\n"[..], b"quit\r\n"] {
        let mut conn = Conn::open(target.addr)?;
        echo(&mut conn, b"hello\n")?;
        let before = conn.received().len();
        conn.send(quit)?;
        // Four bytes come back either way, `bye\n` or `quit`: judge them
        // before waiting for the close, so an echo fails at once.
        let bye = b"bye\n";
        let _ = conn.read_until_length(before + bye.len(), IO_TIMEOUT);
        if !conn.received()[before..].starts_with(bye) {
            return Err(conn.fail(format!("{} in answer to {}", shown(bye), shown(quit))));
        }
        conn.read_to_close(IO_TIMEOUT)?;
        if &conn.received()[before..] != bye {
            return Err(conn.fail(format!("nothing after {}, then a close", shown(bye))));
        }
    }
    Ok(())
}

fn messages_counted_in_log(target: &Target) -> Result<(), Failure> {
    let messages = [&b"one\n"[..], b"two\n", b"three\n"];
    let (lines, me) = echo_and_read_log(target, &messages)?;
    let expected = format!("Socket with {me} closed after 3 messages.");
    if lines.last() != Some(&expected) {
        return Err(Failure {
            expected: format!("the connection's log to end with: {expected}"),
            sent: messages.concat(),
            received: lines.join("\n").into_bytes(),
            see: None,
        });
    }
    Ok(())
}

fn max_clients_wait_their_turn(target: &Target) -> Result<(), Failure> {
    let mut first = Conn::open(target.addr)?;
    echo(&mut first, b"first\n")?;
    // The second client gets in (the system accepts it into the listen
    // backlog), but must not be served yet.
    let mut second = Conn::open(target.addr)?;
    let message = b"second\n";
    second.send(message)?;
    second.expect_silence(WAITS_AT_LEAST, "while the first client is still connected")?;
    first.finish_sending();
    first.read_to_close(IO_TIMEOUT)?;
    let back = second.read_until_length(message.len(), IO_TIMEOUT);
    if back.is_err() || second.received() != message {
        return Err(second.fail(format!(
            "{} back once the first client left",
            shown(message)
        )));
    }
    Ok(())
}
