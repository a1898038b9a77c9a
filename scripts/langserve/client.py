"""LangServe's own RemoteRunnable against a server: invoke, batch, stream,
astream_events and astream_log on one input; prints what it got as one JSON
object on stdout (tests/it/langserve_client.rs compares it with the same chain
run in process).

    python client.py URL INPUT_JSON
"""

import asyncio
import json
import sys

from langserve import RemoteRunnable


def plain(value):
    """The JSON of what the client decoded (messages are pydantic models)."""
    if hasattr(value, "model_dump"):
        return plain(value.model_dump())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


async def main(url, input_):
    remote = RemoteRunnable(url)
    out = {
        "invoke": remote.invoke(input_),
        "ainvoke": await remote.ainvoke(input_),
        "batch": remote.batch([input_, input_]),
        "stream": list(remote.stream(input_)),
        "astream": [chunk async for chunk in remote.astream(input_)],
        "astream_events": [plain(e) async for e in remote.astream_events(input_, version="v2")],
    }
    log = None
    async for patch in remote.astream_log(input_):
        log = patch if log is None else log + patch
    out["astream_log_final_output"] = log.state["final_output"]
    out["astream_log_streamed_output"] = log.state["streamed_output"]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
