//! A client that goes away closes the served model's own HTTP connection:
//! the chain's `ChatOpenAI` streams from a local server that sends one
//! chunk and then nothing; the client reads that chunk and leaves; the
//! model's connection to the upstream must close then, not when the
//! upstream next writes (it never does) or times out.
//!
//! How long that takes is measured by the `disconnect` benchmark
//! (`cargo bench -p runwright-server --bench disconnect`); this test checks
//! that it happens, for `stream` and `stream_events`.

mod support;

use support::client_leaves_mid_token_stream;

#[tokio::test]
async fn a_client_leaving_a_stream_closes_the_models_connection() {
    let after = client_leaves_mid_token_stream("stream").await;
    eprintln!("stream: the upstream connection closed {after:?} after the client left");
}

#[tokio::test]
async fn a_client_leaving_stream_events_closes_the_models_connection() {
    let after = client_leaves_mid_token_stream("stream_events").await;
    eprintln!("stream_events: the upstream connection closed {after:?} after the client left");
}
