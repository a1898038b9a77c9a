//! What flows between steps: [`Data`], chunk aggregation ([`Chunk`]) and
//! type-erased event payloads ([`Payload`]).

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

/// JSON values add up as Python's `+` does on them in LangChain's stream
/// folding: strings and arrays concatenate, numbers add, and anything else
/// (two objects included, as plain dicts do not add) is replaced by the later
/// value. [`Map`] is the key-wise merging object.
impl Chunk for serde_json::Value {
    fn concat(&mut self, next: Self) {
        use serde_json::Value as J;
        match (self, next) {
            (J::Object(a), J::Object(b)) if is_message_chunk(a) && is_message_chunk(&b) => {
                add_message_chunks(a, b);
            }
            (J::String(a), J::String(b)) => a.push_str(&b),
            (J::Array(a), J::Array(b)) => a.extend(b),
            (J::Number(a), J::Number(b)) => {
                let sum = match (a.as_i64(), b.as_i64()) {
                    (Some(x), Some(y)) => x.checked_add(y).map(serde_json::Number::from),
                    _ => None,
                };
                let sum =
                    sum.or_else(|| serde_json::Number::from_f64(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0)));
                if let Some(sum) = sum {
                    *a = sum;
                }
            }
            (slot, other) => *slot = other,
        }
    }
}

fn is_message_chunk(m: &serde_json::Map<String, serde_json::Value>) -> bool {
    m.get("type").and_then(serde_json::Value::as_str) == Some("AIMessageChunk")
}

/// Two message chunks in JSON form add up as the typed chunks do (in a map's
/// values, a chat model's chunks are JSON, and LangChain adds them as
/// messages).
fn add_message_chunks(
    a: &mut serde_json::Map<String, serde_json::Value>,
    b: serde_json::Map<String, serde_json::Value>,
) {
    use crate::messages::AIMessageChunk;
    let parsed = serde_json::from_value::<AIMessageChunk>(serde_json::Value::Object(std::mem::take(a))).and_then(|x| {
        Ok((
            x,
            serde_json::from_value::<AIMessageChunk>(serde_json::Value::Object(b.clone()))?,
        ))
    });
    match parsed {
        Ok((mut x, y)) => {
            x.concat(y);
            if let Ok(serde_json::Value::Object(sum)) = serde_json::to_value(&x) {
                *a = sum;
                return;
            }
            *a = b;
        }
        Err(_) => *a = b,
    }
}

/// Objects of the [`Map`] type merge key by key, as LangChain's `AddableDict`:
/// a new key is added, a `null` never overwrites, and two values under the
/// same key are added with [`serde_json::Value`]'s rule.
impl Chunk for serde_json::Map<String, serde_json::Value> {
    fn concat(&mut self, next: Self) {
        for (k, v) in next {
            match self.get_mut(&k) {
                Some(old) if old.is_null() => *old = v,
                Some(old) => {
                    if !v.is_null() {
                        old.concat(v)
                    }
                }
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
    fn maps_merge_key_wise_like_addable_dict() {
        let mut a = json!({"a": "x", "n": 1, "keep": true}).as_object().unwrap().clone();
        a.concat(
            json!({"a": "y", "n": 2, "b": [1], "keep": null})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(json!(a), json!({"a": "xy", "n": 3, "keep": true, "b": [1]}));
    }

    #[test]
    fn plain_json_objects_do_not_add_so_the_later_wins() {
        let mut a = json!({"countries": []});
        a.concat(json!({"countries": [{"name": "France"}]}));
        assert_eq!(a, json!({"countries": [{"name": "France"}]}));
    }

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
