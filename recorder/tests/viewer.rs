//! The trace viewer (`view::html`, `runwright trace view`): a page that
//! loads nothing, escapes every string of the trace, and shows the run tree;
//! then the same page in a real browser (headless Chromium), when one is
//! installed.
//!
//! The browser test needs Debian's chromium: `bash scripts/chromium/setup.sh`
//! installs it. Without it the test passes with a note, unless
//! `RUNWRIGHT_REQUIRE_CHROMIUM=1` (as in `.ci/run`) makes that a failure.
//! `RUNWRIGHT_CHROMIUM` names another browser binary.

#[path = "../../tests/support/chromium.rs"]
mod chromium;
mod common;

use std::path::Path;
use std::sync::Arc;

use chromium::{chromium, run_chromium};
use common::scratch;
use runwright::messages::{AIMessage, ToolCall};
use runwright::prompts::ChatPromptTemplate;
use runwright::tools::ToolInput;
use runwright::{tool, FakeToolCallingChatModel, GenericFakeChatModel, Lambda, Map, RunnableExt, StrOutputParser};
use runwright_recorder::{view, Trace};

/// Get the current weather for a city.
///
/// * `city` - the city
#[tool]
fn get_weather(city: String) -> String {
    format!("It is sunny in {city}.")
}

/// Looks a city up in an atlas that has none.
///
/// * `city` - the city
#[tool]
fn atlas(city: String) -> runwright::Result<String> {
    Err(runwright::Error::msg(format!("no atlas entry for {city}")))
}

/// A bot that asks a model, which answers with two tool calls: the weather
/// (which works) and the atlas (which fails, and fails the run). Before that,
/// a `prompt | model | parser` chain streams a few words.
async fn weather_trace(timed: bool) -> Trace {
    let model = Arc::new(FakeToolCallingChatModel::new([AIMessage::new("").with_tool_calls(
        vec![
            ToolCall::new("get_weather", serde_json::json!({"city": "Paris"})).with_id("call_1"),
            ToolCall::new("atlas", serde_json::json!({"city": "Paris"})).with_id("call_2"),
        ],
    )]));
    let bot = Lambda::from_async(move |city: String| {
        let model = model.clone();
        async move {
            let chain = ChatPromptTemplate::from_template("Describe {city}.")?
                | GenericFakeChatModel::new(["Lovely city"])
                | StrOutputParser;
            let mut input = Map::new();
            input.insert("city".into(), city.clone().into());
            let words = chain.invoke(input).await?;
            let answer = model.invoke(format!("Weather in {city}?").into()).await?;
            let mut out = vec![words];
            for call in &answer.tool_calls {
                let result = if call.name == "atlas" {
                    atlas.invoke(ToolInput::Call(call.clone())).await?
                } else {
                    get_weather.invoke(ToolInput::Call(call.clone())).await?
                };
                out.push(result.into_message().map(|m| m.text().into_owned()).unwrap_or_default());
            }
            Ok(out.join("\n"))
        }
    })
    .named("weather_bot");
    let events = bot.stream_events("Paris".into());
    if timed {
        Trace::record_timed("weather", events).await
    } else {
        Trace::record("weather", events).await
    }
}

/// The runs of [`weather_trace`]: the bot, the chain and its three steps,
/// the tool-calling model, the two tools.
const RUNS: usize = 8;

fn run_count(page: &str) -> usize {
    page.matches(" data-run=\"").count()
}

/// The opening tag of the run `id`'s element.
fn run_tag<'a>(page: &'a str, id: &str) -> &'a str {
    let at = page
        .find(&format!("data-run=\"{id}\""))
        .unwrap_or_else(|| panic!("no run {id} in the page"));
    let start = page[..at].rfind('<').unwrap_or(0);
    let end = at + page[at..].find('>').unwrap_or(0);
    &page[start..=end]
}

/// The text of every element with `class="tool-args"`.
fn tool_args(page: &str) -> Vec<String> {
    page.split("class=\"tool-args\">")
        .skip(1)
        .map(|rest| rest[..rest.find("</pre>").unwrap_or(rest.len())].to_owned())
        .collect()
}

#[tokio::test]
async fn the_page_shows_every_run_tool_calls_and_errors() {
    let trace = weather_trace(false).await;
    let page = view::html(&trace);
    // Kept to look at when this fails.
    std::fs::write(scratch("viewer-page").join("weather.html"), &page).unwrap();
    let shown = view::show(&trace);
    assert_eq!(shown.matches(" run-").count(), RUNS, "{shown}");
    assert_eq!(run_count(&page), RUNS, "{page}");

    // The model's tool calls, with their arguments, and the tools' own runs.
    let args = tool_args(&page);
    assert!(args.len() >= 3, "{args:?}");
    assert!(
        args.iter().any(|a| a.contains("&quot;city&quot;: &quot;Paris&quot;")),
        "{args:?}"
    );
    assert!(page.contains("<span class=\"tool-name\">get_weather</span> <span class=\"id\">call_1</span>"));
    assert!(page.contains("<span class=\"tool-name\">atlas</span> <span class=\"id\">call_2</span>"));

    // The failed tool is marked; the bot the error went through did not finish.
    let atlas_run = shown
        .lines()
        .find(|l| l.contains("atlas (tool)"))
        .and_then(|l| l.split_whitespace().find(|w| w.starts_with("run-")))
        .expect("the atlas run");
    assert!(
        run_tag(&page, atlas_run).contains("class=\"run k-tool error\""),
        "{}",
        run_tag(&page, atlas_run)
    );
    assert!(run_tag(&page, "run-0").contains("class=\"run k-chain failed\""));
    assert_eq!(page.matches("class=\"run k-").count(), RUNS);
    assert_eq!(page.matches(" error\" data-run=").count(), 1);
    assert!(page.contains("<pre class=\"text\">Error: no atlas entry for Paris</pre>"));
    assert!(page.contains("<p class=\"failure\">failed: Error: no atlas entry for Paris (in atlas)</p>"));

    // Streamed text, inputs and outputs.
    assert!(page.contains("<code class=\"preview\">&quot;Lovely city&quot;</code>"));
    assert!(page.contains("<span class=\"note\">streamed in 3 chunks</span>"));
    assert!(page.contains("<span class=\"note\">2 chunks without text</span>"));
    assert!(page.contains("[human &quot;Describe Paris.&quot;]"));
    // Untimed: no time axis, no bars.
    assert!(!page.contains("class=\"bar\""));
    assert!(page.contains("untimed"));
}

#[tokio::test]
async fn a_timed_trace_gets_a_time_axis_and_a_bar_per_run() {
    let trace = weather_trace(true).await;
    let page = view::html(&trace);
    assert!(page.contains("<div class=\"axis-row\">"));
    assert_eq!(page.matches("<span class=\"bar\"").count(), RUNS);
    // The bot never ended: its bar runs to the end of the trace.
    assert!(run_tag(&page, "run-0").contains("failed"));
    let bot = &page[page.find("data-run=\"run-0\"").unwrap()..];
    let bot_bar = &bot[bot.find("<span class=\"bar\"").unwrap()..];
    assert!(
        bot_bar.contains("span open-ended\" style=\"left:0.000%;width:100.000%\""),
        "{}",
        &bot_bar[..200]
    );
}

/// What a page must never hold: a reference to anything on a network.
fn assert_self_contained(page: &str) {
    let lower = page.to_ascii_lowercase();
    for bad in ["http://", "https://", "//cdn", "src=", "href=", "url(", "@import"] {
        assert!(!lower.contains(bad), "the page holds {bad:?}");
    }
    assert!(page.contains("default-src 'none'"), "no content security policy");
}

#[tokio::test]
async fn the_page_is_self_contained() {
    assert_self_contained(&view::html(&weather_trace(true).await));
    assert_self_contained(&view::html(&weather_trace(false).await));
    // An empty trace too.
    assert_self_contained(&view::html(&Trace::from_json("empty", Vec::new())));
}

const XSS: &str = "<script>alert(1)</script>";

#[tokio::test]
async fn every_string_of_the_trace_is_escaped() {
    let inner =
        Lambda::from_fn(|s: String| Ok(format!("{s} </script><!-- <img src=x onerror=alert(2)> \"q\" 'a'"))).named(XSS);
    let outer = Lambda::from_async(move |s: String| {
        let inner = inner.clone();
        async move {
            runwright::dispatch_custom_event(XSS, serde_json::json!({"html": XSS}))?;
            let out = inner.invoke(s).await?;
            Err::<String, _>(runwright::Error::msg(format!("{out} {XSS}")))
        }
    })
    .named("outer\" onmouseover=\"alert(3)");
    let trace = Trace::record(XSS, outer.stream_events(XSS.to_owned())).await;
    let page = view::html(&trace);
    // The page's own script is the only script element, and nothing opens
    // a comment, an image or an event handler.
    assert_eq!(page.matches("<script").count(), 1, "{page}");
    assert_eq!(page.matches("</script").count(), 1, "{page}");
    assert!(!page.contains("<!--"));
    assert!(!page.contains("<img"));
    assert!(!page.contains("\" onmouseover"));
    assert!(
        page.contains("<span class=\"name\">&lt;script&gt;alert(1)&lt;/script&gt;</span>"),
        "{page}"
    );
    assert!(page.contains("outer&quot; onmouseover=&quot;alert(3)"));
    assert!(page.contains("&lt;/script&gt;&lt;!-- &lt;img src=x onerror=alert(2)&gt; &quot;q&quot; &#39;a&#39;"));
    assert!(page.contains("<title>&lt;script&gt;alert(1)&lt;/script&gt; - runwright trace</title>"));
    assert_eq!(run_count(&page), 2);
}

// -- in a real browser

#[tokio::test]
async fn the_page_works_in_chromium() {
    let browser = match chromium() {
        Ok(b) => b,
        Err(why) if std::env::var_os("RUNWRIGHT_REQUIRE_CHROMIUM").is_some_and(|v| v == "1") => {
            panic!("RUNWRIGHT_REQUIRE_CHROMIUM=1 and {why}")
        }
        Err(why) => {
            eprintln!(
                "skipped: {why}; then `RUNWRIGHT_REQUIRE_CHROMIUM=1 cargo test -p runwright-recorder \
                 --all-features --test viewer the_page_works_in_chromium`"
            );
            return;
        }
    };
    let dir = scratch("viewer-chromium");
    let trace = weather_trace(true).await;
    let page_path = dir.join("weather.html");
    std::fs::write(&page_path, view::html(&trace)).unwrap();
    let url = format!("file://{}", page_path.display());
    let profile = dir.join("profile");

    // The DOM after the page's script ran.
    let dom_path = dir.join("dom.html");
    run_chromium(&browser, &profile, &["--dump-dom".into()], &url, &dom_path);
    let dom = std::fs::read_to_string(&dom_path).unwrap();
    assert!(
        dom.contains("data-viewer=\"ready\""),
        "the page's script did not run:\n{dom}"
    );
    assert_eq!(run_count(&dom), RUNS, "{dom}");
    assert!(
        dom.contains(&format!("<span id=\"status\">{RUNS} runs</span>")),
        "{dom}"
    );
    let error_runs: Vec<&str> = dom
        .split("<details class=\"")
        .skip(1)
        .filter(|d| d.split('"').next().is_some_and(|c| c.split(' ').any(|w| w == "error")))
        .collect();
    assert_eq!(error_runs.len(), 1, "one run marked as failed");
    assert!(error_runs[0].contains("<span class=\"name\">atlas</span>"));
    let args = tool_args(&dom);
    assert!(args.iter().any(|a| a.contains("\"city\": \"Paris\"")), "{args:?}");

    // A search preset in the address: the matching runs (the model, whose
    // output names the tool, and the tool) are highlighted, the runs with
    // no match inside are hidden.
    let searched_path = dir.join("searched.html");
    run_chromium(
        &browser,
        &profile,
        &["--dump-dom".into()],
        &format!("{url}#search=get_weather"),
        &searched_path,
    );
    let searched = std::fs::read_to_string(&searched_path).unwrap();
    let classes: Vec<&str> = searched
        .split("<details class=\"run ")
        .skip(1)
        .filter_map(|d| d.split('"').next())
        .collect();
    assert_eq!(classes.len(), RUNS);
    assert_eq!(classes.iter().filter(|c| c.contains("match")).count(), 2, "{classes:?}");
    assert!(!classes[0].contains("hidden"), "the bot holds the matches");
    assert!(classes.iter().any(|c| c.contains("hidden")), "{classes:?}");
    assert!(searched.contains("<mark>get_weather</mark>"));
    assert!(searched.contains(&format!("2 of {RUNS} runs match")));

    // A screenshot to look at.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target folder")
        .join("trace-view.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &browser,
        &profile,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,900".into(),
        ],
        &url,
        &dir.join("screenshot.out"),
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", shot.display()));
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    eprintln!("screenshot: {}", shot.display());
}
