//! [`LazyMap`]: the JSON object of message fields that are empty in almost
//! every message.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::value::Map;

/// A JSON object that takes one pointer's space and allocates only once a
/// key is added: the type of `additional_kwargs` and `response_metadata`,
/// which stay empty in nearly every streamed chunk. Keeping them out of line
/// keeps a message small as it moves through the steps of a stream.
///
/// It reads and writes as a [`Map`] (`Deref` / `DerefMut`; writing through
/// `DerefMut` allocates the map), compares by content (an unallocated map
/// equals an empty one) and serializes as a JSON object.
///
/// ```
/// use runwright::messages::LazyMap;
/// let mut m = LazyMap::default();
/// assert!(m.is_empty());
/// m.insert("model_name".into(), "fake".into());
/// assert_eq!(m["model_name"], "fake");
/// assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"model_name":"fake"}"#);
/// ```
#[derive(Clone, Default)]
pub struct LazyMap(Option<Box<Map>>);

fn empty() -> &'static Map {
    static EMPTY: OnceLock<Map> = OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

impl LazyMap {
    /// The map, taken out (empty when none was allocated).
    pub fn into_map(self) -> Map {
        self.0.map(|m| *m).unwrap_or_default()
    }
}

impl Deref for LazyMap {
    type Target = Map;
    fn deref(&self) -> &Map {
        match &self.0 {
            Some(m) => m,
            None => empty(),
        }
    }
}

impl DerefMut for LazyMap {
    fn deref_mut(&mut self) -> &mut Map {
        self.0.get_or_insert_with(Box::default)
    }
}

impl From<Map> for LazyMap {
    fn from(m: Map) -> Self {
        LazyMap((!m.is_empty()).then(|| Box::new(m)))
    }
}

impl From<LazyMap> for Map {
    fn from(m: LazyMap) -> Self {
        m.into_map()
    }
}

impl PartialEq for LazyMap {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl PartialEq<Map> for LazyMap {
    fn eq(&self, other: &Map) -> bool {
        **self == *other
    }
}

impl fmt::Debug for LazyMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl Serialize for LazyMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for LazyMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Map::deserialize(d).map(LazyMap::from)
    }
}

impl<'a> IntoIterator for &'a LazyMap {
    type Item = (&'a String, &'a serde_json::Value);
    type IntoIter = serde_json::map::Iter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        (**self).iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_only_when_written_and_compares_by_content() {
        let mut a = LazyMap::default();
        assert!(a.0.is_none());
        let _ = a.get("x");
        assert!(a.0.is_none(), "reading does not allocate");
        assert_eq!(a, LazyMap::from(Map::new()));
        assert!(LazyMap::from(Map::new()).0.is_none());
        a.insert("k".into(), 1.into());
        assert!(a.0.is_some());
        assert_ne!(a, LazyMap::default());
        let back: LazyMap = serde_json::from_str(r#"{"k": 1}"#).unwrap();
        assert_eq!(a, back);
        assert_eq!(a.clone().into_map().len(), 1);
        assert!(std::mem::size_of::<LazyMap>() == std::mem::size_of::<usize>());
    }
}
