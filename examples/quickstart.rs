//! cargo run --example quickstart
//!
//! A `prompt | model | parser` chain streaming its answer to the terminal,
//! then a model calling a `#[tool]`, and the run tree of that call.
//!
//! By default the model is replayed from a cassette recorded from a real
//! local model (SmolLM2 135M Instruct behind llama.cpp's OpenAI-compatible
//! server): offline, no API key, whatever the environment holds. Only the
//! command line goes live:
//!
//! * `--live` calls an OpenAI-compatible endpoint: `OPENAI_BASE_URL`
//!   (default `http://127.0.0.1:8080/v1`, the server that
//!   `LLM_MODEL=smollm2 bash scripts/local-llm/setup.sh` starts),
//!   `OPENAI_API_KEY` and `OPENAI_MODEL` (default `smollm2-135m-instruct`);
//! * `--record` does the same and records the cassette again.

use std::sync::Arc;

use futures::TryStreamExt;
use serde_json::json;

use runwright::messages::{AIMessage, Message, ToolCall};
use runwright::models::ChatModel;
use runwright::prompts::ChatPromptTemplate;
use runwright::tools::ToolInput;
use runwright::{tool, ChatOpenAI, Lambda, Map, RunnableExt, StrOutputParser};
use runwright_recorder::{view, Playback, RecordMode, Recorder, Trace};

const CASSETTE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/cassettes/quickstart.jsonl");
/// The model name the local server answers to (scripts/local-llm/setup.sh).
const LOCAL_MODEL: &str = "smollm2-135m-instruct";

/// Get the current weather for a city.
///
/// * `city` - the city
#[tool]
fn get_weather(city: String) -> String {
    format!("It is sunny and 21 degrees in {city}.")
}

/// A few examples of the tool being called: without them a 135M model
/// answers in prose about the weather instead of calling the tool.
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

/// The live model. The environment is read only here, once the command
/// line has asked for a live run.
fn live_model() -> ChatOpenAI {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    ChatOpenAI::new(var("OPENAI_MODEL", LOCAL_MODEL))
        .base_url(var("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1"))
        .api_key(var("OPENAI_API_KEY", "sk-local-unused"))
        .temperature(0.0)
        .max_tokens(60)
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
    let trace = weather_trace(model).await?;
    println!("{}", view::show(&trace));
    Ok(())
}

/// The model calling the tool, recorded as a trace (tests/it/quickstart.rs
/// also views it as the HTML page of `runwright trace view`).
pub async fn weather_trace<M: ChatModel + 'static>(model: M) -> runwright::Result<Trace> {
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
    Ok(trace)
}

/// The whole example, for the arguments it was given (without the program
/// name). tests/it/quickstart.rs runs it too.
pub async fn quickstart<I>(args: I) -> runwright::Result<()>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    match Playback::from_args(args)? {
        Playback::Record => {
            println!("-- recording examples/cassettes/quickstart.jsonl");
            run(Recorder::new(live_model(), CASSETTE)?.with_mode(RecordMode::All)).await
        }
        Playback::Live => {
            println!("-- calling the live model (nothing recorded)");
            run(live_model()).await
        }
        Playback::Replay => {
            println!("-- replaying examples/cassettes/quickstart.jsonl (offline; --live calls the model)");
            run(Recorder::replay(CASSETTE)?).await
        }
    }
}

#[tokio::main]
async fn main() -> runwright::Result<()> {
    quickstart(std::env::args().skip(1)).await
}
