//! The `runwright` command: `trace show`, `trace diff` and `trace view`,
//! run as a user runs them, their output kept as insta snapshots.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::scratch;
use runwright::messages::{AIMessage, ToolCall};
use runwright::prompts::ChatPromptTemplate;
use runwright::tools::ToolInput;
use runwright::{
    tool, FakeToolCallingChatModel, GenericFakeChatModel, Lambda, Map, Parallel, RunnableExt, StrOutputParser,
};
use runwright_recorder::Trace;

fn runwright(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runwright"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the runwright binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn combine(m: Map) -> runwright::Result<String> {
    runwright::dispatch_custom_event("combined", serde_json::json!({"keys": m.len()}))?;
    let text = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
    Ok(format!("{}\n{}", text("joke"), text("poem")))
}

async fn writing_trace(joke: &str) -> Trace {
    let prompt = || ChatPromptTemplate::from_template("write about {topic}").unwrap();
    let chain = Parallel::new()
        .branch("joke", prompt() | GenericFakeChatModel::new([joke]) | StrOutputParser)
        .branch(
            "poem",
            prompt() | GenericFakeChatModel::new(["Roses are red"]) | StrOutputParser,
        )
        | Lambda::from_fn(combine).named("combine");
    let mut input = Map::new();
    input.insert("topic".into(), "parrots".into());
    Trace::record("writing", chain.stream_events(input)).await
}

#[tokio::test]
async fn trace_show_prints_the_run_tree() {
    let dir = scratch("cli-show");
    writing_trace("Why did the parrot talk?")
        .await
        .write(dir.join("writing.jsonl"))
        .unwrap();
    let out = runwright(&dir, &["trace", "show", "writing.jsonl"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    insta::assert_snapshot!(stdout(&out));
}

/// Fails on every word.
#[tool]
fn fussy(word: String) -> runwright::Result<String> {
    Err(runwright::Error::msg(format!("cannot handle {word}")))
}

/// Get the current weather for a city.
///
/// * `city` - the city
#[tool]
fn get_weather(city: String) -> String {
    format!("It is sunny in {city}.")
}

#[tokio::test]
async fn trace_show_prints_tool_calls_with_arguments_and_results() {
    let dir = scratch("cli-show-tools");
    let call = ToolCall::new("get_weather", serde_json::json!({"city": "Paris"})).with_id("call_1");
    let model = std::sync::Arc::new(FakeToolCallingChatModel::new([
        AIMessage::new("").with_tool_calls(vec![call])
    ]));
    let bot = Lambda::from_async(move |question: String| {
        let model = model.clone();
        async move {
            let answer = model.invoke(question.into()).await?;
            let mut out = Vec::new();
            for call in &answer.tool_calls {
                let result = get_weather.invoke(ToolInput::Call(call.clone())).await?;
                out.push(result.into_message().map(|m| m.text().into_owned()).unwrap_or_default());
            }
            Ok(out.join("\n"))
        }
    })
    .named("weather_bot");
    let trace = Trace::record("tools", bot.stream_events("Weather in Paris?".into())).await;
    trace.write(dir.join("tools.jsonl")).unwrap();
    let out = runwright(&dir, &["trace", "show", "tools.jsonl"]);
    assert!(out.status.success());
    let shown = stdout(&out);
    // The model streamed no text: its chunks are counted, not quoted as "".
    assert!(!shown.contains("streamed \"\""), "{shown}");
    insta::assert_snapshot!("show_tools", shown);
    // The snapshot form: the tool's output is the bot's, shown once, at the
    // tool; the model's answer is its tool call.
    insta::assert_snapshot!("tree_tools", runwright_recorder::view::tree(&trace));
}

#[tokio::test]
async fn trace_show_prints_errors_and_durations() {
    let dir = scratch("cli-show-errors");
    let trace = Trace::record("fussy", fussy.stream_events("parrot".into())).await;
    trace.write(dir.join("fussy.jsonl")).unwrap();
    let out = runwright(&dir, &["trace", "show", "fussy.jsonl"]);
    assert!(out.status.success());
    insta::assert_snapshot!("show_errors", stdout(&out));

    // A timed trace (times fixed here, so the output is stable).
    let timed = concat!(
        r#"{"format":"runwright-trace","version":1,"runwright":"0.1.0","name":"timed","root":"outer","events":4,"timed":true}"#,
        "\n",
        r#"{"event":"on_chain_start","data":{"input":"x"},"name":"outer","tags":[],"run_id":"run-0","metadata":{},"parent_ids":[],"at_ms":0.0}"#,
        "\n",
        r#"{"event":"on_chain_start","data":{"input":"x"},"name":"inner","tags":["seq:step:1"],"run_id":"run-1","metadata":{},"parent_ids":["run-0"],"at_ms":1.5}"#,
        "\n",
        r#"{"event":"on_chain_end","data":{"output":"y","input":"x"},"run_id":"run-1","name":"inner","tags":["seq:step:1"],"metadata":{},"parent_ids":["run-0"],"at_ms":14.0}"#,
        "\n",
        r#"{"event":"on_chain_end","data":{"output":"y"},"run_id":"run-0","name":"outer","tags":[],"metadata":{},"parent_ids":[],"at_ms":15.25}"#,
        "\n",
    );
    std::fs::write(dir.join("timed.jsonl"), timed).unwrap();
    let out = runwright(&dir, &["trace", "show", "timed.jsonl"]);
    assert!(out.status.success());
    insta::assert_snapshot!("show_timed", stdout(&out));
}

#[tokio::test]
async fn trace_diff_prints_the_first_differences() {
    let dir = scratch("cli-diff");
    let a = writing_trace("Why did the parrot talk?").await;
    a.write(dir.join("a.jsonl")).unwrap();
    let n = a.events().len();
    writing_trace("Why did the parrot sing?")
        .await
        .write(dir.join("b.jsonl"))
        .unwrap();
    let same = runwright(&dir, &["trace", "diff", "a.jsonl", "a.jsonl"]);
    assert_eq!(same.status.code(), Some(0));
    assert_eq!(stdout(&same), format!("a.jsonl and a.jsonl hold the same {n} events\n"));

    let out = runwright(&dir, &["trace", "diff", "a.jsonl", "b.jsonl"]);
    assert_eq!(out.status.code(), Some(1), "differences exit with 1");
    insta::assert_snapshot!(stdout(&out));

    // One event fewer: shown as one missing event, not as a shifted tail.
    let text = std::fs::read_to_string(dir.join("a.jsonl")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(5);
    let header = lines[0].replace(&format!("\"events\":{n}"), &format!("\"events\":{}", n - 1));
    lines[0] = &header;
    std::fs::write(dir.join("short.jsonl"), lines.join("\n") + "\n").unwrap();
    let out = runwright(&dir, &["trace", "diff", "a.jsonl", "short.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("diff_missing_event", stdout(&out));
}

#[test]
fn a_broken_file_is_reported_with_exit_status_2() {
    let dir = scratch("cli-broken");
    std::fs::write(dir.join("broken.jsonl"), "{\"format\":\"runwright-trace\"\n").unwrap();
    let out = runwright(&dir, &["trace", "show", "broken.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "runwright: broken.jsonl:1: invalid JSON: EOF while parsing an object at line 1 column 27\n"
    );
}

#[tokio::test]
async fn trace_replay_prints_the_events_as_json_lines() {
    let dir = scratch("cli-replay");
    let trace = writing_trace("Why did the parrot talk?").await;
    trace.write(dir.join("writing.jsonl")).unwrap();
    let out = runwright(&dir, &["trace", "replay", "writing.jsonl", "--pace", "instant"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines, trace.events());

    let out = runwright(&dir, &["trace", "replay", "writing.jsonl", "--pace", "fast"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"fast\" is not a pace: recorded, instant, or a positive factor (0.5)"),
        "{err}"
    );
    let out = runwright(&dir, &["trace", "replay", "missing.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.jsonl"));
}

#[tokio::test]
async fn trace_view_writes_one_html_page() {
    let dir = scratch("cli-view");
    let trace = writing_trace("Why did the parrot <b>talk</b>?").await;
    trace.write(dir.join("writing.jsonl")).unwrap();

    // By default beside the trace, with the extension .html.
    let out = runwright(&dir, &["trace", "view", "writing.jsonl"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout(&out), "wrote writing.html\n");
    let page = std::fs::read_to_string(dir.join("writing.html")).unwrap();
    assert_eq!(page, runwright_recorder::view::html(&trace));
    assert_eq!(page.matches(" data-run=\"").count(), 11);
    assert!(page.contains("Why did the parrot &lt;b&gt;talk&lt;/b&gt;?"));
    assert!(!page.contains("http://") && !page.contains("https://"));

    // -o names the page.
    std::fs::create_dir_all(dir.join("pages")).unwrap();
    let out = runwright(&dir, &["trace", "view", "writing.jsonl", "-o", "pages/w.html"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "wrote pages/w.html\n");
    assert_eq!(std::fs::read_to_string(dir.join("pages/w.html")).unwrap(), page);

    // --help says where the page goes without -o.
    let help = stdout(&runwright(&dir, &["trace", "view", "--help"]));
    assert!(help.contains("[default: FILE with the extension .html]"), "{help}");
}

#[test]
fn trace_view_errors_name_the_file() {
    let dir = scratch("cli-view-errors");
    let out = runwright(&dir, &["trace", "view", "missing.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("runwright: ") && stderr.contains("missing.jsonl"),
        "{stderr}"
    );
    assert!(!dir.join("missing.html").exists());

    let trace = Trace::from_json("empty", Vec::new());
    trace.write(dir.join("t.jsonl")).unwrap();
    let out = runwright(&dir, &["trace", "view", "t.jsonl", "-o", "no/such/folder/t.html"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("runwright: cannot write no/such/folder/t.html: "),
        "{stderr}"
    );

    // A page would overwrite the trace itself.
    std::fs::copy(dir.join("t.jsonl"), dir.join("t.html")).unwrap();
    let out = runwright(&dir, &["trace", "view", "t.html"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "runwright: t.html is the trace itself: name another page with -o OUT.html\n"
    );
}
