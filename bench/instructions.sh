#!/usr/bin/env bash
# bench/instructions.sh: instructions per request, counted rather than
# timed, so the figure does not move with the load of a shared machine:
# ringlet's demo, nginx, h2o and bench/ceiling (where built) each serve a
# fixed number of GET /plaintext under valgrind's callgrind, and ringlet's
# request path is split into its stages. Results go to RAW: instructions.md
# (the tables) and TSV files beside it.
#
# The difference method: each server runs twice per request stream, on a
# fresh process, serving N1 and then N2 requests over the same CONNECTIONS
# keep-alive connections (bench/fixed_client: exactly N requests, every
# response read whole by its Content-Length). The total instructions (Ir)
# of the serving process are (Ir2 - Ir1) / (N2 - N1) per request: start-up,
# accepting the connections and shutdown are in both runs and cancel. The
# process measured is ringlet's worker (-w 1; the master forks it, and
# valgrind follows a fork without exec into callgrind.PID, the worker's
# pid), nginx's worker (worker_processes 1, forked the same way), h2o's one
# process (num-threads 1; its threads add up: --separate-threads=no) and
# ceiling's. The configurations are bench/server.sh's (bench/lib.sh's
# write_config, bench/peers/*.conf). Callgrind counts user-space
# instructions only: what the kernel does for a syscall or for io_uring is
# not in Ir, hence the syscall counts (below).
#
# Streams (STREAMS picks some):
#   plaintext  GET /plaintext, one request in flight per connection
#   pipelined  the same, PIPELINE requests per write; the next batch when
#              all its responses have come (bench/pipeline.lua's way)
# The request is wrk's in bench/server.sh (bench/lib.sh's WRK_HEADERS).
#
# Ringlet's stages, from the same two runs' callgrind files (each stage is
# the inclusive Ir of named functions, N2 run minus N1 run, per request;
# stages nest, so their shares do not add up to 100%; STAGES below):
#   io backend     uring_wait (src/io/uring.c; epoll_wait_ in epoll.c with
#                  --io epoll) less the callbacks it runs (conn.c's
#                  on_recv and on_send, server.c's on_accept and on_wake):
#                  reaping CQEs, on_cqe/on_recv and the buffer ring (all
#                  inlined into uring_wait), the kernel entry
#   kernel entry   io_uring_submit_and_wait_timeout (liburing), or libc's
#                  epoll_wait/recv/send: the user side of the syscalls
#   receive        src/core/conn.c on_recv: all that one receive
#    completion    completion causes (queue, parse, route, handler)
#   conn_process   its own code (self): the connection's state machine,
#                  with request_new, dispatch, rg__stats_request inlined
#   input queue    src/core/inq.c rg__inq_push, _trim, _keep_lent, _free,
#                  _gather
#   request set-up request_end and what conn_process calls to start one
#    and end       (rg_arena_create, rg_arena_calloc, rg_arena_set_spill,
#                  rg__parser_init): the request's arena
#   parser         rg__parse_request (src/http/parser.c, with scan.c)
#   router         rg__router_match (src/core/router.c)
#   coroutine      rg__request_start less rg__request_run: the stack, the
#                  context, the switches in and out (rg__coro_start,
#                  rg__coro_resume, rg__coro_ctx_switch); none for the
#                  demo's /plaintext, routed inline (rg_route_inline)
#   handler        rg__request_run, or rg__request_inline (the same on the
#                  loop's stack): app_plaintext, rg__request_finish
#   response       rg_respond (src/core/request.c): rg__request_head,
#    writer        rg__response_head_size, rg__response_simple
#                  (src/http/response.c), rg__conn_reserve
#   flush/send     rg__conn_flush_all: conn_send, rg__io_send, the SQE
#   send compl.    conn.c on_send
#   timers         rg__timers_run, conn_timer, rg__timer_add, _del
#   clocks         worker_tick, rg__clock_ns (clock_gettime, time: vDSO)
#   memory         rg_arena_*, rg_slab_*, rg_pool_*, wherever called
# A stage none of whose functions is in the profile (inlined away, or
# never called) shows as "-".
#
# Syscalls (SYSCALLS=1): the same client runs again against each server
# outside valgrind, under `strace -c -f -p PID` on the measured process,
# with N1 and then N2 requests on one server process; (calls2 - calls1) /
# (N2 - N1) per request, for all syscalls and each. strace slows every
# syscall, so a server batches more per call than it would unobserved:
# the counts are of this run, not a constant of the server.
#
# Environment:
#   N1=20000 N2=120000 CONNECTIONS=16 PIPELINE=16
#   STREAMS="plaintext pipelined" SERVERS="ringlet nginx h2o ceiling"
#   SYSCALLS=1 (0: no strace runs) PORT_BASE=29600
#   RAW=bench/results/raw-instructions (created; its files are replaced)
#   BUILD=build (ringlet is $BUILD/ringlet, the tools go to $BUILD/bench/)
#   RINGLET_ARGS="" (more options, e.g. --io epoll) CC=cc KEEP_TMP=1 (keep
#   the temporary directory: configurations, logs, callgrind files)
#   SHARED=../shared NGINX=/usr/sbin/nginx H2O=/usr/bin/h2o
#   VALGRIND=valgrind STRACE=strace
# Ports: PORT_BASE + 10 * run + server (ringlet 0, nginx 1, h2o 2,
# ceiling 3; runs 0-3 callgrind, 4-5 strace): 29600-29653 by default.
#
# Builds ringlet (`make server`), bench/fixed_client and bench/vg_openat2.so
# (valgrind 3.19 has no openat2, which ringlet's demo needs to start; see
# that file) and, when bench/ceiling.c is there, bench/ceiling. Installs
# nothing, and says what is missing. Every process it starts is stopped on
# exit or Ctrl-C, by pid. About 3 minutes on 2 cores (1 under callgrind,
# 2 under strace).
set -euo pipefail
export LC_ALL=C

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

SHARED=${SHARED:-$REPO/../shared}
BUILD=${BUILD:-build}
N1=${N1:-20000}
N2=${N2:-120000}
CONNECTIONS=${CONNECTIONS:-16}
PIPELINE=${PIPELINE:-16}
STREAMS=${STREAMS:-plaintext pipelined}
SERVERS=${SERVERS:-ringlet nginx h2o ceiling}
SYSCALLS=${SYSCALLS:-1}
PORT_BASE=${PORT_BASE:-29600}
RAW=${RAW:-$REPO/bench/results/raw-instructions}
RINGLET_ARGS=${RINGLET_ARGS:-}
CC=${CC:-cc}
NGINX=${NGINX:-/usr/sbin/nginx}
H2O=${H2O:-/usr/bin/h2o}
VALGRIND=${VALGRIND:-valgrind}
STRACE=${STRACE:-strace}

case $BUILD in
/*) B=$BUILD ;;
*) B=$REPO/$BUILD ;;
esac
STATIC=$SHARED/data/static
DATA=$SHARED/data/dataset.json
RINGLET=$B/ringlet
CLIENT=$B/bench/fixed_client
SHIM=$B/bench/vg_openat2.so
CEILING=$B/bench/ceiling
# write_config's: the connections are few. NOFILE (nginx's
# worker_rlimit_nofile, which it sets as both limits) is set in main:
# valgrind refuses any hard limit but its own.
CONN_LIMIT=256
NOFILE=
TMP=
NOTES=

inote() { printf '%s\n' "$*" >>"$NOTES"; }

# --- checks and build ----------------------------------------------------

check_tools() {
	local missing=() s
	command -v "$VALGRIND" >/dev/null ||
		missing+=("valgrind (apt-get install valgrind)")
	command -v curl >/dev/null || missing+=("curl (apt-get install curl)")
	command -v make >/dev/null || missing+=("make (apt-get install make)")
	command -v pgrep >/dev/null || missing+=("pgrep (apt-get install procps)")
	command -v "$CC" >/dev/null || missing+=("$CC (apt-get install gcc)")
	((SYSCALLS)) && ! command -v "$STRACE" >/dev/null &&
		missing+=("strace (apt-get install strace), or SYSCALLS=0")
	for s in $SERVERS; do
		case $s in
		ringlet | ceiling) ;;
		nginx) [[ -x $NGINX ]] ||
			missing+=("nginx (apt-get install nginx-light, or set NGINX)") ;;
		h2o) [[ -x $H2O ]] ||
			missing+=("h2o (apt-get install h2o, or set H2O)") ;;
		*) die "unknown server '$s' in SERVERS (ringlet, nginx, h2o, ceiling)" ;;
		esac
	done
	for s in $STREAMS; do
		case $s in
		plaintext | pipelined) ;;
		*) die "unknown stream '$s' in STREAMS (plaintext, pipelined)" ;;
		esac
	done
	for s in N1 N2 CONNECTIONS PIPELINE PORT_BASE; do
		[[ ${!s} =~ ^[0-9]+$ && ${!s} -gt 0 ]] ||
			die "$s must be a positive integer, not '${!s}'"
	done
	((N2 > N1)) || die "N2 ($N2) must be more than N1 ($N1)"
	((N1 >= CONNECTIONS)) || die "N1 ($N1) must be at least CONNECTIONS ($CONNECTIONS)"
	[[ -d $STATIC ]] || missing+=("the HttpArena data in $SHARED/data (set SHARED)")
	if ((${#missing[@]})); then
		log "missing:"
		printf '  %s\n' "${missing[@]}" >&2
		exit 1
	fi
}

build() {
	local flags=(-std=c17 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror)
	log "building ringlet (make server BUILD=$BUILD) and the client"
	make -s -C "$REPO" server FLAVOUR=release BUILD="$BUILD" CC="$CC" >&2
	mkdir -p "$B/bench"
	"$CC" "${flags[@]}" -o "$CLIENT" "$REPO/bench/fixed_client.c"
	"$CC" "${flags[@]}" -fPIC -shared -o "$SHIM" "$REPO/bench/vg_openat2.c" -ldl
	if [[ " $SERVERS " == *" ceiling "* && -f $REPO/bench/ceiling.c ]]; then
		make -s -C "$REPO" FLAVOUR=release BUILD="$BUILD" CC="$CC" \
			"$BUILD/bench/ceiling" >&2 2>/dev/null ||
			log "cannot build $BUILD/bench/ceiling (no Makefile rule yet?)"
	fi
}

# --- servers -------------------------------------------------------------

server_index() {
	case $1 in
	ringlet) echo 0 ;;
	nginx) echo 1 ;;
	h2o) echo 2 ;;
	ceiling) echo 3 ;;
	esac
}

# start_measured NAME PORT MODE (callgrind or native): one fresh instance,
# answering, as bench/lib.sh's start_server starts it (so its stop_server
# and cleanup stop it), under callgrind in that mode: a start then takes
# seconds, so the probe waits longer for its answer rather than give up
# and leave a request half served.
start_measured() {
	local -a START_PREFIX=() START_ENV=()
	if [[ $3 == callgrind ]]; then
		START_PREFIX=("$VALGRIND" --tool=callgrind --trace-children=yes
			--collect-atstart=yes --dump-instr=no --separate-threads=no
			"--callgrind-out-file=$TMP/$1-$2/callgrind.%p")
		[[ $1 == ringlet ]] && START_ENV=(LD_PRELOAD="$SHIM")
	fi
	# nginx's worker (nobody, under root) writes its callgrind file in
	# the instance's directory.
	START_DIR_MODE=1777 START_WAIT=300 START_PROBE=20 RAW=$TMP \
		start_server "$1" "$2"
}

# Stops an instance and waits for the measured process to be gone, so
# its callgrind file is complete (callgrind writes it at exit), then
# lets stop_server end whatever remains.
stop_measured() {
	local name=$1 i
	kill -TERM "${MAIN_PID[$name]}" 2>/dev/null || true
	for ((i = 0; i < 600; i++)); do
		running "${WORK_PID[$name]}" || running "${MAIN_PID[$name]}" || break
		sleep 0.05
	done
	stop_server "$name"
}

# run_client PORT N DEPTH OUT: exactly N requests, or the script stops.
run_client() {
	local port=$1 n=$2 depth=$3 out=$4
	RAW=$TMP record_cmd "$port" "$CLIENT" 127.0.0.1 "$port" N \
		"$CONNECTIONS" "$depth"
	"$CLIENT" 127.0.0.1 "$port" "$n" "$CONNECTIONS" "$depth" >"$out" 2>&1 ||
		die "fixed_client failed on port $port: $(cat "$out")"
	grep -q "^requests=$n " "$out" || die "fixed_client: $(cat "$out")"
}

depth_of() { [[ $1 == pipelined ]] && echo "$PIPELINE" || echo 1; }

# --- callgrind files -----------------------------------------------------

# Every function of a callgrind file (positions: line, one event, Ir),
# by name: "F name self inclusive", then "E caller callee Ir" for each
# call edge (its inclusive cost), then "T total". Costs of lines from
# inlined files (fi=, fe=) count for the function they are in; a call of
# a function by itself is not added to its inclusive cost again.
cg_functions() {
	awk '
	function ref(kind, s,    id, rest) {
		if (s !~ /^\([0-9]+\)/)
			return s
		id = substr(s, 2, index(s, ")") - 2)
		rest = substr(s, index(s, ")") + 2)
		if (rest != "")
			name[kind, id] = rest
		return name[kind, id]
	}
	/^fn=/ { cur = ref("fn", substr($0, 4)); seen[cur] = 1; next }
	/^cfn=/ { callee = ref("fn", substr($0, 5)); seen[callee] = 1; next }
	/^(fl|fi|fe)=/ { ref("fl", substr($0, 4)); next }
	/^(cfl|cfi)=/ { ref("fl", substr($0, 5)); next }
	/^calls=/ { incall = 1; next }
	/^[0-9+*-]/ {
		if (incall) {
			incall = 0
			if (callee != cur)
				edge[cur SUBSEP callee] += $2
		} else {
			self[cur] += $2
		}
		next
	}
	/^totals:/ { total = $2 }
	END {
		for (e in edge) {
			split(e, p, SUBSEP)
			out[p[1]] += edge[e]
			printf "E\t%s\t%s\t%.0f\n", p[1], p[2], edge[e]
		}
		for (f in seen)
			printf "F\t%s\t%.0f\t%.0f\n", f, self[f], self[f] + out[f]
		printf "T\t%.0f\n", total
	}' "$1"
}

# The stages: label, then terms. A bare name joins the stage's group: the
# group's cost is its functions' own Ir plus their calls to functions
# outside it (so a call within the group counts once). "=name" adds that
# function's own Ir (with what is inlined into it), "-name" subtracts its
# inclusive Ir, "a>b" adds the calls from a to b.
STAGES=(
	"io backend (wait, less its callbacks)|uring_wait epoll_wait_ -on_recv -on_send -on_accept -on_wake"
	"kernel entry (liburing, libc wrappers)|io_uring_submit_and_wait_timeout epoll_wait recv send __libc_recv __libc_send"
	"receive completion (on_recv, inclusive)|on_recv"
	"conn_process (own code)|=conn_process"
	"input queue (inq.c)|rg__inq_push rg__inq_trim rg__inq_keep_lent rg__inq_free rg__inq_gather"
	"request set-up and end (arena)|request_end conn_process>rg_arena_create conn_process>rg_arena_calloc conn_process>rg_arena_set_spill conn_process>rg__parser_init"
	"parser (rg__parse_request)|rg__parse_request"
	"router (rg__router_match)|rg__router_match"
	"coroutine (start, switches)|rg__request_start -rg__request_run"
	"handler (rg__request_run, _inline)|rg__request_run rg__request_inline"
	"response writer (rg_respond)|rg_respond"
	"flush/send (rg__conn_flush_all)|rg__conn_flush_all"
	"send completion (on_send)|on_send"
	"timers|rg__timers_run conn_timer rg__timer_add rg__timer_del rg__timer_del.part.0 rg__timers_next"
	"clocks|worker_tick rg__clock_ns rg__clock_ms"
	"memory (arena, slab, pool: anywhere)|rg_arena_create rg_arena_destroy rg_arena_alloc rg_arena_alloc_aligned rg_arena_calloc rg_arena_realloc rg_arena_memdup rg_arena_set_spill rg_arena_used release rg_slab_alloc rg_slab_free rg_pool_get rg_pool_put"
)

# stage_costs FUNCS: "label<TAB>Ir<TAB>found" for each stage (found: 0
# when none of the stage's functions is in the profile).
stage_costs() {
	local s
	for s in "${STAGES[@]}"; do printf 'S\t%s\t%s\n' "${s%%|*}" "${s#*|}"; done |
		awk -F'\t' '
		$1 == "F" { self[$2] = $3; incl[$2] = $4; next }
		$1 == "E" { edge[$2, $3] = $4; from[$2] = from[$2] SUBSEP $3; next }
		$1 == "S" {
			n = split($3, t, " ")
			delete group
			v = 0; found = 0
			for (i = 1; i <= n; i++) {
				if (t[i] ~ /^-/) {
					v -= incl[substr(t[i], 2)]
				} else if (t[i] ~ /^=/) {
					f = substr(t[i], 2)
					v += self[f]
					if (f in self)
						found++
				} else if (index(t[i], ">")) {
					split(t[i], ab, ">")
					v += edge[ab[1], ab[2]]
					if ((ab[1], ab[2]) in edge)
						found++
				} else {
					group[t[i]] = 1
				}
			}
			for (f in group) {
				if (!(f in self))
					continue
				found++
				v += self[f]
				m = split(from[f], cs, SUBSEP)
				for (j = 2; j <= m; j++)
					if (!(cs[j] in group))
						v += edge[f, cs[j]]
			}
			printf "%s\t%.0f\t%d\n", $2, v, found
		}' "$1" -
}

# --- the runs ------------------------------------------------------------

declare -A IR=() # server stream n -> Ir of the measured process

# One callgrind run: a fresh instance, N requests, stop; sets IR and keeps
# ringlet's functions in $TMP/funcs-STREAM-N.tsv.
callgrind_run() {
	local name=$1 stream=$2 n=$3 slot=$4 port dir file
	port=$((PORT_BASE + 10 * slot + $(server_index "$name")))
	start_measured "$name" "$port" callgrind
	dir=${DIR[$name]}
	local wpid=${WORK_PID[$name]}
	run_client "$port" "$n" "$(depth_of "$stream")" "$TMP/client-$name-$stream-$n.txt"
	stop_measured "$name"
	file=$dir/callgrind.$wpid
	grep -qs '^totals:' "$file" ||
		die "$name: no complete callgrind file for pid $wpid in $dir: $(tail -n 5 "$dir/log")"
	IR[$name $stream $n]=$(awk '/^totals:/ { print $2 }' "$file")
	if [[ $name == ringlet ]]; then
		grep -q 'using epoll' "$dir/log" &&
			inote "ringlet fell back to epoll under valgrind: $(grep -m1 'using epoll' "$dir/log")"
		cg_functions "$file" >"$TMP/funcs-$stream-$n.tsv"
	fi
	log "$name, $stream, $n requests: ${IR[$name $stream $n]} Ir"
}

# strace -c over one client run on a running instance: the per-syscall
# call counts to OUT ("syscall<TAB>calls", and "total").
strace_run() {
	local name=$1 port=$2 n=$3 depth=$4 out=$5 spid i
	"$STRACE" -c -f -p "${WORK_PID[$name]}" -o "$out.raw" 2>"$out.err" &
	spid=$!
	BG_PIDS+=("$spid")
	for ((i = 0; i < 100; i++)); do
		grep -q attached "$out.err" 2>/dev/null && break
		sleep 0.05
	done
	((i < 100)) || die "strace did not attach to $name: $(cat "$out.err")"
	sleep 0.2
	run_client "$port" "$n" "$depth" "$out.client"
	kill -INT "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	local keep=() p
	for p in "${BG_PIDS[@]}"; do [[ $p == "$spid" ]] || keep+=("$p"); done
	BG_PIDS=("${keep[@]}")
	# Rows: % time, seconds, usecs/call, calls, [errors,] syscall.
	awk '$1 ~ /^[0-9.]+$/ && NF >= 5 { print $NF "\t" $4 }' "$out.raw" >"$out"
}

phase_callgrind() {
	local s stream si=0
	printf 'server\tstream\tdepth\tconnections\tn1\tn2\tir1\tir2\tir_per_request\n' \
		>"$RAW/instructions.tsv"
	for stream in $STREAMS; do
		for s in $SERVERS; do
			if [[ $s == ceiling && ! -x $CEILING ]]; then
				continue
			fi
			callgrind_run "$s" "$stream" "$N1" $((2 * si))
			callgrind_run "$s" "$stream" "$N2" $((2 * si + 1))
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$stream" \
				"$(depth_of "$stream")" "$CONNECTIONS" "$N1" "$N2" \
				"${IR[$s $stream $N1]}" "${IR[$s $stream $N2]}" \
				"$(per_request "${IR[$s $stream $N1]}" "${IR[$s $stream $N2]}")" \
				>>"$RAW/instructions.tsv"
		done
		si=$((si + 1))
	done
}

per_request() {
	awk -v a="$1" -v b="$2" -v d=$((N2 - N1)) 'BEGIN { printf "%.1f", (b - a) / d }'
}

phase_stages() {
	local stream label v1 v2 f1 f2 total
	[[ " $SERVERS " == *" ringlet "* ]] || return 0
	printf 'stream\tstage\tfunctions\tir1\tir2\tir_per_request\tshare\n' \
		>"$RAW/instructions-stages.tsv"
	for stream in $STREAMS; do
		total=$(per_request "${IR[ringlet $stream $N1]}" "${IR[ringlet $stream $N2]}")
		stage_costs "$TMP/funcs-$stream-$N1.tsv" >"$TMP/stages-$stream-1.tsv"
		stage_costs "$TMP/funcs-$stream-$N2.tsv" >"$TMP/stages-$stream-2.tsv"
		local i=0 s
		for s in "${STAGES[@]}"; do
			i=$((i + 1))
			IFS=$'\t' read -r label v1 f1 < <(sed -n "${i}p" "$TMP/stages-$stream-1.tsv")
			IFS=$'\t' read -r label v2 f2 < <(sed -n "${i}p" "$TMP/stages-$stream-2.tsv")
			if ((f1 == 0 && f2 == 0)); then
				printf '%s\t%s\t%s\t-\t-\t-\t-\n' "$stream" "$label" "${s#*|}"
				continue
			fi
			awk -v st="$stream" -v l="$label" -v fs="${s#*|}" -v a="$v1" \
				-v b="$v2" -v d=$((N2 - N1)) -v t="$total" 'BEGIN {
				p = (b - a) / d
				printf "%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\n", st, l, fs, a, b, p,
					(t > 0 ? 100 * p / t : 0)
			}'
		done >>"$RAW/instructions-stages.tsv"
	done
}

phase_syscalls() {
	local s stream si=0 port depth
	printf 'server\tstream\tsyscall\tcalls1\tcalls2\tper_request\n' \
		>"$RAW/instructions-syscalls.tsv"
	for stream in $STREAMS; do
		depth=$(depth_of "$stream")
		for s in $SERVERS; do
			if [[ $s == ceiling && ! -x $CEILING ]]; then
				continue
			fi
			port=$((PORT_BASE + 10 * (4 + si) + $(server_index "$s")))
			start_measured "$s" "$port" native
			strace_run "$s" "$port" "$N1" "$depth" "$TMP/strace-$s-$stream-1"
			strace_run "$s" "$port" "$N2" "$depth" "$TMP/strace-$s-$stream-2"
			stop_measured "$s"
			awk -F'\t' -v s="$s" -v st="$stream" -v d=$((N2 - N1)) '
				FNR == NR { c1[$1] = $2; next }
				{ c2[$1] = $2; names[$1] = 1 }
				END {
					for (k in c1) names[k] = 1
					for (k in names)
						printf "%s\t%s\t%s\t%d\t%d\t%.3f\n", s, st, k,
							c1[k], c2[k], (c2[k] - c1[k]) / d
				}' "$TMP/strace-$s-$stream-1" "$TMP/strace-$s-$stream-2" |
				sort -t$'\t' -k6,6gr >>"$RAW/instructions-syscalls.tsv"
			log "$s, $stream: $(awk -F'\t' -v s="$s" -v st="$stream" \
				'$1 == s && $2 == st && $3 == "total" { print $6 }' \
				"$RAW/instructions-syscalls.tsv") syscalls per request"
		done
		si=$((si + 1))
	done
}

# --- the report ----------------------------------------------------------

write_markdown() {
	local md=$RAW/instructions.md
	{
		printf '# Instructions per request\n\n'
		printf 'User-space instructions (callgrind Ir) of the serving process per '
		printf 'request, by the difference method: (Ir of %s requests - Ir of %s) / %s, ' \
			"$N2" "$N1" "$((N2 - N1))"
		printf 'each on a fresh process, over %s keep-alive connections (bench/instructions.sh). ' \
			"$CONNECTIONS"
		printf 'Kernel work is not counted: see the syscalls. '
		printf 'ringlet ÷ server: ringlet'"'"'s count over that server'"'"'s (below 1: ringlet does less).\n\n'
		awk -F'\t' -v streams="$STREAMS" -v servers="$SERVERS" -v pl="$PIPELINE" '
			NR > 1 { v[$1, $2] = $9; have[$1] = 1 }
			END {
				ns = split(streams, st, " "); nv = split(servers, sv, " ")
				h = "| server |"; r = "| --- |"
				for (i = 1; i <= ns; i++) {
					name = st[i] == "pipelined" ? "pipelined (" pl " deep)" : "plaintext"
					h = h " " name " | ringlet ÷ server |"; r = r " ---: | ---: |"
				}
				print h; print r
				for (j = 1; j <= nv; j++) {
					s = sv[j]
					if (!(s in have)) continue
					line = "| " s " |"
					for (i = 1; i <= ns; i++) {
						x = v[s, st[i]]; rg = v["ringlet", st[i]]
						line = line sprintf(" %.0f | %s |", x,
							(rg != "" && x > 0) ? sprintf("%.2f", rg / x) : "-")
					}
					print line
				}
			}' "$RAW/instructions.tsv"
		if [[ -f $RAW/instructions-stages.tsv ]]; then
			printf '\n## ringlet'"'"'s request path by stage\n\n'
			printf 'Inclusive Ir of the named functions per request (same two runs, '
			printf 'difference method). Stages nest: the receive completion holds '
			printf 'conn_process, the input queue, the request set-up, the parser, '
			printf 'the router, the coroutine and the handler, which holds the '
			printf 'response writer; memory is counted wherever it is called. So '
			printf 'shares do not add up to 100%%. The functions of each stage are '
			printf 'in bench/instructions.sh and instructions-stages.tsv; "-": '
			printf 'none in the profile (inlined away, or not called: /plaintext '
			printf 'is routed inline, without a coroutine).\n\n'
			awk -F'\t' -v streams="$STREAMS" -v pl="$PIPELINE" -v tf="$RAW/instructions.tsv" '
				BEGIN { while ((getline l < tf) > 0) { split(l, a, "\t"); if (a[1] == "ringlet") tot[a[2]] = a[9] } }
				NR > 1 { p[$2, $1] = $6; sh[$2, $1] = $7; if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 } }
				END {
					ns = split(streams, st, " ")
					h = "| stage |"; r = "| --- |"; t = "| total (the worker) |"
					for (i = 1; i <= ns; i++) {
						name = st[i] == "pipelined" ? "pipelined (" pl " deep)" : "plaintext"
						h = h " " name " | share |"; r = r " ---: | ---: |"
						t = t sprintf(" %.0f | 100%% |", tot[st[i]])
					}
					print h; print r; print t
					for (k = 1; k <= n; k++) {
						line = "| " order[k] " |"
						for (i = 1; i <= ns; i++) {
							x = p[order[k], st[i]]
							line = line (x == "-" || x == "" ? " - | - |" : \
								sprintf(" %.0f | %.1f%% |", x, sh[order[k], st[i]]))
						}
						print line
					}
				}' "$RAW/instructions-stages.tsv"
		fi
		if [[ -f $RAW/instructions-syscalls.tsv ]]; then
			printf '\n## Syscalls per request\n\n'
			printf 'strace -c -f on the same process kind, outside valgrind, '
			printf 'the same client, difference method. strace slows each syscall, '
			printf 'so servers batch more per call than unobserved.\n\n'
			awk -F'\t' -v streams="$STREAMS" -v servers="$SERVERS" '
				NR > 1 && $3 == "total" { tot[$1, $2] = $6; have[$1] = 1; next }
				NR > 1 && $6 >= 0.001 && k[$1, $2]++ < 4 {
					d[$1, $2] = d[$1, $2] (d[$1, $2] == "" ? "" : ", ") $3 " " sprintf("%.3f", $6)
				}
				END {
					ns = split(streams, st, " "); nv = split(servers, sv, " ")
					print "| server | stream | syscalls per request | the main ones (per request) |"
					print "| --- | --- | ---: | --- |"
					for (j = 1; j <= nv; j++) for (i = 1; i <= ns; i++) {
						s = sv[j]
						if (!(s in have)) continue
						printf "| %s | %s | %.3f | %s |\n", s, st[i], tot[s, st[i]], d[s, st[i]]
					}
				}' "$RAW/instructions-syscalls.tsv"
		fi
		if [[ -s $NOTES ]]; then
			printf '\n## Notes\n\n'
			sed 's/^/- /' "$NOTES"
		fi
		printf '\n## Commands\n\n'
		sed 's/^/    /' "$TMP/commands.txt"
	} >"$md"
	log "wrote $md"
}

main() {
	check_tools
	build
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	TMP=$(mktemp -d /tmp/ringlet-instructions.XXXXXX)
	chmod 755 "$TMP" # nginx's worker runs as nobody under root
	mkdir -p "$RAW"
	(cd "$RAW" && rm -f instructions.md instructions.tsv instructions-stages.tsv \
		instructions-syscalls.tsv instructions-notes.txt)
	NOTES=$RAW/instructions-notes.txt
	: >"$NOTES"
	if [[ " $SERVERS " == *" ceiling "* && ! -x $CEILING ]]; then
		inote "ceiling: skipped, $BUILD/bench/ceiling is not built$([[ -f $REPO/bench/ceiling.c ]] || echo " (no bench/ceiling.c)")"
		log "ceiling: skipped ($CEILING is not built)"
	fi
	# Valgrind's hard limit is the real one less the descriptors it keeps.
	NOFILE=$("$VALGRIND" --tool=none sh -c 'ulimit -Hn' 2>/dev/null || true)
	[[ $NOFILE =~ ^[0-9]+$ ]] || NOFILE=1024
	# bench/lib.sh's stop_server notes nginx's warnings in $RAW/notes.txt:
	# those of this run are copied into this run's notes at the end.
	local notes0=0 t0
	[[ -f $RAW/notes.txt ]] && notes0=$(wc -l <"$RAW/notes.txt")
	inote "valgrind: $("$VALGRIND" --version); ringlet under LD_PRELOAD=bench/vg_openat2.so (openat2 for valgrind 3.19)"
	log "servers: $SERVERS; streams: $STREAMS; N1=$N1 N2=$N2; results in $RAW; files in $TMP"
	t0=$SECONDS
	phase_callgrind
	phase_stages
	log "callgrind: $((SECONDS - t0)) s"
	if ((SYSCALLS)); then
		t0=$SECONDS
		phase_syscalls
		log "syscalls: $((SECONDS - t0)) s"
	fi
	[[ -f $RAW/notes.txt ]] && tail -n +$((notes0 + 1)) "$RAW/notes.txt" >>"$NOTES"
	write_markdown
}

main "$@"
