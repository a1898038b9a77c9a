import { Client } from "@langchain/langgraph-sdk";
const url = process.argv[2];
const client = new Client({ apiUrl: url });
const MODES = ["updates", "messages-tuple", "custom"];
const ASK = { messages: [{ role: "user", content: "fly me to Lisbon" }] };
const part = (p) => ({ event: p.event, data: p.data, id: p.id ?? null });
const all = async (gen) => { const out = []; for await (const p of gen) out.push(part(p)); return out; };
const out = {};
out.assistants = await client.assistants.search({ graphId: "agent" });
out.assistant = await client.assistants.get(out.assistants[0].assistant_id);
const thread = await client.threads.create({ metadata: { user: "ada" } });
const tid = thread.thread_id;
out.thread = thread;
out.first = await all(client.runs.stream(tid, "agent", { input: ASK, streamMode: MODES }));
out.thread_interrupted = await client.threads.get(tid);
out.state_interrupted = await client.threads.getState(tid);
out.resumed = await all(client.runs.stream(tid, "agent", { command: { resume: true }, streamMode: MODES }));
out.thread_done = await client.threads.get(tid);
out.state_done = await client.threads.getState(tid);
out.history = await client.threads.getHistory(tid, { limit: 100 });
out.found = await client.threads.search({ metadata: { user: "ada" } });
const other = (await client.threads.create()).thread_id;
const run = await client.runs.create(other, "agent", { input: ASK, streamMode: MODES });
out.run = run;
const dropped = [];
const ctl = new AbortController();
try {
  for await (const p of client.runs.joinStream(other, run.run_id, { streamMode: MODES, signal: ctl.signal })) {
    dropped.push(part(p));
    if (dropped.length === 2) { ctl.abort(); break; }
  }
} catch (e) { if (e.name !== "AbortError") throw e; }
out.dropped = dropped;
out.rejoined = await all(client.runs.joinStream(other, run.run_id, { lastEventId: dropped[dropped.length - 1].id }));
out.joined = await client.runs.join(other, run.run_id);
out.whole = await all(client.runs.joinStream(other, run.run_id));
out.run_done = await client.runs.get(other, run.run_id);
try { await client.threads.get("00000000-0000-0000-0000-000000000000"); out.missing = null; }
catch (e) { out.missing = { status: e.status ?? e.response?.status ?? null, error: String(e) }; }
console.log(JSON.stringify(out));
