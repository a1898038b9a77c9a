//! The workspace package: it owns the examples and the cross-crate tests of
//! runwright. The library itself is the `runwright` crate in `runtime/`.
//!
//! The README's example is compiled and run as a doc test here, so it stays
//! true.

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
