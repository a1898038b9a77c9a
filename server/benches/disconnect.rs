//! How soon a client that leaves a token stream closes the served model's
//! connection to its upstream (#17's disconnect target: within 100 ms).
//!
//! Each iteration serves `prompt | ChatOpenAI | parser` with the model
//! pointed at a local upstream that sends one chunk and then nothing,
//! streams until that chunk arrives, drops the client, and times from the
//! drop to the upstream seeing its connection close
//! (`tests/support/mod.rs`, shared with `tests/upstream_disconnect.rs`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

fn disconnect(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("server_disconnect");
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    for endpoint in ["stream", "stream_events"] {
        g.bench_function(format!("client_gone_to_upstream_closed/{endpoint}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += rt.block_on(support::client_leaves_mid_token_stream(endpoint));
                }
                total
            })
        });
    }
    g.finish();
}

criterion_group!(benches, disconnect);
criterion_main!(benches);
