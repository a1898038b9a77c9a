//! What flows between steps: [`Data`], chunk aggregation ([`Chunk`]) and
//! type-erased event payloads ([`Payload`]).
//!
//! JSON values' [`Chunk`] impl lives with the messages
//! (`messages/json_chunk.rs`): a JSON object that is a message chunk adds up
//! as the typed chunk does, which is message logic.

pub(crate) mod time;

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use serde::Serialize;

/// How the chunks of a streaming step add up to its final output.
///
/// LangChain folds a stream with `+`: strings concatenate, message chunks
/// merge, dicts merge key by key. The default method keeps the last chunk,
/// which is right for values that do not add up; a type opts in with an empty
/// impl:
///
/// ```
/// #[derive(Clone, serde::Serialize)]
/// struct Reading { celsius: f32 }
/// impl runwright::Chunk for Reading {}
/// ```
pub trait Chunk: Sized {
    /// Adds `next` (a later chunk) onto `self`.
    fn concat(&mut self, next: Self) {
        *self = next;
    }

    /// Adds a borrowed `next` onto `self`: what a run does to fold the chunks
    /// it also hands on. The default clones `next`; types whose common chunks
    /// add up without a copy (text appended to text) override it.
    fn concat_ref(&mut self, next: &Self)
    where
        Self: Clone,
    {
        self.concat(next.clone());
    }
}

/// Anything a step can take or give: cloneable (only when someone listens to
/// events), sendable, serializable to the JSON of an event, and foldable.
///
/// It is implemented for every type with those properties. (It is `Data`,
/// not `Value`, so that `serde_json::Value` keeps its name in every file.)
pub trait Data: Clone + Send + Sync + Serialize + Chunk + 'static {}

impl<T: Clone + Send + Sync + Serialize + Chunk + 'static> Data for T {}

impl Chunk for String {
    fn concat(&mut self, next: Self) {
        self.push_str(&next);
    }

    fn concat_ref(&mut self, next: &Self) {
        self.push_str(next);
    }
}

impl<T> Chunk for Vec<T> {
    fn concat(&mut self, next: Self) {
        self.extend(next);
    }
}

macro_rules! chunk_add {
    ($($t:ty),*) => {$(
        impl Chunk for $t {
            fn concat(&mut self, next: Self) {
                *self += next;
            }
        }
    )*};
}
chunk_add!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64);

impl Chunk for bool {}
impl Chunk for () {}
impl Chunk for char {}

impl<T: Chunk> Chunk for Option<T> {
    fn concat(&mut self, next: Self) {
        match (self.as_mut(), next) {
            (Some(a), Some(b)) => a.concat(b),
            (None, Some(b)) => *self = Some(b),
            (_, None) => {}
        }
    }
}

impl<T: Chunk> Chunk for Box<T> {
    fn concat(&mut self, next: Self) {
        (**self).concat(*next);
    }
}

impl<K: Ord, V: Chunk> Chunk for BTreeMap<K, V> {
    fn concat(&mut self, next: Self) {
        for (k, v) in next {
            match self.get_mut(&k) {
                Some(old) => old.concat(v),
                None => {
                    self.insert(k, v);
                }
            }
        }
    }
}

impl<K: Eq + Hash, V: Chunk, S: std::hash::BuildHasher> Chunk for HashMap<K, V, S> {
    fn concat(&mut self, next: Self) {
        for (k, v) in next {
            match self.get_mut(&k) {
                Some(old) => old.concat(v),
                None => {
                    self.insert(k, v);
                }
            }
        }
    }
}

/// A JSON object as it flows between steps: the output of a parallel map,
/// the variables of a prompt. Keys keep their insertion order.
pub type Map = serde_json::Map<String, serde_json::Value>;

trait ErasedValue: Any + Send + Sync {
    fn to_json(&self) -> serde_json::Value;
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
    fn type_name(&self) -> &'static str;
}

impl<T: Serialize + Send + Sync + 'static> ErasedValue for T {
    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self)
            .unwrap_or_else(|e| serde_json::json!({"type": "SerializationError", "message": e.to_string()}))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
}

/// A value carried by an event (an input, an output, a chunk, a custom
/// payload): typed for Rust consumers, serialized to JSON only on demand.
///
/// ```
/// let p = runwright::Payload::new(String::from("hi"));
/// assert_eq!(p.downcast_ref::<String>().map(String::as_str), Some("hi"));
/// assert_eq!(p.to_json(), serde_json::json!("hi"));
/// ```
#[derive(Clone)]
pub struct Payload(Arc<dyn ErasedValue>);

impl Payload {
    /// Wraps a value.
    pub fn new<T: Serialize + Send + Sync + 'static>(value: T) -> Self {
        Payload(Arc::new(value))
    }

    /// The value, if it is a `T`.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.0.as_any().downcast_ref()
    }

    /// The value's JSON form (LangChain's encoding for runwright's own types).
    pub fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }

    /// The value's JSON form, moved out without a copy when the payload
    /// holds JSON and nobody else shares it.
    pub fn into_json(self) -> serde_json::Value {
        if self.0.as_any().is::<serde_json::Value>() {
            if let Ok(json) = self.0.clone().into_any().downcast::<serde_json::Value>() {
                // `self` still holds one reference: drop it first.
                drop(self);
                return Arc::try_unwrap(json).unwrap_or_else(|shared| (*shared).clone());
            }
        }
        self.to_json()
    }

    /// The Rust type name of the value, for diagnostics.
    pub fn type_name(&self) -> &'static str {
        self.0.type_name()
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Payload({})", self.to_json())
    }
}

impl Serialize for Payload {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.to_json().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_and_vectors_concatenate() {
        let mut s = String::from("Fr");
        s.concat("ance".into());
        assert_eq!(s, "France");
        let mut v = vec![1];
        v.concat(vec![2, 3]);
        assert_eq!(v, [1, 2, 3]);
    }

    #[test]
    fn payload_into_json_moves_unique_json_and_copies_shared_json() {
        let p = Payload::new(json!({"a": [1, 2]}));
        let shared = p.clone();
        assert_eq!(p.into_json(), json!({"a": [1, 2]}));
        assert_eq!(shared.into_json(), json!({"a": [1, 2]}));
        assert_eq!(Payload::new(vec![1u8]).into_json(), json!([1]));
    }

    #[test]
    fn payload_is_typed_and_lazy_json() {
        let p = Payload::new(vec![1u8, 2]);
        assert_eq!(p.downcast_ref::<Vec<u8>>(), Some(&vec![1, 2]));
        assert!(p.downcast_ref::<String>().is_none());
        assert_eq!(p.to_json(), json!([1, 2]));
    }
}
