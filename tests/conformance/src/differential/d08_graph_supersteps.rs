//! d08_graph_supersteps: see `differential/scenarios.py`, function `d08`.

use serde::{Deserialize, Serialize};
use serde_json::json;

use runwright::graph::{CompiledGraph, Reducer, StateGraph, END, START};
use runwright::{FakeListChatModel, Lambda, RunConfig, RunnableExt};

use super::calls_of;
use crate::record::Records;
use crate::scenarios::common::events;
use crate::scenarios::s12_graph::graph_chunks;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct FanState {
    log: Vec<String>,
    topic: String,
    count: i64,
}

impl runwright::Chunk for FanState {}

/// A node that writes `{"from": name}` with the stream writer, then returns
/// `update`.
fn writing_node(
    name: &'static str,
    update: serde_json::Value,
) -> impl Fn(FanState) -> futures::future::Ready<runwright::Result<serde_json::Value>> {
    move |_| {
        runwright::stream_writer().write(json!({ "from": name }));
        futures::future::ready(Ok(update.clone()))
    }
}

fn fan_out() -> CompiledGraph<FanState> {
    StateGraph::<FanState>::new()
        .reducer("log", Reducer::Append)
        .add_node("zeta", writing_node("zeta", json!({"log": ["zeta"], "count": 1})))
        .add_node("alpha", writing_node("alpha", json!({"log": ["alpha"]})))
        .add_node("mid", writing_node("mid", json!({"log": ["mid"]})))
        .add_node("join", |s: FanState| async move {
            Ok(json!({"log": ["join"], "topic": format!("{}!", s.topic)}))
        })
        .add_edge(START, "zeta")
        .add_edge(START, "alpha")
        .add_edge(START, "mid")
        .add_edge_from_all(&["zeta", "alpha", "mid"], "join")
        .add_edge("join", END)
        .compile()
        .expect("a valid graph")
}

fn fan_input() -> FanState {
    FanState {
        log: Vec::new(),
        topic: "t".into(),
        count: 0,
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct RouteState {
    n: i64,
    path: Vec<String>,
}

impl runwright::Chunk for RouteState {}

/// A plain function: its run is named after it, as LangGraph names a `def`.
fn route_by_size(s: &RouteState) -> &'static str {
    if s.n > 5 {
        "big"
    } else {
        "small"
    }
}

fn router(named: bool) -> CompiledGraph<RouteState> {
    let g = StateGraph::<RouteState>::new()
        .add_node("start", |s: RouteState| async move {
            let mut path = s.path;
            path.push("start".into());
            Ok(json!({"n": s.n + 1, "path": path}))
        })
        .add_node("small", |s: RouteState| async move {
            let mut path = s.path;
            path.push("small".into());
            Ok(json!({ "path": path }))
        })
        .add_node("big", |s: RouteState| async move {
            let mut path = s.path;
            path.push("big".into());
            Ok(json!({ "path": path }))
        })
        .add_edge(START, "start");
    let g = if named {
        g.add_conditional_edges("start", route_by_size)
    } else {
        // A closure has no name: its run is `Unnamed`, as a Python lambda's.
        g.add_conditional_edges("start", |s: &RouteState| if s.n > 5 { "big" } else { "small" })
    };
    g.add_edge("small", END)
        .add_edge("big", END)
        .compile()
        .expect("a valid graph")
}

fn route_input(n: i64) -> RouteState {
    RouteState { n, path: Vec::new() }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct OrderState {
    first: String,
    second: i64,
    third: Vec<String>,
}

impl runwright::Chunk for OrderState {}

fn ordered() -> CompiledGraph<OrderState> {
    StateGraph::<OrderState>::new()
        .add_node("fill", |_: OrderState| async move {
            Ok(json!({"third": ["t"], "first": "f", "second": 2}))
        })
        .add_edge(START, "fill")
        .add_edge("fill", END)
        .compile()
        .expect("a valid graph")
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ChatState {
    answer: String,
    quiet: String,
}

impl runwright::Chunk for ChatState {}

fn nostream() -> CompiledGraph<ChatState> {
    let loud = std::sync::Arc::new(FakeListChatModel::new(["hi you"]));
    let silent = std::sync::Arc::new(FakeListChatModel::new(["shh"]).with_config(RunConfig::new().tags(["nostream"])));
    StateGraph::<ChatState>::new()
        .add_node("talk", move |_: ChatState| {
            let loud = loud.clone();
            async move {
                let m = loud.invoke("hello".into()).await?;
                Ok(json!({"answer": m.text()}))
            }
        })
        .add_node("hush", move |_: ChatState| {
            let silent = silent.clone();
            async move {
                let m = silent.invoke("hello".into()).await?;
                Ok(json!({"quiet": m.text()}))
            }
        })
        .add_edge(START, "talk")
        .add_edge("talk", "hush")
        .add_edge("hush", END)
        .compile()
        .expect("a valid graph")
}

fn chat_input() -> ChatState {
    ChatState {
        answer: String::new(),
        quiet: String::new(),
    }
}

pub(crate) async fn run() -> Records {
    let calls = calls_of("d08_graph_supersteps");
    let mut out = Records::default();
    for case in [
        "fan_out.updates",
        "fan_out.values",
        "fan_out.custom",
        "fan_out.updates+custom",
    ] {
        let call = calls.start(&mut out, case);
        graph_chunks(&mut out, case, &call, &fan_out(), fan_input()).await;
    }
    let case = "fan_out.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &fan_out(), fan_input()).await;

    let case = "named_router.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &router(true), route_input(1)).await;
    let case = "named_router.updates";
    let call = calls.start(&mut out, case);
    graph_chunks(&mut out, case, &call, &router(true), route_input(9)).await;
    let case = "lambda_router.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &router(false), route_input(1)).await;

    let case = "values_field_order.values";
    let call = calls.start(&mut out, case);
    let input = OrderState {
        first: String::new(),
        second: 0,
        third: Vec::new(),
    };
    graph_chunks(&mut out, case, &call, &ordered(), input).await;

    for case in ["nostream.messages", "nostream.values"] {
        let call = calls.start(&mut out, case);
        graph_chunks(&mut out, case, &call, &nostream(), chat_input()).await;
    }

    let case = "graph_in_lambda.astream_events";
    let call = calls.start(&mut out, case);
    let graph = router(true);
    let run_graph = Lambda::from_async(move |n: i64| {
        let graph = graph.clone();
        async move { Ok(graph.invoke(route_input(n)).await?.path) }
    })
    .named("run_graph");
    events(&mut out, case, &call, &run_graph, 7).await;
    out
}
