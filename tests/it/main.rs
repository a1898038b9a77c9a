//! The cross-crate tests, in one test binary: a module per subject, and
//! `common` for the helpers they share. One binary links runwright, the
//! recorder and insta once, where a binary per file linked them each time.
//!
//! A test's full name starts with its module: `cargo test --test it
//! runtime_errors::` runs one former file.

#[path = "../support/chromium.rs"]
mod chromium;
mod common;

mod browser_page;
mod graph_durability;
mod graph_engine;
mod graph_seeds;
mod graph_subgraphs;
mod graph_threads;
mod langgraph_sdk_client;
mod langserve_client;
mod llm_primitives;
mod macros_chain;
mod quickstart;
mod runtime_backpressure;
mod runtime_batch;
mod runtime_cancellation;
mod runtime_clone;
mod runtime_debug;
mod runtime_errors;
mod runtime_event_json;
mod runtime_filters;
mod runtime_no_listener;
mod runtime_owned_streams;
mod runtime_propagation;
mod runtime_stream_log;
mod runtime_streaming_rules;
mod runtime_sync_calls;
mod tools_input;
mod tools_schema;
mod tools_streaming;
mod tracing_otel;
