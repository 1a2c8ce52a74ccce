#!/usr/bin/env bash
# bench/server.sh: ringlet's demo server against nginx and h2o on this
# machine, in the same run, one worker each, answering GET /plaintext.
#
# Three phases, each on fresh server processes (PHASES picks some):
#   throughput  wrk -t1 and -t2, CONNECTIONS connections, without and with
#               PIPELINE-deep pipelining (bench/pipeline.lua); ROUNDS rounds
#               of DURATION seconds per scenario and server, the servers
#               interleaved (their order rotates each round); the median
#               req/s of each, and ringlet's ratio to each peer
#   idle        bench/idle holds IDLE_CONNS keep-alive connections, each
#               having served one request: resident memory per connection,
#               then checks every connection and the server still answer;
#               on a cold server, then on a fresh one warmed up with wrk
#   alloc       the server under LD_PRELOAD=bench/alloc_count.so: after a
#               WARMUP-second wrk run, allocator and mmap calls made during
#               an ALLOC_DURATION-second run (-t1, CONNECTIONS connections)
#               divided by the requests wrk completed in it (the window
#               includes wrk opening and closing its connections); nginx's
#               worker process is counted, h2o's threads together
# Results are markdown tables on stdout; progress goes to stderr.
#
# Environment (defaults finish in under 5 minutes):
#   DURATION=5 ROUNDS=3 WARMUP=2 ALLOC_DURATION=$DURATION CONNECTIONS=64
#   THREADS="1 2" PIPELINE=16 IDLE_CONNS=10000 PORT_BASE=29080
#   PHASES="throughput idle alloc" SERVERS="ringlet nginx h2o"
#   BUILD=build (the Makefile's; ringlet is $BUILD/ringlet, the tools go
#   to $BUILD/bench/) RINGLET_ARGS="" (more options, e.g. --io epoll)
#   CC=cc KEEP_TMP=1 (keep the temporary directory: configs, logs, wrk
#   output) SHARED=../shared (the HttpArena data) NGINX=/usr/sbin/nginx
#   H2O=/usr/bin/h2o WRK=wrk
# Ports: PORT_BASE + 10 * phase + server (29080-29082, 29090-29092,
# 29100-29102 by default); each must be free.
#
# Builds ringlet (`make server`) and the tools; installs nothing, and says
# what is missing. Runs as root (nginx's worker then runs as nobody) or
# not. Every process it starts is stopped on exit, by pid.
set -euo pipefail
export LC_ALL=C

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${SHARED:-$REPO/../shared}
BUILD=${BUILD:-build}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2}
ALLOC_DURATION=${ALLOC_DURATION:-$DURATION}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1 2}
PIPELINE=${PIPELINE:-16}
IDLE_CONNS=${IDLE_CONNS:-10000}
PORT_BASE=${PORT_BASE:-29080}
PHASES=${PHASES:-throughput idle alloc}
SERVERS=${SERVERS:-ringlet nginx h2o}
RINGLET_ARGS=${RINGLET_ARGS:-}
CC=${CC:-cc}

case $BUILD in
/*) B=$BUILD ;;
*) B=$REPO/$BUILD ;;
esac
STATIC=$SHARED/data/static
DATA=$SHARED/data/dataset.json
NGINX=${NGINX:-/usr/sbin/nginx}
H2O=${H2O:-/usr/bin/h2o}
WRK=${WRK:-wrk}
# TechEmpower's plaintext request headers.
WRK_HEADERS=(-H 'Host: localhost'
	-H 'Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7'
	-H 'Connection: keep-alive')

log() { printf '%s\n' "server.sh: $*" >&2; }
die() {
	log "$*"
	exit 1
}

# --- checks --------------------------------------------------------------

check_tools() {
	local missing=() s
	command -v "$WRK" >/dev/null || missing+=("wrk (apt-get install wrk)")
	command -v curl >/dev/null || missing+=("curl (apt-get install curl)")
	command -v make >/dev/null || missing+=("make (apt-get install make)")
	command -v "$CC" >/dev/null || missing+=("$CC (apt-get install gcc)")
	for s in $SERVERS; do
		case $s in
		ringlet) ;;
		nginx) [[ -x $NGINX ]] ||
			missing+=("nginx (apt-get install nginx-light, or set NGINX)") ;;
		h2o) [[ -x $H2O ]] ||
			missing+=("h2o (apt-get install h2o, or set H2O)") ;;
		*) die "unknown server '$s' in SERVERS (ringlet, nginx, h2o)" ;;
		esac
	done
	for s in $PHASES; do
		case $s in
		throughput | idle | alloc) ;;
		*) die "unknown phase '$s' in PHASES (throughput, idle, alloc)" ;;
		esac
	done
	[[ -d $STATIC && -f $DATA ]] ||
		missing+=("the HttpArena data in $SHARED/data (set SHARED)")
	if ((${#missing[@]})); then
		log "missing:"
		printf '  %s\n' "${missing[@]}" >&2
		exit 1
	fi
	for v in DURATION ROUNDS WARMUP ALLOC_DURATION CONNECTIONS PIPELINE \
		IDLE_CONNS PORT_BASE; do
		[[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] ||
			die "$v must be a positive integer, not '${!v}'"
	done
}

# CONN_LIMIT is each server's connection limit (ringlet --max-connections, nginx
# worker_connections, h2o max-connections). The headroom matters to nginx:
# with fewer than 1/16 of its connections free it closes idle keep-alive
# ones to make room ("worker_connections are not enough").
# Servers and the idle client each hold IDLE_CONNS sockets.
raise_fd_limit() {
	CONN_LIMIT=$((IDLE_CONNS + IDLE_CONNS / 8 + 100))
	local want=$((CONN_LIMIT + 1024)) have
	ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	have=$(ulimit -n)
	[[ $have == unlimited ]] && have=$want
	((have >= CONN_LIMIT + 64)) ||
		die "ulimit -n is $have (hard $(ulimit -Hn)); IDLE_CONNS=$IDLE_CONNS needs $((CONN_LIMIT + 64))"
	NOFILE=$have
}

# --- building ------------------------------------------------------------

build() {
	log "building ringlet (make server BUILD=$BUILD) and the tools"
	make -s -C "$REPO" server BUILD="$BUILD" >&2
	RINGLET=$B/ringlet
	mkdir -p "$B/bench"
	local flags=(-std=c17 -O2 -g -Wall -Wextra -Werror)
	"$CC" "${flags[@]}" -o "$B/bench/idle" "$REPO/bench/idle.c"
	"$CC" "${flags[@]}" -fPIC -shared -pthread \
		-o "$B/bench/alloc_count.so" "$REPO/bench/alloc_count.c" -ldl
	"$CC" "${flags[@]}" -DALLOC_COUNT_READER \
		-o "$B/bench/alloc_count" "$REPO/bench/alloc_count.c"
}

# --- processes -----------------------------------------------------------

TMP=
declare -A MAIN_PID=() # server -> the pid started, until stopped
declare -A KIDS=()     # server -> its child processes once it answered
declare -A WORK_PID=() # server -> the pid that serves requests (measured)
declare -A DIR=()      # server -> its instance's directory (config, logs)
declare -a NOTES=()    # printed under the tables

# TERM, up to 5 s for each to go, then KILL.
stop_pids() {
	local pid i
	for pid in "$@"; do
		kill -TERM "$pid" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# The main process first: nginx's master stops its worker, h2o's helper
# leaves when its pipe closes; what remains is ended by pid.
stop_server() {
	[[ -n ${MAIN_PID[$1]:-} ]] || return 0
	# shellcheck disable=SC2086 # KIDS holds a list of pids
	stop_pids "${MAIN_PID[$1]}" ${KIDS[$1]:-}
	unset "MAIN_PID[$1]" "KIDS[$1]"
	# nginx warns of what skews a run (connections reused, limits).
	local f=${DIR[$1]}/nginx-error.log line
	[[ -f $f ]] || return 0
	while read -r line; do
		NOTES+=("nginx ${DIR[$1]##*-}: $line")
	done < <(grep -E '\[(warn|error|crit|alert|emerg)\]' "$f" |
		sed -E 's/^.* (\[[a-z]+\]) [0-9#]+: /\1 /' | sort -u | head -n 3)
}

cleanup() {
	local s
	for s in "${!MAIN_PID[@]}"; do stop_server "$s"; done
	if [[ -n $TMP ]]; then
		if [[ -n ${KEEP_TMP:-} ]]; then
			log "kept $TMP"
		else
			rm -rf "$TMP"
		fi
	fi
}

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Writes a peer's configuration for an instance on `port` in `dir`.
write_config() {
	# h2o as root would switch to nobody (and then cannot write its pid
	# file); as another user it cannot switch at all.
	local name=$1 port=$2 dir=$3 user=root
	((EUID == 0)) || user=
	sed -e "s|@PORT@|$port|g" -e "s|@DIR@|$dir|g" \
		-e "s|@STATIC@|$STATIC|g" -e "s|@NOFILE@|$NOFILE|g" \
		-e "s|@CONNECTIONS@|$CONN_LIMIT|g" \
		-e "s|@USER@|$user|g" -e '/^user: *$/d' \
		"$REPO/bench/peers/$name.conf" >"$dir/$name.conf"
	if [[ $name == h2o ]]; then
		printf 'Hello, World!' >"$dir/plaintext"
		chmod 644 "$dir/plaintext"
	fi
}

# start_server NAME PORT [COUNTS_FILE]: starts one instance, waits until it
# answers, sets MAIN_PID[NAME] and WORK_PID[NAME]. With COUNTS_FILE it runs
# under the allocation-counting shim.
start_server() {
	local name=$1 port=$2 counts=${3:-} dir=$TMP/$1-$2 pid i
	local -a env=()
	[[ -n $counts ]] &&
		env=(LD_PRELOAD="$B/bench/alloc_count.so" ALLOC_COUNT_FILE="$counts")
	port_in_use "$port" && die "port $port is in use (set PORT_BASE)"
	rm -rf "$dir" && mkdir -m 755 "$dir" # traversed by nginx's worker (nobody)
	DIR[$name]=$dir
	case $name in
	ringlet)
		# shellcheck disable=SC2086 # RINGLET_ARGS is a list of options
		env "${env[@]}" "$RINGLET" --port "$port" --host 127.0.0.1 \
			--root "$STATIC" --data "$DATA" \
			--max-connections "$CONN_LIMIT" $RINGLET_ARGS \
			>"$dir/log" 2>&1 &
		;;
	nginx)
		write_config nginx "$port" "$dir"
		env "${env[@]}" "$NGINX" -p "$dir/" -c "$dir/nginx.conf" \
			-e "$dir/nginx-error.log" >"$dir/log" 2>&1 &
		;;
	h2o)
		write_config h2o "$port" "$dir"
		env "${env[@]}" "$H2O" -c "$dir/h2o.conf" >"$dir/log" 2>&1 &
		;;
	esac
	pid=$!
	MAIN_PID[$name]=$pid
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null ||
			die "$name exited at start: $(tail -n 5 "$dir"/*log*)"
		curl -sf -o /dev/null --max-time 1 \
			"http://127.0.0.1:$port/plaintext" && break
		sleep 0.1
	done
	((i < 100)) || die "$name does not answer on port $port"
	WORK_PID[$name]=$pid
	if [[ $name == nginx ]]; then
		WORK_PID[$name]=$(pgrep -P "$pid" | head -n 1)
		[[ -n ${WORK_PID[$name]} ]] || die "nginx has no worker process"
	fi
	KIDS[$name]=$(pgrep -P "$pid" | paste -sd " " - || true)
}

port_of() { # PHASE_INDEX SERVER
	local i=0 s
	for s in ringlet nginx h2o; do
		[[ $s == "$2" ]] && break
		i=$((i + 1))
	done
	echo $((PORT_BASE + 10 * $1 + i))
}

# --- measuring -----------------------------------------------------------

# run_wrk PORT THREADS DEPTH SECONDS OUT: runs wrk, keeps its output in
# OUT, sets WRK_RPS (req/s) and WRK_N (requests completed). Socket errors
# and non-2xx answers become notes.
run_wrk() {
	local port=$1 threads=$2 depth=$3 secs=$4 out=$5
	local -a args=(-t"$threads" -c"$CONNECTIONS" -d"${secs}s" "${WRK_HEADERS[@]}")
	((depth > 1)) && args+=(-s "$REPO/bench/pipeline.lua")
	args+=("http://127.0.0.1:$port/plaintext")
	((depth > 1)) && args+=(-- "$depth")
	"$WRK" "${args[@]}" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
	local bad
	bad=$(grep -E 'Socket errors|Non-2xx' "$out" || true)
	[[ -n $bad ]] && NOTES+=("$(basename "$out"): ${bad//$'\n'/; }")
	WRK_RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
	WRK_N=$(awk '/ requests in / { print $1 }' "$out")
	[[ -n $WRK_RPS && -n $WRK_N ]] || die "cannot read wrk's output: $(cat "$out")"
}

median() {
	tr ' ' '\n' | grep . | sort -g |
		awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
		      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

has() { [[ " $SERVERS " == *" $1 "* ]]; }

# A markdown table's header and alignment rows: the first column left,
# the others right.
table_head() { # FIRST_COLUMN [MORE_COLUMNS...]
	local line="| $1 |" sep="| --- |" c
	shift
	for c in "$@"; do
		line+=" $c |"
		sep+=" ---: |"
	done
	printf '%s\n%s\n' "$line" "$sep"
}

phase_throughput() {
	local s r t depth i name key
	local -a order scen=()
	declare -A runs=()
	for t in $THREADS; do
		scen+=("$t 1")
		scen+=("$t $PIPELINE")
	done
	for s in $SERVERS; do start_server "$s" "$(port_of 0 "$s")"; done

	echo "### Responses to GET /plaintext"
	echo
	table_head server bytes headers
	for s in $SERVERS; do
		local url bytes names
		url=http://127.0.0.1:$(port_of 0 "$s")/plaintext
		bytes=$(curl -s -o /dev/null -w '%{size_header} %{size_download}' "$url")
		names=$(curl -si "$url" | tr -d '\r' | sed -n '2,/^$/p' | grep . |
			cut -d: -f1 | paste -sd, - | sed 's/,/, /g')
		printf '| %s | %s | %s |\n' "$s" "$((${bytes% *} + ${bytes#* }))" "$names"
	done
	echo

	for s in $SERVERS; do
		log "warming up $s (${WARMUP}s)"
		run_wrk "$(port_of 0 "$s")" 1 1 "$WARMUP" "$TMP/warmup-$s.txt"
	done
	read -ra order <<<"$SERVERS"
	for ((r = 1; r <= ROUNDS; r++)); do
		for key in "${scen[@]}"; do
			read -r t depth <<<"$key"
			for ((i = 0; i < ${#order[@]}; i++)); do
				name=${order[(i + r - 1) % ${#order[@]}]}
				run_wrk "$(port_of 0 "$name")" "$t" "$depth" \
					"$DURATION" "$TMP/wrk-r$r-t$t-p$depth-$name.txt"
				runs[$key/$name]+=" $WRK_RPS"
				log "round $r/$ROUNDS, -t$t, depth $depth, $name: $WRK_RPS req/s"
			done
		done
	done
	for s in $SERVERS; do stop_server "$s"; done

	local -a cols=()
	for s in $SERVERS; do cols+=("$s req/s"); done
	for s in nginx h2o; do has ringlet && has "$s" && cols+=("ringlet/$s"); done
	echo "### Throughput: GET /plaintext, $CONNECTIONS connections, median of $ROUNDS x ${DURATION}s"
	echo
	table_head "wrk" "${cols[@]}"
	for key in "${scen[@]}"; do
		read -r t depth <<<"$key"
		declare -A med=()
		local line="| -t$t"
		((depth > 1)) && line+=", pipelined $depth"
		line+=" |"
		for s in $SERVERS; do
			med[$s]=$(median <<<"${runs[$key/$s]}")
			line+=" $(printf '%.0f' "${med[$s]}") |"
		done
		for s in nginx h2o; do
			has ringlet && has "$s" && line+=" $(ratio "${med[ringlet]}" "${med[$s]}") |"
		done
		echo "$line"
	done
	echo
}

# Two runs, each on a fresh server process: "cold" opens the connections on
# a server that has served one request; "warm" first loads it with 256 wrk
# connections for WARMUP seconds, so that buffers touched once per process
# (a receive ring, pools grown to a burst) are paid before the count starts.
phase_idle() {
	local s out status run port
	echo "### Idle keep-alive connections: $IDLE_CONNS, each after one request"
	echo
	table_head server run "Rss before (kB)" "Rss after (kB)" "B/conn (Rss)" \
		"B/conn (Pss)" "opened" "still answering" "fresh request"
	for s in $SERVERS; do
		port=$(port_of 1 "$s")
		for run in cold warm; do
			start_server "$s" "$port"
			if [[ $run == warm ]]; then
				"$WRK" -t1 -c256 -d"$WARMUP" "http://127.0.0.1:$port/plaintext" \
					>/dev/null 2>&1 || die "wrk failed on $s"
				sleep 1
			fi
			log "idle: $IDLE_CONNS connections to $s, $run"
			status=0
			out=$("$B/bench/idle" --port "$port" --pid "${WORK_PID[$s]}" \
				--conns "$IDLE_CONNS") || status=$?
			stop_server "$s"
			if ((status > 1)) || [[ -z $out ]]; then die "bench/idle failed on $s"; fi
			((status == 0)) || NOTES+=("idle on $s ($run): not every connection held or answered: $out")
			# conns= opened= open_ms= rss_before_kb= ... fresh=
			local -A v=()
			local kv
			for kv in $out; do v[${kv%%=*}]=${kv#*=}; done
			printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$s" \
				"$run" "${v[rss_before_kb]}" "${v[rss_after_kb]}" \
				"${v[rss_per_conn]}" "${v[pss_per_conn]}" \
				"${v[opened]} in ${v[open_ms]} ms" "${v[held]}" "${v[fresh]}"
		done
	done
	echo
}

phase_alloc() {
	local s port counts before after
	echo "### Allocator calls per request: -t1, $CONNECTIONS connections, ${ALLOC_DURATION}s after ${WARMUP}s warm-up"
	echo
	table_head server requests "malloc" "calloc" "realloc" "free" \
		"aligned" "mmap" "munmap" "allocator calls" "bytes asked"
	for s in $SERVERS; do
		port=$(port_of 2 "$s")
		counts=$TMP/alloc-$s.counts
		rm -f "$counts"
		start_server "$s" "$port" "$counts"
		log "alloc: counting $s (pid ${WORK_PID[$s]})"
		run_wrk "$port" 1 1 "$WARMUP" "$TMP/alloc-warmup-$s.txt"
		before=$("$B/bench/alloc_count" "$counts" "${WORK_PID[$s]}" | tail -n 1)
		run_wrk "$port" 1 1 "$ALLOC_DURATION" "$TMP/alloc-$s.txt"
		after=$("$B/bench/alloc_count" "$counts" "${WORK_PID[$s]}" | tail -n 1)
		stop_server "$s"
		# pid ppid malloc calloc realloc free memalign mmap munmap bytes
		awk -v s="$s" -v n="$WRK_N" -v b="$before" -v a="$after" 'BEGIN {
			split(b, x, " "); split(a, y, " ")
			line = sprintf("| %s | %d |", s, n)
			for (i = 3; i <= 9; i++) {
				d[i] = y[i] - x[i]
				line = line sprintf(" %.3f |", d[i] / n)
			}
			calls = d[3] + d[4] + d[5] + d[6] + d[7]
			line = line sprintf(" %.3f | %.0f |", calls / n, (y[10] - x[10]) / n)
			print line
		}'
	done
	echo
	echo "Per request; \"allocator calls\" = malloc + calloc + realloc + free + aligned."
	echo
}

main() {
	check_tools
	raise_fd_limit
	build
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	TMP=$(mktemp -d /tmp/ringlet-bench.XXXXXX)
	chmod 755 "$TMP" # nginx's worker runs as nobody under root
	log "servers: $SERVERS; phases: $PHASES; files in $TMP"
	echo "## ringlet vs peers ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores)"
	echo
	local p
	for p in $PHASES; do
		case $p in
		throughput) phase_throughput ;;
		idle) phase_idle ;;
		alloc) phase_alloc ;;
		esac
	done
	if ((${#NOTES[@]})); then
		echo "Notes:"
		printf -- '- %s\n' "${NOTES[@]}"
	fi
}

main "$@"
