//! [`Extensions`]: what features above the run context (a graph run's
//! stream outlet, ...) attach to one run, one value per type, without the
//! context knowing their types (the idea of `http::Extensions`).

use std::any::{Any, TypeId};
use std::sync::Arc;

/// One value of a type, shared.
type Entry = (TypeId, Arc<dyn Any + Send + Sync>);

/// A small map from a type to one shared value of that type. Empty, as most
/// runs carry it, it allocates nothing; a run's context and call options
/// stay small with it (two words). Runs carry one entry or two (a graph
/// task's scratch, a graph's stream outlet), so inserting rebuilds the
/// slice: one allocation, where a growable list would take two.
#[derive(Default)]
pub(crate) struct Extensions(Option<Box<[Entry]>>);

impl Extensions {
    /// Sets the value of type `T`, replacing the one there was.
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: Arc<T>) {
        let old = self.0.take().map(Vec::from).unwrap_or_default();
        let mut entries = Vec::with_capacity(old.len() + 1);
        entries.extend(old.into_iter().filter(|(id, _)| *id != TypeId::of::<T>()));
        entries.push((TypeId::of::<T>(), value as Arc<dyn Any + Send + Sync>));
        self.0 = Some(entries.into_boxed_slice());
    }

    /// The value of type `T`, if one was set.
    pub(crate) fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        let (_, value) = self.0.as_deref()?.iter().find(|(id, _)| *id == TypeId::of::<T>())?;
        value.clone().downcast::<T>().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_type_the_latest_wins() {
        let mut ext = Extensions::default();
        assert!(ext.get::<u32>().is_none());
        ext.insert(Arc::new(1u32));
        ext.insert(Arc::new(String::from("x")));
        ext.insert(Arc::new(2u32));
        assert_eq!(ext.get::<u32>().as_deref(), Some(&2));
        assert_eq!(ext.get::<String>().as_deref().map(String::as_str), Some("x"));
        assert!(ext.get::<u64>().is_none());
    }
}
