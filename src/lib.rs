//! The workspace package: it owns the examples and the cross-crate tests of
//! runwright. The library itself is the `runwright` crate in `runtime/`.
//!
//! The README's example, and those of `docs/coming-from-langchain.md`, are
//! compiled and run as doc tests here, so they stay true.

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

#[doc = include_str!("../docs/coming-from-langchain.md")]
#[cfg(doctest)]
pub struct ComingFromLangchainDoctests;
