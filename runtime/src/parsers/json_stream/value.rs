//! [`PartialValue`], the values the parser hands out: JSON values whose
//! completed parts are shared with the parser and with the earlier versions
//! of the same document, and their equality (JSON's, and Python's for
//! deciding when LangChain would emit).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Number;

use super::pvec::{PVec, PVecIter};
use super::text::Text;
use crate::value::Chunk;

/// A JSON value, possibly a partial one, as
/// [`JsonStreamParser`](super::JsonStreamParser) hands it out.
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
pub struct PartialValue(pub(super) Node);

#[derive(Clone)]
pub(super) enum Node {
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
pub(super) struct ArrayNode {
    pub(super) items: PVec<PartialValue>,
    pub(super) tail: Option<PartialValue>,
    pub(super) frame: u64,
}

/// `entries`, with `tail` replacing the entry at `tail.at` or appended.
/// `frame` as for [`ArrayNode`], zero once a repeated key rewrote an entry.
pub(super) struct ObjectNode {
    pub(super) entries: PVec<(Text, PartialValue)>,
    pub(super) tail: Option<ObjectTail>,
    pub(super) frame: u64,
}

pub(super) struct ObjectTail {
    pub(super) key: Text,
    pub(super) value: PartialValue,
    pub(super) at: Option<usize>,
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

impl std::fmt::Debug for Elements<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Elements").finish_non_exhaustive()
    }
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

impl std::fmt::Debug for Members<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Members")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
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

    pub(super) fn string(t: Text) -> Self {
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
pub(super) enum EqMode {
    /// `serde_json::Value`'s equality.
    Json,
    /// Python's `==` on what `json.loads` returns: `True == 1 == 1.0`.
    Python,
}

pub(super) fn values_eq(a: &PartialValue, b: &PartialValue, mode: EqMode) -> bool {
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
