//! The post's `SplitBuffer`: bytes go in as they arrive, and come out again
//! cut at a separator, such as the end of a line.
//!
//! The post's buffer joins everything it holds and splits it again on every
//! call, which costs time in proportion to the square of a line that arrives
//! in small pieces. This one looks at each byte once, and moves bytes only
//! when that is paid for, so its work grows in proportion to the bytes fed,
//! however they are cut.

// ANCHOR: split_buffer
/// A byte buffer that is fed at one end and popped, one piece at a time, at
/// the other.
///
/// After feeding `abc,defg,hijk`, popping `abc` and `defg`, and a third
/// `pop(b',')` that found nothing:
///
/// ```text
/// bytes:   a b c , d e f g , h i j k
///                            ^       ^
///                        start       scanned (here also bytes.len())
/// ```
///
/// Everything before `start` was popped already; it stays in the `Vec` only
/// until moving the rest to the front is cheap enough (see `feed_data`).
/// Between `start` and `scanned` is a stretch already searched in vain for
/// the separator, which the next search skips.
#[derive(Debug, Default)]
pub struct SplitBuffer {
    bytes: Vec<u8>,
    /// Where the bytes not yet popped begin.
    start: usize,
    /// Where the next search begins: no `separator` between `start` and here.
    scanned: usize,
    /// The separator the last search looked for. A search for another one
    /// starts again at `start`.
    separator: u8,
}
// ANCHOR_END: split_buffer

impl SplitBuffer {
    /// An empty buffer (the same as `SplitBuffer::default()`).
    pub fn new() -> Self {
        Self::default()
    }

    // ANCHOR: feed_data
    /// Appends `data` after the bytes already buffered.
    pub fn feed_data(&mut self, data: &[u8]) {
        // Popping only moves `start`; the popped bytes are still at the front
        // of the `Vec`. Once they are at least as many as the bytes still
        // waiting, move the waiting bytes to the front (`drain` does that).
        // The bytes moved are never more than the bytes dropped, and every
        // byte is dropped once, so this costs at most one move per byte fed.
        // (Compacting on every call would move a long unfinished line again
        // on every call: the original's quadratic cost by another road.)
        if self.start > 0 && self.start >= self.len() {
            self.bytes.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        self.bytes.extend_from_slice(data);
    }
    // ANCHOR_END: feed_data

    // ANCHOR: pop
    /// Returns the bytes before the first `separator`, and removes them and
    /// the separator from the buffer; or `None` when no separator is buffered
    /// yet, which means "feed me more", not an error.
    ///
    /// The answer is a slice borrowed from the buffer, not a copy: the
    /// borrow checker makes sure it is used before the buffer is fed again.
    pub fn pop(&mut self, separator: u8) -> Option<&[u8]> {
        if separator != self.separator {
            self.separator = separator;
            self.scanned = self.start;
        }
        // Python's `bytes.find`, on the part not searched yet. `memchr` is
        // `iter().position(|&b| b == separator)`, many bytes at a time.
        match memchr::memchr(separator, &self.bytes[self.scanned..]) {
            Some(offset) => {
                let end = self.scanned + offset;
                let piece = self.start..end;
                self.start = end + 1;
                self.scanned = self.start;
                Some(&self.bytes[piece])
            }
            None => {
                // Remember how far we looked: the next search starts there.
                self.scanned = self.bytes.len();
                None
            }
        }
    }
    // ANCHOR_END: pop

    /// Returns everything buffered, and empties the buffer.
    pub fn flush(&mut self) -> &[u8] {
        let rest = self.start..self.bytes.len();
        self.start = self.bytes.len();
        self.scanned = self.start;
        &self.bytes[rest]
    }

    /// How many bytes are buffered (fed and not yet popped).
    pub fn len(&self) -> usize {
        self.bytes.len() - self.start
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

// The unit tests, in `split_buffer/tests.rs`.
#[cfg(test)]
mod tests;
