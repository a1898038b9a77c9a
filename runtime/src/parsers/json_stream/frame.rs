//! The arrays and objects the parser is inside of: what each has read so far,
//! what it expects next, and how it is shown while still open.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::pvec::PVec;
use super::text::Text;
use super::value::{ArrayNode, Node, ObjectNode, ObjectTail, PartialValue};

/// A process-wide unique, non-zero id for an array or object being parsed:
/// values from different parsers must never look like one lineage.
pub(super) fn new_frame_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub(super) enum Frame {
    Array(ArrayFrame),
    Object(ObjectFrame),
}

pub(super) struct ArrayFrame {
    pub(super) id: u64,
    pub(super) items: PVec<PartialValue>,
    pub(super) expect: ArrayExpect,
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum ArrayExpect {
    ItemOrEnd,
    Item,
    CommaOrEnd,
}

pub(super) struct ObjectFrame {
    pub(super) id: u64,
    pub(super) entries: PVec<(Text, PartialValue)>,
    /// Key -> position, built once the object is large.
    pub(super) index: Option<HashMap<Text, usize>>,
    /// A repeated key rewrote an entry.
    pub(super) rewritten: bool,
    /// The key whose value is being read, and its entry if it is repeated.
    pub(super) key: Option<Text>,
    pub(super) key_at: Option<usize>,
    pub(super) expect: ObjectExpect,
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum ObjectExpect {
    KeyOrEnd,
    Key,
    Colon,
    Value,
    CommaOrEnd,
}

impl ObjectFrame {
    #[inline]
    pub(super) fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.entries.iter().position(|(k, _)| k.as_str() == key),
        }
    }

    /// Python dict semantics: a repeated key keeps its place, takes the new
    /// value. `at` is the key's entry, if it has one.
    // A `Text` hashes its bytes, which never change once written.
    #[allow(clippy::mutable_key_type)]
    #[inline]
    pub(super) fn insert(&mut self, key: Text, at: Option<usize>, value: PartialValue) {
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
    #[inline]
    pub(super) fn into_value(self) -> PartialValue {
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
    #[inline]
    pub(super) fn snapshot(&self, child: Option<PartialValue>) -> PartialValue {
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
