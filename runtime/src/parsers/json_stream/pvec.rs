//! A persistent vector: the elements of the arrays and objects that the
//! parser hands out, shared between every version of a growing document.
//!
//! Appending to a vector that earlier values still hold copies at most a
//! tail of 32 elements, and once per 32 appends a path of the trie, instead
//! of the whole array: this is what keeps handing out a value after every
//! chunk linear over the document.

use std::sync::Arc;

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
pub(super) struct PVec<T> {
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
    pub(super) fn new() -> Self {
        PVec {
            len: 0,
            shift: 0,
            root: None,
            tail: Arc::new(Vec::new()),
        }
    }

    pub(super) fn len(&self) -> usize {
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

    pub(super) fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            None
        } else if i >= self.trie_len() {
            self.tail.get(i - self.trie_len())
        } else {
            self.leaf(i).get(i & (WIDTH - 1))
        }
    }

    pub(super) fn iter(&self) -> PVecIter<'_, T> {
        PVecIter {
            vec: self,
            slice: &[],
            next: 0,
        }
    }

    pub(super) fn push(&mut self, value: T) {
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

    pub(super) fn set(&mut self, i: usize, value: T) {
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
pub(super) struct PVecIter<'a, T> {
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
