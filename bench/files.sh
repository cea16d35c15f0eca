#!/bin/sh
# Files through Kite, measured from outside on a real server (kite server local on 127.0.0.1):
#   1. a 1 GiB file written by a Shell task and kept with outputFiles, read back by a second task through inputFiles,
#      then downloaded through GET /api/v1/executions/{id}/file: the server's resident memory (VmRSS sampled every
#      0.2 s, and the kernel's high-water mark VmHWM) must stay flat, since every copy streams in 64 KiB chunks;
#   2. a ForEachItem over a 1 000 000-line file in 100 batches (rows: 10000), one subflow execution per batch.
# Prints a table and one JSON line. Usage: bench/files.sh [build dir] (default: build). Needs curl and python3.
set -eu
BUILD=${1:-build}
KITE=$(cd "$BUILD" && pwd)/kite
PORT=${KITE_BENCH_PORT:-18089}
DATA=$(mktemp -d /tmp/kite-bench-files-XXXXXX)
API=http://127.0.0.1:$PORT/api/v1
SIZE_MB=${KITE_BENCH_FILE_MB:-1024}
LINES=${KITE_BENCH_LINES:-1000000}
ROWS=$((LINES / 100))

cleanup() {
    [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    rm -rf "$DATA"
}
trap cleanup EXIT INT TERM

"$KITE" server local --port "$PORT" --host 127.0.0.1 --data "$DATA/data" >"$DATA/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -sf "$API/flows/search" >/dev/null 2>&1 && break; sleep 0.1; done

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$PID/status"; }
post_flow() { curl -sf -X POST "$API/flows" -H 'Content-Type: application/x-yaml' --data-binary "$1" >/dev/null; }
# waits for a terminal state; prints it
wait_state() {
    while :; do
        s=$(curl -sf "$API/executions/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"]["current"])')
        case "$s" in SUCCESS|FAILED|KILLED|WARNING|CANCELLED) echo "$s"; return;; esac
        sleep 0.2
    done
}
# samples VmRSS until the file $1 exists; prints the largest sample (kB)
sample_rss() {
    max=0
    while [ ! -e "$1" ]; do
        r=$(rss_kb); [ "$r" -gt "$max" ] && max=$r
        sleep 0.2
    done
    echo "$max"
}

post_flow "id: big
namespace: bench.files
tasks:
  - id: write
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner: {type: io.kestra.plugin.core.runner.Process}
    outputFiles: [big.bin]
    commands: [\"head -c ${SIZE_MB}M /dev/zero > big.bin\"]
  - id: read
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner: {type: io.kestra.plugin.core.runner.Process}
    inputFiles:
      in.bin: \"{{ outputs.write.outputFiles['big.bin'] }}\"
    commands: [\"wc -c < in.bin\"]
"
RSS0=$(rss_kb)
T0=$(date +%s.%N)
EID=$(curl -sf -X POST "$API/executions/bench.files/big" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
( ST=$(wait_state "$EID"); echo "$ST" >"$DATA/big.state" ) &
RSS_RUN=$(sample_rss "$DATA/big.state")
T1=$(date +%s.%N)
BIG_STATE=$(cat "$DATA/big.state")
URI=$(curl -sf "$API/executions/$EID" |
    python3 -c 'import json,sys; e=json.load(sys.stdin); print(e["taskRunList"][0]["outputs"]["outputFiles"]["big.bin"])')
( curl -sf -o "$DATA/down.bin" "$API/executions/$EID/file?path=$URI"; touch "$DATA/down.done" ) &
RSS_DOWN=$(sample_rss "$DATA/down.done")
T2=$(date +%s.%N)
DOWN_BYTES=$(stat -c %s "$DATA/down.bin")
rm -f "$DATA/down.bin"
HWM=$(hwm_kb)

post_flow "id: per-batch
namespace: bench.files
inputs:
  - {id: items, type: STRING}
tasks:
  - id: size
    type: io.kestra.plugin.core.storage.Size
    uri: \"{{ inputs.items }}\"
"
post_flow "id: fan-out
namespace: bench.files
inputs:
  - {id: file, type: FILE}
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: \"{{ inputs.file }}\"
    batch: {rows: $ROWS}
    namespace: bench.files
    flowId: per-batch
    inputs: {items: \"{{ taskrun.items }}\"}
"
seq "$LINES" >"$DATA/lines.txt"
T3=$(date +%s.%N)
FID=$(curl -sf -X POST "$API/executions/bench.files/fan-out" -F "files=@$DATA/lines.txt;filename=file" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
FEI_STATE=$(wait_state "$FID")
T4=$(date +%s.%N)
BATCHES=$(curl -sf "$API/executions/$FID" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["taskRunList"]; print(((r[2].get("outputs") or {}).get("numberOfBatches", 0)) if len(r) > 2 else 0)')
HWM2=$(hwm_kb)

python3 - "$SIZE_MB" "$RSS0" "$RSS_RUN" "$RSS_DOWN" "$HWM" "$BIG_STATE" "$DOWN_BYTES" "$T0" "$T1" "$T2" \
    "$LINES" "$BATCHES" "$FEI_STATE" "$T3" "$T4" "$HWM2" <<'EOF'
import json, sys
a = sys.argv[1:]
mb, rss0, rss_run, rss_down, hwm = int(a[0]), int(a[1]), int(a[2]), int(a[3]), int(a[4])
t0, t1, t2, t3, t4 = (float(x) for x in (a[7], a[8], a[9], a[13], a[14]))
rows = [
    (f"{mb} MiB write+read (outputFiles -> inputFiles)", a[5], f"{t1 - t0:.1f} s", f"{rss_run / 1024:.0f} MiB"),
    (f"{mb} MiB download (GET .../file)", f"{int(a[6]) >> 20} MiB", f"{t2 - t1:.1f} s", f"{rss_down / 1024:.0f} MiB"),
    (f"ForEachItem {int(a[10]):,} lines", f"{a[12]}, {a[11]} batches", f"{t4 - t3:.1f} s", f"{int(a[15]) / 1024:.0f} MiB (HWM)"),
]
print(f"server RSS before: {rss0 / 1024:.0f} MiB, high-water mark after the big file: {hwm / 1024:.0f} MiB")
print(f"{'case':48} {'result':24} {'time':>8} {'max RSS':>16}")
for r in rows:
    print(f"{r[0]:48} {r[1]:24} {r[2]:>8} {r[3]:>16}")
print(json.dumps({"bench": "files", "file_mb": mb, "rss_before_kb": rss0, "rss_max_run_kb": rss_run,
                  "rss_max_download_kb": rss_down, "hwm_after_file_kb": hwm, "big_state": a[5],
                  "downloaded_bytes": int(a[6]), "write_read_s": round(t1 - t0, 2), "download_s": round(t2 - t1, 2),
                  "foreachitem_lines": int(a[10]), "foreachitem_batches": int(a[11]), "foreachitem_state": a[12],
                  "foreachitem_s": round(t4 - t3, 2), "hwm_after_foreachitem_kb": int(a[15])}))
EOF
