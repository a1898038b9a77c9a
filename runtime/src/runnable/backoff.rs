//! [`Backoff`]: the one retry loop of runwright, used by [`Retry`](super::Retry)
//! (any runnable) and by the HTTP providers (a request whose answer has not
//! begun).
//!
//! Both need the same three things: exponential delays with a cap and
//! jitter, a bound on the attempts, and a delay the failure itself may set
//! (HTTP `Retry-After`). The crates of the field (`backon`, `backoff`) would
//! bring their own jitter rule and an `adjust` hook for the last; a loop of
//! twenty lines that both callers share is smaller than the glue they would
//! need.

use std::future::Future;
use std::time::Duration;

/// Exponential backoff: `initial` before the first retry, doubling, never
/// more than `max`; with jitter, each delay grows by up to a quarter (still
/// capped at `max`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Backoff {
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
    pub(crate) jitter: bool,
}

/// How one attempt ended.
pub(crate) enum Attempt<T, E> {
    /// It worked: the loop returns `T`.
    Done(T),
    /// It failed for good: the loop returns `E`.
    Fail(E),
    /// It failed, and trying again may help; after this long, if the
    /// failure says (`Retry-After`), else after the backoff. A delay longer
    /// than [`Backoff::max`] ends the loop with `E`: waiting less than a
    /// server asked would only earn another refusal, and waiting longer than
    /// the cap is not what the user asked for.
    Retry(E, Option<Duration>),
}

impl Backoff {
    /// The delay before retry number `retry` (1 for the first).
    pub(crate) fn delay(&self, retry: u32) -> Duration {
        let exp = self.initial.saturating_mul(1u32 << retry.saturating_sub(1).min(20));
        let base = exp.min(self.max);
        if !self.jitter || base.is_zero() {
            return base;
        }
        // Up to a quarter more, from the bits of a fresh uuid (no rand dependency).
        let r = (uuid::Uuid::new_v4().as_u128() % 1000) as u32;
        (base + base / 4 * r / 1000).min(self.max)
    }

    /// Runs `attempt(n)` for n = 1, 2, ... until it is done, fails for good,
    /// or `max_attempts` (at least one) have been made, sleeping between
    /// attempts as [`Attempt::Retry`] and [`delay`](Self::delay) say.
    /// Dropping the future stops the loop, sleep included.
    pub(crate) async fn run<T, E, F, Fut>(&self, max_attempts: u32, mut attempt: F) -> Result<T, E>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Attempt<T, E>>,
    {
        let mut n = 1;
        loop {
            let (failure, asked) = match attempt(n).await {
                Attempt::Done(out) => return Ok(out),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry(e, asked) => (e, asked),
            };
            if n >= max_attempts.max(1) {
                return Err(failure);
            }
            let delay = match asked {
                Some(d) if d > self.max => return Err(failure),
                Some(d) => d,
                None => self.delay(n),
            };
            tokio::time::sleep(delay).await;
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff(initial_ms: u64, max_ms: u64, jitter: bool) -> Backoff {
        Backoff {
            initial: Duration::from_millis(initial_ms),
            max: Duration::from_millis(max_ms),
            jitter,
        }
    }

    #[test]
    fn delays_double_with_up_to_a_quarter_of_jitter_up_to_the_cap() {
        let b = backoff(100, 300, true);
        for _ in 0..50 {
            let first = b.delay(1);
            assert!(
                first >= Duration::from_millis(100) && first <= Duration::from_millis(125),
                "{first:?}"
            );
            let second = b.delay(2);
            assert!(second >= Duration::from_millis(200) && second <= Duration::from_millis(250));
            assert_eq!(b.delay(3), Duration::from_millis(300));
            assert_eq!(b.delay(40), Duration::from_millis(300));
        }
    }

    #[test]
    fn without_jitter_delays_are_exact() {
        let b = backoff(10, 1000, false);
        let delays: Vec<_> = (1..=4).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(delays, [10, 20, 40, 80]);
        assert_eq!(backoff(0, 0, true).delay(3), Duration::ZERO);
    }

    fn outcomes(script: Vec<Attempt<u32, String>>) -> impl FnMut(u32) -> std::future::Ready<Attempt<u32, String>> {
        let mut script = script.into_iter();
        move |_| std::future::ready(script.next().unwrap_or(Attempt::Fail("script exhausted".into())))
    }

    #[tokio::test(start_paused = true)]
    async fn retries_until_done_within_the_attempts() {
        let b = backoff(0, 0, false);
        let out = b
            .run(
                3,
                outcomes(vec![
                    Attempt::Retry("a".into(), None),
                    Attempt::Retry("b".into(), None),
                    Attempt::Done(7),
                ]),
            )
            .await;
        assert_eq!(out, Ok(7));
        let out = b
            .run(
                2,
                outcomes(vec![
                    Attempt::Retry("a".into(), None),
                    Attempt::Retry("b".into(), None),
                    Attempt::Done(7),
                ]),
            )
            .await;
        assert_eq!(out, Err("b".into()));
        let out = b
            .run(5, outcomes(vec![Attempt::Fail("final".into()), Attempt::Done(7)]))
            .await;
        assert_eq!(out, Err("final".into()));
    }

    #[tokio::test(start_paused = true)]
    async fn an_asked_delay_replaces_the_backoff_and_one_over_the_cap_gives_up() {
        let b = backoff(1, 1000, false);
        let start = tokio::time::Instant::now();
        let out = b
            .run(
                3,
                outcomes(vec![
                    Attempt::Retry("a".into(), Some(Duration::from_millis(700))),
                    Attempt::Done(1),
                ]),
            )
            .await;
        assert_eq!(out, Ok(1));
        assert_eq!(start.elapsed(), Duration::from_millis(700));
        let out = b
            .run(
                3,
                outcomes(vec![
                    Attempt::Retry("too long".into(), Some(Duration::from_secs(2))),
                    Attempt::Done(1),
                ]),
            )
            .await;
        assert_eq!(out, Err("too long".into()));
    }
}
