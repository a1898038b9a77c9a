//! [`Versions`]: a checkpoint's small maps from channel and node names,
//! shared between the checkpoints of a thread until one of them changes.

use std::fmt;
use std::sync::Arc;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A map from names (channels, nodes) to `V`, sorted by name, as a
/// checkpoint's `channel_versions` and `versions_seen` hold them.
///
/// A graph saves a checkpoint after every step, and each holds the version
/// of every channel: a map is one shared allocation (its names shared too),
/// so a checkpoint's copy costs a reference count, and a step makes one new
/// map for what changed. Serialized as a JSON object.
pub struct Versions<V>(Option<Arc<[Entry<V>]>>);

/// A name and its value.
type Entry<V> = (Arc<str>, V);

impl<V> Versions<V> {
    /// An empty map.
    pub const fn new() -> Self {
        Versions(None)
    }

    fn list(&self) -> &[Entry<V>] {
        self.0.as_deref().unwrap_or(&[])
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&V> {
        let list = self.list();
        find(list, name).ok().map(|i| &list[i].1)
    }

    /// The names and values, sorted by name.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &V)> + DoubleEndedIterator {
        self.list().iter().map(|(k, v)| (&**k, v))
    }

    /// The values, in the order of their names.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &V> + DoubleEndedIterator {
        self.list().iter().map(|(_, v)| v)
    }

    /// How many names it has.
    pub fn len(&self) -> usize {
        self.list().len()
    }

    /// Whether it has no name.
    pub fn is_empty(&self) -> bool {
        self.list().is_empty()
    }
}

/// Where `name` is in a list sorted by name, or where it would go.
pub(crate) fn find<V>(list: &[Entry<V>], name: &str) -> Result<usize, usize> {
    list.binary_search_by(|(k, _)| (**k).cmp(name))
}

impl<V: Clone> Versions<V> {
    /// A map of `list`, which must be sorted by name with no name twice
    /// (one allocation; the names are shared).
    pub(crate) fn from_sorted(list: &[Entry<V>]) -> Self {
        debug_assert!(list.windows(2).all(|w| w[0].0 < w[1].0));
        Versions((!list.is_empty()).then(|| Arc::from(list)))
    }

    /// Sets the value of `name` (in a new allocation: the maps this one was
    /// copied from keep theirs). The name is only made into an `Arc<str>`
    /// when the map does not have it yet (pass an `Arc<str>` to share it).
    pub fn insert<K: AsRef<str> + Into<Arc<str>>>(&mut self, name: K, value: V) -> Option<V> {
        let list = self.list();
        let (list, old): (Arc<[_]>, _) = match find(list, name.as_ref()) {
            Ok(i) => {
                let old = list[i].1.clone();
                let list = list.iter().enumerate().map(|(j, (k, v))| {
                    let v = if j == i { value.clone() } else { v.clone() };
                    (k.clone(), v)
                });
                (list.collect(), Some(old))
            }
            Err(i) => {
                let list = list[..i]
                    .iter()
                    .cloned()
                    .chain(std::iter::once((name.into(), value)))
                    .chain(list[i..].iter().cloned());
                (list.collect(), None)
            }
        };
        self.0 = Some(list);
        old
    }
}

impl<V> Clone for Versions<V> {
    /// Shares the map: nothing is copied.
    fn clone(&self) -> Self {
        Versions(self.0.clone())
    }
}

impl<V> Default for Versions<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: PartialEq> PartialEq for Versions<V> {
    fn eq(&self, other: &Self) -> bool {
        self.list() == other.list()
    }
}

impl<V: Eq> Eq for Versions<V> {}

impl<V: fmt::Debug> fmt::Debug for Versions<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: AsRef<str> + Into<Arc<str>>, V: Clone> FromIterator<(K, V)> for Versions<V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut list: Vec<Entry<V>> = Vec::new();
        for (k, v) in iter {
            match find(&list, k.as_ref()) {
                Ok(i) => list[i].1 = v,
                Err(i) => list.insert(i, (k.into(), v)),
            }
        }
        Versions::from_sorted(&list)
    }
}

impl<V: Serialize> Serialize for Versions<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de> + Clone> Deserialize<'de> for Versions<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de> + Clone> Visitor<'de> for Entries<V> {
            type Value = Versions<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut list: Vec<(String, V)> = Vec::new();
                while let Some(entry) = access.next_entry::<String, V>()? {
                    list.push(entry);
                }
                Ok(list.into_iter().collect())
            }
        }
        deserializer.deserialize_map(Entries(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_shared_and_json_as_an_object() {
        let mut a: Versions<u64> = [("b", 2), ("a", 1), ("b", 3)].into_iter().collect();
        assert_eq!(a.iter().collect::<Vec<_>>(), [("a", &1), ("b", &3)]);
        let b = a.clone();
        assert!(Arc::ptr_eq(a.0.as_ref().unwrap(), b.0.as_ref().unwrap()));
        assert_eq!(a.insert("a", 5), Some(1));
        assert_eq!(a.insert("c", 4), None);
        assert_eq!((a.get("a"), b.get("a")), (Some(&5), Some(&1)));
        assert_eq!(a.iter().map(|(k, _)| k).collect::<String>(), "abc");
        assert!(Versions::<u64>::new().is_empty());

        let seen: Versions<Versions<u64>> = [("n1", a.clone())].into_iter().collect();
        let json = serde_json::to_value(&seen).unwrap();
        assert_eq!(json, serde_json::json!({"n1": {"a": 5, "b": 3, "c": 4}}));
        let back: Versions<Versions<u64>> = serde_json::from_value(json).unwrap();
        assert_eq!(back, seen);
        let err = serde_json::from_value::<Versions<u64>>(serde_json::json!([1])).unwrap_err();
        assert!(err.to_string().contains("a map from names"), "{err}");
    }
}
