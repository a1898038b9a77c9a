//! cargo run --example streaming_chain
//!
//! A streaming chain built from the runtime alone: a source that streams
//! words, a transform that upper-cases each chunk as it passes, and a plain
//! function at the end. Prints the output chunks, then the event stream.

use futures::{StreamExt, TryStreamExt};
use runwright::{ChunkStream, Generator, Lambda, RunnableExt};

fn words(topic: String) -> runwright::Result<Vec<String>> {
    Ok(format!("streams of {topic} arrive word by word")
        .split_inclusive(' ')
        .map(str::to_owned)
        .collect())
}

#[tokio::main]
async fn main() -> runwright::Result<()> {
    let source = Lambda::from_fn(words);
    let explode = Generator::new(|input: ChunkStream<'_, Vec<String>>| -> ChunkStream<'_, String> {
        Box::pin(
            input
                .map_ok(|words| futures::stream::iter(words.into_iter().map(Ok)))
                .try_flatten(),
        )
    })
    .named("explode");
    let upper = Generator::new(|input: ChunkStream<'_, String>| -> ChunkStream<'_, String> {
        Box::pin(input.map_ok(|w| w.to_uppercase()))
    })
    .named("upper");
    let chain = source | explode | upper;

    println!("-- output chunks");
    let mut chunks = chain.stream("rust".to_string());
    while let Some(chunk) = chunks.next().await {
        println!("{:?}", chunk?);
    }

    println!("-- events");
    let mut events = chain.stream_events("rust".to_string());
    while let Some(event) = events.try_next().await? {
        println!("{}", serde_json::to_string(&event).expect("events serialize"));
    }
    Ok(())
}
