# bench/lib.sh: what bench/server.sh needs to start, measure and stop the
# three servers and the calibration responder (bench/ceiling), sourced by
# it (not run); bench/python.sh sources it too, for its process handling
# and wrk runner (wrk_exec, wrk_results). Every process started here is
# recorded by pid and stopped by pid, on the way out too (cleanup, run from
# server.sh's EXIT trap).
#
# Expects from the caller: REPO, B (the build directory), TMP (a private
# directory), RAW (where results go), STATIC, DATA, NGINX, H2O, WRK,
# RINGLET, RINGLET_ARGS, CONN_LIMIT, NOFILE, PORT_BASE.
# shellcheck shell=bash disable=SC2034 # WRK_* and the like are results for the caller

log() { printf '%s\n' "bench: $*" >&2; }
die() {
	log "$*"
	exit 1
}

# A line for the report's notes: what skewed or failed a measurement.
note() { printf '%s\n' "$*" >>"$RAW/notes.txt"; }

# record_cmd PORT COMMAND...: the exact commands, each once, with the port
# written as $PORT, the temporary directory as $TMP and paths relative to
# the repository.
record_cmd() {
	local port=$1 line='' a
	shift
	for a in "$@"; do
		[[ $a =~ ^[][A-Za-z0-9_./:=@%+,-]+$ ]] || a="'$a'"
		line+="$a "
	done
	line=${line% }
	line=${line//$port/\$PORT}
	line=${line//$TMP/\$TMP}
	line=${line//$REPO\//}
	grep -qxF -- "$line" "$RAW/commands.txt" 2>/dev/null ||
		printf '%s\n' "$line" >>"$RAW/commands.txt"
}

# TechEmpower's plaintext request headers, on every wrk request.
WRK_HEADERS=(-H 'Host: localhost'
	-H 'Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7'
	-H 'Connection: keep-alive')

# --- processes -----------------------------------------------------------

declare -A MAIN_PID=() # server -> the pid started, until stopped
declare -A KIDS=()     # server -> its child processes once it answered
declare -A WORK_PID=() # server -> the pid that serves requests (measured)
declare -A DIR=()      # server -> its instance's directory (config, logs)
declare -a BG_PIDS=()  # other background processes (the soak's wrk)

# Whether a process still runs: a zombie does not (h2o's helper, orphaned
# when h2o exits, may wait a while for its new parent to reap it).
running() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# TERM to all, up to 5 s for them to go, then KILL.
stop_pids() {
	local pid i
	kill -TERM "$@" 2>/dev/null || true
	for pid in "$@"; do
		for ((i = 0; i < 100; i++)); do
			running "$pid" || break
			sleep 0.05
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# The main process first: nginx's and ringlet's masters stop their worker,
# h2o's helper leaves when its pipe closes; what remains is ended by pid.
stop_server() {
	[[ -n ${MAIN_PID[$1]:-} ]] || return 0
	# shellcheck disable=SC2086 # KIDS holds a list of pids
	stop_pids "${MAIN_PID[$1]}" ${KIDS[$1]:-}
	unset "MAIN_PID[$1]" "KIDS[$1]"
	# nginx warns of what skews a run (connections reused, limits).
	local f=${DIR[$1]}/nginx-error.log line
	[[ -f $f ]] || return 0
	while read -r line; do
		note "nginx ${DIR[$1]##*-}: $line"
	done < <(grep -E '\[(warn|error|crit|alert|emerg)\]' "$f" |
		sed -E 's/^.* (\[[a-z]+\]) [0-9#]+: /\1 /' | sort -u | head -n 3)
}

cleanup() {
	local s
	((${#BG_PIDS[@]})) && stop_pids "${BG_PIDS[@]}"
	BG_PIDS=()
	for s in "${!MAIN_PID[@]}"; do stop_server "$s"; done
	if [[ -n ${TMP:-} && -d $TMP ]]; then
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

# PORT_BASE + 10 * phase + server: phase 0 throughput, 1 idle, 2 alloc,
# 3 soak; server 0 ringlet, 1 nginx, 2 h2o, 3 ceiling.
port_of() { # PHASE_INDEX SERVER
	local i
	case $2 in
	ringlet) i=0 ;;
	nginx) i=1 ;;
	h2o) i=2 ;;
	ceiling) i=3 ;;
	esac
	echo $((PORT_BASE + 10 * $1 + i))
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
# answers, sets MAIN_PID[NAME] and WORK_PID[NAME] (nginx's and ringlet's
# worker, h2o's one process: its threads add up in it; the ceiling's one
# process). With COUNTS_FILE it runs under the allocation-counting shim.
# A caller that starts it otherwise (bench/instructions.sh: under
# valgrind) sets START_PREFIX (a command the server's goes after),
# START_ENV (VAR=value ...), START_DIR_MODE (of the instance's directory,
# 755), START_WAIT (probes, 0.1 s apart, 100) and START_PROBE (the seconds
# one may take, 1).
start_server() {
	local name=$1 port=$2 counts=${3:-} dir=$TMP/$1-$2 pid i
	local -a env=("${START_ENV[@]}") cmd
	local tries=${START_WAIT:-100}
	[[ -n $counts ]] &&
		env+=(LD_PRELOAD="$B/bench/alloc_count.so" ALLOC_COUNT_FILE="$counts")
	port_in_use "$port" && die "port $port is in use (set PORT_BASE)"
	# Traversed by nginx's worker (nobody).
	rm -rf "$dir" && mkdir -m "${START_DIR_MODE:-755}" "$dir"
	DIR[$name]=$dir
	case $name in
	ringlet)
		# shellcheck disable=SC2206 # RINGLET_ARGS is a list of options
		cmd=("$RINGLET" -w 1 --port "$port" --host 127.0.0.1
			--root "$STATIC" --data "$DATA"
			--max-connections "$CONN_LIMIT" $RINGLET_ARGS)
		;;
	nginx)
		write_config nginx "$port" "$dir"
		cmd=("$NGINX" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/nginx-error.log")
		;;
	h2o)
		write_config h2o "$port" "$dir"
		cmd=("$H2O" -c "$dir/h2o.conf")
		;;
	ceiling) cmd=("$B/bench/ceiling" "$port") ;;
	esac
	cmd=("${START_PREFIX[@]}" "${cmd[@]}")
	[[ -z $counts ]] && record_cmd "$port" "${cmd[@]}"
	env "${env[@]}" "${cmd[@]}" >"$dir/log" 2>&1 &
	pid=$!
	MAIN_PID[$name]=$pid
	for ((i = 0; i < tries; i++)); do
		kill -0 "$pid" 2>/dev/null ||
			die "$name exited at start: $(tail -n 5 "$dir"/*log*)"
		curl -sf -o /dev/null --max-time "${START_PROBE:-1}" \
			"http://127.0.0.1:$port/plaintext" && break
		sleep 0.1
	done
	((i < tries)) || die "$name does not answer on port $port"
	WORK_PID[$name]=$pid
	if [[ $name == nginx || $name == ringlet ]]; then
		WORK_PID[$name]=$(pgrep -P "$pid" | head -n 1 || true)
		[[ -n ${WORK_PID[$name]} ]] || die "$name has no worker process"
	fi
	KIDS[$name]=$(pgrep -P "$pid" | paste -sd " " - || true)
}

# --- measuring -----------------------------------------------------------

CLK_TCK=$(getconf CLK_TCK)

# utime + stime of a process, all its threads, in clock ticks (field 14
# and 15 of /proc/PID/stat; the name in field 2 may hold spaces).
cpu_ticks() {
	local stat
	stat=$(<"/proc/$1/stat") || die "process $1 is gone"
	stat=${stat##*) }
	awk '{ print $12 + $13 }' <<<"$stat"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# wrk_args SCENARIO THREADS PORT SECONDS: sets WRK_ARGS, the whole command.
#   plaintext  GET /plaintext, 64 connections
#   pipelined  the same, PIPELINE requests per write (bench/pipeline.lua;
#              its latency is per batch, wrk's correction undone)
#   c256       GET /plaintext, 256 connections
#   static     GET /static/NAME, 64 connections, STATIC_FILES in rotation
#              (bench/static.lua)
wrk_args() {
	local scen=$1 t=$2 port=$3 secs=$4 url=http://127.0.0.1:$3
	WRK_ARGS=("$WRK" -t"$t" -d"${secs}s" --latency "${WRK_HEADERS[@]}")
	case $scen in
	plaintext) WRK_ARGS+=(-c64 "$url/plaintext") ;;
	pipelined) WRK_ARGS=(env WRK_CONNECTIONS=64 "${WRK_ARGS[@]}" -c64
		-s "$REPO/bench/pipeline.lua" "$url/plaintext" -- "$PIPELINE") ;;
	c256) WRK_ARGS+=(-c256 "$url/plaintext") ;;
	static) WRK_ARGS+=(-c64 -s "$REPO/bench/static.lua" "$url/static/"
		-- "${STATIC_FILES[@]}") ;;
	*) die "unknown scenario '$scen'" ;;
	esac
}

# wrk's latency figure ("403.00us", "1.20ms", "2.01s") in microseconds.
to_us() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") f = 1; else if (u == "ms") f = 1e3
		else if (u == "s") f = 1e6; else if (u == "m") f = 6e7; else f = -1
		if (f < 0) print "-"; else printf "%.0f", n * f
	}'
}

# wrk's byte count ("1.23GB") in bytes.
to_bytes() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		f = 1; if (u == "KB") f = 1024; else if (u == "MB") f = 1048576
		else if (u == "GB") f = 1073741824; else if (u == "TB") f = 1099511627776
		printf "%.0f", n * f
	}'
}

# parse_wrk OUT: from wrk's output sets WRK_RPS (req/s), WRK_N (requests
# completed), WRK_P50 and WRK_P99 (us; bench/pipeline.lua's own figures
# when it printed them), WRK_BYTES (bytes read). Socket
# errors and non-2xx answers become notes.
parse_wrk() {
	local out=$1 bad read
	bad=$(grep -E 'Socket errors|Non-2xx' "$out" || true)
	[[ -n $bad ]] && note "$(basename "$out" .txt): ${bad//$'\n'/; }"
	WRK_RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
	WRK_N=$(awk '/ requests in / { print $1 }' "$out")
	read=$(awk '/ requests in / { print $(NF - 1) }' "$out")
	WRK_P50=$(to_us "$(awk '$1 == "50%" { print $2 }' "$out")")
	WRK_P99=$(to_us "$(awk '$1 == "99%" { print $2 }' "$out")")
	if grep -q '^pipeline.lua: batch latency' "$out"; then
		WRK_P50=$(sed -n 's/^pipeline.lua: .* p50_us=\([0-9]*\).*/\1/p' "$out")
		WRK_P99=$(sed -n 's/^pipeline.lua: .* p99_us=\([0-9]*\).*/\1/p' "$out")
	fi
	[[ -n $WRK_RPS && -n $WRK_N && -n $read && -n $WRK_P50 && -n $WRK_P99 ]] ||
		die "cannot read wrk's output: $(cat "$out")"
	WRK_BYTES=$(to_bytes "$read")
}

# wrk_exec PORT OUT [PID]: runs the command in WRK_ARGS (recorded with
# record_cmd, PORT as $PORT), its output in OUT; dies if wrk fails. Sets
# WRK_LOAD, the load generator's own CPU use over the run in percent:
# wrk's user + system time (all its threads), from bash's `times` in a
# subshell whose one child is wrk, divided by the run's wall time; 100 is
# one core busy for the whole run, and -tN can reach 100 * N. With PID, sets WRK_TICKS to
# that process's CPU time over the run in clock ticks (empty if it is gone
# by the end); without, 0.
wrk_exec() {
	local out=$2 pid=${3:-} c0=0 c1=0 timed t0 t1 user sys
	record_cmd "$1" "${WRK_ARGS[@]}"
	[[ -n $pid ]] && c0=$(cpu_ticks "$pid")
	# The subshell prints the run's start and end, then `times`: its own
	# times, then its children's (wrk's alone: nothing else runs in it).
	timed=$(
		t0=$EPOCHREALTIME
		"${WRK_ARGS[@]}" >"$out" 2>&1 || exit
		t1=$EPOCHREALTIME
		echo "$t0 $t1"
		times
	) || die "wrk failed: $(cat "$out")"
	if [[ -n $pid ]]; then c1=$(cpu_ticks "$pid" 2>/dev/null) || c1=; fi
	WRK_TICKS=
	[[ -n $c1 ]] && WRK_TICKS=$((c1 - c0))
	{
		read -r t0 t1
		read -r _
		read -r user sys
	} <<<"$timed"
	# `times` writes 1m2.345s for 62.345 seconds.
	WRK_LOAD=$(awk -v t0="$t0" -v t1="$t1" -v u="$user" -v s="$sys" '
	function secs(x,    m) { m = x; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", x); return m * 60 + x }
	BEGIN { d = t1 - t0; printf "%.1f", (d > 0 ? (secs(u) + secs(s)) * 100 / d : 0) }')
}

# wrk_results OUT: after wrk_exec, parses wrk's output (parse_wrk) and
# sets WRK_CPU_US, the measured process's CPU time per request completed
# (0 without one, or if it is gone).
wrk_results() {
	parse_wrk "$1"
	WRK_CPU_US=$(awk -v d="${WRK_TICKS:-0}" -v hz="$CLK_TCK" -v n="$WRK_N" \
		'BEGIN { printf "%.3f", (n > 0 ? d * 1e6 / hz / n : 0) }')
}

# run_wrk SCENARIO THREADS PORT SECONDS OUT [PID]: runs wrk (wrk_args,
# wrk_exec), keeps its output in OUT and parses it (wrk_results): sets
# WRK_LOAD, and with PID WRK_CPU_US; dies if PID is gone by the end.
run_wrk() {
	local scen=$1 t=$2 port=$3 secs=$4 out=$5 pid=${6:-}
	wrk_args "$scen" "$t" "$port" "$secs"
	wrk_exec "$port" "$out" "$pid"
	[[ -z $pid || -n $WRK_TICKS ]] || die "process $pid is gone"
	wrk_results "$out"
}
