#!/usr/bin/env bash
# bench/run.sh [full|quick]: the whole benchmark, what `make bench` (full)
# and `make bench-quick` (quick) run: builds ringlet and the benchmarks
# with optimisation, describes the machine, runs the micro-benchmarks
# (bench/{alloc,parse,respond,coro}), then ringlet against nginx, h2o
# and the calibration responder bench/ceiling (bench/server.sh), then the
# Python front against gunicorn and uWSGI (bench/python.sh), and writes
# bench/results/OUT.md with its charts (bench/report.sh). Raw results
# stay in bench/results/raw-OUT/ (the Python front's in raw-OUT/python/).
#
#   full   OUT=latest: 3 interleaved rounds of 4 s per scenario, 10,000
#          idle connections, a 5,000,000-request soak (about 8 minutes on
#          2 cores), instructions per request under callgrind and
#          syscalls per request (bench/instructions.sh, about 3 minutes),
#          then the Python front: every scenario with -t1 and -t2, heap
#          calls of every server (about 12 more minutes)
#   quick  OUT=quick: a sanity check of the harness in under two minutes:
#          one round of 1 s, no warm-up, 1,000 idle connections, a
#          200,000-request soak, no micro-benchmarks (built, not run);
#          ringlet's instructions on 2,000 and 12,000 requests, no
#          syscall counts; the Python front with -t1 only, heap calls of
#          ringlet's alone (about 45 s of it). Its timings mean nothing.
#
# Every variable bench/server.sh or bench/python.sh reads can be set to
# override the preset (e.g. DURATION=10 bench/run.sh); MICRO=0 skips the
# micro-benchmarks, INSTR=0 the instruction counts, PY=0 the Python
# front, OUT=name changes the report's
# name. Installs nothing: `make bench` runs `make deps` first.
set -euo pipefail
export LC_ALL=C

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODE=${1:-full}
case $MODE in
full)
	: "${OUT:=latest}" "${MICRO:=1}" "${PY:=1}" "${INSTR:=1}"
	INSTR_ENV=()
	;;
quick)
	: "${OUT:=quick}" "${MICRO:=0}" "${PY:=1}" "${INSTR:=1}" "${DURATION:=1}" "${ROUNDS:=1}" \
		"${WARMUP:=0}" "${IDLE_CONNS:=1000}" "${SOAK_REQUESTS:=200000}" \
		"${PY_THREADS:=1}" "${PY_ALLOC_SERVERS:=ringlet}"
	export DURATION ROUNDS WARMUP IDLE_CONNS SOAK_REQUESTS PY_THREADS \
		PY_ALLOC_SERVERS
	INSTR_ENV=(SERVERS=ringlet STREAMS=plaintext SYSCALLS=0 N1=2000 N2=12000)
	;;
*)
	echo "usage: bench/run.sh [full|quick]" >&2
	exit 2
	;;
esac
BUILD=${BUILD:-build}
export BUILD
case $BUILD in
/*) B=$BUILD ;;
*) B=$REPO/$BUILD ;;
esac
RESULTS=$REPO/bench/results
RAW=$RESULTS/raw-$OUT
export RAW

log() { printf '%s\n' "bench: $*" >&2; }

first_line() { "$@" 2>&1 | head -n 1 || true; }

# machine.tsv: what the figures depend on.
describe_machine() {
	local cpu cores tpc hyp mem distro
	cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
	cores=$(nproc)
	tpc=$(lscpu 2>/dev/null | sed -n 's/^Thread(s) per core: *//p' | head -n 1)
	hyp=$(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor: *//p' | head -n 1)
	mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	distro=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-}")
	{
		printf 'CPU\t%s, %s logical CPUs (%s thread(s) per core)%s\n' \
			"${cpu:-unknown}" "$cores" "${tpc:-?}" "${hyp:+, virtualised ($hyp)}"
		printf 'memory\t%s\n' "$mem"
		printf 'kernel\t%s\n' "$(uname -srm)"
		printf 'distribution\t%s\n' "${distro:-unknown}"
		printf 'compiler\t%s\n' "$(first_line "${CC:-cc}" --version)"
		printf 'ringlet\t%s, built -O2 (make FLAVOUR=release)\n' \
			"$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)"
		printf 'nginx\t%s\n' "$(first_line "${NGINX:-/usr/sbin/nginx}" -v | sed 's/^nginx version: //')"
		printf 'h2o\t%s\n' "$(first_line "${H2O:-/usr/bin/h2o}" --version)"
		printf 'wrk\t%s\n' "$(first_line "${WRK:-wrk}" -v | sed 's/ Copyright.*//')"
		printf 'gnuplot\t%s\n' "$(first_line gnuplot --version)"
		printf 'load average at the start\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
	} >"$RAW/machine.tsv"
}

micro() {
	local b
	: >"$RAW/micro.txt"
	for b in alloc parse respond coro; do
		log "micro-benchmark: $BUILD/bench/$b"
		{
			echo "\$ $BUILD/bench/$b"
			"$B/bench/$b"
			echo
		} >>"$RAW/micro.txt" 2>&1
	done
}

main() {
	local start end build_s micro_s=0 instr_s=0 python_s=0 t status cmd=${BENCH_COMMAND:-bench/run.sh $MODE}
	start=$(date +%s)
	mkdir -p "$RAW"
	rm -f "$RAW/micro.txt" "$RAW/run.tsv" "$RAW/machine.tsv"
	log "building (make server bench-bins python BUILD=$BUILD)"
	make -s -C "$REPO" server bench-bins python FLAVOUR=release BUILD="$BUILD" >&2
	build_s=$(($(date +%s) - start))
	describe_machine
	if ((MICRO)); then
		t=$(date +%s)
		micro
		micro_s=$(($(date +%s) - t))
	fi
	"$REPO/bench/server.sh"
	rm -rf "$RAW/instructions"
	if ((INSTR)); then
		t=$(date +%s)
		env "${INSTR_ENV[@]}" RAW="$RAW/instructions" \
			"$REPO/bench/instructions.sh" ||
			printf 'bench/instructions.sh failed (status %s)\n' "$?" \
				>>"$RAW/notes.txt"
		instr_s=$(($(date +%s) - t))
	fi
	rm -rf "$RAW/python"
	if ((PY)); then
		t=$(date +%s)
		# The Python front's figures are a section of the report: if its
		# script fails, the report is still written, with what it measured.
		status=0
		"$REPO/bench/python.sh" || status=$?
		if ((status)); then
			log "bench/python.sh failed (status $status)"
			printf 'bench/python.sh failed (status %s): section 8 has what it measured before\n' \
				"$status" >>"$RAW/notes.txt"
		fi
		python_s=$(($(date +%s) - t))
	fi
	end=$(date +%s)
	{
		printf 'command\t%s\n' "$cmd"
		printf 'started\t%s\n' "$(date -u -d "@$start" '+%Y-%m-%d %H:%M UTC')"
		printf 'wall_seconds\t%s\n' "$((end - start))"
		printf 'build_seconds\t%s\n' "$build_s"
		printf 'micro_seconds\t%s\n' "$micro_s"
		printf 'instructions_seconds\t%s\n' "$instr_s"
		printf 'python_seconds\t%s\n' "$python_s"
	} >"$RAW/run.tsv"
	printf 'load average at the end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" \
		>>"$RAW/machine.tsv"
	"$REPO/bench/report.sh" "$RAW" "$RESULTS/$OUT"
	log "done in $((end - start)) s: bench/results/$OUT.md"
}

main "$@"
