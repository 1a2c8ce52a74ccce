#!/usr/bin/env bash
# bench/server.sh: ringlet's demo server against nginx and h2o on this
# machine, in the same run, one worker each (ringlet -w 1 and nginx
# worker_processes 1 are measured in their worker process; h2o's
# num-threads 1 in its one process), and against bench/ceiling, a
# calibration responder (one thread, no parser: a measuring stick, not a
# server), in the throughput phase only, and not in its static scenario
# (it has no files). Raw results go to RAW as TSV files;
# bench/report.sh turns them into markdown and charts, bench/run.sh (what
# `make bench` runs) does both.
#
# Phases, each on fresh server processes (PHASES picks some):
#   throughput  the wrk SCENARIOS, each with -t1 and -t2 (THREADS): ROUNDS
#               rounds of DURATION seconds per scenario and server, the
#               servers interleaved (their order rotates each round), after
#               checking every server's answers (sizes, statuses; the
#               ceiling's /plaintext only):
#                 plaintext  GET /plaintext (13 bytes), 64 connections
#                 pipelined  the same, PIPELINE requests per write
#                            (bench/pipeline.lua, TechEmpower's)
#                 c256       GET /plaintext, 256 connections
#                 static     the 20 files of $SHARED/data/static (not the
#                            .br/.gz copies) in rotation, 64 connections
#                            (bench/static.lua)
#               For each run: req/s, p50 and p99 latency (wrk --latency),
#               the measured process's CPU time (utime + stime from
#               /proc/PID/stat) per request completed, and wrk's own CPU
#               use (user + system, from bash's `times`, over the run's
#               wall time, %: 100 is one core busy throughout; a client
#               near 100 x its threads bounds the figure).
#   idle        bench/idle holds IDLE_CONNS keep-alive connections, each
#               having served one request: resident memory per connection,
#               then checks every connection and the server still answer;
#               on a cold server, then on a fresh one warmed up with wrk.
#               Memory is read IDLE_HOLD_MS after the last connection got
#               its answer: what a server holds for the connections once
#               idle, not what opening 10,000 at once had in flight then
#               (ringlet gives back a burst's buffers within a second)
#   alloc       the server under LD_PRELOAD=bench/alloc_count.so: after a
#               WARMUP-second wrk run, allocator and mmap calls made during
#               an ALLOC_DURATION-second run (-t1, then -t2; 64
#               connections) divided by the requests wrk completed in it
#   soak        SOAK_REQUESTS requests against ringlet alone (wrk
#               -tSOAK_THREADS -cSOAK_CONNECTIONS, SOAK_DEPTH per write,
#               bench/soak.lua), the worker's VmRSS and the requests it
#               reports at /stats sampled every second
#
# Environment (bench/run.sh sets the full and quick presets):
#   DURATION=4 ROUNDS=3 WARMUP=2 (0: none) ALLOC_DURATION=$DURATION
#   THREADS="1 2"
#   PIPELINE=16 IDLE_CONNS=10000 IDLE_HOLD_MS=1500 SOAK_REQUESTS=5000000 SOAK_THREADS=2
#   SOAK_CONNECTIONS=64 SOAK_DEPTH=1 PORT_BASE=29300
#   PHASES="throughput idle alloc soak" SCENARIOS="plaintext pipelined
#   c256 static" SERVERS="ringlet nginx h2o ceiling"
#   RAW=bench/results/raw (created; files in it are replaced)
#   BUILD=build (ringlet is $BUILD/ringlet, the tools go to $BUILD/bench/)
#   RINGLET_ARGS="" (more options, e.g. --io epoll) CC=cc KEEP_TMP=1 (keep
#   the temporary directory: configs, logs, every wrk output)
#   SHARED=../shared (the HttpArena data) NGINX=/usr/sbin/nginx
#   H2O=/usr/bin/h2o WRK=wrk
# Ports: PORT_BASE + 10 * phase + server (29300-29303, 29310-29312,
# 29320-29322, 29330 by default); each must be free.
#
# Builds ringlet (`make server`) and the tools (bench/ceiling among them);
# installs nothing, and says
# what is missing. Runs as root (nginx's worker then runs as nobody) or
# not. Every process it starts is stopped on exit or Ctrl-C, by pid.
set -euo pipefail
export LC_ALL=C

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

SHARED=${SHARED:-$REPO/../shared}
BUILD=${BUILD:-build}
DURATION=${DURATION:-4}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2}
ALLOC_DURATION=${ALLOC_DURATION:-$DURATION}
THREADS=${THREADS:-1 2}
PIPELINE=${PIPELINE:-16}
IDLE_CONNS=${IDLE_CONNS:-10000}
IDLE_HOLD_MS=${IDLE_HOLD_MS:-1500}
SOAK_REQUESTS=${SOAK_REQUESTS:-5000000}
SOAK_THREADS=${SOAK_THREADS:-2}
SOAK_CONNECTIONS=${SOAK_CONNECTIONS:-64}
SOAK_DEPTH=${SOAK_DEPTH:-1}
PORT_BASE=${PORT_BASE:-29300}
PHASES=${PHASES:-throughput idle alloc soak}
SCENARIOS=${SCENARIOS:-plaintext pipelined c256 static}
SERVERS=${SERVERS:-ringlet nginx h2o ceiling}
# The servers proper: SERVERS but the ceiling, for the idle and alloc phases.
REAL_SERVERS=" $SERVERS "
REAL_SERVERS=${REAL_SERVERS// ceiling / }
RAW=${RAW:-$REPO/bench/results/raw}
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
RINGLET=$B/ringlet
TMP=

# --- checks --------------------------------------------------------------

check_tools() {
	local missing=() s
	command -v "$WRK" >/dev/null || missing+=("wrk (apt-get install wrk)")
	command -v curl >/dev/null || missing+=("curl (apt-get install curl)")
	command -v make >/dev/null || missing+=("make (apt-get install make)")
	command -v pgrep >/dev/null || missing+=("pgrep (apt-get install procps)")
	command -v "$CC" >/dev/null || missing+=("$CC (apt-get install gcc)")
	for s in $SERVERS; do
		case $s in
		ringlet) ;;
		nginx) [[ -x $NGINX ]] ||
			missing+=("nginx (apt-get install nginx-light, or set NGINX)") ;;
		h2o) [[ -x $H2O ]] ||
			missing+=("h2o (apt-get install h2o, or set H2O)") ;;
		ceiling) ;; # built with the tools
		*) die "unknown server '$s' in SERVERS (ringlet, nginx, h2o, ceiling)" ;;
		esac
	done
	for s in $PHASES; do
		case $s in
		throughput | idle | alloc | soak) ;;
		*) die "unknown phase '$s' in PHASES (throughput, idle, alloc, soak)" ;;
		esac
	done
	for s in $SCENARIOS; do
		case $s in
		plaintext | pipelined | c256 | static) ;;
		*) die "unknown scenario '$s' in SCENARIOS (plaintext, pipelined, c256, static)" ;;
		esac
	done
	[[ -d $STATIC && -f $DATA ]] ||
		missing+=("the HttpArena data in $SHARED/data (set SHARED)")
	if ((${#missing[@]})); then
		log "missing:"
		printf '  %s\n' "${missing[@]}" >&2
		exit 1
	fi
	[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be 0 or more seconds, not '$WARMUP'"
	for v in DURATION ROUNDS ALLOC_DURATION PIPELINE IDLE_CONNS \
		SOAK_REQUESTS SOAK_THREADS SOAK_CONNECTIONS SOAK_DEPTH PORT_BASE; do
		[[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] ||
			die "$v must be a positive integer, not '${!v}'"
	done
	mapfile -t STATIC_FILES < <(find "$STATIC" -maxdepth 1 -type f \
		! -name '*.br' ! -name '*.gz' -printf '%f\n' | sort)
	((${#STATIC_FILES[@]})) || die "no files in $STATIC"
}

# CONN_LIMIT is each server's connection limit (ringlet --max-connections, nginx
# worker_connections, h2o max-connections). The headroom matters to nginx:
# with fewer than 1/16 of its connections free it closes idle keep-alive
# ones to make room ("worker_connections are not enough").
# Servers and the idle client each hold IDLE_CONNS sockets.
raise_fd_limit() {
	CONN_LIMIT=$((IDLE_CONNS + IDLE_CONNS / 8 + 300))
	local want=$((CONN_LIMIT + 1024)) have
	ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	have=$(ulimit -n)
	[[ $have == unlimited ]] && have=$want
	((have >= CONN_LIMIT + 64)) ||
		die "ulimit -n is $have (hard $(ulimit -Hn)); IDLE_CONNS=$IDLE_CONNS needs $((CONN_LIMIT + 64))"
	NOFILE=$have
}

build() {
	log "building ringlet and the tools (make server bench-tools BUILD=$BUILD)"
	make -s -C "$REPO" server bench-tools FLAVOUR=release BUILD="$BUILD" CC="$CC" >&2
}

# --- throughput ----------------------------------------------------------

# What each server answers, before anything is timed: a server answering
# 404 would look fast. /plaintext: bytes and header names (plaintext.tsv);
# /static/: status and size of each file against the file (static.tsv).
# A server that fails the static check is left out of that scenario, as is
# the ceiling, which serves no files (not checked).
declare -A STATIC_OK=()
check_answers() {
	local s url bytes names f code size got want ok n
	printf 'server\tbytes\theaders\n' >"$RAW/plaintext.tsv"
	printf 'server\tfiles_ok\tfiles\tbytes_expected\tbytes_received\tstatuses\n' \
		>"$RAW/static.tsv"
	for s in $SERVERS; do
		url=http://127.0.0.1:$(port_of 0 "$s")
		bytes=$(curl -s -o /dev/null -w '%{size_header} %{size_download}' \
			"$url/plaintext")
		names=$(curl -si "$url/plaintext" | tr -d '\r' | sed -n '2,/^$/p' |
			grep . | cut -d: -f1 | paste -sd, - | sed 's/,/, /g')
		printf '%s\t%s\t%s\n' "$s" "$((${bytes% *} + ${bytes#* }))" "$names" \
			>>"$RAW/plaintext.tsv"
		STATIC_OK[$s]=0
		[[ $s == ceiling ]] && continue
		ok=0 n=0 got=0 want=0
		declare -A codes=()
		for f in "${STATIC_FILES[@]}"; do
			read -r code size < <(curl -s -o /dev/null \
				-w '%{http_code} %{size_download}\n' "$url/static/$f")
			n=$((n + 1))
			codes[$code]=$((${codes[$code]:-0} + 1))
			want=$((want + $(stat -c %s "$STATIC/$f")))
			got=$((got + size))
			[[ $code == 200 && $size == "$(stat -c %s "$STATIC/$f")" ]] &&
				ok=$((ok + 1))
		done
		local st=
		for code in "${!codes[@]}"; do st+="${codes[$code]}x$code "; done
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$ok" "$n" "$want" "$got" \
			"${st% }" >>"$RAW/static.tsv"
		unset codes
		if ((ok == n)); then
			STATIC_OK[$s]=1
		else
			note "$s: only $ok of $n static files came back whole with 200 (${st% }); left out of the static scenario"
		fi
	done
}

phase_throughput() {
	local s r t scen i name
	local -a order
	for s in $SERVERS; do start_server "$s" "$(port_of 0 "$s")"; done
	check_answers
	for s in $SERVERS; do
		((WARMUP)) || break
		log "warming up $s (${WARMUP}s)"
		run_wrk plaintext 1 "$(port_of 0 "$s")" "$WARMUP" "$TMP/warmup-$s.txt"
	done
	printf 'scenario\tthreads\tround\tserver\trps\trequests\tp50_us\tp99_us\tcpu_us\tbytes\twrk_cpu_pct\n' \
		>"$RAW/runs.tsv"
	read -ra order <<<"$SERVERS"
	for ((r = 1; r <= ROUNDS; r++)); do
		for scen in $SCENARIOS; do
			for t in $THREADS; do
				for ((i = 0; i < ${#order[@]}; i++)); do
					name=${order[(i + r - 1) % ${#order[@]}]}
					[[ $scen == static && ${STATIC_OK[$name]} == 0 ]] && continue
					run_wrk "$scen" "$t" "$(port_of 0 "$name")" "$DURATION" \
						"$TMP/wrk-r$r-$scen-t$t-$name.txt" "${WORK_PID[$name]}"
					printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scen" \
						"$t" "$r" "$name" "$WRK_RPS" "$WRK_N" "$WRK_P50" \
						"$WRK_P99" "$WRK_CPU_US" "$WRK_BYTES" "$WRK_LOAD" \
						>>"$RAW/runs.tsv"
					log "round $r/$ROUNDS, $scen -t$t, $name: $WRK_RPS req/s, p99 $WRK_P99 us, $WRK_CPU_US us CPU/req, wrk CPU $WRK_LOAD%"
				done
			done
		done
	done
	for s in $SERVERS; do stop_server "$s"; done
}

# --- idle memory ---------------------------------------------------------

# Two runs, each on a fresh server process: "cold" opens the connections on
# a server that has served one request; "warm" first loads it with 256 wrk
# connections for WARMUP seconds (at least 1), so that buffers touched once per process
# (a receive ring, pools grown to a burst) are paid before the count starts.
# idle.tsv: server, run, then bench/idle's key=value line.
phase_idle() {
	local s out status run port
	: >"$RAW/idle.tsv"
	for s in $REAL_SERVERS; do
		port=$(port_of 1 "$s")
		for run in cold warm; do
			start_server "$s" "$port"
			if [[ $run == warm ]]; then
				run_wrk c256 1 "$port" $((WARMUP ? WARMUP : 1)) \
					"$TMP/idle-warmup-$s.txt"
				sleep 0.5
			fi
			log "idle: $IDLE_CONNS connections to $s, $run"
			status=0
			record_cmd "$port" "$B/bench/idle" --port "$port" --pid PID \
				--conns "$IDLE_CONNS" --hold-ms "$IDLE_HOLD_MS"
			out=$("$B/bench/idle" --port "$port" --pid "${WORK_PID[$s]}" \
				--conns "$IDLE_CONNS" --hold-ms "$IDLE_HOLD_MS") || status=$?
			stop_server "$s"
			if ((status > 1)) || [[ -z $out ]]; then die "bench/idle failed on $s"; fi
			((status == 0)) || note "idle on $s ($run): not every connection held or answered: $out"
			printf '%s\t%s\t%s\n' "$s" "$run" "$out" >>"$RAW/idle.tsv"
		done
	done
}

# --- allocator calls -----------------------------------------------------

# alloc.tsv: server, wrk threads, requests, req/s, then the counters'
# differences over the window (pid ppid malloc calloc realloc free
# memalign mmap munmap bytes, as bench/alloc_count prints them).
phase_alloc() {
	local s t port counts before after
	printf 'server\tthreads\trequests\trps\tmalloc\tcalloc\trealloc\tfree\taligned\tmmap\tmunmap\tbytes\n' \
		>"$RAW/alloc.tsv"
	for s in $REAL_SERVERS; do
		port=$(port_of 2 "$s")
		counts=$TMP/alloc-$s.counts
		rm -f "$counts"
		start_server "$s" "$port" "$counts"
		log "alloc: counting $s (pid ${WORK_PID[$s]})"
		if ((WARMUP)); then
			run_wrk plaintext 1 "$port" "$WARMUP" "$TMP/alloc-warmup-$s.txt"
		fi
		for t in $THREADS; do
			before=$("$B/bench/alloc_count" "$counts" "${WORK_PID[$s]}" | tail -n 1)
			run_wrk plaintext "$t" "$port" "$ALLOC_DURATION" "$TMP/alloc-t$t-$s.txt"
			after=$("$B/bench/alloc_count" "$counts" "${WORK_PID[$s]}" | tail -n 1)
			awk -v s="$s" -v t="$t" -v n="$WRK_N" -v rps="$WRK_RPS" \
				-v b="$before" -v a="$after" 'BEGIN {
				split(b, x, " "); split(a, y, " ")
				line = s "\t" t "\t" n "\t" rps
				for (i = 3; i <= 10; i++)
					line = line "\t" (y[i] - x[i])
				print line
			}' >>"$RAW/alloc.tsv"
		done
		stop_server "$s"
	done
}

# --- soak ----------------------------------------------------------------

stats_requests() { # PORT: the request count ringlet's /stats reports
	curl -s --max-time 1 "http://127.0.0.1:$1/stats" |
		grep -o '"requests":[0-9]*' | head -n 1 | cut -d: -f2 || true
}

# soak.csv: seconds, requests (from /stats), rss_kb (the worker's VmRSS),
# one line per second; soak.tsv: key and value, wrk's summary among them.
phase_soak() {
	local port pid done_file limit start now c0 c1 wpid i=0 n
	port=$(port_of 3 ringlet)
	start_server ringlet "$port"
	pid=${WORK_PID[ringlet]}
	done_file=$TMP/soak-done
	rm -f "$done_file"
	# Each thread sends its share plus what its connections may still have
	# in flight when it stops, so that wrk completes SOAK_REQUESTS.
	limit=$(((SOAK_REQUESTS + SOAK_THREADS - 1) / SOAK_THREADS +
		SOAK_CONNECTIONS * SOAK_DEPTH / SOAK_THREADS))
	local -a cmd=("$WRK" -t"$SOAK_THREADS" -c"$SOAK_CONNECTIONS" -d900s
		--latency "${WRK_HEADERS[@]}" -s "$REPO/bench/soak.lua"
		"http://127.0.0.1:$port/plaintext" -- "$limit" "$SOAK_DEPTH" "$done_file")
	record_cmd "$port" "${cmd[@]}"
	log "soak: $SOAK_REQUESTS requests to ringlet (-t$SOAK_THREADS -c$SOAK_CONNECTIONS, $SOAK_DEPTH per write)"
	printf 'seconds,requests,rss_kb\n' >"$RAW/soak.csv"
	printf '0,%s,%s\n' "$(stats_requests "$port")" "$(rss_kb "$pid")" >>"$RAW/soak.csv"
	c0=$(cpu_ticks "$pid")
	start=$(date +%s.%N)
	"${cmd[@]}" >"$TMP/soak.txt" 2>&1 &
	wpid=$!
	BG_PIDS+=("$wpid")
	while kill -0 "$wpid" 2>/dev/null; do
		i=$((i + 1))
		# Sleep to the next whole second since the start.
		now=$(date +%s.%N)
		sleep "$(awk -v s="$start" -v n="$now" -v i="$i" \
			'BEGIN { d = s + i - n; printf "%.3f", (d > 0 ? d : 0) }')"
		now=$(date +%s.%N)
		printf '%s,%s,%s\n' "$(awk -v s="$start" -v n="$now" 'BEGIN { printf "%.1f", n - s }')" \
			"$(stats_requests "$port")" "$(rss_kb "$pid")" >>"$RAW/soak.csv"
		n=0
		[[ -f $done_file ]] && n=$(wc -l <"$done_file")
		((n >= SOAK_THREADS)) && { kill -INT "$wpid" 2>/dev/null || true; }
		((i < 1000)) || die "soak: wrk did not finish"
	done
	wait "$wpid" || die "wrk failed: $(cat "$TMP/soak.txt")"
	BG_PIDS=()
	now=$(date +%s.%N)
	printf '%s,%s,%s\n' "$(awk -v s="$start" -v n="$now" 'BEGIN { printf "%.1f", n - s }')" \
		"$(stats_requests "$port")" "$(rss_kb "$pid")" >>"$RAW/soak.csv"
	c1=$(cpu_ticks "$pid")
	parse_wrk "$TMP/soak.txt"
	stop_server ringlet
	{
		printf 'requests\t%s\n' "$WRK_N"
		printf 'rps\t%s\n' "$WRK_RPS"
		printf 'p50_us\t%s\n' "$WRK_P50"
		printf 'p99_us\t%s\n' "$WRK_P99"
		printf 'cpu_us\t%s\n' "$(awk -v d=$((c1 - c0)) -v hz="$CLK_TCK" \
			-v n="$WRK_N" 'BEGIN { printf "%.3f", d * 1e6 / hz / n }')"
		printf 'threads\t%s\nconnections\t%s\ndepth\t%s\ntarget\t%s\n' \
			"$SOAK_THREADS" "$SOAK_CONNECTIONS" "$SOAK_DEPTH" "$SOAK_REQUESTS"
		printf 'wrk_summary\t%s\n' "$(grep ' requests in ' "$TMP/soak.txt" | sed 's/^ *//')"
	} >"$RAW/soak.tsv"
}

main() {
	check_tools
	raise_fd_limit
	build
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	TMP=$(mktemp -d /tmp/ringlet-bench.XXXXXX)
	chmod 755 "$TMP" # nginx's worker runs as nobody under root
	mkdir -p "$RAW"
	(cd "$RAW" && rm -f params.tsv plaintext.tsv static.tsv runs.tsv idle.tsv \
		alloc.tsv soak.tsv soak.csv notes.txt commands.txt phases.tsv)
	: >"$RAW/notes.txt"
	{
		printf 'servers\t%s\nphases\t%s\nscenarios\t%s\n' "$SERVERS" "$PHASES" "$SCENARIOS"
		printf 'duration\t%s\nrounds\t%s\nwarmup\t%s\nalloc_duration\t%s\n' \
			"$DURATION" "$ROUNDS" "$WARMUP" "$ALLOC_DURATION"
		printf 'threads\t%s\npipeline\t%s\nidle_conns\t%s\nidle_hold_ms\t%s\n' \
			"$THREADS" "$PIPELINE" "$IDLE_CONNS" "$IDLE_HOLD_MS"
		printf 'static_files\t%s\n' "${STATIC_FILES[*]}"
		printf 'ringlet_args\t%s\n' "$RINGLET_ARGS"
	} >"$RAW/params.tsv"
	log "servers: $SERVERS; phases: $PHASES; results in $RAW; files in $TMP"
	local p t0
	for p in $PHASES; do
		t0=$SECONDS
		case $p in
		throughput) phase_throughput ;;
		idle) phase_idle ;;
		alloc) phase_alloc ;;
		soak)
			if [[ " $SERVERS " == *" ringlet "* ]]; then
				phase_soak
			else
				log "soak: skipped (ringlet is not in SERVERS)"
			fi
			;;
		esac
		printf '%s\t%s\n' "$p" $((SECONDS - t0)) >>"$RAW/phases.tsv"
		log "$p: $((SECONDS - t0)) s"
	done
}

main "$@"
