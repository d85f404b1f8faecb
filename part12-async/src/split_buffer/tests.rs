//! The split buffer's unit tests: the post's own, and the promises of
//! `split_buffer.rs` (each byte searched once, popped bytes dropped).

use super::*;

/// The post's buffer test.
#[test]
fn the_posts_test() {
    let mut buffer = SplitBuffer::new();
    buffer.feed_data(b"abc,");
    buffer.feed_data(b"defg");
    buffer.feed_data(b",hi,");
    assert_eq!(buffer.pop(b','), Some(&b"abc"[..]));
    assert_eq!(buffer.pop(b','), Some(&b"defg"[..]));
    buffer.feed_data(b",jkl");
    assert_eq!(buffer.pop(b','), Some(&b"hi"[..]));
    assert_eq!(buffer.pop(b','), Some(&b""[..]));
    assert_eq!(buffer.pop(b','), None);
    assert_eq!(buffer.flush(), b"jkl");
    assert!(buffer.is_empty());
    assert_eq!(buffer.flush(), b"");
}

#[test]
fn a_line_end_in_a_later_piece_is_found() {
    let mut buffer = SplitBuffer::new();
    buffer.feed_data(b"GET / HTTP/1.1\r");
    assert_eq!(buffer.pop(b'\n'), None);
    buffer.feed_data(b"\nHost: x\r");
    assert_eq!(buffer.pop(b'\n'), Some(&b"GET / HTTP/1.1\r"[..]));
    assert_eq!(buffer.pop(b'\n'), None);
    buffer.feed_data(b"\n");
    assert_eq!(buffer.pop(b'\n'), Some(&b"Host: x\r"[..]));
    assert_eq!(buffer.pop(b'\n'), None);
    assert_eq!(buffer.len(), 0);
}

#[test]
fn another_separator_searches_from_the_start_again() {
    let mut buffer = SplitBuffer::new();
    buffer.feed_data(b"a,b;c");
    assert_eq!(buffer.pop(b'!'), None);
    assert_eq!(buffer.pop(b';'), Some(&b"a,b"[..]));
    buffer.feed_data(b",d");
    assert_eq!(buffer.pop(b','), Some(&b"c"[..]));
    assert_eq!(buffer.flush(), b"d");
}

/// Each byte is searched once: after a search in vain, the next one
/// starts where it stopped, not at the beginning of the line.
#[test]
fn a_long_line_in_small_pieces_is_searched_once() {
    let mut buffer = SplitBuffer::new();
    for _ in 0..1000 {
        buffer.feed_data(b"0123456789abcdef");
        assert_eq!(buffer.pop(b'\n'), None);
        assert_eq!(buffer.scanned, buffer.bytes.len());
    }
    buffer.feed_data(b"\n");
    assert_eq!(buffer.pop(b'\n').map(<[u8]>::len), Some(16_000));
}

/// Popped bytes are dropped from the front once they are at least half
/// of the buffer: the buffer does not grow with what it has handed out.
#[test]
fn popped_bytes_are_dropped() {
    let mut buffer = SplitBuffer::new();
    for _ in 0..10_000 {
        buffer.feed_data(b"a line\n");
        assert_eq!(buffer.pop(b'\n'), Some(&b"a line"[..]));
        assert!(buffer.bytes.len() <= 2 * b"a line\n".len());
    }
}
