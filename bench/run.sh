#!/usr/bin/env bash
# bench/run.sh — driftload next to wrk, hey, vegeta and k6 on identical work,
# on loopback.
#
# A minimal Go target (bench/target) runs pinned to one core, each tool pinned
# to the other; the script prints one markdown table of medians, the ratio
# driftload/wrk and issue 17's targets. Measurements, each tool in turn:
#   - GET /healthz at 50 connections (VUs for driftload and k6, workers for vegeta)
#   - 20 KB POST /upload at 50 connections
#   - GET /slow (the target sleeps 10 ms) at 20 connections
#   - GET /healthz at 1000 connections
#   - GET /healthz over TLS (the target's self-signed HTTPS port, HTTP/1.1) at 50
#   - GET /healthz at 10,000 connections, for peak RSS only
# For each: CPU µs per request (the kernel's rusage of the tool process, user +
# system, divided by the requests the target itself counted; start-up and
# shutdown included), requests/s (the tool's own count), peak RSS (rusage
# maxrss), and at /slow the p50 overhead (the tool's median latency minus the
# target's own median service time).
#
# Peers: wrk and hey are Debian packages (apt-get install -y wrk hey). vegeta
# and k6 are built from their Go modules into a cache outside the repository
# ($BENCH_CACHE, default ~/.cache/driftload-bench) the first time: vegeta with
# go install, k6 in a scratch module (a plain go install of go.k6.io/k6/v2
# fails on its module path). k6's build takes several minutes. A peer that is
# missing or does not build is skipped with a line saying so.
#
# Needs: go, taskset (util-linux), two CPUs. Usage:
#   bench/run.sh             # full: 3 repetitions of 8 s runs, each peer's run
#                            # preceded by its own wrk run (about 19 minutes)
#   QUICK=1 bench/run.sh     # 1 repetition of 4 s runs, one wrk run per row
#                            # (about 3 minutes once the peers are built)
# Environment overrides: DURATION (s per run), REPS, PAIR (1: a wrk run right
# before every other tool's run, and driftload/wrk is the median of those
# paired ratios; 0: one wrk run per row and the ratio of medians),
# RSS_DURATION (s of the 10,000-connection run), CONNS (50), SLOW_CONNS (20),
# HIGH_CONNS (1000), BIG_CONNS (10000; empty skips), TOOLS (default
# "wrk hey vegeta k6 driftload"), TARGET_CPU (0), TOOL_CPU (1), BENCH_CACHE,
# KEEP=1 keeps the work directory with every tool's output.
set -euo pipefail

if [[ "${QUICK:-0}" == 1 ]]; then
	: "${DURATION:=4}" "${REPS:=1}" "${PAIR:=0}" "${RSS_DURATION:=4}"
fi
DURATION=${DURATION:-8}
REPS=${REPS:-3}
PAIR=${PAIR:-1}
RSS_DURATION=${RSS_DURATION:-5}
CONNS=${CONNS:-50}
SLOW_CONNS=${SLOW_CONNS:-20}
HIGH_CONNS=${HIGH_CONNS:-1000}
BIG_CONNS=${BIG_CONNS-10000}
TARGET_CPU=${TARGET_CPU:-0}
TOOL_CPU=${TOOL_CPU:-1}
BENCH_CACHE=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/driftload-bench}
VEGETA_VERSION=v12.13.0
K6_VERSION=v2.2.0
ALL_TOOLS=(wrk hey vegeta k6 driftload)
read -r -a WANT <<<"${TOOLS:-${ALL_TOOLS[*]}}"
POST_BYTES=20480

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
for c in go taskset; do
	command -v "$c" >/dev/null 2>&1 || die "$c not found (taskset is in util-linux)"
done
[[ $(nproc) -ge 2 ]] || die "needs two CPUs (one for the target, one for the tool); nproc says $(nproc)"

work=$(mktemp -d "${TMPDIR:-/tmp}/driftload-bench.XXXXXX")
target_pid=""
cleanup() {
	if [[ -n "$target_pid" ]]; then kill "$target_pid" 2>/dev/null || true; wait "$target_pid" 2>/dev/null || true; fi
	if [[ "${KEEP:-0}" == 1 ]]; then log "outputs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
start=$SECONDS

log "building driftload, the target and rusage into $work"
(cd "$repo" && go build -o "$work/driftload" ./cmd/driftload && go build -o "$work/target" ./bench/target &&
	go build -o "$work/rusage" ./bench/rusage) || die "go build failed"

# The peers. Go builds of peers use the module proxy only (no direct VCS
# fetches), outside this repository's module.
bin="$BENCH_CACHE/bin"
mkdir -p "$bin"
proxy_only() {
	local p
	p=$(go env GOPROXY | tr ',|' '\n\n' | grep -v -x -e direct -e off | paste -sd, -)
	echo "${p:-$(go env GOPROXY)}"
}
peer_env() { env GOFLAGS=-mod=mod GOWORK=off GOPROXY="$(proxy_only)" "$@"; }
build_vegeta() {
	local exe="$bin/vegeta-$VEGETA_VERSION" tmp
	[[ -x $exe ]] && { echo "$exe"; return; }
	log "building vegeta $VEGETA_VERSION into $bin (go install github.com/tsenart/vegeta/v12@$VEGETA_VERSION)"
	tmp=$(mktemp -d "$work/vegeta-build.XXXXXX")
	if (cd "$tmp" && peer_env GOBIN="$tmp" go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION") >"$bin/vegeta-build.log" 2>&1; then
		mv "$tmp/vegeta" "$exe" && echo "$exe"
	else
		log "skipping vegeta: go install github.com/tsenart/vegeta/v12@$VEGETA_VERSION failed ($(tail -n 1 "$bin/vegeta-build.log"); log: $bin/vegeta-build.log)"
	fi
}
build_k6() {
	local exe="$bin/k6-$K6_VERSION" tmp
	[[ -x $exe ]] && { echo "$exe"; return; }
	log "building k6 $K6_VERSION into $bin from go.k6.io/k6/v2@$K6_VERSION in a scratch module (several minutes)"
	tmp=$(mktemp -d "$work/k6-build.XXXXXX")
	if (cd "$tmp" && peer_env go mod init scratch && peer_env go get "go.k6.io/k6/v2@$K6_VERSION" &&
		peer_env go build -o "$tmp/k6" go.k6.io/k6/v2) >"$bin/k6-build.log" 2>&1; then
		mv "$tmp/k6" "$exe" && echo "$exe"
	else
		log "skipping k6: building go.k6.io/k6/v2@$K6_VERSION failed ($(tail -n 1 "$bin/k6-build.log"); log: $bin/k6-build.log)"
	fi
}
declare -A EXE
for t in "${WANT[@]}"; do
	case $t in
	driftload) EXE[$t]="$work/driftload" ;;
	wrk | hey)
		if p=$(command -v "$t"); then EXE[$t]=$p; else log "skipping $t: not installed (apt-get install -y wrk hey)"; fi
		;;
	vegeta) p=$(build_vegeta) || true; if [[ -n $p ]]; then EXE[$t]=$p; fi ;;
	k6) p=$(build_k6) || true; if [[ -n $p ]]; then EXE[$t]=$p; fi ;;
	*) die "unknown tool $t (known: ${ALL_TOOLS[*]})" ;;
	esac
done
TOOLS=()
for t in "${ALL_TOOLS[@]}"; do if [[ -n "${EXE[$t]:-}" ]]; then TOOLS+=("$t"); fi; done
[[ -n "${EXE[driftload]:-}" ]] || die "driftload must be among TOOLS"
[[ -n "${EXE[wrk]:-}" ]] || { log "no wrk: the ratio column is left empty and runs are not paired"; PAIR=0; }
log "tools: ${TOOLS[*]} (peers built in $((SECONDS - start)) s)"

# 10,000 connections need 10,000 descriptors in the tool and in the target.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
fits() { [[ "$nofile" == unlimited || $(($1 + 200)) -le "$nofile" ]]; }
if [[ -n "$BIG_CONNS" ]] && ! fits "$BIG_CONNS"; then
	log "skipping $BIG_CONNS connections: open files limit is $nofile (raise the hard limit: ulimit -Hn)"
	BIG_CONNS=""
fi
fits "$HIGH_CONNS" || die "$HIGH_CONNS connections do not fit the open files limit $nofile"

taskset -c "$TARGET_CPU" "$work/target" -addr 127.0.0.1:0 -tls-addr 127.0.0.1:0 >"$work/target.out" 2>&1 &
target_pid=$!
for _ in $(seq 50); do
	grep -q "^listening on http://" "$work/target.out" 2>/dev/null && break
	sleep 0.1
done
base=$(sed -n 's#^listening on \(http://.*\)#\1#p' "$work/target.out")
tbase=$(sed -n 's#^listening on \(https://.*\)#\1#p' "$work/target.out")
[[ -n "$base" && -n "$tbase" ]] || die "target did not start: $(cat "$work/target.out")"
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
		if (v == "") { print "nan"; exit }
		if (v ~ /(us|µs)$/) { sub(/(us|µs)$/, "", v); printf "%.4f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.4f", v }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.4f", v * 1000 }
		else { printf "%.4f", v * 1000 }
	}'
}

# k6_script FILE METHOD URL VUS SECONDS SUMMARY: a constant-vus test that
# writes "reqs=N rate=R med=MS" to SUMMARY at the end.
k6_script() {
	# Only a POST test reads the body: each VU runs the init code, and 20 KB
	# per VU would weigh on the RSS of the GET runs at 10,000 VUs.
	local call="http.get('$3')" init=""
	if [[ $2 == POST ]]; then
		call="http.post('$3', body, { headers: { 'Content-Type': 'application/octet-stream' } })"
		init="const body = open('$work/body.bin');"
	fi
	cat >"$1" <<EOF
import http from 'k6/http';
$init
export const options = {
  scenarios: { bench: { executor: 'constant-vus', vus: $4, duration: '${5}s', gracefulStop: '5s' } },
  summaryTrendStats: ['med'],
};
export default function () { $call; }
export function handleSummary(data) {
  const m = data.metrics;
  return { '$6': 'reqs=' + m.http_reqs.values.count + ' rate=' + m.http_reqs.values.rate + ' med=' + m.http_req_duration.values.med + '\n' };
}
EOF
}

# run TOOL KIND CONNS SECONDS → one line "cpu_us_per_req rps rss_kib p50_ms reqs" in $work/last.
# KIND: get (/healthz), post (/upload, 20 KB), slow (/slow, 10 ms service), tls (/healthz over https).
run() {
	local tool=$1 kind=$2 conns=$3 secs=$4 out="$work/$1-$2-$3-$RANDOM.out" url method=GET tls=0
	case $kind in
	get) url="$base/healthz" ;;
	post) url="$base/upload" method=POST ;;
	slow) url="$base/slow" ;;
	tls) url="$tbase/healthz" tls=1 ;;
	esac
	target_call POST /reset >/dev/null
	local cmd=() exe=${EXE[$tool]}
	case $tool in
	driftload)
		cmd=("$exe" http "$method" "$url" --vus "$conns" --duration "${secs}s" --no-color --out "$out.json")
		[[ $method == POST ]] && cmd+=(--body "@$work/body.bin" -H "Content-Type: application/octet-stream")
		[[ $tls == 1 ]] && cmd+=(--insecure)
		;;
	wrk) # wrk does not verify certificates
		cmd=("$exe" -t1 -c "$conns" -d "${secs}s" --latency)
		[[ $method == POST ]] && cmd+=(-s "$work/post.lua")
		cmd+=("$url")
		;;
	hey) # hey skips certificate verification by default
		cmd=("$exe" -c "$conns" -z "${secs}s")
		[[ $method == POST ]] && cmd+=(-m POST -D "$work/body.bin" -T application/octet-stream)
		cmd+=("$url")
		;;
	vegeta) # -rate=0: as fast as the workers go, closed loop
		echo "$method $url" >"$out.targets"
		cmd=("$exe" attack -targets "$out.targets" -rate=0 -workers "$conns" -max-workers "$conns" -duration "${secs}s" -output "$out.bin")
		[[ $method == POST ]] && cmd+=(-body "$work/body.bin" -header "Content-Type: application/octet-stream")
		[[ $tls == 1 ]] && cmd+=(-insecure)
		;;
	k6)
		k6_script "$out.js" "$method" "$url" "$conns" "$secs" "$out.summary"
		cmd=("$exe" run --quiet --no-usage-report --no-color)
		[[ $tls == 1 ]] && cmd+=(--insecure-skip-tls-verify)
		cmd+=("$out.js")
		;;
	esac
	local rc=0
	# Run from the work directory so a ./thresholds.json elsewhere is not picked up.
	(cd "$work" && K6_NO_USAGE_REPORT=true taskset -c "$TOOL_CPU" "$work/rusage" -o "$out.rusage" -- "${cmd[@]}") >"$out" 2>"$out.err" || rc=$?
	[[ $rc == 0 || (($tool == driftload || $tool == k6) && $rc == 99) ]] || log "$tool $kind c=$conns exited $rc (see KEEP=1 $out.err)"
	local reqs user sys rss rps p50
	reqs=$(stat_field requests)
	read -r user sys rss < <(sed 's/[a-z_]*=//g' "$out.rusage" 2>/dev/null | awk '{print $1, $2, $3}')
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
	vegeta)
		"$exe" report -type=json "$out.bin" >"$out.report" 2>>"$out.err" || true
		[[ "${KEEP:-0}" == 1 ]] || rm -f "$out.bin"
		rps=$(grep -o '"throughput":[0-9.e+-]*' "$out.report" | cut -d: -f2)
		p50=$(grep -o '"50th":[0-9]*' "$out.report" | cut -d: -f2 | awk '{if ($1 != "") printf "%.4f", $1 / 1e6}')
		;;
	k6)
		rps=$(sed -n 's/.* rate=\([^ ]*\).*/\1/p' "$out.summary" 2>/dev/null)
		p50=$(sed -n 's/.* med=\([^ ]*\).*/\1/p' "$out.summary" 2>/dev/null)
		;;
	esac
	local cpu="nan"
	[[ -n "$reqs" && "$reqs" -gt 0 && -n "${user:-}" ]] && cpu=$(awk -v u="$user" -v s="$sys" -v n="$reqs" 'BEGIN {printf "%.2f", (u + s) / n}')
	echo "${cpu:-nan} ${rps:-nan} ${rss:-nan} ${p50:-nan} ${reqs:-0}" >"$work/last"
}

# record NAME VALUE: appends a sample for a table cell.
record() { echo "$2" >>"$work/cell.$1"; }
samples() { if [[ -f "$work/cell.$1" ]]; then grep -c -v nan "$work/cell.$1" || true; else echo 0; fi; }
median() {
	[[ -f "$work/cell.$1" ]] || { echo nan; return; }
	grep -v nan "$work/cell.$1" | sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
div() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "nan" || b == "nan" || a == "" || b == "" || b == 0) print "nan"; else printf "%.4f", a / b}'; }

# rotate N TOOL...: the tools rotated by N, so no tool always runs first or last.
rotate() {
	local r=$1 i
	shift
	local ts=("$@") n=$#
	for ((i = 0; i < n; i++)); do echo "${ts[$(((i + r) % n))]}"; done
}

# one KEY TOOL KIND CONNS SECONDS: one run, its numbers recorded under KEY.
one() {
	local key=$1 tool=$2 kind=$3 conns=$4 secs=$5
	run "$tool" "$kind" "$conns" "$secs"
	read -r cpu rps rss p50 reqs <"$work/last"
	record "cpu.$key.$tool" "$cpu"
	record "rps.$key.$tool" "$rps"
	record "rss.$key.$tool" "$rss"
	local extra=""
	if [[ $kind == slow ]]; then
		srv=$(awk -v s="$(stat_field slow_p50_us)" 'BEGIN {printf "%.3f", s / 1000}')
		over=$(awk -v p="$p50" -v s="$srv" 'BEGIN {if (p == "nan") print "nan"; else printf "%.3f", p - s}')
		record "p50.$key.$tool" "$over"
		record "srvp50.$key.$tool" "$srv"
		extra=", target p50 $srv ms → overhead $over ms"
	fi
	log "rep $((rep + 1)) $key $tool: $reqs requests, $cpu µs CPU/req, $rps req/s, maxrss $rss KiB, p50 $p50 ms$extra"
}

# measure KEY KIND CONNS SECONDS [rss]: every tool once; with PAIR=1 each
# other tool's run comes right after its own wrk run, and the CPU ratio to
# that wrk run is recorded too. rss: one run per tool, no pairing.
measure() {
	local key=$1 kind=$2 conns=$3 secs=$4 mode=${5:-} t wcpu
	if [[ $PAIR == 1 && $mode != rss ]]; then
		local others=()
		for t in "${TOOLS[@]}"; do [[ $t == wrk ]] || others+=("$t"); done
		for t in $(rotate "$((rep + mi))" "${others[@]}"); do
			one "$key" wrk "$kind" "$conns" "$secs"
			wcpu=$(awk '{print $1}' "$work/last")
			one "$key" "$t" "$kind" "$conns" "$secs"
			record "pair.$key.$t" "$(div "$(awk '{print $1}' "$work/last")" "$wcpu")"
		done
	else
		for t in $(rotate "$((rep + mi))" "${TOOLS[@]}"); do one "$key" "$t" "$kind" "$conns" "$secs"; done
	fi
	mi=$((mi + 1))
}

log "target $base and $tbase on CPU $TARGET_CPU, tools on CPU $TOOL_CPU; $REPS repetitions of ${DURATION}s runs, PAIR=$PAIR"
bench_start=$SECONDS
for ((rep = 0; rep < REPS; rep++)); do
	mi=0
	measure get "get" "$CONNS" "$DURATION"
	measure post "post" "$CONNS" "$DURATION"
	measure slow "slow" "$SLOW_CONNS" "$DURATION"
	measure high "get" "$HIGH_CONNS" "$DURATION"
	measure tls "tls" "$CONNS" "$DURATION"
	if [[ -n "$BIG_CONNS" ]]; then measure big "get" "$BIG_CONNS" "$RSS_DURATION" rss; fi
done

# The table.
fmt() { awk -v v="$1" -v d="$2" 'BEGIN {if (v == "nan" || v == "") print "–"; else printf "%." d "f", v}'; }
mib() { awk -v v="$1" 'BEGIN {if (v == "nan") print "nan"; else printf "%.1f", v / 1024}'; }
le() { awk -v v="$1" -v t="$2" 'BEGIN {if (v == "nan") print "–"; else if (v <= t) print "yes"; else print "**no**"}'; }

# runs KEY: the number of runs behind each tool's median: "3" when every
# tool has the same, "wrk 12, others 3" with pairing, else one count each.
runs() {
	local t c=() u o
	for t in "${TOOLS[@]}"; do c+=("$(samples "$1.$t")"); done
	u=$(printf '%s\n' "${c[@]}" | sort -u)
	o=$(for i in "${!TOOLS[@]}"; do [[ ${TOOLS[$i]} == wrk ]] || echo "${c[$i]}"; done | sort -u)
	if [[ $(wc -l <<<"$u") == 1 ]]; then
		echo "$u"
	elif [[ $(wc -l <<<"$o") == 1 && -n "${EXE[wrk]:-}" ]]; then
		echo "wrk $(samples "$1.wrk"), others $o"
	else
		local s="" i
		for i in "${!TOOLS[@]}"; do s+="${s:+, }${TOOLS[$i]} ${c[$i]}"; done
		echo "$s"
	fi
}

# row LABEL METRIC KEY DECIMALS TARGET_TEXT CHECK [mib]
# CHECK: "ratio X" (driftload/wrk ≤ X), "ratiohey X" (≤ X and below hey), "abs X" (≤ X), "" (none).
row() {
	local label=$1 metric=$2 key=$3 dec=$4 goal=$5 check=$6 tr=${7:-} t v cells="" d w ratio hold="–"
	declare -A m
	for t in "${ALL_TOOLS[@]}"; do
		v=$(median "$metric.$key.$t")
		[[ $tr == mib ]] && v=$(mib "$v")
		m[$t]=$v
		cells+=" $(fmt "$v" "$dec") |"
	done
	d=${m[driftload]} w=${m[wrk]}
	if [[ $PAIR == 1 && $metric == cpu ]]; then ratio=$(median "pair.$key.driftload"); else ratio=$(div "$d" "$w"); fi
	case ${check%% *} in
	ratio) hold=$(le "$ratio" "${check#* }") ;;
	ratiohey)
		hold=$(le "$ratio" "${check#* }")
		[[ $hold == yes ]] && hold=$(le "$d" "${m[hey]}")
		[[ $hold == yes && $d == "${m[hey]}" ]] && hold="**no**"
		;;
	abs) hold=$(le "$d" "${check#* }") ;;
	esac
	echo "| $label |$cells $(fmt "$ratio" 2) | $goal | $hold | $(runs "$metric.$key") |"
}

how="one run of each tool per row, so driftload/wrk is the ratio of single runs"
if [[ $PAIR == 1 ]]; then
	how="each peer's and driftload's run right after a wrk run of its own; the CPU rows' driftload/wrk is the median of driftload's paired ratios, the other rows' the ratio of medians"
elif [[ $REPS -gt 1 ]]; then
	how="driftload/wrk is the ratio of medians"
fi
version() {
	case $1 in
	wrk | hey) dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo '?' ;;
	vegeta) echo "$VEGETA_VERSION" ;;
	k6) echo "$K6_VERSION" ;;
	driftload) (cd "$repo" && git describe --always --dirty 2>/dev/null) || echo '?' ;;
	esac
}
versions=""
for t in "${TOOLS[@]}"; do versions+="${versions:+, }$t $(version "$t")"; done
big=""
[[ -z "$BIG_CONNS" ]] || big=" (the $BIG_CONNS-connection runs ${RSS_DURATION}s)"
runs_word=repetitions
[[ $REPS != 1 ]] || runs_word=repetition
echo
echo "Loopback, target on CPU $TARGET_CPU, each tool on CPU $TOOL_CPU. $REPS $runs_word of ${DURATION}s runs$big; medians; $how. $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1). Tools: $versions; a column of a tool not run shows –."
echo
echo "| | wrk | hey | vegeta | k6 | driftload | driftload/wrk | issue 17 target | holds | runs |"
echo "|---|---:|---:|---:|---:|---:|---:|---|:---:|---|"
row "CPU µs per GET, $CONNS conns" cpu get 1 "≤ 1.1× wrk" "ratio 1.1"
row "CPU µs per 20 KB POST, $CONNS conns" cpu post 1 "≤ 1.1× wrk" "ratio 1.1"
row "CPU µs per GET, 10 ms service, $SLOW_CONNS conns" cpu slow 1 "≤ 1.2× wrk" "ratio 1.2"
row "CPU µs per GET, $HIGH_CONNS conns" cpu high 1 "≤ 1.2× wrk" "ratio 1.2"
row "CPU µs per GET over TLS, $CONNS conns" cpu tls 1 "≤ 1.3× wrk, below hey" "ratiohey 1.3"
row "requests/s GET, $CONNS conns (tool's own count)" rps get 0 "" ""
row "requests/s 20 KB POST, $CONNS conns" rps post 0 "" ""
row "requests/s GET over TLS, $CONNS conns" rps tls 0 "" ""
row "peak RSS MiB, GET at $CONNS conns" rss get 1 "" "" mib
row "peak RSS MiB, GET at $HIGH_CONNS conns" rss high 1 "≤ 25 MiB" "abs 25" mib
if [[ -n "$BIG_CONNS" ]]; then row "peak RSS MiB, GET at $BIG_CONNS conns" rss big 1 "≤ 120 MiB" "abs 120" mib; fi
row "p50 minus target p50 (ms), 10 ms service" p50 slow 3 "" ""
echo
srv=""
for t in "${TOOLS[@]}"; do srv+="${srv:+, }$t runs $(fmt "$(median "srvp50.slow.$t")" 3)"; done
echo "Target's own p50 at /slow (ms): $srv. hey prints latencies to 0.1 ms. Requests at $HIGH_CONNS and more connections saturate the one-core target; CPU per request there still divides by what it served. Measuring took $((SECONDS - bench_start)) s, $((SECONDS - start)) s in all."
