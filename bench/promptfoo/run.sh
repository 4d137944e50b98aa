#!/usr/bin/env bash
# Peer comparison: promptfoo evaluating N GSM8K questions against the zero-latency fake OpenAI-compatible
# server (bench/fake-server-cli.ts), timed under /usr/bin/time -v. Prints one JSON line on stdout:
#   {"tool":"promptfoo","n":N,"seconds":S,"samples_per_s":R,"peak_rss_mb":M, ...extra fields}
#
# Usage: bench/promptfoo/run.sh [N]            N = 1319 (default; the GSM8K test set), 50000 repeats questions
# Environment:
#   N, CONCURRENCY (64), GSM8K (/work/shared/data/gsm8k/test.jsonl), MODEL (fake-model)
#   FAKE_URL     use an already running fake server (…/v1) instead of starting one
#   OFFLINE=1    run server + promptfoo in a fresh network namespace with loopback only (unshare -rn), which
#                proves promptfoo needs nothing but the local server once installed
#   KEEP=1       keep the temp dir (config, logs, time output) and print its path on stderr
# promptfoo@0.121.20 (last release supporting Node 20) is installed into bench/promptfoo/.install (gitignored)
# from the npm registry on first use only.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
N="${1:-${N:-1319}}"
CONCURRENCY="${CONCURRENCY:-64}"
GSM8K="${GSM8K:-/work/shared/data/gsm8k/test.jsonl}"
MODEL="${MODEL:-fake-model}"
PF_VERSION=0.121.20
INSTALL="$HERE/.install"
PF="$INSTALL/node_modules/.bin/promptfoo"

# 1. Install once (needs the npm registry; nothing else).
if [ ! -x "$PF" ] || ! grep -q "\"version\": \"$PF_VERSION\"" "$INSTALL/node_modules/promptfoo/package.json" 2>/dev/null; then
  echo "installing promptfoo@$PF_VERSION into $INSTALL" >&2
  mkdir -p "$INSTALL"
  npm install --prefix "$INSTALL" --no-audit --no-fund --registry=https://registry.npmjs.org/ "promptfoo@$PF_VERSION" >&2
fi

# 2. Optionally re-run ourselves without network (loopback only).
if [ "${OFFLINE:-0}" = "1" ]; then
  exec unshare -rn bash -c 'ip link set lo up && OFFLINE=inside exec "$0" "$@"' "${BASH_SOURCE[0]}" "$N"
fi

WORK="$(mktemp -d /tmp/assay-promptfoo.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" = "1" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# 3. Keep promptfoo quiet and local: no telemetry, sharing, update check, cache, debug log; state in $WORK.
export PROMPTFOO_DISABLE_TELEMETRY=1
export PROMPTFOO_DISABLE_SHARING=1
export PROMPTFOO_DISABLE_UPDATE=1
export PROMPTFOO_CACHE_ENABLED=false
export PROMPTFOO_DISABLE_DEBUG_LOG=1
export PROMPTFOO_DISABLE_REMOTE_GENERATION=1
export PROMPTFOO_CONFIG_DIR="$WORK/promptfoo-home"
export PROMPTFOO_LOG_DIR="$WORK/promptfoo-home/logs"
export PROMPTFOO_CACHE_PATH="$WORK/promptfoo-home/cache"
export OPENAI_API_KEY=sk-dummy-fake-server
export NO_COLOR=1 FORCE_COLOR=0
unset OPENAI_BASE_URL OPENAI_API_BASE_URL || true
mkdir -p "$PROMPTFOO_CONFIG_DIR"

# 4. The fake server (separate process, not measured).
if [ -n "${FAKE_URL:-}" ]; then
  URL="$FAKE_URL"
else
  node --import tsx "$ROOT/bench/fake-server-cli.ts" --port 0 --gsm8k "$GSM8K" --model "$MODEL" \
    >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    [ -s "$WORK/server.out" ] && break
    sleep 0.1
  done
  URL="$(node -e 'const l=require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0]; process.stdout.write(JSON.parse(l).url)' "$WORK/server.out")"
fi

# 5. The config.
(cd "$ROOT" && node --import tsx bench/promptfoo/make-config.ts --url "$URL" --n "$N" --gsm8k "$GSM8K" \
  --model "$MODEL" --concurrency "$CONCURRENCY" --out "$WORK/promptfooconfig.json") >&2

# 6. The measured run.
cd "$WORK"
START=$(date +%s.%N)
set +e
/usr/bin/time -v -o "$WORK/time.txt" "$PF" eval -c "$WORK/promptfooconfig.json" \
  --no-cache --no-write --no-table --no-share --no-progress-bar -j "$CONCURRENCY" \
  >"$WORK/eval.out" 2>"$WORK/eval.err"
STATUS=$?
set -e
END=$(date +%s.%N)
# promptfoo exits 100 when some assertions fail; that is a result, not a crash.
if [ "$STATUS" -ne 0 ] && [ "$STATUS" -ne 100 ]; then
  echo "promptfoo exited with $STATUS; last lines:" >&2
  tail -n 30 "$WORK/eval.out" "$WORK/eval.err" >&2
  exit "$STATUS"
fi

# 7. One JSON line.
SERVER_STATS=""
if [ -n "$SERVER_PID" ]; then
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  SERVER_STATS="$(tail -n 1 "$WORK/server.err" 2>/dev/null || true)"
fi
node -e '
const fs = require("fs");
const [n, start, end, status, timeFile, outFile, serverStats, conc] = process.argv.slice(1);
const time = fs.readFileSync(timeFile, "utf8");
const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(time)?.[1]);
const cpuUser = Number(/User time \(seconds\): ([\d.]+)/.exec(time)?.[1]);
const cpuSys = Number(/System time \(seconds\): ([\d.]+)/.exec(time)?.[1]);
const out = fs.readFileSync(outFile, "utf8").replace(/\x1b\[[0-9;]*m/g, "");
const num = (re) => { const m = re.exec(out); return m ? Number(m[1].replace(/,/g, "")) : undefined; };
const seconds = Number(end) - Number(start);
let server;
try { server = JSON.parse(serverStats); } catch {}
const line = {
  tool: "promptfoo",
  n: Number(n),
  seconds: Number(seconds.toFixed(2)),
  samples_per_s: Number((Number(n) / seconds).toFixed(1)),
  peak_rss_mb: Number((rssKb / 1024).toFixed(1)),
  version: "0.121.20",
  concurrency: Number(conc),
  passed: num(/([\d,]+) passed/i),
  failed: num(/([\d,]+) failed/i),
  errors: num(/([\d,]+) errors?\b/i),
  promptfoo_reported_duration_s: (m => m ? Number(m[1] ?? 0) * 60 + Number(m[2]) : undefined)(/Duration: (?:(\d+)m )?([\d.]+)s/.exec(out)),
  exit_code: Number(status),
  cpu_seconds: Number((cpuUser + cpuSys).toFixed(2)),
  server_chat_requests: server?.chat,
  server_max_concurrency: server?.maxConcurrency,
  node: process.version,
};
process.stdout.write(JSON.stringify(line) + "\n");
' "$N" "$START" "$END" "$STATUS" "$WORK/time.txt" "$WORK/eval.out" "$SERVER_STATS" "$CONCURRENCY"
