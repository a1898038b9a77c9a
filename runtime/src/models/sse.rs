//! From a streamed body to message chunks: `sse-stream` decodes the server-
//! sent events, and a provider's [`EventParser`] turns each event into a
//! chunk (or nothing). The same path serves a live response and, in tests,
//! recorded bytes fed in pieces of any size.

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use sse_stream::{Sse, SseByteStream};

use super::http::Transport;
use super::provider_error::provider_error;
use crate::error::{Error, ErrorKind, Result};
use crate::messages::{AIMessageChunk, ChunkPosition, ToolCallChunk, UsageMetadata};
use crate::runnable::ChunkStream;
use crate::value::Map;

/// A provider's reading of its event stream.
pub(crate) trait EventParser: Send {
    /// One event: a chunk to yield, nothing (metadata, keep-alives), or the
    /// error the event reports.
    fn event(&mut self, event: Sse) -> Result<Option<AIMessageChunk>>;

    /// Whether the provider's end marker has come (`[DONE]`,
    /// `message_stop`); nothing after it is read.
    fn is_done(&self) -> bool;

    /// The last chunk (finish reason, usage, `chunk_position: last`), or an
    /// error when the stream ended before its end marker.
    fn finish(&mut self) -> Result<AIMessageChunk>;
}

/// The answer to a streaming request: `body` POSTed to `path` with the
/// `headers` the provider adds (retried as [`Transport::post_stream`]
/// says), its events read by `parser`.
pub(crate) fn post_and_parse<'a, P: EventParser + 'a>(
    transport: &'a Transport,
    path: &'a str,
    headers: &'a [(&'static str, &'static str)],
    body: serde_json::Value,
    parser: P,
) -> ChunkStream<'a, AIMessageChunk> {
    let open = async move {
        let headers = transport.headers(headers)?;
        let open = transport.post_stream(path, headers, &body).await?;
        Ok::<_, Error>(parse_stream(open.body_chunks(), parser, transport.provider))
    };
    Box::pin(futures::stream::once(open).try_flatten())
}

/// The chunks of a streamed body. Errors end the stream after the chunks
/// already produced; a body that ends without the end marker is an error.
pub(crate) fn parse_stream<'a, S, P>(bytes: S, mut parser: P, provider: &'static str) -> ChunkStream<'a, AIMessageChunk>
where
    S: Stream<Item = Result<Bytes>> + Send + 'a,
    P: EventParser + 'a,
{
    Box::pin(async_stream::stream! {
        let mut events = std::pin::pin!(SseByteStream::new(bytes));
        while let Some(event) = events.next().await {
            match event.map_err(|e| decode_error(e, provider)).and_then(|e| parser.event(e)) {
                Ok(Some(chunk)) => yield Ok(chunk),
                Ok(None) => {}
                Err(e) => {
                    yield Err(e);
                    return;
                }
            }
            if parser.is_done() {
                break;
            }
        }
        yield parser.finish();
    })
}

/// A chunk of the answer `id`: its text and tool-call pieces, or nothing
/// when it has neither (an event that only says how the answer goes).
pub(crate) fn delta_chunk(id: Option<&str>, text: &str, calls: Vec<ToolCallChunk>) -> Option<AIMessageChunk> {
    if text.is_empty() && calls.is_empty() {
        return None;
    }
    let mut chunk = AIMessageChunk::new(text);
    chunk.id = id.map(str::to_owned);
    if !calls.is_empty() {
        chunk = chunk.with_tool_call_chunks(calls);
    }
    Some(chunk)
}

/// The error of [`EventParser::finish`] when the stream ended before the
/// provider's end `marker` came.
pub(crate) fn check_complete(provider: &'static str, done: bool, marker: &str) -> Result<()> {
    if done {
        return Ok(());
    }
    Err(provider_error(
        provider,
        ErrorKind::Connection,
        format!("the stream ended before `{marker}`: the answer is incomplete"),
    ))
}

/// The last chunk of a complete answer, as every provider ends one: no
/// text, the answer's `id`, `response_metadata` with the `metadata` entries
/// that are set (in the provider's order) and then `model_provider`, the
/// `usage`, and `chunk_position: last`.
pub(crate) fn last_chunk(
    provider: &'static str,
    id: Option<&str>,
    metadata: impl IntoIterator<Item = (&'static str, Option<String>)>,
    usage: Option<UsageMetadata>,
) -> AIMessageChunk {
    let mut meta: Map = metadata
        .into_iter()
        .filter_map(|(key, value)| Some((key.to_owned(), value?.into())))
        .collect();
    meta.insert("model_provider".into(), provider.into());
    let mut chunk = AIMessageChunk::new("")
        .with_response_metadata(meta)
        .with_chunk_position(ChunkPosition::Last);
    chunk.id = id.map(str::to_owned);
    chunk.usage_metadata = usage.map(Box::new);
    chunk
}

/// A decoding failure: the transport's own error (a timeout, a dropped
/// connection) comes back as it was; anything else broke the protocol.
fn decode_error(e: sse_stream::Error, provider: &'static str) -> Error {
    match e {
        sse_stream::Error::Body(inner) => match inner.downcast::<Error>() {
            Ok(e) => *e,
            Err(other) => provider_error(provider, ErrorKind::Connection, other.to_string()),
        },
        sse_stream::Error::Utf8Parse(e) => provider_error(
            provider,
            ErrorKind::Protocol,
            format!("an event is not valid UTF-8: {e}"),
        ),
        other => provider_error(
            provider,
            ErrorKind::Protocol,
            format!("malformed event stream: {other}"),
        ),
    }
}

/// The JSON of an event's data.
pub(crate) fn event_json(provider: &'static str, data: &str) -> Result<serde_json::Value> {
    serde_json::from_str(data).map_err(|e| {
        let mut shown: String = data.chars().take(200).collect();
        if shown.len() < data.len() {
            shown.push_str("...");
        }
        provider_error(
            provider,
            ErrorKind::Protocol,
            format!("an event's data is not JSON ({e}): `{shown}`"),
        )
    })
}

/// Test helpers: recorded bytes through the parsers, in pieces.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Feeds `bytes` to `parser` in pieces of `piece` bytes and collects
    /// every item (chunks, then at most one error).
    pub(crate) fn run<P: EventParser>(bytes: &[u8], piece: usize, parser: P) -> Vec<Result<AIMessageChunk>> {
        let pieces: Vec<Result<Bytes>> = bytes.chunks(piece).map(|p| Ok(Bytes::copy_from_slice(p))).collect();
        futures::executor::block_on(parse_stream(futures::stream::iter(pieces), parser, "test").collect())
    }

    /// The chunks added up.
    pub(crate) fn fold(chunks: &[Result<AIMessageChunk>]) -> AIMessageChunk {
        let mut out = AIMessageChunk::default();
        for chunk in chunks.iter().filter_map(|c| c.as_ref().ok()) {
            crate::value::Chunk::concat(&mut out, chunk.clone());
        }
        out
    }
}
