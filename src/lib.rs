//! The workspace package: it owns the examples and the cross-crate tests of
//! runwright. The library itself is the `runwright` crate in `runtime/`.
