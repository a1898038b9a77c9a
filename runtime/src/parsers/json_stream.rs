//! Incremental JSON parsing with LangChain's partial semantics, in linear time.
//!
//! LangChain's streaming `JsonOutputParser` re-parses the whole accumulated
//! text after every chunk with `parse_partial_json` and emits the result when
//! it differs from the previous one, which costs O(n²) over a document.
//! [`JsonStreamParser`] is a resumable tokenizer that looks at each input byte
//! a bounded number of times and emits the *same sequence of values*: after
//! each chunk, its value is what
//! [`parse_json_markdown`](crate::python::partial_json::parse_json_markdown) would
//! return for the text so far, and it emits exactly when LangChain would
//! (`parsed is not None and parsed != prev_parsed`, with Python's equality:
//! `1 == 1.0`, key order ignored).
//!
//! What a partial document shows, as in LangChain:
//!
//! * open arrays and objects are shown closed: `[{"name":` is `[{}]`;
//! * a partial string is shown as far as it goes, without trailing white space
//!   or backticks (LangChain strips the whole text), and disappears while a
//!   `\u` escape is incomplete;
//! * a partial number is shown as its longest valid prefix (`1.5e-` is `1.5`,
//!   `-` is nothing);
//! * an incomplete key, a key without a value and an incomplete `true` /
//!   `false` / `null` are not shown, and neither is their key;
//! * a leading ```` ```json ```` (or ```` ``` ````) fence, backticks and white
//!   space are skipped, as is text before a fence; after the value, white
//!   space and backticks may follow, and anything after a closing
//!   ```` ``` ````.
//!
//! Because values are compared with Python's `==`, a number that only changes
//! type is not emitted again: `[1.0]` streamed a character at a time emits
//! `[]` and `[1]`, as in LangChain. [`finish`](JsonStreamParser::finish) returns the document as
//! written (`[1.0]`).
//!
//! # Differences from LangChain
//!
//! * Invalid JSON is an [`ErrorKind::InvalidInput`] error with its line and
//!   column, as soon as it is seen, and [`finish`](JsonStreamParser::finish)
//!   requires a complete document. LangChain silently stops emitting and
//!   returns whatever prefix parses.
//! * Raw control characters inside strings are accepted, as by Python's
//!   `json.loads(strict=False)`; nesting deeper than 1,024 levels is an error.
//! * The limits of [`partial_json`](crate::python::partial_json): no `NaN` or
//!   `Infinity`, integers beyond 64 bits become floats, lone surrogates become
//!   U+FFFD, no `"action_input"` workaround.
//! * Text before a fence is skipped unless it starts like a JSON value (a
//!   digit, `-`, a quote or a bracket), in which case it is read as JSON.
//!   When that text holds an unmatched `]` or `}`, LangChain shows nothing at
//!   all; this parser still reads the fenced value.
//!
//! # Cost
//!
//! Each input byte is looked at a bounded number of times, and string
//! contents are copied once, into storage that the values share. Values are
//! handed out as [`PartialValue`]s, which share everything already complete
//! with the parser and with earlier values: a value costs O(depth) to build
//! and to compare with the previous one, not a copy of the document. Three
//! things cost more, and only in unusual documents: a number that is still
//! being read is parsed again at each chunk that extends it (O(its length)), a
//! string that ends in an unpaired `\ud800`-style escape is copied when shown,
//! and once an object repeats a key, its versions are compared member by
//! member.

use std::borrow::Borrow;
use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Number;

use crate::error::{Error, ErrorKind, Result};
use crate::python::partial_json::{is_markdown_strip, number_value, py_isspace, simple_escape};
use crate::value::Chunk;

/// Nesting deeper than this is rejected (Python's `json` gives up near 1,000 too).
const MAX_DEPTH: usize = 1024;

/// A process-wide unique, non-zero id for an array or object being parsed:
/// values from different parsers must never look like one lineage.
fn new_frame_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

// ---------------------------------------------------------------------------
// Shared text

/// Bytes that a single [`TextWriter`] appends to and that any number of
/// [`Text`]s read.
///
/// Invariant: a byte is written at most once, by the writer that created the
/// block, and only at offsets at or past its `written` mark; every `Text`
/// covers bytes below the mark at the time it was made. Readers and the writer
/// therefore never touch the same byte concurrently.
struct Block {
    bytes: Box<[UnsafeCell<u8>]>,
}

// SAFETY: see the invariant above. Written bytes are immutable, and the only
// writes go to bytes that no other thread can observe yet.
unsafe impl Sync for Block {}

impl Block {
    fn new(capacity: usize) -> Arc<Block> {
        let bytes: Box<[u8]> = vec![0u8; capacity].into_boxed_slice();
        // SAFETY: `UnsafeCell<u8>` has the same in-memory representation as `u8`.
        let bytes = unsafe { Box::from_raw(Box::into_raw(bytes) as *mut [UnsafeCell<u8>]) };
        Arc::new(Block { bytes })
    }

    fn ptr(&self) -> *mut u8 {
        UnsafeCell::raw_get(self.bytes.as_ptr())
    }
}

/// An immutable string that shares its storage with the parser's buffer: a
/// partial string can be handed out after every chunk without being copied.
#[derive(Clone)]
struct Text {
    block: Arc<Block>,
    start: usize,
    len: usize,
}

impl Text {
    fn new(s: &str) -> Text {
        let mut w = TextWriter::with_capacity(s.len());
        w.push(s);
        w.view(s.len())
    }

    fn as_str(&self) -> &str {
        // SAFETY: the range was written with whole UTF-8 characters before
        // this `Text` was made, and is never written again (see `Block`).
        unsafe {
            let bytes = std::slice::from_raw_parts(self.block.ptr().add(self.start), self.len);
            std::str::from_utf8_unchecked(bytes)
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
struct TextWriter {
    block: Arc<Block>,
    capacity: usize,
    written: usize,
    start: usize,
}

impl TextWriter {
    fn with_capacity(capacity: usize) -> Self {
        TextWriter {
            block: Block::new(capacity),
            capacity,
            written: 0,
            start: 0,
        }
    }

    /// Starts a new open string.
    fn begin(&mut self) {
        self.start = self.written;
    }

    fn open_len(&self) -> usize {
        self.written - self.start
    }

    fn push(&mut self, s: &str) {
        if self.written + s.len() > self.capacity {
            // Earlier strings keep the old block alive; only the open string moves.
            let open = self.open_len();
            let capacity = (2 * (open + s.len())).max((2 * self.capacity).clamp(256, 1 << 16));
            let block = Block::new(capacity);
            // SAFETY: the source bytes are written and immutable; the new block
            // is not shared with anyone yet.
            unsafe { std::ptr::copy_nonoverlapping(self.block.ptr().add(self.start), block.ptr(), open) };
            *self = TextWriter {
                block,
                capacity,
                written: open,
                start: 0,
            };
        }
        // SAFETY: `written + len <= capacity`, and no `Text` covers bytes at or
        // past `written` (see `Block`).
        unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), self.block.ptr().add(self.written), s.len()) };
        self.written += s.len();
    }

    fn push_char(&mut self, c: char) {
        self.push(c.encode_utf8(&mut [0; 4]));
    }

    /// The open string so far.
    fn content(&self) -> &str {
        self.view_str(self.open_len())
    }

    fn view_str(&self, len: usize) -> &str {
        debug_assert!(len <= self.open_len());
        // SAFETY: as in `Text::as_str`; the bytes below `written` are complete
        // characters and `len` is cut at a character boundary by the callers.
        unsafe {
            let bytes = std::slice::from_raw_parts(self.block.ptr().add(self.start), len);
            std::str::from_utf8_unchecked(bytes)
        }
    }

    /// The first `len` bytes of the open string, shared.
    fn view(&self, len: usize) -> Text {
        debug_assert!(len <= self.open_len());
        Text {
            block: self.block.clone(),
            start: self.start,
            len,
        }
    }
}

// ---------------------------------------------------------------------------
// Persistent vectors

/// Children per trie node, and the most elements a tail holds.
const WIDTH: usize = 32;
const BITS: u32 = 5;

#[derive(Clone)]
enum TrieNode<T> {
    Leaf(Vec<T>),
    Branch(Vec<Arc<TrieNode<T>>>),
}

/// An append-mostly persistent vector (a 32-way trie of full leaves, plus a
/// tail of up to 32 elements). Cloning shares everything; pushing onto a
/// vector whose tail is shared copies that tail (at most 32 elements) and, once
/// per 32 pushes, a path of the trie. Small arrays and objects, the common
/// case, are just one shared tail.
struct PVec<T> {
    len: usize,
    /// Level of the root: 0 when it is a leaf, +5 per branch level.
    shift: u32,
    root: Option<Arc<TrieNode<T>>>,
    tail: Arc<Vec<T>>,
}

impl<T> Clone for PVec<T> {
    fn clone(&self) -> Self {
        PVec {
            len: self.len,
            shift: self.shift,
            root: self.root.clone(),
            tail: self.tail.clone(),
        }
    }
}

impl<T: Clone> PVec<T> {
    fn new() -> Self {
        PVec {
            len: 0,
            shift: 0,
            root: None,
            tail: Arc::new(Vec::new()),
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Number of elements in the trie (the tail follows them).
    fn trie_len(&self) -> usize {
        self.len - self.tail.len()
    }

    /// The leaf holding element `i` (< `trie_len`).
    fn leaf(&self, i: usize) -> &[T] {
        let mut node = self.root.as_deref();
        let mut shift = self.shift;
        while let Some(n) = node {
            match n {
                TrieNode::Leaf(items) => return items,
                TrieNode::Branch(children) => {
                    node = children.get((i >> shift) & (WIDTH - 1)).map(|c| &**c);
                    shift = shift.saturating_sub(BITS);
                }
            }
        }
        &[]
    }

    fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            None
        } else if i >= self.trie_len() {
            self.tail.get(i - self.trie_len())
        } else {
            self.leaf(i).get(i & (WIDTH - 1))
        }
    }

    fn iter(&self) -> PVecIter<'_, T> {
        PVecIter {
            vec: self,
            slice: &[],
            next: 0,
        }
    }

    fn push(&mut self, value: T) {
        if self.tail.len() == WIDTH {
            let full = std::mem::replace(&mut self.tail, Arc::new(Vec::with_capacity(4)));
            let full = Arc::try_unwrap(full).unwrap_or_else(|shared| (*shared).clone());
            self.push_leaf(full);
        }
        if Arc::get_mut(&mut self.tail).is_none() {
            // Shared with a value handed out: copy it, with room to grow.
            let mut tail = Vec::with_capacity((self.tail.len() + 1).next_power_of_two().min(WIDTH));
            tail.extend_from_slice(&self.tail);
            self.tail = Arc::new(tail);
        }
        Arc::make_mut(&mut self.tail).push(value);
        self.len += 1;
    }

    fn push_leaf(&mut self, leaf: Vec<T>) {
        let at = self.trie_len() - leaf.len();
        let leaf = Arc::new(TrieNode::Leaf(leaf));
        self.root = Some(match self.root.take() {
            None => leaf,
            Some(root) if at == WIDTH << self.shift => {
                let path = Self::path(self.shift, leaf);
                self.shift += BITS;
                Arc::new(TrieNode::Branch(vec![root, path]))
            }
            Some(mut root) => {
                Self::insert(&mut root, self.shift, at, leaf);
                root
            }
        });
    }

    /// Branches down to `leaf`, for a subtree at level `shift`.
    fn path(shift: u32, leaf: Arc<TrieNode<T>>) -> Arc<TrieNode<T>> {
        if shift == 0 {
            leaf
        } else {
            Arc::new(TrieNode::Branch(vec![Self::path(shift - BITS, leaf)]))
        }
    }

    fn insert(node: &mut Arc<TrieNode<T>>, shift: u32, at: usize, leaf: Arc<TrieNode<T>>) {
        if let TrieNode::Branch(children) = Arc::make_mut(node) {
            let slot = (at >> shift) & (WIDTH - 1);
            match children.get_mut(slot) {
                Some(child) if shift > BITS => Self::insert(child, shift - BITS, at, leaf),
                _ => children.push(Self::path(shift - BITS, leaf)),
            }
        }
    }

    fn set(&mut self, i: usize, value: T) {
        let trie_len = self.trie_len();
        if i >= trie_len {
            if let Some(slot) = Arc::make_mut(&mut self.tail).get_mut(i - trie_len) {
                *slot = value;
            }
        } else if let Some(root) = &mut self.root {
            Self::set_in(root, self.shift, i, value);
        }
    }

    fn set_in(node: &mut Arc<TrieNode<T>>, shift: u32, i: usize, value: T) {
        match Arc::make_mut(node) {
            TrieNode::Leaf(items) => {
                if let Some(slot) = items.get_mut(i & (WIDTH - 1)) {
                    *slot = value;
                }
            }
            TrieNode::Branch(children) => {
                if let Some(child) = children.get_mut((i >> shift) & (WIDTH - 1)) {
                    Self::set_in(child, shift.saturating_sub(BITS), i, value);
                }
            }
        }
    }
}

impl<T: Clone> FromIterator<T> for PVec<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut v = PVec::new();
        for x in iter {
            v.push(x);
        }
        v
    }
}

/// The elements of a [`PVec`], a leaf at a time.
struct PVecIter<'a, T> {
    vec: &'a PVec<T>,
    slice: &'a [T],
    /// Index of the first element after `slice`.
    next: usize,
}

impl<'a, T: Clone> Iterator for PVecIter<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        loop {
            if let Some((first, rest)) = self.slice.split_first() {
                self.slice = rest;
                return Some(first);
            }
            if self.next >= self.vec.len {
                return None;
            }
            self.slice = if self.next < self.vec.trie_len() {
                self.vec.leaf(self.next)
            } else {
                &self.vec.tail
            };
            self.next += self.slice.len().max(1);
        }
    }
}

// ---------------------------------------------------------------------------
// PartialValue

/// A JSON value, possibly a partial one, as [`JsonStreamParser`] hands it out.
///
/// It exists because a streaming parser emits thousands of growing versions of
/// one document: as `serde_json::Value`s, each would be a deep copy of
/// everything parsed so far, which is quadratic again. A `PartialValue` shares
/// every completed array, object and string with the parser and with the
/// versions emitted before it (persistent vectors and reference-counted
/// nodes); only the path from the root to the value being read is new in each
/// version. Cloning is cheap.
///
/// It serializes to exactly the JSON of the value (object keys in document
/// order; for a repeated key, the first position and the last value, as a
/// Python dict), converts to a [`serde_json::Value`] with
/// [`to_json`](Self::to_json), and compares as JSON values do (`1` and `1.0`
/// differ, key order does not matter).
///
/// ```
/// use runwright::parsers::json_stream::JsonStreamParser;
///
/// let mut p = JsonStreamParser::new();
/// let v = p.push(r#"{"name": "Fr"#).unwrap().unwrap();
/// assert_eq!(v.get("name").and_then(|n| n.as_str()), Some("Fr"));
/// assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"name":"Fr"}"#);
/// ```
#[derive(Clone)]
pub struct PartialValue(Node);

#[derive(Clone)]
enum Node {
    Null,
    Bool(bool),
    Number(Number),
    String(Text),
    Array(Arc<ArrayNode>),
    Object(Arc<ObjectNode>),
}

/// `items`, then `tail` if any. `frame` (non-zero) names the parser frame the
/// items come from: two nodes of the same frame agree on their common prefix
/// of `items`, which lets comparisons skip it.
struct ArrayNode {
    items: PVec<PartialValue>,
    tail: Option<PartialValue>,
    frame: u64,
}

/// `entries`, with `tail` replacing the entry at `tail.at` or appended.
/// `frame` as for [`ArrayNode`], zero once a repeated key rewrote an entry.
struct ObjectNode {
    entries: PVec<(Text, PartialValue)>,
    tail: Option<ObjectTail>,
    frame: u64,
}

struct ObjectTail {
    key: Text,
    value: PartialValue,
    at: Option<usize>,
}

impl ArrayNode {
    fn len(&self) -> usize {
        self.items.len() + usize::from(self.tail.is_some())
    }

    fn get(&self, i: usize) -> Option<&PartialValue> {
        if i < self.items.len() {
            self.items.get(i)
        } else if i == self.items.len() {
            self.tail.as_ref()
        } else {
            None
        }
    }
}

impl ObjectNode {
    fn len(&self) -> usize {
        let appended = matches!(&self.tail, Some(t) if t.at.is_none());
        self.entries.len() + usize::from(appended)
    }

    fn iter(&self) -> Members<'_> {
        Members {
            node: Some(self),
            entries: Some(self.entries.iter()),
            index: 0,
        }
    }

    /// Entries from position `from` on, in order.
    fn rest(&self, from: usize) -> impl Iterator<Item = (&str, &PartialValue)> {
        let replaced = self.tail.as_ref().and_then(|t| t.at);
        let appended = self.tail.as_ref().filter(|t| t.at.is_none());
        (from..self.entries.len())
            .filter_map(move |i| {
                let (k, v) = self.entries.get(i)?;
                match (replaced, &self.tail) {
                    (Some(at), Some(t)) if at == i => Some((k.as_str(), &t.value)),
                    _ => Some((k.as_str(), v)),
                }
            })
            .chain(appended.map(|t| (t.key.as_str(), &t.value)))
    }
}

/// The elements of an array [`PartialValue`], in order.
pub struct Elements<'a> {
    node: Option<&'a ArrayNode>,
    items: Option<PVecIter<'a, PartialValue>>,
}

impl<'a> Iterator for Elements<'a> {
    type Item = &'a PartialValue;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(v) = self.items.as_mut().and_then(Iterator::next) {
            return Some(v);
        }
        self.items = None;
        self.node.take().and_then(|n| n.tail.as_ref())
    }
}

/// The members of an object [`PartialValue`], in document order.
pub struct Members<'a> {
    node: Option<&'a ObjectNode>,
    entries: Option<PVecIter<'a, (Text, PartialValue)>>,
    index: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, &'a PartialValue);

    fn next(&mut self) -> Option<Self::Item> {
        let node = self.node?;
        if let Some((k, v)) = self.entries.as_mut().and_then(Iterator::next) {
            let i = self.index;
            self.index += 1;
            return match &node.tail {
                Some(t) if t.at == Some(i) => Some((k.as_str(), &t.value)),
                _ => Some((k.as_str(), v)),
            };
        }
        self.node = None;
        self.entries = None;
        match &node.tail {
            Some(t) if t.at.is_none() => Some((t.key.as_str(), &t.value)),
            _ => None,
        }
    }
}

impl PartialValue {
    /// The JSON `null`.
    pub const NULL: PartialValue = PartialValue(Node::Null);

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.0, Node::Null)
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.0 {
            Node::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_number(&self) -> Option<&Number> {
        match &self.0 {
            Node::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Node::String(t) => Some(t.as_str()),
            _ => None,
        }
    }

    /// Whether this is an array.
    pub fn is_array(&self) -> bool {
        matches!(self.0, Node::Array(_))
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self.0, Node::Object(_))
    }

    /// The number of elements of an array or members of an object; 0 otherwise.
    pub fn len(&self) -> usize {
        match &self.0 {
            Node::Array(a) => a.len(),
            Node::Object(o) => o.len(),
            _ => 0,
        }
    }

    /// Whether [`len`](Self::len) is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element at `index` of an array.
    pub fn get_index(&self, index: usize) -> Option<&PartialValue> {
        match &self.0 {
            Node::Array(a) => a.get(index),
            _ => None,
        }
    }

    /// The member `key` of an object (a linear search).
    pub fn get(&self, key: &str) -> Option<&PartialValue> {
        self.members().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The elements of an array; nothing for other values.
    pub fn elements(&self) -> Elements<'_> {
        match &self.0 {
            Node::Array(a) => Elements {
                node: Some(a),
                items: Some(a.items.iter()),
            },
            _ => Elements {
                node: None,
                items: None,
            },
        }
    }

    /// The members of an object, in document order; nothing for other values.
    pub fn members(&self) -> Members<'_> {
        match &self.0 {
            Node::Object(o) => o.iter(),
            _ => Members {
                node: None,
                entries: None,
                index: 0,
            },
        }
    }

    /// The value as a [`serde_json::Value`] (a deep copy).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.0 {
            Node::Null => J::Null,
            Node::Bool(b) => J::Bool(*b),
            Node::Number(n) => J::Number(n.clone()),
            Node::String(t) => J::String(t.as_str().to_owned()),
            Node::Array(_) => J::Array(self.elements().map(PartialValue::to_json).collect()),
            Node::Object(_) => J::Object(self.members().map(|(k, v)| (k.to_owned(), v.to_json())).collect()),
        }
    }

    fn string(t: Text) -> Self {
        PartialValue(Node::String(t))
    }
}

impl From<&serde_json::Value> for PartialValue {
    fn from(v: &serde_json::Value) -> Self {
        use serde_json::Value as J;
        PartialValue(match v {
            J::Null => Node::Null,
            J::Bool(b) => Node::Bool(*b),
            J::Number(n) => Node::Number(n.clone()),
            J::String(s) => Node::String(Text::new(s)),
            J::Array(a) => Node::Array(Arc::new(ArrayNode {
                items: a.iter().map(PartialValue::from).collect(),
                tail: None,
                frame: 0,
            })),
            J::Object(o) => Node::Object(Arc::new(ObjectNode {
                entries: o.iter().map(|(k, v)| (Text::new(k), PartialValue::from(v))).collect(),
                tail: None,
                frame: 0,
            })),
        })
    }
}

impl From<serde_json::Value> for PartialValue {
    fn from(v: serde_json::Value) -> Self {
        PartialValue::from(&v)
    }
}

impl From<PartialValue> for serde_json::Value {
    fn from(v: PartialValue) -> Self {
        v.to_json()
    }
}

impl From<&PartialValue> for serde_json::Value {
    fn from(v: &PartialValue) -> Self {
        v.to_json()
    }
}

impl Serialize for PartialValue {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match &self.0 {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Number(n) => n.serialize(s),
            Node::String(t) => s.serialize_str(t.as_str()),
            Node::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in self.elements() {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Node::Object(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, v) in self.members() {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl fmt::Debug for PartialValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The compact JSON text of the value.
impl fmt::Display for PartialValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// Equal as JSON values: same numbers (`1` is not `1.0`), same members
/// whatever their order.
impl PartialEq for PartialValue {
    fn eq(&self, other: &Self) -> bool {
        values_eq(self, other, EqMode::Json)
    }
}

/// A streamed value is a snapshot: the last one wins.
impl Chunk for PartialValue {}

#[derive(Clone, Copy, PartialEq)]
enum EqMode {
    /// `serde_json::Value`'s equality.
    Json,
    /// Python's `==` on what `json.loads` returns: `True == 1 == 1.0`.
    Python,
}

fn values_eq(a: &PartialValue, b: &PartialValue, mode: EqMode) -> bool {
    match (&a.0, &b.0) {
        (Node::Null, Node::Null) => true,
        (Node::String(x), Node::String(y)) => x.as_str() == y.as_str(),
        (Node::Array(x), Node::Array(y)) => Arc::ptr_eq(x, y) || arrays_eq(x, y, mode),
        (Node::Object(x), Node::Object(y)) => Arc::ptr_eq(x, y) || objects_eq(x, y, mode),
        (Node::Bool(x), Node::Bool(y)) => x == y,
        (Node::Number(x), Node::Number(y)) => match mode {
            EqMode::Json => x == y,
            EqMode::Python => py_numbers_eq(x, y),
        },
        (Node::Bool(x), Node::Number(y)) | (Node::Number(y), Node::Bool(x)) => {
            mode == EqMode::Python && py_numbers_eq(&Number::from(u8::from(*x)), y)
        }
        _ => false,
    }
}

/// Python compares an int and a float exactly, not by rounding the int.
fn py_numbers_eq(x: &Number, y: &Number) -> bool {
    fn int(n: &Number) -> Option<i128> {
        n.as_u64().map(i128::from).or_else(|| n.as_i64().map(i128::from))
    }
    fn int_float_eq(i: i128, f: Option<f64>) -> bool {
        f.is_some_and(|f| f.fract() == 0.0 && f.abs() < 1.7e38 && f as i128 == i)
    }
    match (int(x), int(y)) {
        (Some(a), Some(b)) => a == b,
        (None, None) => x.as_f64() == y.as_f64(),
        (Some(i), None) => int_float_eq(i, y.as_f64()),
        (None, Some(i)) => int_float_eq(i, x.as_f64()),
    }
}

fn arrays_eq(a: &ArrayNode, b: &ArrayNode, mode: EqMode) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if a.frame != 0 && a.frame == b.frame {
        // Same frame: the common prefix of `items` is the same values.
        if a.items.len() == b.items.len() {
            return match (&a.tail, &b.tail) {
                (Some(x), Some(y)) => values_eq(x, y, mode),
                _ => true,
            };
        }
        let shared = a.items.len().min(b.items.len());
        return (shared..n).all(|i| match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => values_eq(x, y, mode),
            _ => false,
        });
    }
    let ea = a.items.iter().chain(a.tail.as_ref());
    let eb = b.items.iter().chain(b.tail.as_ref());
    ea.zip(eb).all(|(x, y)| values_eq(x, y, mode))
}

fn objects_eq(a: &ObjectNode, b: &ObjectNode, mode: EqMode) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let replaces = |o: &ObjectNode| o.tail.as_ref().is_some_and(|t| t.at.is_some());
    let same_frame = a.frame != 0 && a.frame == b.frame && !replaces(a) && !replaces(b);
    if same_frame && a.entries.len() == b.entries.len() {
        return match (&a.tail, &b.tail) {
            (Some(x), Some(y)) => x.key == y.key && values_eq(&x.value, &y.value, mode),
            _ => true,
        };
    }
    let shared = if same_frame {
        // Same frame without repeated keys: the common prefix is the same
        // members, and the rest (at most two) has keys outside it.
        a.entries.len().min(b.entries.len())
    } else {
        0
    };
    if a.len() - shared <= 8 {
        return a
            .rest(shared)
            .all(|(k, x)| b.rest(shared).any(|(kb, y)| kb == k && values_eq(x, y, mode)));
    }
    let index: HashMap<&str, &PartialValue> = b.rest(shared).collect();
    a.rest(shared)
        .all(|(k, x)| index.get(k).is_some_and(|y| values_eq(x, y, mode)))
}

// ---------------------------------------------------------------------------
// The parser

/// A streaming JSON parser that yields what LangChain's `JsonOutputParser`
/// yields in streaming mode, in linear time (see the [module docs](self)).
///
/// Feed it the text as it arrives with [`push`](Self::push); each call returns
/// the new partial value when it changed. [`finish`](Self::finish) checks that
/// the document is complete and returns it.
///
/// ```
/// use runwright::parsers::json_stream::JsonStreamParser;
/// use serde_json::json;
///
/// let mut p = JsonStreamParser::new();
/// let mut seen = Vec::new();
/// for chunk in ["```json\n{\"countries\":", " [{\"name\":", " \"Fra", "nce\"", "}]}\n```"] {
///     if let Some(v) = p.push(chunk)? {
///         seen.push(v.to_json());
///     }
/// }
/// assert_eq!(seen, [json!({}), json!({"countries": [{}]}), json!({"countries": [{"name": "Fra"}]}),
///                   json!({"countries": [{"name": "France"}]})]);
/// assert_eq!(p.finish()?, json!({"countries": [{"name": "France"}]}));
/// # Ok::<(), runwright::Error>(())
/// ```
pub struct JsonStreamParser {
    mode: Mode,
    stack: Vec<Frame>,
    token: Token,
    root: Option<PartialValue>,
    text: TextWriter,
    number: String,
    /// Something visible may have changed since the last comparison.
    touched: bool,
    /// A ``` fence was seen before the value.
    fenced: bool,
    last: Option<PartialValue>,
    /// Newlines so far, and characters since the last one.
    line: usize,
    column: usize,
    error: Option<Error>,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    /// Skipping leading white space (`str.strip()`).
    Start,
    /// Skipping leading `" \n\r\t`"`; `backticks` in a row, and the number of
    /// characters since the first ```` ``` ```` if there was one.
    Lead {
        backticks: u8,
        after_fence: Option<usize>,
    },
    /// Text that is not JSON: looking for a ```` ``` ```` fence.
    Prose {
        backticks: u8,
    },
    /// After a fence: matched this many letters of `json`.
    Tag(u8),
    /// After a fence and its tag: skipping `" \n\r\t`"`.
    BodyLead,
    Body,
    /// After the value: white space and backticks.
    After {
        backticks: u8,
    },
    /// After a closing fence: the rest is ignored.
    Closed,
}

enum Frame {
    Array(ArrayFrame),
    Object(ObjectFrame),
}

struct ArrayFrame {
    id: u64,
    items: PVec<PartialValue>,
    expect: ArrayExpect,
}

#[derive(Clone, Copy, PartialEq)]
enum ArrayExpect {
    ItemOrEnd,
    Item,
    CommaOrEnd,
}

struct ObjectFrame {
    id: u64,
    entries: PVec<(Text, PartialValue)>,
    /// Key -> position, built once the object is large.
    index: Option<HashMap<Text, usize>>,
    /// A repeated key rewrote an entry.
    rewritten: bool,
    /// The key whose value is being read, and its entry if it is repeated.
    key: Option<Text>,
    key_at: Option<usize>,
    expect: ObjectExpect,
}

#[derive(Clone, Copy, PartialEq)]
enum ObjectExpect {
    KeyOrEnd,
    Key,
    Colon,
    Value,
    CommaOrEnd,
}

impl ObjectFrame {
    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.entries.iter().position(|(k, _)| k.as_str() == key),
        }
    }

    /// Python dict semantics: a repeated key keeps its place, takes the new
    /// value. `at` is the key's entry, if it has one.
    // A `Text` hashes its bytes, which never change once written.
    #[allow(clippy::mutable_key_type)]
    fn insert(&mut self, key: Text, at: Option<usize>, value: PartialValue) {
        if let Some(at) = at {
            self.entries.set(at, (key, value));
            self.rewritten = true;
            return;
        }
        let at = self.entries.len();
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), at);
        }
        self.entries.push((key, value));
        if self.index.is_none() && self.entries.len() > 16 {
            let index = self
                .entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i))
                .collect();
            self.index = Some(index);
        }
    }
}

impl Frame {
    fn into_value(self) -> PartialValue {
        match self {
            Frame::Array(a) => PartialValue(Node::Array(Arc::new(ArrayNode {
                items: a.items,
                tail: None,
                frame: a.id,
            }))),
            Frame::Object(o) => PartialValue(Node::Object(Arc::new(ObjectNode {
                entries: o.entries,
                tail: None,
                frame: if o.rewritten { 0 } else { o.id },
            }))),
        }
    }

    /// The frame as shown, with `child` as the value being read.
    fn snapshot(&self, child: Option<PartialValue>) -> PartialValue {
        match self {
            Frame::Array(a) => PartialValue(Node::Array(Arc::new(ArrayNode {
                items: a.items.clone(),
                tail: child,
                frame: a.id,
            }))),
            Frame::Object(o) => {
                let tail = match (&o.key, child) {
                    (Some(key), Some(value)) => Some(ObjectTail {
                        key: key.clone(),
                        value,
                        at: o.key_at,
                    }),
                    _ => None,
                };
                PartialValue(Node::Object(Arc::new(ObjectNode {
                    entries: o.entries.clone(),
                    tail,
                    frame: if o.rewritten { 0 } else { o.id },
                })))
            }
        }
    }
}

enum Token {
    None,
    Str(StrToken),
    Number(NumberToken),
    Literal(LiteralToken),
}

struct StrToken {
    key: bool,
    escape: Escape,
    /// A decoded high surrogate waiting for its low half.
    high: Option<u32>,
    trim: Trim,
}

#[derive(Clone, Copy, PartialEq)]
enum Escape {
    None,
    Backslash,
    Unicode { digits: u8, code: u32 },
}

/// How many bytes at the end of the open string LangChain's stripping of the
/// whole text would remove: `str.strip()` (Python white space, `r1`), then
/// `strip(" \n\r\t`")` (`r2`). `run` is the length of the trailing run of
/// `" \n\r\t`"` characters.
#[derive(Clone, Copy, Default)]
struct Trim {
    r1: usize,
    r2: usize,
    run: usize,
}

impl Trim {
    fn total(self) -> usize {
        self.r1 + self.r2
    }

    fn step(&mut self, c: char) {
        let n = c.len_utf8();
        if py_isspace(c) {
            if self.r1 == 0 {
                self.r2 = self.run;
            }
            self.r1 += n;
            self.run = if is_markdown_strip(c) { self.run + n } else { 0 };
        } else if c == '`' {
            self.r1 = 0;
            self.run += n;
            self.r2 = self.run;
        } else {
            *self = Trim::default();
        }
    }

    /// Steps over `s`, looking only at its trailing run of strippable characters.
    fn extend(&mut self, s: &str) {
        let strippable = |c: char| c == '`' || py_isspace(c);
        let keep = s.trim_end_matches(strippable).len();
        if keep > 0 {
            *self = Trim::default();
        }
        for c in s[keep..].chars() {
            self.step(c);
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum NumberState {
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    Exp,
    ExpSign,
    ExpDigits,
}

struct NumberToken {
    state: NumberState,
    /// Length of the longest valid prefix, and whether it is a float.
    valid: usize,
    float: bool,
}

struct LiteralToken {
    word: &'static str,
    matched: usize,
}

/// A syntax error: where in the chunk, and what.
struct Fail {
    at: usize,
    message: String,
}

fn fail<T>(at: usize, message: impl Into<String>) -> std::result::Result<T, Fail> {
    Err(Fail {
        at,
        message: message.into(),
    })
}

fn describe(c: Option<char>) -> String {
    match c {
        Some(c) if c.is_control() || c.is_whitespace() => format!("{c:?}"),
        Some(c) => format!("'{c}'"),
        None => "end of input".into(),
    }
}

fn starts_value(c: char) -> bool {
    matches!(c, '{' | '[' | '"' | '-' | '0'..='9' | 't' | 'f' | 'n')
}

impl Default for JsonStreamParser {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for JsonStreamParser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonStreamParser")
            .field("mode", &self.mode)
            .field("depth", &self.stack.len())
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

impl JsonStreamParser {
    /// A parser at the start of a document.
    pub fn new() -> Self {
        JsonStreamParser {
            mode: Mode::Start,
            stack: Vec::new(),
            token: Token::None,
            root: None,
            text: TextWriter::with_capacity(256),
            number: String::new(),
            touched: false,
            fenced: false,
            last: None,
            line: 0,
            column: 0,
            error: None,
        }
    }

    /// Feeds the next piece of text. Returns the value shown after it when it
    /// differs (by Python's `==`) from the last one returned; `None` when it
    /// does not, or when nothing is shown yet.
    ///
    /// An error (kind [`ErrorKind::InvalidInput`], with line and column) means
    /// the text cannot be the start of a JSON document; every later call
    /// returns it again.
    pub fn push(&mut self, chunk: &str) -> Result<Option<PartialValue>> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if let Err(f) = self.feed(chunk) {
            let (line, column) = self.advanced(&chunk[..f.at]);
            let e = Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "invalid JSON at line {}, column {}: {}",
                    line + 1,
                    column + 1,
                    f.message
                ),
            );
            self.error = Some(e.clone());
            return Err(e);
        }
        (self.line, self.column) = self.advanced(chunk);
        if !std::mem::take(&mut self.touched) {
            return Ok(None);
        }
        match self.peek() {
            Some(v) if !v.is_null() => {
                if self
                    .last
                    .as_ref()
                    .is_some_and(|last| values_eq(last, &v, EqMode::Python))
                {
                    return Ok(None);
                }
                self.last = Some(v.clone());
                Ok(Some(v))
            }
            _ => Ok(None),
        }
    }

    /// The value shown for the text so far, whether or not it was returned
    /// by [`push`](Self::push): what `parse_json_markdown` gives for it.
    /// `None` while nothing is shown. Costs O(depth).
    pub fn peek(&self) -> Option<PartialValue> {
        if let Some(root) = &self.root {
            return Some(root.clone());
        }
        if self.mode != Mode::Body {
            return None;
        }
        let mut shown = self.token_shown();
        for frame in self.stack.iter().rev() {
            shown = Some(frame.snapshot(shown));
        }
        shown
    }

    /// The last value [`push`](Self::push) returned.
    pub fn last(&self) -> Option<&PartialValue> {
        self.last.as_ref()
    }

    /// Ends the document and returns it. The text must hold one complete JSON
    /// value (see the [module docs](self) for what may surround it);
    /// otherwise the error (kind [`ErrorKind::InvalidInput`]) says what is
    /// missing and where the text ends.
    pub fn finish(self) -> Result<serde_json::Value> {
        self.finish_partial().map(|v| v.to_json())
    }

    /// [`finish`](Self::finish), returning the document as a [`PartialValue`],
    /// which shares its parts with the values returned before (no copy).
    pub fn finish_partial(mut self) -> Result<PartialValue> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.mode == Mode::Body && self.stack.is_empty() {
            if let Token::Number(n) = &self.token {
                if matches!(
                    n.state,
                    NumberState::Zero | NumberState::Int | NumberState::Frac | NumberState::ExpDigits
                ) {
                    if let Err(f) = self.end_number(0) {
                        return Err(self.end_error(&f.message));
                    }
                }
            }
        }
        if let Some(root) = self.root.take() {
            return Ok(root);
        }
        let what = match self.mode {
            Mode::Start | Mode::Lead { .. } => "no JSON value in the text".to_string(),
            Mode::Prose { .. } => "the text is not JSON and has no ``` fence".to_string(),
            Mode::Tag(_) | Mode::BodyLead => "no JSON value after the ``` fence".to_string(),
            _ => {
                let inner = match &self.token {
                    Token::Str(s) if s.key => "unterminated object key",
                    Token::Str(_) => "unterminated string",
                    Token::Number(n) if n.valid != self.number.len() => "incomplete number",
                    Token::Literal(_) => "incomplete literal",
                    Token::None | Token::Number(_) => match self.stack.last() {
                        Some(Frame::Array(_)) => "unclosed array",
                        Some(Frame::Object(_)) => "unclosed object",
                        None => "no JSON value",
                    },
                };
                format!("unexpected end of JSON: {inner}")
            }
        };
        Err(self.end_error(&what))
    }

    fn end_error(&self, what: &str) -> Error {
        Error::new(
            ErrorKind::InvalidInput,
            format!(
                "invalid JSON at line {}, column {}: {what}",
                self.line + 1,
                self.column + 1
            ),
        )
    }

    /// (line, column) after `s`, both 0-based.
    fn advanced(&self, s: &str) -> (usize, usize) {
        let (mut line, mut column) = (self.line, self.column);
        for b in s.bytes() {
            if b == b'\n' {
                line += 1;
                column = 0;
            } else if b & 0xc0 != 0x80 {
                column += 1;
            }
        }
        (line, column)
    }

    fn token_shown(&self) -> Option<PartialValue> {
        match &self.token {
            Token::Str(s) if !s.key => {
                if let Escape::Unicode { .. } = s.escape {
                    return None;
                }
                if s.high.is_some() {
                    let mut owned = self.text.content().to_owned();
                    owned.push(char::REPLACEMENT_CHARACTER);
                    return Some(PartialValue::string(Text::new(&owned)));
                }
                Some(PartialValue::string(
                    self.text.view(self.text.open_len() - s.trim.total()),
                ))
            }
            Token::Number(n) if n.valid > 0 => {
                number_value(&self.number[..n.valid], n.float).map(|n| PartialValue(Node::Number(n)))
            }
            _ => None,
        }
    }

    fn feed(&mut self, s: &str) -> std::result::Result<(), Fail> {
        let mut i = 0;
        while i < s.len() {
            i = match self.mode {
                Mode::Body => self.body(s, i)?,
                Mode::Closed => s.len(),
                _ => self.outside(s, i)?,
            };
        }
        Ok(())
    }

    /// One character around the JSON value (fences, white space, prose).
    fn outside(&mut self, s: &str, i: usize) -> std::result::Result<usize, Fail> {
        let Some(c) = s[i..].chars().next() else {
            return Ok(s.len());
        };
        let next = i + c.len_utf8();
        match self.mode {
            Mode::Start => {
                if py_isspace(c) {
                    return Ok(next);
                }
                self.mode = Mode::Lead {
                    backticks: 0,
                    after_fence: None,
                };
                Ok(i)
            }
            Mode::Lead { backticks, after_fence } => {
                if is_markdown_strip(c) {
                    let backticks = if c == '`' { backticks.saturating_add(1) } else { 0 };
                    let after_fence = match after_fence {
                        Some(n) => Some(n + 1),
                        None if backticks == 3 => Some(0),
                        None => None,
                    };
                    self.fenced |= after_fence.is_some();
                    self.mode = Mode::Lead { backticks, after_fence };
                    return Ok(next);
                }
                if starts_value(c) {
                    self.mode = Mode::Body;
                    return Ok(i);
                }
                match after_fence {
                    Some(0) if c == 'j' => self.mode = Mode::Tag(1),
                    Some(_) => {
                        return fail(
                            i,
                            format!("expected a JSON value after the ``` fence, found {}", describe(Some(c))),
                        )
                    }
                    None => self.mode = Mode::Prose { backticks: 0 },
                }
                Ok(next)
            }
            Mode::Prose { backticks } => {
                self.mode = match c {
                    '`' if backticks == 2 => {
                        self.fenced = true;
                        Mode::Tag(0)
                    }
                    '`' => Mode::Prose {
                        backticks: backticks + 1,
                    },
                    _ => Mode::Prose { backticks: 0 },
                };
                Ok(next)
            }
            Mode::Tag(n) => {
                if n < 4 && c == ['j', 's', 'o', 'n'][usize::from(n)] {
                    self.mode = if n == 3 { Mode::BodyLead } else { Mode::Tag(n + 1) };
                    return Ok(next);
                }
                if n == 0 {
                    self.mode = Mode::BodyLead;
                    return Ok(i);
                }
                fail(
                    i,
                    format!(
                        "expected `json` or a new line after the ``` fence, found {}",
                        describe(Some(c))
                    ),
                )
            }
            Mode::BodyLead => {
                if is_markdown_strip(c) {
                    return Ok(next);
                }
                if starts_value(c) {
                    self.mode = Mode::Body;
                    return Ok(i);
                }
                fail(i, format!("expected a JSON value, found {}", describe(Some(c))))
            }
            Mode::After { backticks } => {
                if c == '`' {
                    self.mode = if backticks == 2 {
                        Mode::Closed
                    } else {
                        Mode::After {
                            backticks: backticks + 1,
                        }
                    };
                    return Ok(next);
                }
                if py_isspace(c) {
                    self.mode = Mode::After { backticks: 0 };
                    return Ok(next);
                }
                fail(i, format!("unexpected {} after the JSON value", describe(Some(c))))
            }
            Mode::Body | Mode::Closed => Ok(i),
        }
    }

    /// Reads the JSON value, from byte `i`, until the chunk or the value ends.
    fn body(&mut self, s: &str, mut i: usize) -> std::result::Result<usize, Fail> {
        let b = s.as_bytes();
        while i < b.len() {
            if self.mode != Mode::Body {
                return Ok(i);
            }
            i = match &self.token {
                Token::Str(_) => self.string(s, i)?,
                Token::Number(_) => self.number(s, i)?,
                Token::Literal(_) => self.literal(s, i)?,
                Token::None => self.structure(s, i)?,
            };
        }
        Ok(i)
    }

    fn structure(&mut self, s: &str, i: usize) -> std::result::Result<usize, Fail> {
        let c = s.as_bytes()[i];
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            return Ok(i + 1);
        }
        let found = || describe(s[i..].chars().next());
        match self.stack.last_mut() {
            None => self.value_start(s, i),
            Some(Frame::Array(a)) => match (a.expect, c) {
                (ArrayExpect::ItemOrEnd | ArrayExpect::CommaOrEnd, b']') => self.close(i),
                (ArrayExpect::CommaOrEnd, b',') => {
                    a.expect = ArrayExpect::Item;
                    Ok(i + 1)
                }
                (ArrayExpect::CommaOrEnd, _) => fail(
                    i,
                    format!("expected ',' or ']' after an array element, found {}", found()),
                ),
                _ => self.value_start(s, i),
            },
            Some(Frame::Object(o)) => match (o.expect, c) {
                (ObjectExpect::KeyOrEnd | ObjectExpect::CommaOrEnd, b'}') => self.close(i),
                (ObjectExpect::KeyOrEnd | ObjectExpect::Key, b'"') => {
                    self.text.begin();
                    self.token = Token::Str(StrToken {
                        key: true,
                        escape: Escape::None,
                        high: None,
                        trim: Trim::default(),
                    });
                    Ok(i + 1)
                }
                (ObjectExpect::KeyOrEnd | ObjectExpect::Key, _) => {
                    fail(i, format!("expected a string key in an object, found {}", found()))
                }
                (ObjectExpect::Colon, b':') => {
                    o.expect = ObjectExpect::Value;
                    Ok(i + 1)
                }
                (ObjectExpect::Colon, _) => fail(i, format!("expected ':' after an object key, found {}", found())),
                (ObjectExpect::CommaOrEnd, b',') => {
                    o.expect = ObjectExpect::Key;
                    Ok(i + 1)
                }
                (ObjectExpect::CommaOrEnd, _) => fail(
                    i,
                    format!("expected ',' or '}}' after an object member, found {}", found()),
                ),
                (ObjectExpect::Value, _) => self.value_start(s, i),
            },
        }
    }

    fn value_start(&mut self, s: &str, i: usize) -> std::result::Result<usize, Fail> {
        let c = s.as_bytes()[i];
        if matches!(c, b'{' | b'[') && self.stack.len() >= MAX_DEPTH {
            return fail(i, format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        self.touched = true;
        match c {
            b'"' => {
                self.text.begin();
                self.token = Token::Str(StrToken {
                    key: false,
                    escape: Escape::None,
                    high: None,
                    trim: Trim::default(),
                });
            }
            b'[' => {
                self.stack.push(Frame::Array(ArrayFrame {
                    id: new_frame_id(),
                    items: PVec::new(),
                    expect: ArrayExpect::ItemOrEnd,
                }));
            }
            b'{' => {
                self.stack.push(Frame::Object(ObjectFrame {
                    id: new_frame_id(),
                    entries: PVec::new(),
                    index: None,
                    rewritten: false,
                    key: None,
                    key_at: None,
                    expect: ObjectExpect::KeyOrEnd,
                }));
            }
            b'-' | b'0'..=b'9' => {
                self.number.clear();
                self.number.push(char::from(c));
                let (state, valid) = match c {
                    b'-' => (NumberState::Minus, 0),
                    b'0' => (NumberState::Zero, 1),
                    _ => (NumberState::Int, 1),
                };
                self.token = Token::Number(NumberToken {
                    state,
                    valid,
                    float: false,
                });
            }
            b't' => {
                self.token = Token::Literal(LiteralToken {
                    word: "true",
                    matched: 1,
                })
            }
            b'f' => {
                self.token = Token::Literal(LiteralToken {
                    word: "false",
                    matched: 1,
                })
            }
            b'n' => {
                self.token = Token::Literal(LiteralToken {
                    word: "null",
                    matched: 1,
                })
            }
            _ => {
                return fail(
                    i,
                    format!("expected a JSON value, found {}", describe(s[i..].chars().next())),
                )
            }
        }
        Ok(i + 1)
    }

    /// A complete value goes to its parent (or becomes the document).
    fn value_done(&mut self, v: PartialValue) {
        match self.stack.last_mut() {
            None => {
                self.root = Some(v);
                self.mode = Mode::After { backticks: 0 };
            }
            Some(Frame::Array(a)) => {
                a.items.push(v);
                a.expect = ArrayExpect::CommaOrEnd;
            }
            Some(Frame::Object(o)) => {
                if let Some(key) = o.key.take() {
                    let at = o.key_at.take();
                    o.insert(key, at, v);
                }
                o.expect = ObjectExpect::CommaOrEnd;
            }
        }
    }

    fn close(&mut self, i: usize) -> std::result::Result<usize, Fail> {
        if let Some(frame) = self.stack.pop() {
            self.value_done(frame.into_value());
        }
        Ok(i + 1)
    }

    fn string(&mut self, s: &str, mut i: usize) -> std::result::Result<usize, Fail> {
        let b = s.as_bytes();
        let Token::Str(tok) = &mut self.token else { return Ok(i) };
        if !tok.key {
            self.touched = true;
        }
        loop {
            if i >= b.len() {
                return Ok(i);
            }
            match tok.escape {
                Escape::Backslash => {
                    if b[i] == b'u' {
                        tok.escape = Escape::Unicode { digits: 0, code: 0 };
                    } else if let Some(c) = simple_escape(b[i]) {
                        if tok.high.take().is_some() {
                            self.text.push_char(char::REPLACEMENT_CHARACTER);
                        }
                        self.text.push_char(c);
                        tok.escape = Escape::None;
                    } else {
                        return fail(
                            i,
                            format!(
                                "invalid escape '\\{}' in a string",
                                s[i..].chars().next().unwrap_or(' ')
                            ),
                        );
                    }
                    i += 1;
                }
                Escape::Unicode { digits, code } => {
                    let Some(d) = char::from(b[i]).to_digit(16) else {
                        return fail(
                            i,
                            format!(
                                "invalid \\u escape: expected a hex digit, found {}",
                                describe(s[i..].chars().next())
                            ),
                        );
                    };
                    let code = code * 16 + d;
                    i += 1;
                    if digits < 3 {
                        tok.escape = Escape::Unicode {
                            digits: digits + 1,
                            code,
                        };
                        continue;
                    }
                    tok.escape = Escape::None;
                    if let Some(high) = tok.high.take() {
                        if (0xdc00..0xe000).contains(&code) {
                            let joined = 0x10000 + ((high - 0xd800) << 10) + (code - 0xdc00);
                            self.text
                                .push_char(char::from_u32(joined).unwrap_or(char::REPLACEMENT_CHARACTER));
                            continue;
                        }
                        self.text.push_char(char::REPLACEMENT_CHARACTER);
                    }
                    if (0xd800..0xdc00).contains(&code) {
                        tok.high = Some(code);
                    } else {
                        self.text
                            .push_char(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                    }
                }
                Escape::None => {
                    let end = memchr::memchr2(b'"', b'\\', &b[i..]).map_or(b.len(), |n| i + n);
                    if end > i {
                        if tok.high.take().is_some() {
                            self.text.push_char(char::REPLACEMENT_CHARACTER);
                        }
                        self.text.push(&s[i..end]);
                        tok.trim.extend(&s[i..end]);
                    }
                    i = end;
                    if i >= b.len() {
                        return Ok(i);
                    }
                    tok.trim = Trim::default();
                    if b[i] == b'\\' {
                        tok.escape = Escape::Backslash;
                        i += 1;
                        continue;
                    }
                    if tok.high.take().is_some() {
                        self.text.push_char(char::REPLACEMENT_CHARACTER);
                    }
                    let key = tok.key;
                    let text = self.text.view(self.text.open_len());
                    self.token = Token::None;
                    if key {
                        if let Some(Frame::Object(o)) = self.stack.last_mut() {
                            o.key_at = o.position(text.as_str());
                            o.key = Some(text);
                            o.expect = ObjectExpect::Colon;
                        }
                    } else {
                        self.value_done(PartialValue::string(text));
                    }
                    return Ok(i + 1);
                }
            }
        }
    }

    fn number(&mut self, s: &str, mut i: usize) -> std::result::Result<usize, Fail> {
        let b = s.as_bytes();
        let Token::Number(tok) = &mut self.token else {
            return Ok(i);
        };
        let start = i;
        while i < b.len() {
            use NumberState::*;
            let c = b[i];
            let next = match (tok.state, c) {
                (Minus, b'0') => Zero,
                (Minus, b'1'..=b'9') | (Int, b'0'..=b'9') => Int,
                (Zero | Int, b'.') => Dot,
                (Dot | Frac, b'0'..=b'9') => Frac,
                (Zero | Int | Frac, b'e' | b'E') => Exp,
                (Exp, b'+' | b'-') => ExpSign,
                (Exp | ExpSign | ExpDigits, b'0'..=b'9') => ExpDigits,
                _ => break,
            };
            tok.state = next;
            i += 1;
            if matches!(next, Zero | Int | Frac | ExpDigits) {
                tok.valid = self.number.len() + (i - start);
                tok.float = matches!(next, Frac | ExpDigits);
                self.touched = true;
            }
        }
        self.number.push_str(&s[start..i]);
        if i < b.len() {
            self.end_number(i)?;
        }
        Ok(i)
    }

    fn end_number(&mut self, at: usize) -> std::result::Result<(), Fail> {
        let Token::Number(tok) = &self.token else { return Ok(()) };
        if tok.valid != self.number.len() {
            return fail(at, format!("incomplete number '{}'", self.number));
        }
        let Some(n) = number_value(&self.number, tok.float) else {
            return fail(at, format!("number '{}' is out of range", self.number));
        };
        self.token = Token::None;
        self.value_done(PartialValue(Node::Number(n)));
        Ok(())
    }

    fn literal(&mut self, s: &str, mut i: usize) -> std::result::Result<usize, Fail> {
        let b = s.as_bytes();
        let Token::Literal(tok) = &mut self.token else {
            return Ok(i);
        };
        while i < b.len() && tok.matched < tok.word.len() {
            if b[i] != tok.word.as_bytes()[tok.matched] {
                if self.stack.is_empty() && !self.fenced {
                    // Text that merely starts like `true`/`false`/`null`: as
                    // LangChain, look for a fence further on.
                    self.token = Token::None;
                    self.mode = Mode::Prose { backticks: 0 };
                    return Ok(i);
                }
                return fail(
                    i,
                    format!(
                        "invalid literal: expected `{}`, found {}",
                        tok.word,
                        describe(s[i..].chars().next())
                    ),
                );
            }
            tok.matched += 1;
            i += 1;
        }
        if tok.matched == tok.word.len() {
            let v = match tok.word {
                "true" => Node::Bool(true),
                "false" => Node::Bool(false),
                _ => Node::Null,
            };
            self.token = Token::None;
            self.touched = true;
            self.value_done(PartialValue(v));
        }
        Ok(i)
    }
}

#[cfg(test)]
mod tests;
