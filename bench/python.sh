#!/usr/bin/env bash
# bench/python.sh: ringlet's Python front (`python3 -m ringlet`) against
# gunicorn and uWSGI, in the same run, one worker each, all serving
# bench/wsgi_app.py unchanged on Debian's /usr/bin/python3. Raw results go
# to RAW/python/ as TSV files; bench/report.sh turns them into the report's
# Python section, bench/run.sh (what `make bench` runs) does both.
#
# Servers (PY_SERVERS picks some; a peer whose program, module or plugin
# is missing is skipped, and the report says why):
#   ringlet          python3 -m ringlet -w 1 --io auto (the master forks one
#                    worker; each request on its own greenlet)
#   gunicorn-sync    python3 -m gunicorn -w 1 -k sync
#   gunicorn-gevent  python3 -m gunicorn -w 1 -k gevent (its default
#                    --worker-connections, 1000)
#   uwsgi            uwsgi --plugin python3 --http-socket, --master
#                    --processes 1
#   uwsgi-gevent     the same with --plugin gevent_python3 --gevent 1000
# The measured process is the worker, the master's child, in every case.
#
# Phases, each on fresh server processes (PY_PHASES picks some):
#   throughput  with the pg scenario, first a throwaway PostgreSQL on
#               loopback (`tests/python/services.py postgres`, stopped at
#               the phase's end), whose DSN the servers get in
#               WSGI_APP_PG_DSN; without PostgreSQL or psycopg2, pg is
#               skipped (and without psycogreen, the gevent servers are
#               left out of it), and the report says why.
#               Before anything is timed, every server's answer on each
#               path (status, body, Content-Type; /pg with pg), and a raw
#               socket sending 16 pipelined requests in one write (/sleep
#               among them, so that a server answering out of order shows
#               it): a server failing either is left out of the scenarios
#               it failed.
#               Then the PY_SCENARIOS, each with -t1 and -t2 (PY_THREADS),
#               ROUNDS rounds of DURATION seconds, the servers interleaved
#               (their order rotates each round):
#                 plaintext  GET /plaintext, 64 connections
#                 json       GET /json, 64 connections
#                 flask      GET /flask (Flask's hello world), 64 connections
#                 sleep      GET /sleep (a 10 ms cooperative sleep), 256
#                            connections
#                 pg         GET /pg (SELECT pg_sleep(0.05) through
#                            psycopg2, on connections the application
#                            keeps), 100 connections
#                 pipelined  GET /plaintext, 64 connections, PIPELINE per
#                            write (bench/pipeline.lua)
#               For each run: req/s, p50 and p99 latency, the worker's CPU
#               time per request, its VmRSS read after the run, wrk's
#               socket errors and non-2xx answers, and wrk's own CPU use
#               (user + system over the run's wall time, %: 100 is one
#               core busy throughout). A worker that dies is
#               noted (with its log) and its replacement measured.
#   alloc       each of PY_ALLOC_SERVERS under LD_PRELOAD=alloc_count.so:
#               after a WARMUP-second run, the worker's allocator and mmap
#               calls during a DURATION-second /plaintext run (the first of
#               PY_THREADS, 64 connections) per request completed, and its
#               VmRSS after (a worker that served /plaintext alone: the
#               server's and the interpreter's memory, not Flask's)
#
# Environment (bench/run.sh sets the full and quick presets; DURATION,
# ROUNDS, WARMUP, PIPELINE, BUILD, RAW, WRK and KEEP_TMP as bench/server.sh):
#   PY_SERVERS="ringlet gunicorn-sync gunicorn-gevent uwsgi uwsgi-gevent"
#   PY_SCENARIOS="plaintext json flask sleep pg pipelined" PY_THREADS="1 2"
#   PY_PHASES="throughput alloc" PY_ALLOC_SERVERS=$PY_SERVERS
#   PY_PORT_BASE=29400 PYTHON=/usr/bin/python3 UWSGI=/usr/bin/uwsgi-core
#   UWSGI_SOCKET=http-socket (http11-socket: uWSGI's keep-alive socket)
# Ports: PY_PORT_BASE + 10 * phase + server (29400-29404, 29410-29414);
# PostgreSQL's, a free one services.py picks.
# Full preset: about 12 minutes on 2 cores; quick: about 45 s.
#
# Builds the extension (`make python`) and the tools; installs nothing,
# and says what is missing. Every process it starts is stopped on exit or
# Ctrl-C, by pid.
set -euo pipefail
export LC_ALL=C

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

BUILD=${BUILD:-build}
DURATION=${DURATION:-4}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2}
PIPELINE=${PIPELINE:-16}
PY_SERVERS=${PY_SERVERS:-ringlet gunicorn-sync gunicorn-gevent uwsgi uwsgi-gevent}
PY_SCENARIOS=${PY_SCENARIOS:-plaintext json flask sleep pg pipelined}
PY_THREADS=${PY_THREADS:-1 2}
PY_PHASES=${PY_PHASES:-throughput alloc}
PY_ALLOC_SERVERS=${PY_ALLOC_SERVERS:-$PY_SERVERS}
PY_PORT_BASE=${PY_PORT_BASE:-29400}
# Debian's interpreter: the extension is built for it, and the peers are
# Debian's packages for it; never a python3 that comes first on PATH.
PYTHON=${PYTHON:-/usr/bin/python3}
UWSGI=${UWSGI:-/usr/bin/uwsgi-core}
UWSGI_PLUGINS=${UWSGI_PLUGINS:-/usr/lib/uwsgi/plugins}
UWSGI_SOCKET=${UWSGI_SOCKET:-http-socket}
WRK=${WRK:-wrk}
CC=${CC:-cc}
RAW=${RAW:-$REPO/bench/results/raw}/python

case $BUILD in
/*) B=$BUILD ;;
*) B=$REPO/$BUILD ;;
esac
TMP=

# --- checks --------------------------------------------------------------

# server -> why it is not measured; also "scenario pg" (the scenario as a
# whole) and "SERVER, scenario pg" (that server in it)
declare -A SKIP=()
PG_KEY="scenario pg"

# pymod MODULE: whether Debian's interpreter imports it.
pymod() { "$PYTHON" -c "import $1" >/dev/null 2>&1; }

check_tools() {
	local missing=() s ok=()
	command -v "$WRK" >/dev/null || missing+=("wrk (apt-get install wrk)")
	command -v curl >/dev/null || missing+=("curl (apt-get install curl)")
	command -v pgrep >/dev/null || missing+=("pgrep (apt-get install procps)")
	[[ -x $PYTHON ]] || missing+=("$PYTHON (apt-get install python3)")
	[[ -x $PYTHON ]] && ! pymod greenlet &&
		missing+=("greenlet for $PYTHON (apt-get install python3-greenlet)")
	[[ -x $PYTHON ]] && ! pymod flask &&
		missing+=("Flask for $PYTHON, which bench/wsgi_app.py imports (apt-get install python3-flask)")
	if ((${#missing[@]})); then
		log "missing:"
		printf '  %s\n' "${missing[@]}" >&2
		exit 1
	fi
	for s in $PY_SERVERS; do
		case $s in
		ringlet) ;;
		gunicorn-sync | gunicorn-gevent)
			pymod gunicorn ||
				SKIP[$s]="gunicorn is not importable by $PYTHON (apt-get install gunicorn)"
			[[ $s == gunicorn-gevent && -z ${SKIP[$s]:-} ]] && ! pymod gevent &&
				SKIP[$s]="gevent is not importable by $PYTHON (apt-get install python3-gevent)"
			;;
		uwsgi | uwsgi-gevent)
			[[ -x $UWSGI ]] ||
				SKIP[$s]="no $UWSGI (apt-get install uwsgi-core, or set UWSGI)"
			[[ -z ${SKIP[$s]:-} && ! -f $UWSGI_PLUGINS/python3_plugin.so ]] &&
				SKIP[$s]="no $UWSGI_PLUGINS/python3_plugin.so (apt-get install uwsgi-plugin-python3)"
			[[ $s == uwsgi-gevent && -z ${SKIP[$s]:-} &&
				! -f $UWSGI_PLUGINS/gevent_python3_plugin.so ]] &&
				SKIP[$s]="no $UWSGI_PLUGINS/gevent_python3_plugin.so (apt-get install uwsgi-plugin-gevent-python3)"
			;;
		*) die "unknown server '$s' in PY_SERVERS (ringlet, gunicorn-sync, gunicorn-gevent, uwsgi, uwsgi-gevent)" ;;
		esac
		if [[ -n ${SKIP[$s]:-} ]]; then
			log "skipping $s: ${SKIP[$s]}"
		else
			ok+=("$s")
		fi
	done
	PY_SERVERS=${ok[*]}
	[[ -n $PY_SERVERS ]] || die "no server left to measure"
	for s in $PY_PHASES; do
		case $s in
		throughput | alloc) ;;
		*) die "unknown phase '$s' in PY_PHASES (throughput, alloc)" ;;
		esac
	done
	for s in $PY_SCENARIOS; do
		case $s in
		plaintext | json | flask | sleep | pg | pipelined) ;;
		*) die "unknown scenario '$s' in PY_SCENARIOS (plaintext, json, flask, sleep, pg, pipelined)" ;;
		esac
	done
	check_pg
	case $UWSGI_SOCKET in
	http-socket | http11-socket) ;;
	*) die "UWSGI_SOCKET must be http-socket or http11-socket, not '$UWSGI_SOCKET'" ;;
	esac
	[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be 0 or more seconds, not '$WARMUP'"
	for v in DURATION ROUNDS PIPELINE PY_PORT_BASE; do
		[[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] ||
			die "$v must be a positive integer, not '${!v}'"
	done
}

# Whether the throughput phase runs the pg scenario.
want_pg() {
	[[ " $PY_SCENARIOS " == *" pg "* && " $PY_PHASES " == *" throughput "* &&
		-z ${SKIP[$PG_KEY]:-} ]]
}

# What pg needs besides PostgreSQL (tried at the phase's start, pg_start):
# psycopg2, and for the gevent servers psycogreen (without its wait
# callback their worker would block on libpq: they are left out of pg).
check_pg() {
	local s
	want_pg || return 0
	if ! pymod psycopg2; then
		SKIP[$PG_KEY]="psycopg2 is not importable by $PYTHON (apt-get install python3-psycopg2)"
		log "skipping the pg scenario: ${SKIP[$PG_KEY]}"
		return 0
	fi
	for s in $PY_SERVERS; do
		if [[ $s == *-gevent ]] && ! pymod psycogreen.gevent; then
			SKIP[$s, $PG_KEY]="psycogreen is not importable by $PYTHON (apt-get install python3-psycogreen)"
			log "leaving $s out of the pg scenario: ${SKIP[$s, $PG_KEY]}"
		fi
	done
}

# Whether a server gets the DSN (and so answers /pg).
pg_for() { [[ -n $PG_DSN && -z ${SKIP[$1, $PG_KEY]:-} ]]; }

build() {
	log "building the Python front and the tools (make python bench-tools BUILD=$BUILD)"
	make -s -C "$REPO" python bench-tools FLAVOUR=release BUILD="$BUILD" \
		CC="$CC" PYTHON="$PYTHON" >&2
}

# --- processes -----------------------------------------------------------

# PY_PORT_BASE + 10 * phase + server: phase 0 throughput, 1 alloc.
py_port() { # PHASE_INDEX SERVER
	local i
	case $2 in
	ringlet) i=0 ;;
	gunicorn-sync) i=1 ;;
	gunicorn-gevent) i=2 ;;
	uwsgi) i=3 ;;
	uwsgi-gevent) i=4 ;;
	esac
	echo $((PY_PORT_BASE + 10 * $1 + i))
}

# py_cmd NAME PORT: sets CMD (the server's command line) and SLEEP_KIND
# (what /sleep waits with: bench/wsgi_app.py reads WSGI_APP_SLEEP).
py_cmd() {
	local name=$1 port=$2
	case $name in
	ringlet)
		CMD=("$PYTHON" -m ringlet --host 127.0.0.1 -p "$port" -w 1
			--io auto wsgi_app:app)
		SLEEP_KIND=ringlet
		;;
	gunicorn-sync | gunicorn-gevent)
		CMD=("$PYTHON" -m gunicorn -w 1 -k "${name#gunicorn-}"
			-b "127.0.0.1:$port" wsgi_app:app)
		SLEEP_KIND='time'
		if [[ $name == gunicorn-gevent ]]; then SLEEP_KIND=gevent; fi
		;;
	uwsgi | uwsgi-gevent)
		# --die-on-term: TERM stops it (some uWSGI releases reload on TERM).
		# --need-app: exit rather than answer 500 if the import fails.
		# --listen 1024: its backlog is 100 by default (ringlet's 4096,
		# gunicorn's 2048), short of the 256 connections of /sleep.
		CMD=("$UWSGI" --plugin python3 "--$UWSGI_SOCKET" "127.0.0.1:$port"
			--master --processes 1 --disable-logging --die-on-term
			--need-app --listen 1024 --module wsgi_app:app)
		SLEEP_KIND='time'
		if [[ $name == uwsgi-gevent ]]; then
			CMD+=(--plugin gevent_python3 --gevent 1000)
			SLEEP_KIND=gevent
		fi
		;;
	esac
}

# pg_start: the throughput phase's PostgreSQL, `tests/python/services.py
# postgres` as a coprocess: it prints its DSN, and stops (and removes its
# cluster) on SIGTERM or at the end of its standard input, which this shell
# holds, so also when the shell is killed. Warms it (100 connections and
# queries at once, twice: without it, the first server's first run carries
# PostgreSQL's cold start, some 50 ms more at p99), then sets PG_PID and
# PG_DSN; if it does not start, skips the pg scenario with its reason.
# The DSN adds idle_session_timeout=1s: each server's connections (up to
# 100 for each greenlet server) stay open after its runs, and five
# servers' would not fit in PostgreSQL's 300; closed after a second idle,
# they are reopened at the start of that server's next run
# (bench/wsgi_app.py replaces a connection found closed).
PG_PID='' PG_DSN=''
pg_start() {
	local rfd line='' version why
	log "pg: starting PostgreSQL (tests/python/services.py postgres)"
	coproc PG_SVC {
		exec "$PYTHON" "$REPO/tests/python/services.py" postgres 2>"$TMP/postgres.log"
	}
	PG_PID=$PG_SVC_PID
	rfd=${PG_SVC[0]}
	read -r -t 120 line <&"$rfd" || true
	if [[ $line == *port=* ]] &&
		version=$("$PYTHON" -c 'import sys, threading, psycopg2
def query():
    conn = psycopg2.connect(sys.argv[1])
    conn.cursor().execute("SELECT pg_sleep(0.05)")
    conn.close()
for _ in range(2):
    threads = [threading.Thread(target=query) for _ in range(100)]
    for t in threads: t.start()
    for t in threads: t.join()
cur = psycopg2.connect(sys.argv[1]).cursor()
cur.execute("SHOW server_version")
print(cur.fetchone()[0])' "$line" 2>&1); then
		PG_DSN="$line options=-cidle_session_timeout=1000"
		printf 'postgresql\t%s\n' "$version" >>"$RAW/versions.tsv"
		record_cmd "$PY_PORT_BASE" "$PYTHON" tests/python/services.py postgres
		log "pg: PostgreSQL $version at $line (pid $PG_PID)"
		return 0
	fi
	why="PostgreSQL did not start (tests/python/services.py postgres): $(
		{ tail -n 3 "$TMP/postgres.log"; echo "${version:-}"; } | grep . | tail -n 1)"
	SKIP[$PG_KEY]=$why
	printf '%s\t%s\n' "$PG_KEY" "$why" >>"$RAW/skipped.tsv"
	log "skipping the pg scenario: $why"
	pg_stop
}

# SIGTERM, up to 20 s for services.py to stop PostgreSQL and remove its
# files (it gives the postmaster 10 s), then SIGKILL.
pg_stop() {
	local i
	[[ -n $PG_PID ]] || return 0
	kill -TERM "$PG_PID" 2>/dev/null || true
	for ((i = 0; i < 400; i++)); do
		running "$PG_PID" || break
		sleep 0.05
	done
	kill -KILL "$PG_PID" 2>/dev/null || true
	wait "$PG_PID" 2>/dev/null || true
	PG_PID='' PG_DSN=''
}

py_cleanup() {
	cleanup
	pg_stop
}

# The lines of a server's log that say something went wrong, without the
# start-up chatter every uWSGI prints as root.
log_problems() {
	grep -aiE 'error|exception|traceback|critical|segfault|signal|killed|timeout|refused|full' "$1" 2>/dev/null |
		grep -avE 'running uWSGI as root|--uid|SIGINT/SIGTERM received|Handling signal: term|Shutting down|goodbye|Worker exiting|lock engine|graceful|mercy|signals watchers|due to signal 15' |
		sort | uniq -c | sort -rn | head -n 5 || true
}

# py_start NAME PORT [COUNTS_FILE]: starts one server, waits until it
# answers, sets MAIN_PID, WORK_PID (the master's one child) and KIDS.
py_start() {
	local name=$1 port=$2 counts=${3:-} dir=$TMP/$1-$2 pid i
	local -a env=(-u PYTHONHOME PYTHONPATH="$B/python:$REPO/bench") pg=()
	port_in_use "$port" && die "port $port is in use (set PY_PORT_BASE)"
	rm -rf "$dir" && mkdir -p "$dir"
	DIR[$name]=$dir
	unset "GONE[$name]"
	py_cmd "$name" "$port"
	pg_for "$name" && pg=(WSGI_APP_PG_DSN="$PG_DSN")
	env+=(WSGI_APP_SLEEP="$SLEEP_KIND" "${pg[@]}")
	[[ -n $counts ]] &&
		env+=(LD_PRELOAD="$B/bench/alloc_count.so" ALLOC_COUNT_FILE="$counts")
	[[ -z $counts ]] &&
		record_cmd "$port" env PYTHONPATH="$BUILD/python:bench" \
			WSGI_APP_SLEEP="$SLEEP_KIND" "${pg[@]}" "${CMD[@]}"
	(cd "$dir" && exec env "${env[@]}" "${CMD[@]}") >"$dir/log" 2>&1 &
	pid=$!
	MAIN_PID[$name]=$pid
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null ||
			die "$name exited at start: $(tail -n 5 "$dir/log")"
		curl -sf -o /dev/null --max-time 1 \
			"http://127.0.0.1:$port/plaintext" && break
		sleep 0.1
	done
	((i < 150)) || die "$name does not answer on port $port: $(tail -n 5 "$dir/log")"
	WORK_PID[$name]=$(pgrep -P "$pid" | head -n 1)
	[[ -n ${WORK_PID[$name]} ]] || die "$name has no worker process"
	KIDS[$name]=$(pgrep -P "$pid" | paste -sd " " - || true)
}

# Stops a server; what its log says went wrong becomes a note.
py_stop() {
	local s=$1 line
	stop_server "$s"
	while read -r line; do
		if [[ -n $line ]]; then note "$s log: $line"; fi
	done < <(log_problems "${DIR[$s]}/log")
}

# Before and after each run: a worker that died is noted with its log's
# tail, and its replacement (if the master started one) measured from then
# on; without one, the server is left out of what remains (GONE) and 1
# returned.
declare -A GONE=()
check_worker() {
	local s=$1 what=$2 old=${WORK_PID[$1]} new='' i
	[[ -z ${GONE[$s]:-} ]] || return 1
	running "$old" && return 0
	note "$s: worker $old died during $what; log: $(tail -n 3 "${DIR[$s]}/log" | tr '\n' ' ')"
	for ((i = 0; i < 50; i++)); do
		new=$(pgrep -P "${MAIN_PID[$s]}" | head -n 1 || true)
		[[ -n $new && $new != "$old" ]] && break
		sleep 0.1
	done
	if [[ -z $new || $new == "$old" ]]; then
		note "$s: no new worker after $old died; left out of what remains"
		GONE[$s]=1
		return 1
	fi
	WORK_PID[$s]=$new
	KIDS[$s]=$(pgrep -P "${MAIN_PID[$s]}" | paste -sd " " - || true)
}

# --- checks of the answers -------------------------------------------------

declare -A PATH_OK=() # server,path -> 1 when its answer is right
declare -A PIPE_OK=() # server -> 1 when 16 pipelined answers came in order

want_body() {
	case $1 in
	/json) echo '{"message": "Hello, World!"}' ;;
	*) echo 'Hello, World!' ;;
	esac
}
want_type() {
	case $1 in
	/json) echo 'application/json' ;;
	/flask) echo 'text/html; charset=utf-8' ;;
	*) echo 'text/plain' ;;
	esac
}

# answers.tsv: server, path, status, Content-Type, body bytes, seconds,
# ok (/pg only for the servers that have the DSN); the header names of
# /plaintext in headers.tsv.
check_answers() {
	local s p url code ctype size secs body ok names paths
	printf 'server\tpath\tstatus\tcontent_type\tbytes\tseconds\tok\n' >"$RAW/answers.tsv"
	printf 'server\tbytes\theaders\n' >"$RAW/headers.tsv"
	for s in $PY_SERVERS; do
		url=http://127.0.0.1:$(py_port 0 "$s")
		paths="/plaintext /json /flask /sleep"
		if pg_for "$s"; then paths+=" /pg"; fi
		for p in $paths; do
			body=$(curl -s --max-time 5 -o - -w '\n%{http_code}\t%{content_type}\t%{size_download}\t%{time_total}' \
				"${WRK_HEADERS[@]}" "$url$p" || true)
			IFS=$'\t' read -r code ctype size secs <<<"${body##*$'\n'}"
			body=${body%$'\n'*}
			ok=0
			[[ $code == 200 && $body == "$(want_body "$p")" &&
				$ctype == "$(want_type "$p")" ]] && ok=1
			PATH_OK[$s,$p]=$ok
			((ok)) || note "$s: GET $p answered $code, Content-Type '$ctype', body '${body:0:60}': left out of that scenario"
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$p" "$code" "$ctype" \
				"$size" "$secs" "$ok" >>"$RAW/answers.tsv"
		done
		names=$(curl -si "${WRK_HEADERS[@]}" "$url/plaintext" | tr -d '\r' |
			sed -n '2,/^$/p' | grep . | cut -d: -f1 | paste -sd, - | sed 's/,/, /g')
		printf '%s\t%s\t%s\n' "$s" \
			"$(curl -s -o /dev/null -w '%{size_header} %{size_download}' "$url/plaintext" |
				awk '{ print $1 + $2 }')" "$names" >>"$RAW/headers.tsv"
	done
}

# pipeline_check PORT: 16 requests in one write, /sleep among them, then
# each response read in turn (status, Content-Length framing, body and
# Content-Type against the path asked); prints one line, exits 0 if all
# 16 came back right and in order.
pipeline_check() {
	"$PYTHON" - "$1" <<'EOF'
import socket, sys, time

port = int(sys.argv[1])
paths = ["/sleep", "/plaintext", "/json", "/flask", "/plaintext", "/sleep",
         "/json", "/plaintext", "/flask", "/json", "/sleep", "/plaintext",
         "/plaintext", "/json", "/flask", "/plaintext"]
want = {"/plaintext": (b"Hello, World!", "text/plain"),
        "/sleep": (b"Hello, World!", "text/plain"),
        "/json": (b'{"message": "Hello, World!"}', "application/json"),
        "/flask": (b"Hello, World!", "text/html; charset=utf-8")}
req = b"".join(b"GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % p.encode()
               for p in paths)
s = socket.create_connection(("127.0.0.1", port), timeout=5)
t0 = time.monotonic()
s.sendall(req)
buf = b""
closed = False

def fill():
    global buf, closed
    d = s.recv(65536)
    if not d:
        closed = True
    buf += d

def fail(i, why):
    print("fail: response %d of %d (GET %s): %s" % (i + 1, len(paths),
                                                     paths[i], why))
    sys.exit(1)

for i, p in enumerate(paths):
    try:
        while b"\r\n\r\n" not in buf and not closed:
            fill()
        if b"\r\n\r\n" not in buf:
            fail(i, "connection closed after %d answers" % i)
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        fields = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            fields[k.strip().lower()] = v.strip()
        if lines[0].split(" ")[1:2] != ["200"]:
            fail(i, "status line %r" % lines[0])
        if "content-length" not in fields:
            fail(i, "no Content-Length (%s)" % ", ".join(fields))
        n = int(fields["content-length"])
        while len(buf) < n and not closed:
            fill()
        body, buf = buf[:n], buf[n:]
    except socket.timeout:
        fail(i, "no answer within 5 s")
    wb, wt = want[p]
    if body != wb or fields.get("content-type") != wt:
        fail(i, "got %r (%s), want %r (%s): out of order or wrong"
             % (body, fields.get("content-type"), wb, wt))
print("ok: %d pipelined answers in order in %.0f ms"
      % (len(paths), (time.monotonic() - t0) * 1e3))
EOF
}

check_pipelines() {
	local s out status
	printf 'server\tok\tresult\n' >"$RAW/pipeline.tsv"
	for s in $PY_SERVERS; do
		status=0
		out=$(pipeline_check "$(py_port 0 "$s")" 2>&1) || status=$?
		PIPE_OK[$s]=$((status == 0))
		((status == 0)) ||
			note "$s: pipelined check $out; left out of the pipelined scenario"
		printf '%s\t%s\t%s\n' "$s" "${PIPE_OK[$s]}" "${out//$'\n'/ }" >>"$RAW/pipeline.tsv"
		log "pipelined check, $s: $out"
	done
}

# --- measuring -------------------------------------------------------------

# py_wrk_args SCENARIO THREADS PORT SECONDS: sets WRK_ARGS.
py_wrk_args() {
	local t=$2 secs=$4 url=http://127.0.0.1:$3
	WRK_ARGS=("$WRK" -t"$t" -d"${secs}s" --latency "${WRK_HEADERS[@]}")
	case $1 in
	plaintext) WRK_ARGS+=(-c64 "$url/plaintext") ;;
	json) WRK_ARGS+=(-c64 "$url/json") ;;
	flask) WRK_ARGS+=(-c64 "$url/flask") ;;
	sleep) WRK_ARGS+=(-c256 "$url/sleep") ;;
	pg) WRK_ARGS+=(-c100 "$url/pg") ;;
	pipelined) WRK_ARGS=(env WRK_CONNECTIONS=64 "${WRK_ARGS[@]}" -c64
		-s "$REPO/bench/pipeline.lua" "$url/plaintext" -- "$PIPELINE") ;;
	esac
}

# The path a scenario asks for.
path_of() {
	case $1 in
	plaintext | pipelined) echo /plaintext ;;
	*) echo "/$1" ;;
	esac
}

# py_run_wrk SCENARIO THREADS SERVER PORT SECONDS OUT: runs wrk against
# SERVER's worker (bench/lib.sh's wrk_exec), parses its output
# (wrk_results) and sets WRK_LOAD (wrk's own CPU, %), WRK_CPU_US (the
# worker's CPU time per request; 0 if it died in the run), WRK_ERRORS
# (socket errors), WRK_NON2XX and WRK_RSS (the worker's VmRSS after the
# run; "-" if it died in it).
py_run_wrk() {
	local scen=$1 t=$2 name=$3 port=$4 secs=$5 out=$6 pid
	check_worker "$name" "the time before $scen -t$t" || return 1
	pid=${WORK_PID[$name]}
	py_wrk_args "$scen" "$t" "$port" "$secs"
	wrk_exec "$port" "$out" "$pid"
	WRK_RSS=$(rss_kb "$pid" 2>/dev/null) || WRK_RSS=-
	check_worker "$name" "$scen -t$t" || true
	wrk_results "$out"
	WRK_ERRORS=$(awk '/Socket errors:/ { gsub(",", ""); n = $4 + $6 + $8 + $10 } END { print n + 0 }' "$out")
	WRK_NON2XX=$(awk '/Non-2xx/ { n = $NF } END { print n + 0 }' "$out")
}

phase_throughput() {
	local s r t scen i name port
	local -a order
	if want_pg; then pg_start; fi
	for s in $PY_SERVERS; do py_start "$s" "$(py_port 0 "$s")"; done
	check_answers
	check_pipelines
	for s in $PY_SERVERS; do
		((WARMUP)) || break
		log "warming up $s (${WARMUP}s)"
		py_run_wrk plaintext 1 "$s" "$(py_port 0 "$s")" "$WARMUP" \
			"$TMP/warmup-$s.txt" || true
	done
	printf 'scenario\tthreads\tround\tserver\trps\trequests\tp50_us\tp99_us\tcpu_us\tbytes\trss_kb\terrors\tnon2xx\twrk_cpu_pct\n' \
		>"$RAW/runs.tsv"
	read -ra order <<<"$PY_SERVERS"
	for ((r = 1; r <= ROUNDS; r++)); do
		for scen in $PY_SCENARIOS; do
			for t in $PY_THREADS; do
				for ((i = 0; i < ${#order[@]}; i++)); do
					name=${order[(i + r - 1) % ${#order[@]}]}
					[[ ${PATH_OK[$name,$(path_of "$scen")]:-} == 1 ]] || continue
					[[ $scen == pipelined && ${PIPE_OK[$name]} != 1 ]] && continue
					port=$(py_port 0 "$name")
					py_run_wrk "$scen" "$t" "$name" "$port" "$DURATION" \
						"$TMP/wrk-r$r-$scen-t$t-$name.txt" || continue
					printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
						"$scen" "$t" "$r" "$name" "$WRK_RPS" "$WRK_N" \
						"$WRK_P50" "$WRK_P99" "$WRK_CPU_US" "$WRK_BYTES" \
						"$WRK_RSS" "$WRK_ERRORS" \
						"$WRK_NON2XX" "$WRK_LOAD" >>"$RAW/runs.tsv"
					log "python: round $r/$ROUNDS, $scen -t$t, $name: $WRK_RPS req/s, p99 $WRK_P99 us, $WRK_ERRORS socket errors, $WRK_NON2XX non-2xx, wrk CPU $WRK_LOAD%"
				done
			done
		done
	done
	for s in $PY_SERVERS; do py_stop "$s"; done
	pg_stop
}

# alloc.tsv: server, wrk threads, requests, req/s, then the counters'
# differences over the window (malloc calloc realloc free memalign mmap
# munmap bytes, as bench/alloc_count prints them), then the worker's
# VmRSS after the window: a fresh worker that served only /plaintext, so
# without Flask (bench/wsgi_app.py imports it at the first /flask).
phase_alloc() {
	local s t port counts before after
	t=${PY_THREADS%% *}
	printf 'server\tthreads\trequests\trps\tmalloc\tcalloc\trealloc\tfree\taligned\tmmap\tmunmap\tbytes\trss_kb\n' \
		>"$RAW/alloc.tsv"
	for s in $PY_ALLOC_SERVERS; do
		[[ " $PY_SERVERS " == *" $s "* ]] || {
			log "alloc: $s is not measured (not in PY_SERVERS, or skipped)"
			continue
		}
		port=$(py_port 1 "$s")
		counts=$TMP/alloc-$s.counts
		rm -f "$counts"
		py_start "$s" "$port" "$counts"
		log "alloc: counting $s (worker pid ${WORK_PID[$s]})"
		if ((WARMUP)); then
			py_run_wrk plaintext "$t" "$s" "$port" "$WARMUP" \
				"$TMP/alloc-warmup-$s.txt" || true
		fi
		before=$("$B/bench/alloc_count" "$counts" "${WORK_PID[$s]}" | tail -n 1)
		if ! py_run_wrk plaintext "$t" "$s" "$port" "$DURATION" \
			"$TMP/alloc-t$t-$s.txt" || [[ ${WORK_PID[$s]} != "${before%% *}" ]]; then
			note "$s: no allocation count (its worker died)"
			py_stop "$s"
			continue
		fi
		after=$("$B/bench/alloc_count" "$counts" "${WORK_PID[$s]}" | tail -n 1)
		awk -v s="$s" -v t="$t" -v n="$WRK_N" -v rps="$WRK_RPS" \
			-v b="$before" -v a="$after" -v rss="$WRK_RSS" 'BEGIN {
			split(b, x, " "); split(a, y, " ")
			line = s "\t" t "\t" n "\t" rps
			for (i = 3; i <= 10; i++)
				line = line "\t" (y[i] - x[i])
			print line "\t" rss
		}' >>"$RAW/alloc.tsv"
		py_stop "$s"
	done
}

main() {
	check_tools
	ulimit -n 4096 2>/dev/null || true
	build
	trap py_cleanup EXIT
	trap 'exit 130' INT TERM
	TMP=$(mktemp -d /tmp/ringlet-pybench.XXXXXX)
	mkdir -p "$RAW"
	(cd "$RAW" && rm -f params.tsv skipped.tsv answers.tsv headers.tsv \
		pipeline.tsv runs.tsv alloc.tsv notes.txt commands.txt phases.tsv \
		versions.tsv)
	: >"$RAW/notes.txt"
	{
		printf 'servers\t%s\nphases\t%s\nscenarios\t%s\n' "$PY_SERVERS" \
			"$PY_PHASES" "$PY_SCENARIOS"
		printf 'duration\t%s\nrounds\t%s\nwarmup\t%s\nthreads\t%s\n' \
			"$DURATION" "$ROUNDS" "$WARMUP" "$PY_THREADS"
		printf 'pipeline\t%s\nalloc_servers\t%s\nuwsgi_socket\t%s\n' \
			"$PIPELINE" "$PY_ALLOC_SERVERS" "$UWSGI_SOCKET"
	} >"$RAW/params.tsv"
	: >"$RAW/skipped.tsv"
	for s in "${!SKIP[@]}"; do printf '%s\t%s\n' "$s" "${SKIP[$s]}" >>"$RAW/skipped.tsv"; done
	{
		printf 'python\t%s\n' "$("$PYTHON" -VV 2>&1 | head -n 1)"
		printf 'greenlet\t%s\n' "$("$PYTHON" -c 'import greenlet; print(greenlet.__version__)' 2>&1)"
		printf 'flask\t%s\n' "$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("flask"))' 2>&1)"
		! pymod gunicorn || printf 'gunicorn\t%s\n' "$("$PYTHON" -c 'import gunicorn; print(gunicorn.__version__)')"
		! pymod gevent || printf 'gevent\t%s\n' "$("$PYTHON" -c 'import gevent; print(gevent.__version__)')"
		if [[ -x $UWSGI ]]; then printf 'uwsgi\t%s\n' "$("$UWSGI" --version)"; fi
		if want_pg; then
			printf 'psycopg2\t%s\n' "$("$PYTHON" -c 'import psycopg2; print(psycopg2.__version__.split()[0])')"
			! pymod psycogreen || printf 'psycogreen\t%s\n' "$("$PYTHON" -c 'import psycogreen; print(psycogreen.__version__)')"
		fi
	} >"$RAW/versions.tsv"
	log "python: servers: $PY_SERVERS; phases: $PY_PHASES; results in $RAW; files in $TMP"
	local p t0
	for p in $PY_PHASES; do
		t0=$SECONDS
		case $p in
		throughput) phase_throughput ;;
		alloc) phase_alloc ;;
		esac
		printf '%s\t%s\n' "$p" $((SECONDS - t0)) >>"$RAW/phases.tsv"
		log "python $p: $((SECONDS - t0)) s"
	done
}

main "$@"
