"""Workload 10 (serving): LangServe serving the baseline's streaming chain.

``PROMPT | FakeStreamingChatModel(n_chunks) | StrOutputParser`` (the same
chain as workloads 1-4, bench/langchain_baseline.py) at ``/chain``, with
LangServe's ``add_routes``; ``RUNWRIGHT_BENCH_CHUNKS`` sets ``n_chunks``
(default 100). bench/compare runs it on uvicorn (one worker, as
``uvicorn app:app`` starts it) and drives ``/chain/stream`` with the same
load generator as runwright's server (benches/server_load.rs).
"""

import os

from fastapi import FastAPI
from langserve import add_routes

from langchain_baseline import make_chain

app = FastAPI()
add_routes(app, make_chain(int(os.environ.get("RUNWRIGHT_BENCH_CHUNKS", "100"))), path="/chain")
