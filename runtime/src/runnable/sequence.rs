//! [`Sequence`]: steps run one after another, each fed the previous output.

use std::borrow::Cow;
use std::ops::BitOr;

use futures::future::BoxFuture;
use futures::TryStreamExt;

use super::run::{self, RunStream, Source};
use super::{ChunkStream, Runnable};
use crate::context::CallOpts;
use crate::error::Result;
use crate::events::StepTag;
use crate::value::Data;

/// The first step of a [`Sequence`].
#[derive(Debug, Clone)]
pub struct First<A>(pub(crate) A);

/// A step's output feeds the next step's input: it converts into it
/// (`Into`). `a | b`, [`pipe`](crate::RunnableExt::pipe) and `chain!` ask
/// it of every joint, so that two steps that do not fit are reported as
/// such, at the two steps, with both types named.
///
/// It holds for every `O: Into<In>`; implement `From<O> for In` to make
/// your own types fit.
///
/// ```compile_fail
/// use runwright::Lambda;
/// let shout = Lambda::from_fn(|s: String| Ok(s.to_uppercase()));
/// let halve = Lambda::from_fn(|n: i64| Ok(n / 2));
/// // error: the output of this step (`String`) is not the input of the next step (`i64`)
/// let _ = shout | halve;
/// ```
#[diagnostic::on_unimplemented(
    message = "the output of this step (`{Self}`) is not the input of the next step (`{In}`)",
    label = "`{Self}` does not convert into `{In}`",
    note = "each step's output must convert into the next step's input (`impl From<{Self}> for {In}`); \
            put a step between them that converts"
)]
pub trait Feeds<In>: Into<In> {}

// Not recommended: a failure then names `Feeds` (the two step types) rather
// than the `From` impl `Into` would need, with a list of unrelated impls.
#[diagnostic::do_not_recommend]
impl<O: Into<In>, In> Feeds<In> for O {}

/// The steps of a [`Sequence`], as a typed list: `(((First<A>, B), C), D)`.
/// Each step's output must convert into the next step's input ([`Feeds`]),
/// which the compiler checks where the steps are put together.
pub trait Steps: Send + Sync {
    /// The first step's input.
    type Input: Data;
    /// The last step's output.
    type Output: Data;
    /// How many steps there are.
    const LEN: u32;

    /// Invokes the steps in order.
    #[doc(hidden)]
    fn invoke_steps<'a>(&'a self, input: Self::Input) -> BoxFuture<'a, Result<Self::Output>>;

    /// Appends the steps' names, in order.
    #[doc(hidden)]
    fn push_names(&self, out: &mut Vec<String>);

    /// Chains the steps' streams: the first streams, the others transform.
    #[doc(hidden)]
    fn stream_steps<'a>(&'a self, input: Source<'a, Self::Input>) -> ChunkStream<'a, Self::Output>;
}

impl<A: Runnable> Steps for First<A> {
    type Input = A::Input;
    type Output = A::Output;
    const LEN: u32 = 1;

    fn push_names(&self, out: &mut Vec<String>) {
        out.push(self.0.name().into_owned());
    }

    fn invoke_steps<'a>(&'a self, input: A::Input) -> BoxFuture<'a, Result<A::Output>> {
        Box::pin(run::invoke(&self.0, input, CallOpts::step(StepTag::Seq(1))))
    }

    fn stream_steps<'a>(&'a self, input: Source<'a, A::Input>) -> ChunkStream<'a, A::Output> {
        Box::pin(RunStream::new(&self.0, input, CallOpts::step(StepTag::Seq(1))))
    }
}

impl<S, B> Steps for (S, B)
where
    S: Steps,
    B: Runnable,
    S::Output: Feeds<B::Input>,
{
    type Input = S::Input;
    type Output = B::Output;
    const LEN: u32 = S::LEN + 1;

    fn push_names(&self, out: &mut Vec<String>) {
        self.0.push_names(out);
        out.push(self.1.name().into_owned());
    }

    fn invoke_steps<'a>(&'a self, input: S::Input) -> BoxFuture<'a, Result<B::Output>> {
        Box::pin(async move {
            let mid = self.0.invoke_steps(input).await?;
            run::invoke(&self.1, mid.into(), CallOpts::step(StepTag::Seq(Self::LEN))).await
        })
    }

    fn stream_steps<'a>(&'a self, input: Source<'a, S::Input>) -> ChunkStream<'a, B::Output> {
        let prev: ChunkStream<'a, B::Input> = Box::pin(self.0.stream_steps(input).map_ok(Into::into));
        Box::pin(RunStream::new(
            &self.1,
            Source::Stream(prev),
            CallOpts::step(StepTag::Seq(Self::LEN)),
        ))
    }
}

/// Steps run one after another (LangChain's `RunnableSequence`): `a | b | c`.
///
/// Streaming a sequence streams through it: the first step streams, each
/// later step transforms the stream before it, so every chunk travels the
/// whole pipeline before the next is produced. Steps that cannot work on a
/// partial input (a prompt, a plain function) collect theirs first.
///
/// ```
/// use runwright::{Lambda, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let chain = Lambda::from_fn(|x: i32| Ok(x + 1)) | Lambda::from_fn(|x: i32| Ok(x * 10));
/// assert_eq!(chain.invoke(1).await.unwrap(), 20);
/// # }
/// ```
#[must_use = "a sequence does nothing until it is invoked or streamed"]
#[derive(Clone)]
pub struct Sequence<S> {
    steps: S,
}

/// Shows the steps' names, in order.
impl<S: Steps> std::fmt::Debug for Sequence<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequence").field("steps", &self.step_names()).finish()
    }
}

impl<S: Steps> Sequence<S> {
    pub(crate) fn new(steps: S) -> Self {
        Sequence { steps }
    }

    /// The names of the steps, in order.
    pub fn step_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.steps.push_names(&mut out);
        out
    }

    /// Appends a step (flat: `a.pipe(b).pipe(c)` is one sequence of three).
    pub fn pipe<B>(self, next: B) -> Sequence<(S, B)>
    where
        B: Runnable,
        S::Output: Feeds<B::Input>,
    {
        Sequence {
            steps: (self.steps, next),
        }
    }
}

impl<S: Steps> Runnable for Sequence<S> {
    type Input = S::Input;
    type Output = S::Output;

    fn name(&self) -> Cow<'_, str> {
        "RunnableSequence".into()
    }

    fn invoke_body<'a>(&'a self, input: S::Input) -> BoxFuture<'a, Result<S::Output>> {
        self.steps.invoke_steps(input)
    }

    fn stream_body<'a>(&'a self, input: S::Input) -> ChunkStream<'a, S::Output> {
        self.steps.stream_steps(Source::Value(input))
    }

    fn transforms_input(&self) -> bool {
        true
    }

    fn transform_body<'a>(&'a self, input: ChunkStream<'a, S::Input>) -> ChunkStream<'a, S::Output> {
        self.steps.stream_steps(Source::Stream(input))
    }
}

impl<S, B> BitOr<B> for Sequence<S>
where
    S: Steps,
    B: Runnable,
    S::Output: Feeds<B::Input>,
{
    type Output = Sequence<(S, B)>;
    fn bitor(self, next: B) -> Self::Output {
        self.pipe(next)
    }
}
