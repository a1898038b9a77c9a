//! The canonical order of an event stream (see the crate docs, "Canonical
//! order"): concurrent sibling subtrees de-interleaved and sorted, map
//! outputs' keys sorted. Works on the raw v2 JSON of the events, before
//! their run ids are numbered.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use serde_json::Value;

/// Tags a parent gives its child; the first tag of an event is one of these
/// when the run has a local tag.
const LOCAL_TAGS: &[&str] = &["seq:step:", "map:key:", "retry:attempt:", "graph:step:"];

struct Event<'a> {
    run: Option<&'a str>,
    /// Ancestors, root first.
    parents: Vec<&'a str>,
    stream: bool,
    /// The key of a stream event's chunk when it is an object of one key (a
    /// map's `{key: chunk}`, as the map and its ancestors forward it).
    chunk_key: Option<&'a str>,
}

struct Run<'a> {
    parent: Option<&'a str>,
    depth: usize,
    tag: Option<&'a str>,
    name: &'a str,
    input: String,
    first: usize,
}

#[derive(PartialEq)]
enum GroupKind {
    Map,
    Concurrent,
}

struct Group<'a> {
    kind: GroupKind,
    parent: Option<&'a str>,
    members: Vec<&'a str>,
}

fn event_of(v: &Value) -> Event<'_> {
    let parents = v["parent_ids"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    Event {
        run: v["run_id"].as_str(),
        parents,
        stream: v["event"].as_str().is_some_and(|e| e.ends_with("_stream")),
        chunk_key: v["data"]["chunk"]
            .as_object()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.keys().next())
            .map(String::as_str),
    }
}

fn local_tag(v: &Value) -> Option<&str> {
    let first = v["tags"].as_array()?.first()?.as_str()?;
    LOCAL_TAGS.iter().any(|p| first.starts_with(p)).then_some(first)
}

/// Compares strings with runs of digits compared as numbers
/// (`seq:step:2` < `seq:step:10`).
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (da, db) = (trim_zeros(&a[..na]), trim_zeros(&b[..nb]));
                let ord = da.len().cmp(&db.len()).then_with(|| da.cmp(db)).then(na.cmp(&nb));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[na..];
                b = &b[nb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let z = d.iter().take_while(|c| **c == b'0').count();
    &d[z..]
}

/// The canonical order of `events` (indices into it), and for each map group
/// its branch keys and member run ids (for [`sort_map_keys`]).
pub(crate) fn canonical_order(events: &[Value]) -> (Vec<usize>, Vec<MapKeys>) {
    let evs: Vec<Event<'_>> = events.iter().map(event_of).collect();

    // Runs, in order of first appearance.
    let mut runs: HashMap<&str, Run<'_>> = HashMap::new();
    let mut run_order: Vec<&str> = Vec::new();
    for (i, (v, e)) in events.iter().zip(&evs).enumerate() {
        let Some(id) = e.run else { continue };
        let is_custom = v["event"] == "on_custom_event";
        let run = runs.entry(id).or_insert_with(|| {
            run_order.push(id);
            Run {
                parent: e.parents.last().copied(),
                depth: e.parents.len(),
                tag: None,
                name: "",
                input: String::new(),
                first: i,
            }
        });
        if !is_custom && run.name.is_empty() {
            run.tag = local_tag(v);
            run.name = v["name"].as_str().unwrap_or_default();
            run.input = v["data"].get("input").map(Value::to_string).unwrap_or_default();
        }
    }

    // Subtree spans in the recorded order.
    let mut spans: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, e) in evs.iter().enumerate() {
        for id in e.parents.iter().copied().chain(e.run) {
            let s = spans.entry(id).or_insert((i, i));
            s.1 = i;
        }
    }

    // Groups of concurrent siblings.
    let mut children: HashMap<Option<&str>, Vec<&str>> = HashMap::new();
    let mut parents_in_order: Vec<Option<&str>> = Vec::new();
    for id in &run_order {
        let p = runs[id].parent;
        let list = children.entry(p).or_default();
        if list.is_empty() {
            parents_in_order.push(p);
        }
        list.push(id);
    }
    let mut groups: Vec<Group<'_>> = Vec::new();
    for p in &parents_in_order {
        let kids = &children[p];
        let maps: Vec<&str> = kids
            .iter()
            .copied()
            .filter(|k| runs[k].tag.is_some_and(|t| t.starts_with("map:key:")))
            .collect();
        if maps.len() > 1 {
            groups.push(Group {
                kind: GroupKind::Map,
                parent: *p,
                members: maps,
            });
        }
        let mut loose: Vec<&str> = kids
            .iter()
            .copied()
            .filter(|k| runs[k].tag.is_none_or(|t| t.starts_with("graph:step:")))
            .collect();
        loose.sort_by_key(|k| spans[k].0);
        let mut cluster: Vec<&str> = Vec::new();
        let mut end = 0;
        for k in loose {
            let (s, e) = spans[k];
            if !cluster.is_empty() && s > end {
                flush_cluster(&mut groups, *p, &mut cluster);
            }
            end = if cluster.is_empty() { e } else { end.max(e) };
            cluster.push(k);
        }
        flush_cluster(&mut groups, *p, &mut cluster);
    }
    let depth_of = |p: Option<&str>| p.map_or(0, |p| runs.get(p).map_or(1, |r| r.depth + 1));
    let first_of = |g: &Group<'_>| g.members.iter().map(|m| spans[m].0).min().unwrap_or(0);
    groups.sort_by(|a, b| {
        depth_of(a.parent)
            .cmp(&depth_of(b.parent))
            .then_with(|| first_of(a).cmp(&first_of(b)))
    });

    let mut order: Vec<usize> = (0..events.len()).collect();
    let mut map_keys = Vec::new();
    for g in &groups {
        let mut members = g.members.clone();
        members.sort_by(|a, b| {
            let (ra, rb) = (&runs[a], &runs[b]);
            natural_cmp(ra.tag.unwrap_or(""), rb.tag.unwrap_or(""))
                .then_with(|| natural_cmp(ra.name, rb.name))
                .then_with(|| ra.input.cmp(&rb.input))
                .then_with(|| ra.first.cmp(&rb.first))
        });
        let keys: Vec<Option<&str>> = members
            .iter()
            .map(|m| runs[m].tag.and_then(|t| t.strip_prefix("map:key:")))
            .collect();
        deinterleave(&mut order, &evs, g.parent, &members, &keys);
        if g.kind == GroupKind::Map {
            map_keys.push(MapKeys {
                keys: members
                    .iter()
                    .filter_map(|m| runs[m].tag.and_then(|t| t.strip_prefix("map:key:")))
                    .map(str::to_owned)
                    .collect(),
                members: members.iter().map(|m| m.to_string()).collect(),
            });
        }
    }
    (order, map_keys)
}

fn flush_cluster<'a>(groups: &mut Vec<Group<'a>>, parent: Option<&'a str>, cluster: &mut Vec<&'a str>) {
    if cluster.len() > 1 {
        groups.push(Group {
            kind: GroupKind::Concurrent,
            parent,
            members: std::mem::take(cluster),
        });
    }
    cluster.clear();
}

/// Rewrites the stretch of `order` where `members` ran: each member's
/// subtree as one block in the given order, the parent's and ancestors'
/// stream events with the block of the branch whose key their chunk
/// carries (`keys`: each member's map key), or else with the block they
/// follow, everything else after. (A map holds a branch's item until it is
/// handed out, and does not poll that branch meanwhile, so nothing of the
/// branch comes between its chunk and the map's forwarding of it.)
fn deinterleave(
    order: &mut Vec<usize>,
    evs: &[Event<'_>],
    parent: Option<&str>,
    members: &[&str],
    keys: &[Option<&str>],
) {
    let member_of = |i: usize| -> Option<usize> {
        let e = &evs[i];
        members.iter().position(|m| e.run == Some(*m) || e.parents.contains(m))
    };
    let Some(lo) = order.iter().position(|&i| member_of(i).is_some()) else {
        return;
    };
    let Some(hi) = order.iter().rposition(|&i| member_of(i).is_some()) else {
        return;
    };
    // The parent and its ancestors: whose stream events carry a branch's
    // chunk upwards.
    let mut owners: HashSet<&str> = HashSet::new();
    if let Some(p) = parent {
        owners.insert(p);
        let e = &evs[order[lo]];
        for a in &e.parents {
            if *a == p {
                break;
            }
            owners.insert(a);
        }
    }
    let mut blocks: Vec<Vec<usize>> = vec![Vec::new(); members.len()];
    let mut rest = Vec::new();
    let mut last = 0;
    for &i in &order[lo..=hi] {
        if let Some(m) = member_of(i) {
            blocks[m].push(i);
            last = m;
        } else if evs[i].stream && evs[i].run.is_some_and(|r| owners.contains(r)) {
            let by_key = evs[i].chunk_key.and_then(|k| keys.iter().position(|x| *x == Some(k)));
            blocks[by_key.unwrap_or(last)].push(i);
        } else {
            rest.push(i);
        }
    }
    let stretch: Vec<usize> = blocks.into_iter().flatten().chain(rest).collect();
    order.splice(lo..=hi, stretch);
}

/// The branch keys of one map, and its branches' run ids.
pub(crate) struct MapKeys {
    keys: Vec<String>,
    members: Vec<String>,
}

/// Sorts the map keys in the `data` of the events (already in canonical
/// order) from each map's first branch event on.
pub(crate) fn sort_map_keys(events: &mut [Value], maps: &[MapKeys]) {
    for m in maps {
        let keys: HashSet<&str> = m.keys.iter().map(String::as_str).collect();
        let first = events.iter().position(|v| {
            let run = v["run_id"].as_str().unwrap_or_default();
            let in_member = |id: &str| m.members.iter().any(|x| x == id);
            in_member(run)
                || v["parent_ids"]
                    .as_array()
                    .is_some_and(|a| a.iter().filter_map(Value::as_str).any(in_member))
        });
        let Some(first) = first else { continue };
        for v in &mut events[first..] {
            if let Some(data) = v.get_mut("data") {
                sort_keys_in(data, &keys);
            }
        }
    }
}

fn sort_keys_in(v: &mut Value, keys: &HashSet<&str>) {
    match v {
        Value::Array(a) => a.iter_mut().for_each(|x| sort_keys_in(x, keys)),
        Value::Object(m) => {
            m.values_mut().for_each(|x| sort_keys_in(x, keys));
            let slots: Vec<usize> = m
                .keys()
                .enumerate()
                .filter(|(_, k)| keys.contains(k.as_str()))
                .map(|(i, _)| i)
                .collect();
            if slots.len() < 2 {
                return;
            }
            let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
            let mut branch: Vec<(String, Value)> = slots.iter().map(|&i| std::mem::take(&mut entries[i])).collect();
            branch.sort_by(|a, b| natural_cmp(&a.0, &b.0));
            for (slot, entry) in slots.iter().zip(branch) {
                entries[*slot] = entry;
            }
            *m = entries.into_iter().collect();
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(event: &str, run: &str, parents: &[&str], tags: &[&str], data: Value) -> Value {
        json!({"event": event, "name": run, "run_id": run, "tags": tags, "data": data, "parent_ids": parents})
    }

    fn runs_in(events: &[Value], order: &[usize]) -> Vec<String> {
        order
            .iter()
            .map(|&i| {
                format!(
                    "{}:{}",
                    events[i]["event"].as_str().unwrap(),
                    events[i]["run_id"].as_str().unwrap()
                )
            })
            .collect()
    }

    #[test]
    fn natural_order_compares_numbers_as_numbers() {
        assert_eq!(natural_cmp("seq:step:2", "seq:step:10"), Ordering::Less);
        assert_eq!(natural_cmp("a", "b"), Ordering::Less);
        assert_eq!(natural_cmp("x10", "x9"), Ordering::Greater);
        assert_eq!(natural_cmp("x", "x"), Ordering::Equal);
    }

    #[test]
    fn map_branches_are_deinterleaved_and_sorted_with_their_forwarded_chunks() {
        let events = vec![
            ev("on_chain_start", "P", &[], &[], json!({})),
            ev("on_chain_start", "b", &["P"], &["map:key:b"], json!({})),
            ev("on_chain_start", "a", &["P"], &["map:key:a"], json!({})),
            ev("on_chain_stream", "b", &["P"], &["map:key:b"], json!({"chunk": 1})),
            ev("on_chain_stream", "P", &[], &[], json!({"chunk": {"b": 1}})),
            ev("on_chain_stream", "a", &["P"], &["map:key:a"], json!({"chunk": 2})),
            ev("on_chain_stream", "P", &[], &[], json!({"chunk": {"a": 2}})),
            ev("on_chain_end", "a", &["P"], &["map:key:a"], json!({})),
            ev("on_chain_end", "b", &["P"], &["map:key:b"], json!({})),
            ev("on_chain_end", "P", &[], &[], json!({"output": {"b": 1, "a": 2}})),
        ];
        let (order, maps) = canonical_order(&events);
        assert_eq!(
            runs_in(&events, &order),
            [
                "on_chain_start:P",
                "on_chain_start:a",
                "on_chain_stream:a",
                "on_chain_stream:P",
                "on_chain_end:a",
                "on_chain_start:b",
                "on_chain_stream:b",
                "on_chain_stream:P",
                "on_chain_end:b",
                "on_chain_end:P",
            ]
        );
        let mut sorted: Vec<Value> = order.iter().map(|&i| events[i].clone()).collect();
        sort_map_keys(&mut sorted, &maps);
        let out = sorted[9]["data"]["output"].as_object().unwrap();
        assert_eq!(out.keys().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn sequence_steps_keep_their_interleaving() {
        let events = vec![
            ev("on_chain_start", "S", &[], &[], json!({})),
            ev("on_chat_model_start", "m", &["S"], &["seq:step:1"], json!({})),
            ev("on_chat_model_stream", "m", &["S"], &["seq:step:1"], json!({})),
            ev("on_parser_start", "p", &["S"], &["seq:step:2"], json!({})),
            ev("on_parser_stream", "p", &["S"], &["seq:step:2"], json!({})),
            ev("on_chat_model_stream", "m", &["S"], &["seq:step:1"], json!({})),
            ev("on_parser_stream", "p", &["S"], &["seq:step:2"], json!({})),
        ];
        let (order, _) = canonical_order(&events);
        assert_eq!(order, (0..events.len()).collect::<Vec<_>>());
    }

    #[test]
    fn other_events_of_the_stretch_come_after_the_blocks() {
        let events = vec![
            ev("on_chain_start", "S", &[], &[], json!({})),
            ev("on_chain_start", "P", &["S"], &["seq:step:1"], json!({})),
            ev("on_chain_start", "b", &["S", "P"], &["map:key:b"], json!({})),
            ev(
                "on_chain_stream",
                "P",
                &["S"],
                &["seq:step:1"],
                json!({"chunk": {"b": 1}}),
            ),
            ev("on_chain_start", "next", &["S"], &["seq:step:2"], json!({})),
            ev("on_chain_start", "a", &["S", "P"], &["map:key:a"], json!({})),
            ev("on_chain_end", "a", &["S", "P"], &["map:key:a"], json!({})),
            ev("on_chain_end", "b", &["S", "P"], &["map:key:b"], json!({})),
        ];
        let (order, _) = canonical_order(&events);
        assert_eq!(
            runs_in(&events, &order),
            [
                "on_chain_start:S",
                "on_chain_start:P",
                "on_chain_start:a",
                "on_chain_end:a",
                "on_chain_start:b",
                "on_chain_stream:P",
                "on_chain_end:b",
                "on_chain_start:next",
            ]
        );
    }

    #[test]
    fn overlapping_untagged_siblings_are_sorted_by_name() {
        let events = vec![
            ev("on_chain_start", "L", &[], &[], json!({})),
            ev("on_tool_start", "t2", &["L"], &[], json!({})),
            ev("on_tool_start", "t1", &["L"], &[], json!({})),
            ev("on_tool_end", "t2", &["L"], &[], json!({})),
            ev("on_tool_end", "t1", &["L"], &[], json!({})),
            ev("on_tool_start", "t0", &["L"], &[], json!({})),
            ev("on_tool_end", "t0", &["L"], &[], json!({})),
        ];
        let (order, _) = canonical_order(&events);
        assert_eq!(
            runs_in(&events, &order),
            [
                "on_chain_start:L",
                "on_tool_start:t1",
                "on_tool_end:t1",
                "on_tool_start:t2",
                "on_tool_end:t2",
                // Not concurrent with the others: stays where it ran.
                "on_tool_start:t0",
                "on_tool_end:t0",
            ]
        );
    }

    #[test]
    fn only_branch_keys_move_and_other_keys_keep_their_places() {
        let keys: HashSet<&str> = ["x", "y"].into_iter().collect();
        let mut v = json!({"q": 1, "y": 2, "r": 3, "x": 4});
        sort_keys_in(&mut v, &keys);
        assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), ["q", "x", "r", "y"]);
        assert_eq!(v["x"], 4);
    }
}
