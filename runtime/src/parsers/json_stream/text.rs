//! Shared text storage: the decoded strings of a document, written once and
//! then read by any number of values, on any thread. This file holds all the
//! `unsafe` code of the JSON stream parser, and its privacy is the safety
//! boundary: the fields below are private to it, so code outside can only
//! append strings and take views that this file checks.
//!
//! A [`TextWriter`] appends the strings of a document to a block of bytes; a
//! [`Text`] is a read-only view of a range of a block. Handing out the string
//! being read after every chunk is then an `Arc` clone and two integers, not
//! a copy of the string.
//!
//! # Safety
//!
//! A block's bytes are `UnsafeCell<u8>`s that the writer fills in place while
//! `Text`s of the same block are read, possibly on other threads. This is
//! sound because of three invariants, kept by this file alone:
//!
//! 1. A block has one writer: the `TextWriter` that created it. Blocks are
//!    only created by `TextWriter`s, and a writer neither is `Clone` nor hands
//!    its block out except inside a `Text`, which cannot write.
//! 2. A writer writes only at or past its `written` mark, which only grows,
//!    and every `Text` covers bytes below the mark at the time it was made. So
//!    a byte a `Text` reads is never written again: readers and the writer
//!    never touch the same byte, and there is no data race.
//! 3. The bytes between the writer's `start` and `written` marks are valid
//!    UTF-8: the writer appends whole `&str`s only, and `begin` moves `start`
//!    to `written`. A `Text` is cut from them only at a character boundary,
//!    which [`TextWriter::view`] asserts, whatever length its caller computed.
//!
//! The writer takes every range of its block by slice indexing, which checks
//! the bounds: a wrong offset panics instead of reading or writing outside the
//! block. A `Text` is checked once, when [`TextWriter::view`] cuts it, and its
//! fields never change afterwards, so [`Text::as_str`], on the hot path of
//! value comparisons, does not check again. Bytes are zeroed when a block is
//! made, so none is ever read uninitialized.

use std::borrow::Borrow;
use std::cell::UnsafeCell;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Bytes that one [`TextWriter`] appends to and that any number of [`Text`]s
/// read (see the invariants in the module docs).
struct Block {
    bytes: Box<[UnsafeCell<u8>]>,
}

// SAFETY: threads share a block as the module docs describe: a byte is written
// by the block's single writer (invariant 1) before any `Text` covers it, and
// never after (invariant 2), so no byte is written while another thread reads
// it. (`Send` needs no impl: `UnsafeCell<u8>` is `Send`.)
unsafe impl Sync for Block {}

impl Block {
    fn new(capacity: usize) -> Arc<Block> {
        let bytes: Box<[u8]> = vec![0u8; capacity].into_boxed_slice();
        // SAFETY: `UnsafeCell<u8>` is `repr(transparent)` over `u8`: the
        // cast keeps the length and the layout, so the `Box` frees the
        // allocation with the layout it was made with.
        let bytes = unsafe { Box::from_raw(Box::into_raw(bytes) as *mut [UnsafeCell<u8>]) };
        Arc::new(Block { bytes })
    }
}

/// The cells as a string.
///
/// # Safety
///
/// The cells must hold valid UTF-8 and must not be written while the string
/// is borrowed.
unsafe fn cells_as_str(cells: &[UnsafeCell<u8>]) -> &str {
    // SAFETY: `UnsafeCell<u8>` has the layout of `u8`, so the pointer and
    // length describe `cells.len()` initialized bytes; the caller guarantees
    // that they are UTF-8 and not written for the returned lifetime.
    unsafe {
        let bytes = std::slice::from_raw_parts(UnsafeCell::raw_get(cells.as_ptr()).cast_const(), cells.len());
        std::str::from_utf8_unchecked(bytes)
    }
}

/// An immutable string that shares its storage with the parser's buffer: a
/// partial string can be handed out after every chunk without being copied.
#[derive(Clone)]
pub(super) struct Text {
    block: Arc<Block>,
    start: usize,
    len: usize,
}

impl Text {
    /// A text of its own holding `s`.
    pub(super) fn new(s: &str) -> Text {
        let mut w = TextWriter::with_capacity(s.len());
        w.push(s);
        w.view(s.len())
    }

    // Not bounds-checked again (see the module docs): bounds checks here cost
    // about 1% more instructions in the `json_parser` benchmark.
    #[inline]
    pub(super) fn as_str(&self) -> &str {
        debug_assert!(self.start + self.len <= self.block.bytes.len());
        // SAFETY: only `TextWriter::view` makes a `Text` (a clone copies one,
        // and the fields never change): it asserted that `len` is a character
        // boundary of the open string `bytes[start..written]`, a range that
        // `content` took by checked indexing. So `start..start + len` lies in
        // the block, holds UTF-8 (invariant 3), and, being below the writer's
        // `written` mark, is never written again (invariant 2).
        unsafe {
            let cells = self.block.bytes.get_unchecked(self.start..self.start + self.len);
            cells_as_str(cells)
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

/// Appends the decoded strings of a document to shared blocks. The string
/// being read ("open") always sits at the end of the current block.
pub(super) struct TextWriter {
    block: Arc<Block>,
    /// The length of the block; indexing checks it again.
    capacity: usize,
    /// Bytes of the block written so far; no byte below is written again.
    written: usize,
    /// Where the open string starts (at most `written`).
    start: usize,
}

impl TextWriter {
    pub(super) fn with_capacity(capacity: usize) -> Self {
        TextWriter {
            block: Block::new(capacity),
            capacity,
            written: 0,
            start: 0,
        }
    }

    /// Starts a new open string.
    #[inline]
    pub(super) fn begin(&mut self) {
        self.start = self.written;
    }

    #[inline]
    pub(super) fn open_len(&self) -> usize {
        self.written - self.start
    }

    #[inline]
    pub(super) fn push(&mut self, s: &str) {
        if self.written + s.len() > self.capacity {
            self.grow(s.len());
        }
        let end = self.written + s.len();
        let dst = &self.block.bytes[self.written..end];
        // SAFETY: `dst` lies at or past the `written` mark, so no `Text`
        // covers it (invariant 2) and nothing reads it; this writer is the
        // block's only one (invariant 1), and `&mut self` excludes a second
        // write through it. `s` does not overlap `dst`: a `&str` into a block
        // only covers bytes below a `written` mark. Appending a whole `&str`
        // keeps the open string UTF-8 (invariant 3).
        unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), UnsafeCell::raw_get(dst.as_ptr()), s.len()) };
        self.written = end;
    }

    /// Moves the open string to a new block with room for `additional` more
    /// bytes. Earlier strings keep the old block alive.
    #[cold]
    fn grow(&mut self, additional: usize) {
        let open = self.open_len();
        let capacity = (2 * (open + additional)).max((2 * self.capacity).clamp(256, 1 << 16));
        let mut grown = TextWriter::with_capacity(capacity);
        grown.push(self.content());
        *self = grown;
    }

    pub(super) fn push_char(&mut self, c: char) {
        self.push(c.encode_utf8(&mut [0; 4]));
    }

    /// The open string so far.
    #[inline]
    pub(super) fn content(&self) -> &str {
        let cells = &self.block.bytes[self.start..self.written];
        // SAFETY: the open string is UTF-8 (invariant 3), and it is not
        // written while borrowed: writes take `&mut self` and go past
        // `written` (invariant 2).
        unsafe { cells_as_str(cells) }
    }

    /// The first `len` bytes of the open string, shared.
    ///
    /// Panics unless `len` is at most [`open_len`](Self::open_len) and falls
    /// on a character boundary: [`Text::as_str`] relies on both.
    #[inline]
    pub(super) fn view(&self, len: usize) -> Text {
        assert!(
            self.content().is_char_boundary(len),
            "a text view must end on a character boundary of the open string"
        );
        Text {
            block: self.block.clone(),
            start: self.start,
            len,
        }
    }
}
