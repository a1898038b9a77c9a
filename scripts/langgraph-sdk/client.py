"""The LangGraph SDK's own client against a server serving the ReAct agent of
examples/serve.rs as graph `agent`: finds the assistant, makes a thread,
streams a run in the modes ["updates", "messages-tuple", "custom"] up to the
tool's interrupt, resumes it with Command(resume=True), reads the thread's
state and history; then joins a background run's stream, drops it after two
events and rejoins it with Last-Event-ID. Prints what it got as one JSON
object on stdout (tests/it/langgraph_sdk_client.rs checks it).

    python client.py URL
"""

import asyncio
import json
import sys

from langgraph_sdk import get_client
from langgraph_sdk.schema import Command

MODES = ["updates", "messages-tuple", "custom"]
ASK = {"messages": [{"role": "user", "content": "fly me to Lisbon"}]}


def part(p):
    return {"event": p.event, "data": p.data, "id": p.id}


async def main(url):
    client = get_client(url=url)
    out = {}
    out["assistants"] = await client.assistants.search(graph_id="agent")
    out["assistant"] = await client.assistants.get(out["assistants"][0]["assistant_id"])

    thread = await client.threads.create(metadata={"user": "ada"})
    tid = thread["thread_id"]
    out["thread"] = thread
    out["first"] = [part(p) async for p in client.runs.stream(tid, "agent", input=ASK, stream_mode=MODES)]
    out["thread_interrupted"] = await client.threads.get(tid)
    out["state_interrupted"] = await client.threads.get_state(tid)
    out["resumed"] = [
        part(p)
        async for p in client.runs.stream(tid, "agent", command=Command(resume=True), stream_mode=MODES)
    ]
    out["thread_done"] = await client.threads.get(tid)
    out["state_done"] = await client.threads.get_state(tid)
    out["history"] = await client.threads.get_history(tid, limit=100)
    out["found"] = await client.threads.search(metadata={"user": "ada"})

    # A background run: its stream dropped after two events, then rejoined
    # from the last event seen; and read whole once the run is over.
    other = (await client.threads.create())["thread_id"]
    run = await client.runs.create(other, "agent", input=ASK, stream_mode=MODES)
    out["run"] = run
    dropped = []
    stream = client.runs.join_stream(other, run["run_id"], stream_mode=MODES)
    async for p in stream:
        dropped.append(part(p))
        if len(dropped) == 2:
            break
    await stream.aclose()
    out["dropped"] = dropped
    out["rejoined"] = [
        part(p)
        async for p in client.runs.join_stream(other, run["run_id"], last_event_id=dropped[-1]["id"])
    ]
    out["joined"] = await client.runs.join(other, run["run_id"])
    out["whole"] = [part(p) async for p in client.runs.join_stream(other, run["run_id"])]
    out["run_done"] = await client.runs.get(other, run["run_id"])

    try:
        await client.threads.get("00000000-0000-0000-0000-000000000000")
        out["missing"] = None
    except Exception as e:  # the SDK's HTTP error for a 404
        out["missing"] = {"status": getattr(getattr(e, "response", None), "status_code", None), "error": str(e)}
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
