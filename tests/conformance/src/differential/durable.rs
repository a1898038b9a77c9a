//! What the durable cases (d10 to d13) share: a [`Thread`] that replays
//! every `call` record of a case on one graph and its `InMemorySaver`, the
//! encoding of runwright's thread types as `scenarios.py`'s `denc` encodes
//! LangGraph's (`StateSnapshot`, `PregelTask`, `Interrupt`,
//! `CheckpointTuple` as `{"type": ..., fields}` objects; with
//! `subgraphs=True`, stream items with their namespace and states with
//! their subgraphs'), and the normalization of `scenarios.py`'s
//! `DurableNormalizer`.
//!
//! Normalization runs record by record as the case goes (the labels are
//! numbered in order of first appearance, so that is the same as
//! normalizing the whole case at its end), which lets a call record name a
//! checkpoint or an interrupt by its label: the replay maps it back to
//! runwright's id.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use runwright::graph::checkpoint::{
    CheckpointConfig, CheckpointTuple, Checkpointer, InMemorySaver, ListOptions, INTERRUPT,
};
use runwright::graph::{
    Command, CompiledGraph, Goto, Interrupt, Resume, StateSnapshot, StreamMode, TaskSnapshot, TaskState,
};
use runwright::{EventFilter, RunConfig, RunnableExt};

use crate::record::Records;

const NULL_TASK_ID: &str = "00000000-0000-0000-0000-000000000000";
const TS_KEYS: &[&str] = &["start_time", "end_time", "timestamp", "created_at", "ts"];
const SORTED_KEYS: &[&str] = &["metadata", "channel_versions", "channel_values", "versions_seen"];

/// `DurableNormalizer`'s labels: checkpoint ids (runwright's are version 7
/// UUIDs) `ckpt-N`, task ids (version 5 UUIDs) `task-N`, interrupt ids (32
/// hex digits) `int-N`, run ids `run-N`, other UUIDs `uuid-N`; the null
/// task id is kept.
#[derive(Default)]
pub(crate) struct Labels {
    map: HashMap<String, String>,
    counts: HashMap<&'static str, usize>,
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(k, c)| match k {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_version(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 33
        && b[..32].iter().all(u8::is_ascii_digit)
        && b[32] == b'.'
        && !b[33..].iter().any(u8::is_ascii_whitespace)
}

impl Labels {
    fn next(&mut self, kind: &'static str) -> String {
        let n = self.counts.entry(kind).or_insert(0);
        *n += 1;
        format!("{kind}-{}", *n - 1)
    }

    fn label(&mut self, u: &str, is_run: bool) -> String {
        let u = u.to_ascii_lowercase();
        if u == NULL_TASK_ID {
            return u;
        }
        if let Some(l) = self.map.get(&u) {
            return l.clone();
        }
        let kind = match u.as_bytes()[14] {
            b'7' => "ckpt",
            // LangGraph's task ids are version 5 UUIDs, runwright's version 8.
            b'5' | b'8' => "task",
            _ if is_run => "run",
            _ => "uuid",
        };
        let l = self.next(kind);
        self.map.insert(u, l.clone());
        l
    }

    /// The id a label stands for.
    pub(crate) fn real(&self, label: &str) -> Option<String> {
        self.map.iter().find(|(_, l)| *l == label).map(|(u, _)| u.clone())
    }

    fn s(&mut self, text: &str, run_hint: bool) -> String {
        if is_version(text) {
            return format!("{}.<r>", &text[..32]);
        }
        let b = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let mut last = 0;
        while i < b.len() {
            if i + 36 <= b.len() && is_uuid(&b[i..i + 36]) {
                out.push_str(&text[last..i]);
                let is_run = run_hint || text[..i].ends_with("lc_run--");
                out.push_str(&self.label(&text[i..i + 36], is_run));
                i += 36;
                last = i;
            } else {
                i += 1;
            }
        }
        out.push_str(&text[last..]);
        // 32 lowercase hex digits standing alone: an interrupt id.
        let text = out;
        let b = text.as_bytes();
        let hexish = |c: u8| c.is_ascii_hexdigit() || c == b'-';
        let mut out = String::with_capacity(text.len());
        let (mut i, mut last) = (0, 0);
        while i + 32 <= b.len() {
            let run = &b[i..i + 32];
            if (i == 0 || !hexish(b[i - 1]))
                && run.iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
                && (i + 32 == b.len() || !hexish(b[i + 32]))
            {
                out.push_str(&text[last..i]);
                let h = text[i..i + 32].to_owned();
                let l = match self.map.get(&h) {
                    Some(l) => l.clone(),
                    None => {
                        let l = self.next("int");
                        self.map.insert(h, l.clone());
                        l
                    }
                };
                out.push_str(&l);
                i += 32;
                last = i;
            } else {
                i += 1;
            }
        }
        out.push_str(&text[last..]);
        out
    }

    fn walk(&mut self, v: &Value, key: Option<&str>, parent_key: Option<&str>) -> Value {
        match v {
            Value::String(s) => {
                if key.is_some_and(|k| TS_KEYS.contains(&k)) {
                    return json!("<ts>");
                }
                let hint = matches!(key, Some("run_id" | "parent_ids"));
                Value::String(self.s(s, hint))
            }
            Value::Object(m) => {
                let mut items: Vec<(&String, &Value)> = m.iter().collect();
                if key.is_some_and(|k| SORTED_KEYS.contains(&k)) || parent_key == Some("versions_seen") {
                    items.sort_by(|a, b| a.0.cmp(b.0));
                }
                let mut out = Map::new();
                for (k, v) in items {
                    let nk = self.s(k, false);
                    let nv = self.walk(v, Some(k), key);
                    out.insert(nk, nv);
                }
                Value::Object(out)
            }
            Value::Array(a) => {
                let a = if key == Some("pending_writes") {
                    canonical_writes(a)
                } else {
                    a.clone()
                };
                Value::Array(a.iter().map(|x| self.walk(x, key, None)).collect())
            }
            other => other.clone(),
        }
    }

    /// Normalizes one record of the case.
    pub(crate) fn record(&mut self, kind: &str, v: &Value) -> Value {
        if kind == "event" {
            if let Some(p) = v["parent_ids"].as_array() {
                for id in p.iter().filter_map(Value::as_str) {
                    self.label(id, true);
                }
            }
            if let Some(id) = v["run_id"].as_str() {
                self.label(id, true);
            }
        }
        self.walk(v, None, None)
    }

    /// A normalized value with its labels replaced by the ids they stand for.
    fn denormalize(&self, v: &Value) -> Value {
        let rev: HashMap<&String, &String> = self.map.iter().map(|(u, l)| (l, u)).collect();
        fn go(v: &Value, rev: &HashMap<&String, &String>) -> Value {
            match v {
                Value::String(s) => Value::String(rev.get(s).map_or_else(|| s.clone(), |u| (*u).clone())),
                Value::Object(m) => Value::Object(
                    m.iter()
                        .map(|(k, v)| (rev.get(k).map_or_else(|| k.clone(), |u| (*u).clone()), go(v, rev)))
                        .collect(),
                ),
                Value::Array(a) => Value::Array(a.iter().map(|x| go(x, rev)).collect()),
                other => other.clone(),
            }
        }
        go(v, &rev)
    }
}

/// `canonical_writes`: each run of one task's consecutive edge writes
/// (`branch:to:*`, `join:*`) sorted by channel.
fn canonical_writes(writes: &[Value]) -> Vec<Value> {
    let mut out = writes.to_vec();
    let edge = |w: &Value| {
        w.as_array().is_some_and(|a| a.len() == 3)
            && w[1]
                .as_str()
                .is_some_and(|c| c.starts_with("branch:to:") || c.starts_with("join:"))
    };
    let mut i = 0;
    while i < out.len() {
        let mut j = i;
        while j < out.len() && edge(&out[j]) && out[j][0] == out[i][0] {
            j += 1;
        }
        if j - i > 1 {
            out[i..j].sort_by(|a, b| a[1].as_str().cmp(&b[1].as_str()));
        }
        i = j.max(i + 1);
    }
    out
}

// --- encoding -------------------------------------------------------------

/// An interrupt as `denc` encodes LangGraph's dataclass (runwright has no
/// `response_schema`: always null).
pub(crate) fn interrupt_json(i: &Interrupt) -> Value {
    json!({"type": "Interrupt", "value": i.value, "id": i.id, "response_schema": null})
}

/// An interrupt list as runwright's stream items carry it
/// (`[{"value", "id"}]`), encoded as LangGraph's objects.
fn typed_interrupts(v: &Value) -> Value {
    match v.as_array() {
        Some(a) => Value::Array(
            a.iter()
                .map(|i| json!({"type": "Interrupt", "value": i["value"], "id": i["id"], "response_schema": null}))
                .collect(),
        ),
        None => v.clone(),
    }
}

/// A config as LangGraph shows it: one naming a checkpoint has its
/// namespace; one naming none is the config given (`{"thread_id"}` alone
/// for a root graph: runwright's `CheckpointConfig` always has a namespace,
/// empty there).
fn config_json(c: &CheckpointConfig) -> Value {
    if c.checkpoint_id.is_none() && c.checkpoint_ns.is_empty() {
        return json!({"configurable": {"thread_id": c.thread_id}});
    }
    c.to_json()
}

fn task_json(t: &TaskSnapshot) -> Value {
    json!({
        "type": "PregelTask",
        "id": t.id,
        "name": t.name,
        "path": t.path,
        "error": t.error,
        "interrupts": t.interrupts.iter().map(interrupt_json).collect::<Vec<_>>(),
        "state": match &t.state {
            None => Value::Null,
            Some(TaskState::Config(c)) => config_json(c),
            Some(TaskState::Snapshot(s)) => snapshot_json(s),
        },
        "result": t.result,
    })
}

pub(crate) fn snapshot_json(s: &StateSnapshot) -> Value {
    json!({
        "type": "StateSnapshot",
        "values": s.values,
        "next": s.next,
        "config": config_json(&s.config),
        "metadata": s.metadata,
        "created_at": s.created_at,
        "parent_config": s.parent_config.as_ref().map(config_json),
        "tasks": s.tasks.iter().map(task_json).collect::<Vec<_>>(),
        "interrupts": s.interrupts.iter().map(interrupt_json).collect::<Vec<_>>(),
    })
}

fn versions_json(v: &runwright::graph::checkpoint::Versions<u64>) -> Value {
    Value::Object(
        v.iter()
            .map(|(k, n)| (k.to_owned(), json!(format!("{n:032}.<r>"))))
            .collect(),
    )
}

pub(crate) fn tuple_json(t: &CheckpointTuple) -> Value {
    let c = &t.checkpoint;
    json!({
        "type": "CheckpointTuple",
        "config": config_json(&t.config),
        "checkpoint": {
            "v": c.v,
            "ts": c.ts,
            "id": c.id,
            "channel_versions": versions_json(&c.channel_versions),
            "versions_seen": Value::Object(c.versions_seen.iter().map(|(k, v)| (k.to_owned(), versions_json(v))).collect()),
            "updated_channels": c.updated_channels,
            "channel_values": c.channel_values,
        },
        "metadata": t.metadata,
        "parent_config": t.parent_config.as_ref().map(config_json),
        "pending_writes": t.pending_writes.iter().map(|w| {
            let value = if w.channel == INTERRUPT { typed_interrupts(&w.value) } else { w.value.clone() };
            json!([w.task_id, w.channel, value])
        }).collect::<Vec<_>>(),
    })
}

/// A stream-mode payload as LangGraph gives it: interrupts in `updates` and
/// `values` items are `Interrupt` objects.
fn payload_json(mode: StreamMode, payload: Value) -> Value {
    let mut payload = payload;
    match mode {
        StreamMode::Updates | StreamMode::Values => {
            if let Some(i) = payload.get_mut("__interrupt__") {
                *i = typed_interrupts(i);
            }
        }
        // LangGraph's plain dicts of interrupts there have a
        // `response_schema` (null), a field runwright's `Interrupt` lacks.
        StreamMode::Tasks | StreamMode::Checkpoints | StreamMode::Debug => {
            let p = if mode == StreamMode::Debug {
                &mut payload["payload"]
            } else {
                &mut payload
            };
            let Some(p) = p.as_object_mut() else { return payload };
            let mut lists: Vec<&mut Value> = Vec::new();
            for (k, v) in p.iter_mut() {
                match k.as_str() {
                    "interrupts" => lists.push(v),
                    "tasks" => lists.extend(
                        v.as_array_mut()
                            .into_iter()
                            .flatten()
                            .filter_map(|t| t.get_mut("interrupts")),
                    ),
                    _ => {}
                }
            }
            for list in lists {
                for i in list.as_array_mut().into_iter().flatten() {
                    if let Some(m) = i.as_object_mut() {
                        m.entry("response_schema").or_insert(Value::Null);
                    }
                }
            }
        }
        _ => {}
    }
    payload
}

fn mode_of(name: &str) -> StreamMode {
    match name {
        "values" => StreamMode::Values,
        "updates" => StreamMode::Updates,
        "custom" => StreamMode::Custom,
        "messages" => StreamMode::Messages,
        "tasks" => StreamMode::Tasks,
        "checkpoints" => StreamMode::Checkpoints,
        "debug" => StreamMode::Debug,
        other => panic!("unknown stream mode {other}"),
    }
}

// --- the replay -------------------------------------------------------------

/// What a call record's input is.
enum Input<S> {
    State(S),
    Command(Command),
}

fn command_of(v: &Value) -> Command {
    let mut c = Command::default();
    match &v["resume"] {
        Value::Null => {}
        Value::Object(m)
            if !m.is_empty()
                && m.keys()
                    .all(|k| k.len() == 32 && k.bytes().all(|b| b.is_ascii_hexdigit())) =>
        {
            c.resume = Some(Resume::ById(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()));
        }
        r => c.resume = Some(Resume::Value(r.clone())),
    }
    if !v["update"].is_null() {
        c.update = Some(v["update"].clone());
    }
    match &v["goto"] {
        Value::String(s) => c.goto.push(Goto::Node(s.clone())),
        Value::Array(a) => c
            .goto
            .extend(a.iter().filter_map(Value::as_str).map(|s| Goto::Node(s.to_owned()))),
        _ => {}
    }
    c
}

fn run_config(kwargs: &Value) -> RunConfig {
    let c = &kwargs["config"]["configurable"];
    let mut config = RunConfig::new();
    for k in ["thread_id", "checkpoint_ns", "checkpoint_id"] {
        if let Some(v) = c[k].as_str() {
            if !(k == "checkpoint_ns" && v.is_empty()) {
                config = config.configurable(k, v);
            }
        }
    }
    if let Some(d) = kwargs["durability"].as_str() {
        config = config.configurable("durability", d);
    }
    config
}

fn checkpoint_config(kwargs_config: &Value) -> CheckpointConfig {
    let c = &kwargs_config["configurable"];
    CheckpointConfig {
        thread_id: c["thread_id"].as_str().unwrap_or_default().to_owned(),
        checkpoint_ns: c["checkpoint_ns"].as_str().unwrap_or_default().to_owned(),
        checkpoint_id: c["checkpoint_id"].as_str().map(str::to_owned),
        ..CheckpointConfig::default()
    }
}

/// One durable case: a graph and its saver, driven by the case's call
/// records in order.
pub(crate) struct Thread<S> {
    case: String,
    graph: CompiledGraph<S>,
    saver: Arc<InMemorySaver>,
    labels: Labels,
    records: Vec<(String, Value)>,
}

impl<S> Thread<S>
where
    S: runwright::Data + DeserializeOwned + serde::Serialize,
{
    pub(crate) fn new(case: &str, graph: CompiledGraph<S>, saver: Arc<InMemorySaver>) -> Self {
        Thread {
            case: case.to_owned(),
            graph,
            saver,
            labels: Labels::default(),
            records: Vec::new(),
        }
    }

    /// The graph (to look at the thread between calls, unrecorded).
    pub(crate) fn graph(&self) -> &CompiledGraph<S> {
        &self.graph
    }

    fn add(&mut self, kind: &str, v: Value) {
        let v = self.labels.record(kind, &v);
        self.records.push((kind.to_owned(), v));
    }

    fn error(&mut self, e: &runwright::Error) {
        self.add("error", json!({"type": e.type_name(), "message": e.message()}));
    }

    /// Replays every call of the case in order.
    pub(crate) async fn replay_all(&mut self, calls: &[Value]) {
        for call in calls {
            self.replay(call, &HashMap::new()).await;
        }
    }

    /// Replays one call record (its labels mapped back to runwright's ids;
    /// `assumed` maps labels no record showed yet).
    pub(crate) async fn replay(&mut self, call: &Value, assumed: &HashMap<&str, String>) {
        for (label, real) in assumed {
            if self.labels.real(label).is_none() {
                // First seen in this call record: numbered now, in order.
                self.labels.map.insert(real.to_ascii_lowercase(), (*label).to_owned());
                let kind: &'static str = if label.starts_with("ckpt") {
                    "ckpt"
                } else if label.starts_with("task") {
                    "task"
                } else {
                    "int"
                };
                *self.labels.counts.entry(kind).or_insert(0) += 1;
            }
        }
        let real = self.labels.denormalize(call);
        self.add("call", real.clone());
        let kwargs = real.get("kwargs").cloned().unwrap_or(Value::Null);
        let input = || -> Option<Input<S>> {
            match &real["input"] {
                Value::Null => None,
                v if v["type"] == "Command" => Some(Input::Command(command_of(v))),
                v => Some(Input::State(serde_json::from_value(v.clone()).expect("a state input"))),
            }
        };
        let config = run_config(&kwargs);
        match real["api"].as_str().unwrap_or_default() {
            "graph.astream" => {
                let (modes, single) = match &kwargs["stream_mode"] {
                    Value::String(m) => (vec![mode_of(m)], true),
                    Value::Array(a) => (a.iter().filter_map(Value::as_str).map(mode_of).collect(), false),
                    _ => (vec![StreamMode::Values], true),
                };
                let v2 = kwargs["version"] == "v2";
                let subgraphs = kwargs["subgraphs"] == true;
                let s = match input() {
                    Some(Input::State(st)) => self.graph.stream_modes(st, &modes, config),
                    Some(Input::Command(c)) => self.graph.stream_command(c, &modes, config),
                    None => self.graph.stream_command(Command::default(), &modes, config),
                };
                let items: Vec<_> = if subgraphs {
                    s.with_subgraphs().collect().await
                } else {
                    s.map(|i| i.map(|(mode, payload)| (Vec::new(), mode, payload)))
                        .collect()
                        .await
                };
                for item in items {
                    match item {
                        Ok((ns, mode, payload)) => {
                            let payload = payload_json(mode, payload);
                            let chunk = if v2 {
                                let mut m = Map::new();
                                m.insert("type".into(), json!(mode.as_str()));
                                m.insert("ns".into(), json!([]));
                                if mode == StreamMode::Values {
                                    let mut data = payload;
                                    let ints = data
                                        .as_object_mut()
                                        .and_then(|d| d.shift_remove("__interrupt__"))
                                        .unwrap_or_else(|| json!([]));
                                    m.insert("data".into(), data);
                                    m.insert("interrupts".into(), ints);
                                } else {
                                    m.insert("data".into(), payload);
                                }
                                Value::Object(m)
                            } else if subgraphs && single {
                                json!([ns, payload])
                            } else if subgraphs {
                                json!([ns, mode.as_str(), payload])
                            } else if single {
                                payload
                            } else {
                                json!([mode.as_str(), payload])
                            };
                            self.add("chunk", chunk);
                        }
                        Err(e) => self.error(&e),
                    }
                }
            }
            "graph.ainvoke" => {
                let thread = CheckpointConfig {
                    checkpoint_id: None,
                    ..checkpoint_config(&kwargs["config"])
                };
                let out = match input() {
                    Some(Input::State(st)) => self.graph.invoke_with(st, config).await,
                    Some(Input::Command(c)) => self.graph.resume(c, config).await,
                    None => self.graph.resume(Command::default(), config).await,
                };
                match out {
                    Ok(state) => {
                        // runwright's invoke gives the state; the interrupts the
                        // run stopped on are the thread's (LangGraph adds them
                        // to the output dict, or to GraphOutput with v2).
                        let interrupts: Vec<Value> = match self.graph.get_state(thread.run_config()).await {
                            Ok(s) => s.interrupts.iter().map(interrupt_json).collect(),
                            Err(_) => Vec::new(),
                        };
                        let mut value = serde_json::to_value(&state).expect("a JSON state");
                        if kwargs["version"] == "v2" {
                            value = json!({"type": "GraphOutput", "value": value, "interrupts": interrupts});
                        } else if !interrupts.is_empty() {
                            value["__interrupt__"] = Value::Array(interrupts);
                        }
                        self.add("output", value);
                    }
                    Err(e) => self.error(&e),
                }
            }
            "graph.astream_events" => {
                let filter = EventFilter::new();
                let events: Vec<_> = match input() {
                    Some(Input::State(st)) => self.graph.stream_events_with(st, config, filter).collect().await,
                    Some(Input::Command(c)) => {
                        self.graph
                            .on_command()
                            .stream_events_with(c, config, filter)
                            .collect()
                            .await
                    }
                    None => {
                        self.graph
                            .on_command()
                            .stream_events_with(Command::default(), config, filter)
                            .collect()
                            .await
                    }
                };
                for ev in events {
                    match ev {
                        Ok(ev) => {
                            let mut ev = ev.to_json();
                            if let Some(i) = ev.pointer_mut("/data/chunk/__interrupt__") {
                                *i = typed_interrupts(i);
                            }
                            self.add("event", ev)
                        }
                        Err(e) => self.error(&e),
                    }
                }
            }
            "graph.aget_state" => match if kwargs["subgraphs"] == true {
                self.graph.get_state_with_subgraphs(config).await
            } else {
                self.graph.get_state(config).await
            } {
                Ok(s) => self.add("state", snapshot_json(&s)),
                Err(e) => self.error(&e),
            },
            "graph.aget_state_history" => {
                let options = ListOptions {
                    before: kwargs["before"]["configurable"]["checkpoint_id"]
                        .as_str()
                        .map(str::to_owned),
                    limit: kwargs["limit"].as_u64().map(|n| n as usize),
                    filter: kwargs["filter"].as_object().cloned().unwrap_or_default(),
                };
                match self.graph.get_state_history_with(config, options).await {
                    Ok(h) => {
                        for s in &h {
                            self.add("state", snapshot_json(s));
                        }
                    }
                    Err(e) => self.error(&e),
                }
            }
            "graph.aupdate_state" => {
                let as_node = kwargs["as_node"].as_str();
                match self.graph.update_state(config, real["input"].clone(), as_node).await {
                    Ok(c) => {
                        let k = &c.configurable;
                        let v = json!({"configurable": {
                            "thread_id": k.get("thread_id"),
                            "checkpoint_ns": k.get("checkpoint_ns").cloned().unwrap_or_else(|| json!("")),
                            "checkpoint_id": k.get("checkpoint_id"),
                        }});
                        self.add("output", v);
                    }
                    Err(e) => self.error(&e),
                }
            }
            "saver.aget_tuple" => match self.saver.get_tuple(&checkpoint_config(&kwargs["config"])).await {
                Ok(Some(t)) => self.add("checkpoint", tuple_json(&t)),
                Ok(None) => self.add("checkpoint", Value::Null),
                Err(e) => self.error(&e),
            },
            "saver.alist" => {
                // Without a `checkpoint_ns`, LangGraph lists every namespace
                // of the thread (the root graph's first).
                let config = checkpoint_config(&kwargs["config"]);
                let namespaces = if kwargs["config"]["configurable"].get("checkpoint_ns").is_some() {
                    vec![config.checkpoint_ns.clone()]
                } else {
                    self.saver.namespaces(&config.thread_id)
                };
                for ns in namespaces {
                    let config = CheckpointConfig {
                        checkpoint_ns: ns,
                        ..config.clone()
                    };
                    match self.saver.list(&config, &ListOptions::default()).await {
                        Ok(l) => {
                            for t in &l {
                                self.add("checkpoint", tuple_json(t));
                            }
                        }
                        Err(e) => self.error(&e),
                    }
                }
            }
            api => panic!("{}: no replay for api {api}", self.case),
        }
    }

    /// Hands the case's records over.
    pub(crate) fn finish(self, out: &mut Records) {
        for (kind, v) in self.records {
            out.push(&self.case, &kind, v);
        }
    }
}
