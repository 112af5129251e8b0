#!/usr/bin/env bash
# bench/vus50k.sh — 50,000 VUs on one machine, on loopback (issue 17).
#
# One process holds at most its open-files limit of sockets, and one source
# address at most the ephemeral ports of a connection to one target, so the
# run is P driftload processes, the P execution segments of one test
# (--segment i/P, started together with --start-in), each dialling from its
# own 127.0.0.x addresses (--local-ips), against K target processes that
# share one port (bench/target -reuseport: the kernel spreads connections
# over them). Then `driftload merge` joins the parts. It prints:
#   - connections held: the targets' peak open connections (summed) and a
#     kernel count (ss) of established connections to the port, every 2 s
#   - requests (the targets' count and the merged result's), merged p50/p95
#   - each driftload process's peak RSS (ru_maxrss through bench/rusage),
#     their sum, and bytes per VU; each target's peak RSS (VmHWM)
#
# Needs: go, jq, ss (iproute2), timeout (coreutils). Usage:
#   bench/vus50k.sh
# Environment: VUS (50000), P driftload processes (4), K targets (4),
# IPS addresses per process (4: 127.0.0.10-13 for the first, 14-17 …),
# DURATION s (60: on a shared 2-core machine the 50,000 dials took 32-43 s
# in BENCHMARKS.md), RAMP s (0: every VU starts at once, --vus; N: --stages
# "Ns:VUS,DURATIONs:VUS", the dials spread over N s), THINK (none: each VU
# sends its next request at once; e.g. 5s: http's --think, a user's pace,
# 10,000 requests/s for 50,000 VUs), START_IN s (10: the
# pre-flights fit in it), PORT (18080, outside the ephemeral range), KEEP=1
# keeps the work directory. It also prints the kernel's accept-queue
# overflows during the run (TcpExt ListenOverflows, SYNs dropped because a
# target's queue of net.core.somaxconn connections was full; each costs its
# dial a SYN retransmission, 1 s or more).
# Every process is bounded: a driftload by timeout(1) at START_IN + RAMP +
# DURATION + 90 s, the targets killed (by their pid) when the script ends.
set -euo pipefail

VUS=${VUS:-50000}
P=${P:-4}
K=${K:-4}
IPS=${IPS:-4}
DURATION=${DURATION:-60}
RAMP=${RAMP:-0}
START_IN=${START_IN:-10}
PORT=${PORT:-18080}
FIRST_IP=10 # 127.0.0.10 is the first source address

die() { echo "vus50k: $*" >&2; exit 1; }
log() { echo "vus50k: $*" >&2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
for c in go jq ss timeout; do
	command -v "$c" >/dev/null 2>&1 || die "$c not found"
done

# What this machine allows, checked before anything starts.
nofile=$(ulimit -Hn)
per_proc=$(((VUS + P - 1) / P))
per_target=$(((VUS + K - 1) / K))
read -r port_lo port_hi </proc/sys/net/ipv4/ip_local_port_range
ports=$((port_hi - port_lo + 1))
((per_proc + 64 < nofile)) || die "$per_proc VUs a process need more than the open-files limit $nofile: raise P"
# The kernel's spread over SO_REUSEPORT listeners is a hash: leave 10 % room.
((per_target * 11 / 10 + 64 < nofile)) || die "$per_target connections a target are too near the open-files limit $nofile: raise K"
((per_proc / IPS < ports)) || die "$((per_proc / IPS)) connections an address exceed the $ports ephemeral ports: raise IPS"
((FIRST_IP + P * IPS <= 255)) || die "P × IPS source addresses do not fit in 127.0.0.$FIRST_IP-255"
((PORT < port_lo || PORT > port_hi)) || die "PORT $PORT is inside the ephemeral range $port_lo-$port_hi"

work=$(mktemp -d "${TMPDIR:-/tmp}/driftload-vus50k.XXXXXX")
target_pids=()
tool_pids=()
sampler_pid=""
watchdog_pid=""
cleanup() {
	[[ -z "$sampler_pid" ]] || kill "$sampler_pid" 2>/dev/null || true
	[[ -z "$watchdog_pid" ]] || pkill -P "$watchdog_pid" 2>/dev/null || true
	[[ -z "$watchdog_pid" ]] || kill "$watchdog_pid" 2>/dev/null || true
	for pid in "${tool_pids[@]}"; do
		# rusage ignores SIGTERM; its child, timeout(1), passes it on.
		pkill -TERM -P "$pid" 2>/dev/null || true
	done
	for pid in "${target_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [[ "${KEEP:-0}" == 1 ]]; then log "outputs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

load0=$(cut -d ' ' -f 1-3 /proc/loadavg)
log "building driftload, the target and rusage into $work"
(cd "$repo" && go build -o "$work/driftload" ./cmd/driftload && go build -o "$work/target" ./bench/target &&
	go build -o "$work/rusage" ./bench/rusage)

log "$K targets on 127.0.0.1:$PORT (SO_REUSEPORT)"
for k in $(seq 0 $((K - 1))); do
	"$work/target" -addr "127.0.0.1:$PORT" -reuseport >"$work/target-$k.out" 2>&1 &
	target_pids+=($!)
done
for k in $(seq 0 $((K - 1))); do
	for _ in $(seq 100); do
		grep -q "^listening on" "$work/target-$k.out" 2>/dev/null && break
		sleep 0.05
	done
	grep -q "^listening on" "$work/target-$k.out" || die "target $k did not start: $(cat "$work/target-$k.out")"
done

url="http://127.0.0.1:$PORT/healthz"
limit=$((START_IN + RAMP + DURATION + 90))
profile=(--vus "$VUS" --duration "${DURATION}s")
((RAMP == 0)) || profile=(--stages "${RAMP}s:$VUS,${DURATION}s:$VUS")
[[ -z "${THINK:-}" ]] || profile+=(--think "$THINK")
# tcp_ext NAME: a TcpExt counter of /proc/net/netstat.
tcp_ext() { awk -v k="$1" '/^TcpExt:/ {if (!n) {for (i = 2; i <= NF; i++) h[i] = $i; n = 1} else for (i = 2; i <= NF; i++) if (h[i] == k) print $i}' /proc/net/netstat; }
overflows0=$(tcp_ext ListenOverflows)
synretrans0=$(tcp_ext TCPSynRetrans)
log "$P driftload processes, $per_proc VUs each, $IPS source addresses each; ${profile[*]} from ${START_IN}s"
t0=$SECONDS
for i in $(seq 0 $((P - 1))); do
	lo=$((FIRST_IP + i * IPS))
	hi=$((lo + IPS - 1))
	"$work/rusage" -o "$work/ru-$i.txt" -- timeout -k 10 -s INT "$limit" \
		"$work/driftload" http GET "$url" "${profile[@]}" --segment "$i/$P" --start-in "${START_IN}s" \
		--local-ips "127.0.0.$lo-127.0.0.$hi" --out "$work/part-$i.json" \
		--quiet --no-color >"$work/driftload-$i.out" 2>&1 &
	tool_pids+=($!)
done

# A process that outlived timeout(1)'s SIGINT by 5 s is stalled: SIGQUIT
# makes the Go runtime print every goroutine's stack into its output
# (driftload-I.out, kept with KEEP=1) before the SIGKILL 10 s after the INT.
(
	sleep $((limit + 5))
	pkill -QUIT -f "^$work/driftload http" 2>/dev/null &&
		log "SIGQUIT to the driftload processes still running: goroutine dumps in $work/driftload-*.out" 2>&3
) 3>&2 2>/dev/null &
watchdog_pid=$!

# Established connections to the port, counted by the kernel every 2 s
# (an ss of 50,000 sockets costs CPU too) until the driftload processes end;
# the sampler stops itself after the time limit in any case.
run_start=$(($(date +%s) + START_IN))
(
	for _ in $(seq 0 2 "$limit"); do
		n=$(ss -Htn state established "( sport = :$PORT )" | wc -l)
		echo "$(($(date +%s) - run_start)) $n"
		sleep 2
	done
) >"$work/conns.txt" 2>/dev/null &
sampler_pid=$!

# Mid-run, every VU holds its keep-alive connection: where from?
sleep $((START_IN + RAMP + DURATION / 2))
held=$(ss -Htn state established "( sport = :$PORT )" | wc -l)
# The clients' side: connections per source address.
sources=$(ss -Htn state established "( dport = :$PORT )" | awk '{sub(/:[0-9]+$/, "", $3); n[$3]++} END {for (a in n) print n[a], a}' | sort -k2 -V)
nsources=$(wc -l <<<"$sources")
spread=$(awk 'NR == 1 {lo = hi = $1} {if ($1 < lo) lo = $1; if ($1 > hi) hi = $1} END {print lo "–" hi}' <<<"$sources")
log "mid-run: $held established connections to :$PORT, from $nsources source addresses ($spread each) ($((SECONDS - t0)) s)"

codes=()
for i in "${!tool_pids[@]}"; do
	code=0
	wait "${tool_pids[$i]}" || code=$?
	codes+=("$code")
done
tool_pids=()
log "driftload processes ended after $((SECONDS - t0)) s, exit codes ${codes[*]}"
overflows=$(($(tcp_ext ListenOverflows) - overflows0))
synretrans=$(($(tcp_ext TCPSynRetrans) - synretrans0))
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""
read -r peak_at peak_held < <(sort -k2 -n -r "$work/conns.txt" | head -n 1)

target_rss=()
for pid in "${target_pids[@]}"; do
	target_rss+=("$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")")
	kill -TERM "$pid"
done
for pid in "${target_pids[@]}"; do wait "$pid" || true; done
target_pids=()

for i in $(seq 0 $((P - 1))); do
	[[ -s "$work/part-$i.json" ]] || die "part $i has no result file: $(tail -n 5 "$work/driftload-$i.out")"
done
merge_code=0
"$work/driftload" merge "$work"/part-*.json -o "$work/merged.json" >"$work/merge.out" 2>&1 || merge_code=$?
[[ -s "$work/merged.json" ]] || die "merge wrote nothing (exit $merge_code): $(cat "$work/merge.out")"

stat_sum() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" "$work"/target-*.out | awk '{s += $1} END {print s + 0}'; }
conns_peak=$(stat_sum conns_peak)
target_reqs=$(stat_sum requests)
jqm() { jq -r "$1" "$work/merged.json"; }
reqs=$(jqm '.metrics.http_reqs.values.count')
rps=$(jqm '.metrics.http_reqs.values.rate | floor')
p50=$(jqm '.metrics.http_req_duration.values.med | . * 100 | round / 100')
p95=$(jqm '.metrics.http_req_duration.values["p(95)"] | . * 100 | round / 100')
failed=$(jqm '.metrics.http_req_failed.values.rate')
vus_max=$(jqm '.metrics.vus_max.values.max // .metrics.vus_max.values.value // empty')

rss_sum=0
rss_each=()
cpu_each=()
wall_each=()
for i in $(seq 0 $((P - 1))); do
	kib=$(sed -n 's/.*maxrss_kib=\([0-9]*\).*/\1/p' "$work/ru-$i.txt")
	rss_each+=("$((kib / 1024))")
	rss_sum=$((rss_sum + kib))
	cpu_each+=("$(awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}} END {printf "%.1f", (v["user_us"] + v["sys_us"]) / 1e6}' "$work/ru-$i.txt")")
	wall_each+=("$(jq -r '.duration_seconds | floor' "$work/part-$i.json")")
done
target_sum=0
for kib in "${target_rss[@]}"; do target_sum=$((target_sum + kib)); done

echo "$VUS VUs on one machine: $P driftload processes × $per_proc (--segment i/$P, $IPS source addresses each, ${profile[*]}) against $K targets on one port; $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(($(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1048576)) GiB"
echo "connections held: targets' peak $conns_peak (summed over $K); established (ss) at most $peak_held, ${peak_at}s into the run; mid-run $held, from $nsources source addresses ($spread each)"
echo "accept-queue overflows during the run: $overflows (SYN retransmissions $synretrans; somaxconn $(cat /proc/sys/net/core/somaxconn)); load average before the run $load0"
echo "established connections (ss), seconds into the run:count: $(awk '{printf "%s%s:%s", sep, $1, $2; sep=" "}' "$work/conns.txt")"
echo "requests: $reqs merged ($rps/s), the targets counted $target_reqs (with $P pre-flights); failed rate $failed; vus_max ${vus_max:-?}"
echo "merged http_req_duration: p50 $p50 ms, p95 $p95 ms; merge exit $merge_code, driftload exits ${codes[*]}"
echo "driftload peak RSS (ru_maxrss) per process, MiB: ${rss_each[*]}; sum $((rss_sum / 1024)) MiB; $((rss_sum * 1024 / VUS)) bytes per VU"
echo "driftload CPU (user + system) per process, s: ${cpu_each[*]}; each run's length (in-flight requests end it), s: ${wall_each[*]}"
echo "targets' peak RSS (VmHWM) per process, MiB: $(for kib in "${target_rss[@]}"; do printf '%d ' $((kib / 1024)); done); sum $((target_sum / 1024)) MiB"
