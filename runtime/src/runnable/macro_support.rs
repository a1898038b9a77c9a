//! What the macros expand to, reached through `runwright::__private`.
//!
//! `chain!`: each step made a runnable ([`IntoStep`]), the steps put
//! together one by one, and every joint checked ([`Feeds`]) where the user
//! wrote it: a step, a closure whose parameter has a type ([`Feeds`]), a
//! map literal's branch ([`BranchInput`]). A closure without a type takes
//! what it is given as is. `#[tool]` and `#[chain_fn]`: a function's return value made a
//! `Result` ([`IntoRunResult`]), its error a runwright [`Error`].

use std::future::Future;
use std::marker::PhantomData;

use super::sequence::{Feeds, First, Sequence, Steps};
use super::{Lambda, Parallel, Runnable};
use crate::error::{Error, ErrorKind, Result};
use crate::value::{Data, Map};

/// A function's error as a runwright [`Error`]: kept as is when it is one,
/// wrapped (its type's name shown in events) otherwise.
pub fn into_error<E: std::error::Error + Send + Sync + 'static>(e: E) -> Error {
    match (&e as &dyn std::any::Any).downcast_ref::<Error>() {
        Some(same) => same.clone(),
        None => Error::from_source(ErrorKind::Step, e),
    }
}

/// The `Result` a `#[tool]` or `#[chain_fn]` function returns.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Result` whose error is a `std::error::Error + Send + Sync + 'static`",
    label = "the function's error type must implement `std::error::Error + Send + Sync + 'static`",
    note = "return `runwright::Result<T>`, or `Result<T, E>` with such an `E`, or a plain `T`"
)]
pub trait IntoRunResult {
    /// The value.
    type Ok;
    /// The result, with a runwright [`Error`].
    fn into_run_result(self) -> Result<Self::Ok>;
}

#[diagnostic::do_not_recommend]
impl<T, E: std::error::Error + Send + Sync + 'static> IntoRunResult for std::result::Result<T, E> {
    type Ok = T;
    fn into_run_result(self) -> Result<T> {
        self.map_err(into_error)
    }
}

/// The error a generated function gives when an argument it checked is
/// missing after all (it cannot happen: [`ToolArgs::finish`](crate::tools::ToolArgs::finish) failed first).
pub fn unchecked_argument(tool: &str) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!("tool `{tool}`: an argument was not checked"),
    )
}

/// What can be a step of `chain!`: a runnable, a function
/// `fn(I) -> Result<O>`, or an async function returning a future of
/// `Result<O>`. `M` tells which (it keeps the three impls apart).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a step of `chain!`",
    label = "not a runnable, nor a function `fn(I) -> runwright::Result<O>` (sync or async)",
    note = "a step is a runnable, a function or closure returning `runwright::Result<O>` (or a future of it), \
            or a map literal `{{ \"key\": step, ... }}`"
)]
pub trait IntoStep<M> {
    /// The runnable the step becomes.
    type Step: Runnable;
    /// Makes it.
    fn into_step(self) -> Self::Step;
}

/// [`IntoStep`] marker: the step is a runnable.
#[derive(Debug)]
pub struct ViaRunnable;
/// [`IntoStep`] marker: the step is a sync function.
#[derive(Debug)]
pub struct ViaFn<I, O>(PhantomData<fn(I) -> O>);
/// [`IntoStep`] marker: the step is an async function.
#[derive(Debug)]
pub struct ViaAsyncFn<I, O>(PhantomData<fn(I) -> O>);

impl<R: Runnable> IntoStep<ViaRunnable> for R {
    type Step = R;
    fn into_step(self) -> R {
        self
    }
}

impl<F, I: Data, O: Data> IntoStep<ViaFn<I, O>> for F
where
    F: Fn(I) -> Result<O> + Send + Sync + 'static,
{
    type Step = Lambda<I, O>;
    fn into_step(self) -> Lambda<I, O> {
        Lambda::from_fn(self)
    }
}

impl<F, I: Data, O: Data, Fut> IntoStep<ViaAsyncFn<I, O>> for F
where
    F: Fn(I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O>> + Send + 'static,
{
    type Step = Lambda<I, O>;
    fn into_step(self) -> Lambda<I, O> {
        Lambda::from_async(self)
    }
}

/// Makes a step of `chain!` a runnable.
pub fn step<M, T: IntoStep<M>>(t: T) -> T::Step {
    t.into_step()
}

/// The first step of a `chain!`.
pub fn start<A: Runnable>(a: A) -> Sequence<First<A>> {
    Sequence::new(First(a))
}

/// Appends a step; the joint is checked with [`Feeds`].
pub fn pipe<S, B>(seq: Sequence<S>, next: B) -> Sequence<(S, B)>
where
    S: Steps,
    B: Runnable,
    S::Output: Feeds<B::Input>,
{
    seq.pipe(next)
}

/// What a map (a map literal, a [`Parallel`], an assign) gives, a JSON
/// object ([`Map`]), converts into the next step's input. [`Feeds`] for such
/// a joint: its message names the object `runwright::Map`, where rustc
/// would print its type by the longest path it can reach it through.
#[diagnostic::on_unimplemented(
    message = "the output of this step (a JSON object, `runwright::Map`) is not the input of the next step (`{In}`)",
    label = "`runwright::Map` does not convert into `{In}`",
    note = "put a step between them that takes a `runwright::Map` (a closure `|m: runwright::Map| ...`)"
)]
pub trait MapFeeds<In>: Into<In> {}

#[diagnostic::do_not_recommend]
impl<O: Into<In>, In> MapFeeds<In> for O {}

/// Appends a step after a map literal; the joint is checked with [`MapFeeds`].
pub fn pipe_map<S, B>(seq: Sequence<S>, next: B) -> Sequence<(S, B)>
where
    S: Steps<Output = Map>,
    B: Runnable,
    S::Output: MapFeeds<B::Input>,
{
    seq.pipe(next)
}

/// Appends a sync closure whose parameter has a type: the joint is checked
/// with [`Feeds`], as for any step.
pub fn pipe_fn_typed<S, F, I, O>(seq: Sequence<S>, f: F) -> Sequence<(S, Lambda<I, O>)>
where
    S: Steps,
    I: Data,
    O: Data,
    F: Fn(I) -> Result<O> + Send + Sync + 'static,
    S::Output: Feeds<I>,
{
    seq.pipe(Lambda::from_fn(f))
}

/// Appends an async closure whose parameter has a type: the joint is
/// checked with [`Feeds`], as for any step.
pub fn pipe_async_typed<S, F, Fut, I, O>(seq: Sequence<S>, f: F) -> Sequence<(S, Lambda<I, O>)>
where
    S: Steps,
    I: Data,
    O: Data,
    F: Fn(I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O>> + Send + 'static,
    S::Output: Feeds<I>,
{
    seq.pipe(Lambda::from_async(f))
}

/// Appends a sync closure, which takes the previous step's output as is.
pub fn pipe_fn<S, F, O>(seq: Sequence<S>, f: F) -> Sequence<(S, Lambda<S::Output, O>)>
where
    S: Steps,
    O: Data,
    F: Fn(S::Output) -> Result<O> + Send + Sync + 'static,
{
    seq.pipe(Lambda::from_fn(f))
}

/// Appends an async closure, which takes the previous step's output as is.
pub fn pipe_async<S, F, Fut, O>(seq: Sequence<S>, f: F) -> Sequence<(S, Lambda<S::Output, O>)>
where
    S: Steps,
    O: Data,
    F: Fn(S::Output) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O>> + Send + 'static,
{
    seq.pipe(Lambda::from_async(f))
}

/// A sync closure as a step of its own.
pub fn closure<I: Data, O: Data, F>(f: F) -> Lambda<I, O>
where
    F: Fn(I) -> Result<O> + Send + Sync + 'static,
{
    Lambda::from_fn(f)
}

/// An async closure as a step of its own.
pub fn closure_async<I: Data, O: Data, F, Fut>(f: F) -> Lambda<I, O>
where
    F: Fn(I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O>> + Send + 'static,
{
    Lambda::from_async(f)
}

/// An empty map whose branches take what the sequence so far gives.
pub fn map_after<S: Steps>(_: &Sequence<S>) -> Parallel<S::Output> {
    Parallel::new()
}

/// An empty map whose branches take what `outer`'s branches take.
pub fn map_like<I: Data>(_: &Parallel<I>) -> Parallel<I> {
    Parallel::new()
}

/// Adds a branch to a map literal.
pub fn branch<I: Data, R: Runnable<Input = I> + 'static>(map: Parallel<I>, key: &'static str, r: R) -> Parallel<I> {
    map.branch(key, r)
}

/// The output of the step before a map literal is what a branch takes, as
/// it is: no conversion (as `Parallel::branch`), so that a generic branch
/// such as `passthrough()` infers its type from it.
#[diagnostic::on_unimplemented(
    message = "the output of this step (`{Self}`) is not the input of this branch (`{In}`)",
    label = "the step gives `{Self}`, the branch takes `{In}`",
    note = "each branch of a map literal takes the output of the step before the map, as it is; \
            start the branch with a step that takes `{Self}`"
)]
pub trait BranchInput<In>: Into<In> {}

impl<T> BranchInput<T> for T {}

/// A runnable that can be a branch of a map literal whose input is `I`.
///
/// The check [`BranchInput`] sits in this impl rather than in
/// [`branch_fed`]'s bounds: there the branch's input would be a projection
/// on a type not yet inferred, and a mismatch would surface as that
/// projection's `E0271`; here the runnable is known, its input a plain
/// type, and a mismatch is [`BranchInput`]'s, with its message.
pub trait BranchOf<I: Data>: Runnable + Sized + 'static {
    /// Adds `self` to `map` under `key`.
    fn join(self, map: Parallel<I>, key: &'static str) -> Parallel<I>;
}

impl<R: Runnable + 'static, I: Data + BranchInput<R::Input>> BranchOf<I> for R {
    fn join(self, map: Parallel<I>, key: &'static str) -> Parallel<I> {
        map.branch_converting(key, self)
    }
}

/// Adds a branch to a map literal that follows a step: the map's input (the
/// step's output) is checked with [`BranchInput`] against the branch's
/// input, where the user wrote the two.
pub fn branch_fed<I: Data, R: BranchOf<I>>(map: Parallel<I>, key: &'static str, r: R) -> Parallel<I> {
    r.join(map, key)
}

/// Adds a sync closure branch, which takes the map's input as is.
pub fn branch_fn<I: Data, O: Data, F>(map: Parallel<I>, key: &'static str, f: F) -> Parallel<I>
where
    F: Fn(I) -> Result<O> + Send + Sync + 'static,
{
    map.branch(key, Lambda::from_fn(f))
}

/// Adds an async closure branch, which takes the map's input as is.
pub fn branch_async<I: Data, O: Data, F, Fut>(map: Parallel<I>, key: &'static str, f: F) -> Parallel<I>
where
    F: Fn(I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O>> + Send + 'static,
{
    map.branch(key, Lambda::from_async(f))
}

/// A sync closure starting a branch of a map literal: it takes the map's input.
pub fn closure_like<I: Data, O: Data, F>(_: &Parallel<I>, f: F) -> Lambda<I, O>
where
    F: Fn(I) -> Result<O> + Send + Sync + 'static,
{
    Lambda::from_fn(f)
}

/// An async closure starting a branch of a map literal: it takes the map's input.
pub fn closure_async_like<I: Data, O: Data, F, Fut>(_: &Parallel<I>, f: F) -> Lambda<I, O>
where
    F: Fn(I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O>> + Send + 'static,
{
    Lambda::from_async(f)
}
