//! cargo run --example quickstart
//!
//! A `prompt | model | parser` chain streaming its tokens to the terminal,
//! then a model calling a `#[tool]`, and the run tree of that call.
//!
//! By default the model is replayed from a cassette recorded from a real
//! local model (Gemma 3 270M behind llama.cpp's OpenAI-compatible server):
//! offline, no API key. `--live` (or a set `OPENAI_BASE_URL` /
//! `OPENAI_API_KEY`) talks to a real endpoint instead; `--record` talks to
//! it and records the cassette again (see scripts/local-llm/ to start the
//! local server).

use std::sync::Arc;

use futures::TryStreamExt;
use serde_json::json;

use runwright::messages::{AIMessage, Message, ToolCall};
use runwright::models::ChatModel;
use runwright::prompts::ChatPromptTemplate;
use runwright::tools::ToolInput;
use runwright::{tool, ChatOpenAI, Lambda, Map, RunnableExt, StrOutputParser};
use runwright_recorder::{cli, RecordMode, Recorder, Trace};

const CASSETTE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/cassettes/quickstart.jsonl");

/// Get the current weather for a city.
///
/// * `city` - the city
#[tool]
fn get_weather(city: String) -> String {
    format!("It is sunny and 21 degrees in {city}.")
}

/// A few examples of the tool being called, so that even a small base model
/// answers with a call.
fn weather_question(city: &str) -> Vec<Message> {
    let call = |id: &str, c: &str| {
        Message::Ai(
            AIMessage::new("").with_tool_calls(vec![ToolCall::new("get_weather", json!({"city": c})).with_id(id)]),
        )
    };
    vec![
        Message::system("You are a weather bot. Always answer by calling get_weather."),
        Message::human("What is the weather in Berlin?"),
        call("call_1", "Berlin"),
        Message::human("What is the weather in London?"),
        call("call_2", "London"),
        Message::human(format!("What is the weather in {city}?")),
    ]
}

fn live_model() -> ChatOpenAI {
    let base = std::env::var("OPENAI_BASE_URL").unwrap_or_else(|_| "http://127.0.0.1:8080/v1".into());
    let key = std::env::var("OPENAI_API_KEY").unwrap_or_else(|_| "sk-local-unused".into());
    ChatOpenAI::new("gemma-3-270m")
        .base_url(base)
        .api_key(key)
        .temperature(0.0)
        .max_tokens(40)
}

async fn run<M: ChatModel + 'static>(model: M) -> runwright::Result<()> {
    let model = Arc::new(model);

    println!("-- prompt | model | parser, streamed");
    let chain = ChatPromptTemplate::from_template("Describe the city of {city} in a few words.")?
        | model.clone()
        | StrOutputParser;
    let mut input = Map::new();
    input.insert("city".into(), "Paris".into());
    let mut tokens = chain.stream(input);
    while let Some(token) = tokens.try_next().await? {
        print!("{token}");
    }
    println!();

    println!("-- a model calling a tool");
    let with_tools = Arc::new(model.bind_tools(&[&get_weather]));
    let ask = Lambda::from_async(move |city: String| {
        let model = with_tools.clone();
        async move {
            let answer = model.invoke(weather_question(&city).into()).await?;
            let mut results = Vec::new();
            for call in &answer.tool_calls {
                let out = get_weather.invoke(ToolInput::Call(call.clone())).await?;
                results.push(out.into_message().map(|m| m.text().into_owned()).unwrap_or_default());
            }
            Ok(results.join("\n"))
        }
    })
    .named("weather_bot");
    let trace = Trace::record("quickstart", ask.stream_events("Paris".to_string())).await;
    if let Some(e) = trace.error() {
        return Err(runwright::Error::msg(format!("the weather bot failed: {e:?}")));
    }
    println!("{}", cli::show(&trace));
    Ok(())
}

#[tokio::main]
async fn main() -> runwright::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let record = args.iter().any(|a| a == "--record");
    let live = record
        || args.iter().any(|a| a == "--live")
        || std::env::var_os("OPENAI_BASE_URL").is_some()
        || std::env::var_os("OPENAI_API_KEY").is_some();
    if record {
        run(Recorder::new(live_model(), CASSETTE)?.with_mode(RecordMode::All)).await
    } else if live {
        run(live_model()).await
    } else {
        run(Recorder::replay(CASSETTE)?).await
    }
}
