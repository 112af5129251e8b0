#!/usr/bin/env bash
# bench/run.sh — driftload next to wrk and hey on identical work, on loopback.
#
# A minimal Go target (bench/target) runs pinned to one core, each tool pinned
# to another; runs alternate between the tools, several times, and the script
# prints a markdown table of medians and driftload/peer ratios:
#   - CPU µs per request (the kernel's rusage of the tool: user + system,
#     divided by the requests the target itself counted), GET and 20 KB POST
#   - requests/s, from each tool's own output
#   - peak RSS (rusage maxrss) at 50, 1000 and 10,000 connections/VUs
#   - p50 overhead: the tool's median latency minus the target's own median
#     service time for a handler that sleeps 10 ms
#
# Needs: go, taskset (util-linux), wrk and hey (apt-get install -y wrk hey),
# two CPUs. Usage:
#   bench/run.sh                  # full run, about 7–9 minutes
#   QUICK=1 bench/run.sh          # one repetition of short runs, about 1–2 minutes
# Environment overrides: DURATION (s per CPU/latency run, default 10), REPS
# (default 3), RSS_DURATION (s per RSS run, default 5), CONNS (default 50),
# RSS_LEVELS (default "1000 10000"), TARGET_CPU (0), TOOL_CPU (1), KEEP=1
# keeps the work directory with every tool's output.
set -euo pipefail

if [[ "${QUICK:-0}" == 1 ]]; then
	: "${DURATION:=3}" "${REPS:=1}" "${RSS_DURATION:=3}"
fi
DURATION=${DURATION:-10}
REPS=${REPS:-3}
RSS_DURATION=${RSS_DURATION:-5}
CONNS=${CONNS:-50}
RSS_LEVELS=${RSS_LEVELS:-"1000 10000"}
TARGET_CPU=${TARGET_CPU:-0}
TOOL_CPU=${TOOL_CPU:-1}
TOOLS=(driftload wrk hey)
POST_BYTES=20480

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
for c in go taskset wrk hey; do
	command -v "$c" >/dev/null 2>&1 || die "$c not found; install the peers with: apt-get install -y wrk hey (taskset is in util-linux)"
done
[[ $(nproc) -ge 2 ]] || die "needs two CPUs (one for the target, one for the tool); nproc says $(nproc)"

work=$(mktemp -d "${TMPDIR:-/tmp}/driftload-bench.XXXXXX")
target_pid=""
cleanup() {
	if [[ -n "$target_pid" ]]; then kill "$target_pid" 2>/dev/null || true; wait "$target_pid" 2>/dev/null || true; fi
	if [[ "${KEEP:-0}" == 1 ]]; then log "outputs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

log "building driftload, the target and rusage into $work"
(cd "$repo" && go build -o "$work/driftload" ./cmd/driftload && go build -o "$work/target" ./bench/target &&
	go build -o "$work/rusage" ./bench/rusage) || die "go build failed"

# 10,000 connections need 10,000 descriptors in the tool and in the target.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
levels=()
for l in $RSS_LEVELS; do
	if [[ "$nofile" != unlimited && $((l + 200)) -gt "$nofile" ]]; then
		log "skipping $l connections: open files limit is $nofile (raise the hard limit: ulimit -Hn)"
	else
		levels+=("$l")
	fi
done

taskset -c "$TARGET_CPU" "$work/target" -addr 127.0.0.1:0 >"$work/target.out" 2>&1 &
target_pid=$!
for _ in $(seq 50); do
	grep -q "listening on" "$work/target.out" 2>/dev/null && break
	sleep 0.1
done
base=$(sed -n 's/^listening on //p' "$work/target.out")
[[ -n "$base" ]] || die "target did not start: $(cat "$work/target.out")"
hostport=${base#http://}
host=${hostport%:*}
port=${hostport##*:}

# target_call METHOD PATH: one HTTP/1.0 request over bash's /dev/tcp (no curl needed).
target_call() {
	local out
	exec 9<>"/dev/tcp/$host/$port"
	printf '%s %s HTTP/1.0\r\nHost: %s\r\nContent-Length: 0\r\n\r\n' "$1" "$2" "$hostport" >&9
	out=$(cat <&9)
	exec 9<&-
	printf '%s\n' "$out" | tail -n 1
}
stat_field() { target_call GET /stats | tr ' ' '\n' | sed -n "s/^$1=//p"; }

head -c "$POST_BYTES" /dev/zero | tr '\0' 'x' >"$work/body.bin"
cat >"$work/post.lua" <<EOF
wrk.method = "POST"
local f = assert(io.open("$work/body.bin", "rb"))
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/octet-stream"
EOF

# to_ms VALUE: "850.00us", "1.78ms", "3.28ms", "250µs", "1.2s", "0.0102" (seconds) → milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /(us|µs)$/) { sub(/(us|µs)$/, "", v); printf "%.4f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.4f", v }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.4f", v * 1000 }
		else { printf "%.4f", v * 1000 }
	}'
}

# run TOOL KIND CONNS SECONDS → one line "cpu_us_per_req rps rss_kib p50_ms reqs" in $work/last.
# KIND: get (/healthz), post (/upload, 20 KB), slow (/slow, 10 ms service).
run() {
	local tool=$1 kind=$2 conns=$3 secs=$4 out="$work/$1-$2-$3-$RANDOM.out" url method=GET
	case $kind in
	get) url="$base/healthz" ;;
	post) url="$base/upload" method=POST ;;
	slow) url="$base/slow" ;;
	esac
	target_call POST /reset >/dev/null
	local cmd=()
	case $tool in
	driftload)
		cmd=("$work/driftload" http "$method" "$url" --vus "$conns" --duration "${secs}s" --no-color --out "$out.json")
		[[ $method == POST ]] && cmd+=(--body "@$work/body.bin" -H "Content-Type: application/octet-stream")
		;;
	wrk)
		cmd=(wrk -t1 -c "$conns" -d "${secs}s" --latency)
		[[ $method == POST ]] && cmd+=(-s "$work/post.lua")
		cmd+=("$url")
		;;
	hey)
		cmd=(hey -c "$conns" -z "${secs}s")
		[[ $method == POST ]] && cmd+=(-m POST -D "$work/body.bin" -T application/octet-stream)
		cmd+=("$url")
		;;
	esac
	local rc=0
	# Run from the work directory so a ./thresholds.json elsewhere is not picked up.
	(cd "$work" && taskset -c "$TOOL_CPU" "$work/rusage" -o "$out.rusage" -- "${cmd[@]}") >"$out" 2>"$out.err" || rc=$?
	[[ $rc == 0 || ($tool == driftload && $rc == 99) ]] || log "$tool $kind c=$conns exited $rc (see KEEP=1 $out)"
	local reqs user sys rss rps p50
	reqs=$(stat_field requests)
	read -r user sys rss < <(sed 's/[a-z_]*=//g' "$out.rusage" | awk '{print $1, $2, $3}')
	case $tool in
	driftload)
		rps=$(awk '/^ *http_reqs /{for (i = 1; i <= NF; i++) if ($i ~ /\/s$/) { sub(/\/s$/, "", $i); print $i }}' "$out")
		p50=$(to_ms "$(grep -E '^ *http_req_duration ' "$out" | sed -E 's/.* med=([^ ]+).*/\1/')")
		;;
	wrk)
		rps=$(awk '/^Requests\/sec:/{print $2}' "$out")
		p50=$(to_ms "$(awk '$1 == "50%" {print $2; exit}' "$out")")
		;;
	hey)
		rps=$(awk '/Requests\/sec:/{print $2}' "$out")
		p50=$(to_ms "$(awk '$1 == "50%" && $2 == "in" {print $3; exit}' "$out")")
		;;
	esac
	local cpu="nan"
	[[ -n "$reqs" && "$reqs" -gt 0 ]] && cpu=$(awk -v u="$user" -v s="$sys" -v n="$reqs" 'BEGIN {printf "%.2f", (u + s) / n}')
	echo "${cpu:-nan} ${rps:-nan} ${rss:-nan} ${p50:-nan} ${reqs:-0}" >"$work/last"
}

# record NAME VALUE: appends a sample for a table cell.
record() { echo "$2" >>"$work/cell.$1"; }
median() {
	[[ -f "$work/cell.$1" ]] || { echo nan; return; }
	grep -v nan "$work/cell.$1" | sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

# order REP: the tools rotated, so no tool always runs first or last.
order() {
	local r=$1 i n=${#TOOLS[@]}
	for ((i = 0; i < n; i++)); do echo "${TOOLS[$(((i + r) % n))]}"; done
}

start=$SECONDS
log "target $base on CPU $TARGET_CPU, tools on CPU $TOOL_CPU; $REPS repetitions, ${DURATION}s runs, $CONNS connections"
for ((rep = 0; rep < REPS; rep++)); do
	for kind in get post slow; do
		for tool in $(order "$rep"); do
			run "$tool" "$kind" "$CONNS" "$DURATION"
			read -r cpu rps rss p50 reqs <"$work/last"
			log "rep $((rep + 1)) $kind $tool: $reqs requests, $cpu µs CPU/req, $rps req/s, maxrss $rss KiB, p50 $p50 ms"
			case $kind in
			get | post)
				record "cpu.$kind.$tool" "$cpu"
				record "rps.$kind.$tool" "$rps"
				[[ $kind == get ]] && record "rss.$CONNS.$tool" "$rss"
				;;
			slow)
				srv=$(stat_field slow_p50_us)
				over=$(awk -v p="$p50" -v s="$srv" 'BEGIN {if (p == "nan") print "nan"; else printf "%.3f", p - s / 1000}')
				log "  target p50 $(awk -v s="$srv" 'BEGIN {printf "%.3f", s / 1000}') ms → overhead $over ms"
				record "p50.$tool" "$over"
				record "srvp50.$tool" "$(awk -v s="$srv" 'BEGIN {printf "%.3f", s / 1000}')"
				;;
			esac
		done
	done
	for level in "${levels[@]}"; do
		for tool in $(order "$rep"); do
			run "$tool" get "$level" "$RSS_DURATION"
			read -r cpu rps rss p50 reqs <"$work/last"
			log "rep $((rep + 1)) rss c=$level $tool: maxrss $rss KiB ($reqs requests)"
			record "rss.$level.$tool" "$rss"
		done
	done
done

# Table: medians, ratios, the issue's targets for driftload.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "nan" || b == "nan" || b == 0) print "–"; else printf "%.2f", a / b}'; }
fmt() { awk -v v="$1" -v d="$2" 'BEGIN {if (v == "nan") print "–"; else printf "%." d "f", v}'; }
mib() { awk -v v="$1" 'BEGIN {if (v == "nan") print "nan"; else printf "%.1f", v / 1024}'; }
holds() { awk -v v="$1" -v t="$2" 'BEGIN {if (v == "nan") print "–"; else if (v <= t) print "yes"; else print "**no**"}'; }

row() { # label key decimals goal_text goal_value [transform]
	local label=$1 key=$2 dec=$3 goal=$4 gv=$5 tr=${6:-}
	local d w h
	d=$(median "$key.driftload") w=$(median "$key.wrk") h=$(median "$key.hey")
	if [[ $tr == mib ]]; then d=$(mib "$d") w=$(mib "$w") h=$(mib "$h"); fi
	local hold="–"
	[[ -n "$gv" ]] && hold=$(holds "$d" "$gv")
	echo "| $label | $(fmt "$d" "$dec") | $(fmt "$w" "$dec") | $(fmt "$h" "$dec") | $(ratio "$d" "$w") | $(ratio "$d" "$h") | $goal | $hold |"
}

echo
echo "Loopback, target on CPU $TARGET_CPU, tool on CPU $TOOL_CPU; medians of $REPS; ${DURATION}s runs at $CONNS connections, ${RSS_DURATION}s RSS runs. $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)."
echo
echo "| | driftload | wrk | hey | driftload/wrk | driftload/hey | driftload target | holds |"
echo "|---|---:|---:|---:|---:|---:|---:|:---:|"
row "CPU µs per GET, $CONNS conns" cpu.get 1 "≤ 12" 12
row "CPU µs per 20 KB POST, $CONNS conns" cpu.post 1 "≤ 17" 17
row "requests/s GET (tool's own count)" rps.get 0 "" ""
row "requests/s 20 KB POST" rps.post 0 "" ""
row "peak RSS MiB at $CONNS conns" "rss.$CONNS" 1 "" "" mib
for level in "${levels[@]}"; do
	goal="" gv=""
	[[ $level == 1000 ]] && goal="≤ 40" gv=40
	[[ $level == 10000 ]] && goal="≤ 250" gv=250
	row "peak RSS MiB at $level conns" "rss.$level" 1 "$goal" "$gv" mib
done
row "p50 minus target p50 (ms), 10 ms service" p50 3 "≤ 0.15" 0.15
echo
echo "Target's own p50 at /slow (ms): driftload runs $(median srvp50.driftload), wrk runs $(median srvp50.wrk), hey runs $(median srvp50.hey). hey prints latencies to 0.1 ms. Took $((SECONDS - start)) s."
