//! cargo run --example how_to_stream
//!
//! The chains of LangChain's "How to stream runnables" guide, on fake models
//! (offline): a joke streamed token by token, JSON streamed as partial
//! values, a plain function that collapses the stream, a generator that
//! keeps it going, and a retrieval chain.

use std::collections::HashSet;

use futures::TryStreamExt;
use runwright::parsers::json_stream::PartialValue;
use runwright::prompts::ChatPromptTemplate;
use runwright::{
    ChunkStream, Document, EventPhase, Generator, GenericFakeChatModel, InMemoryRetriever, JsonOutputParser, Lambda,
    Map, Parallel, Passthrough, RunnableExt, StrOutputParser,
};

const JSON_TEXT: &str = r#"{"countries": [{"name": "France", "population": 67391582}, {"name": "Spain", "population": 47351567}, {"name": "Japan", "population": 125584838}]}"#;

fn country_names(doc: PartialValue) -> runwright::Result<Vec<String>> {
    Ok(doc
        .get("countries")
        .map(|cs| {
            cs.elements()
                .filter_map(|c| c.get("name")?.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

fn country_names_streaming(docs: ChunkStream<'_, PartialValue>) -> ChunkStream<'_, String> {
    let mut seen = HashSet::new();
    Box::pin(
        docs.map_ok(move |doc| {
            let fresh: Vec<_> = country_names(doc)
                .unwrap_or_default()
                .into_iter()
                .filter(|n| seen.insert(n.clone()))
                .collect();
            futures::stream::iter(fresh.into_iter().map(Ok))
        })
        .try_flatten(),
    )
}

#[tokio::main]
async fn main() -> runwright::Result<()> {
    println!("-- a joke, token by token");
    let joke = ChatPromptTemplate::from_template("tell me a joke about {topic}")?
        | GenericFakeChatModel::new(["Why did the parrot talk? Because it could!"])
        | StrOutputParser;
    let mut topic = Map::new();
    topic.insert("topic".into(), "parrot".into());
    let mut tokens = joke.stream(topic);
    while let Some(token) = tokens.try_next().await? {
        print!("{token}|");
    }
    println!();

    println!("-- JSON, as partial values");
    let countries = GenericFakeChatModel::new([JSON_TEXT]) | JsonOutputParser;
    let mut values = countries.stream("output a list of countries and their populations".into());
    while let Some(value) = values.try_next().await? {
        println!("{}", serde_json::to_string(&value).expect("JSON"));
    }

    println!("-- a plain function collapses the stream");
    let names = GenericFakeChatModel::new([JSON_TEXT, JSON_TEXT]) | JsonOutputParser | Lambda::from_fn(country_names);
    let chunks: Vec<Vec<String>> = names.stream("countries?".into()).try_collect().await?;
    println!("{} chunk: {:?}", chunks.len(), chunks[0]);
    let events: Vec<_> = names.stream_events("countries?".into()).try_collect().await?;
    let count = |event: &str| events.iter().filter(|e| e.event() == event).count();
    println!(
        "...while the events still show {} model chunks and {} parser chunks",
        count("on_chat_model_stream"),
        count("on_parser_stream")
    );

    println!("-- a generator keeps the stream going");
    let streaming = GenericFakeChatModel::new([JSON_TEXT]) | JsonOutputParser | Generator::new(country_names_streaming);
    let mut names = streaming.stream("countries?".into());
    while let Some(name) = names.try_next().await? {
        println!("{name}");
    }

    println!("-- a retrieval chain streams after the retriever");
    let retriever = InMemoryRetriever::new([
        Document::new("harrison worked at kensho"),
        Document::new("bears like to eat honey"),
    ]);
    let rag = Parallel::new()
        .branch("context", retriever)
        .branch("question", Passthrough::new())
        | ChatPromptTemplate::from_template("Answer from this context only:\n{context}\n\nQuestion: {question}")?
        | GenericFakeChatModel::new(["Harrison worked at Kensho."])
        | StrOutputParser;
    let mut events = rag.stream_events("where did harrison work?".into());
    while let Some(event) = events.try_next().await? {
        match event.phase {
            EventPhase::Start | EventPhase::End => println!("{} {}", event.event(), event.name()),
            EventPhase::Stream if event.parent_ids().is_empty() => {
                println!("  token {:?}", event.data.chunk.as_ref().map(|c| c.to_json()))
            }
            _ => {}
        }
    }
    Ok(())
}
