#!/usr/bin/env bash
# bench/report.sh RAW OUT: turns the raw results of one run (RAW, written
# by bench/run.sh, bench/server.sh and bench/python.sh) into OUT.md, a
# markdown report (summary, machine, method, a table per scenario with
# ratios to nginx, h2o and the calibration responder bench/ceiling (not
# for static files: it has none), idle memory and allocator calls (without
# the ceiling), soak, the Python front against gunicorn and uWSGI,
# micro-benchmarks, notes, the exact commands), and PNG charts beside it
# drawn with gnuplot: throughput per scenario as grouped bars, and RSS
# over the soak as a line. The charts are OUT-throughput.png and
# OUT-soak.png, or throughput.png and soak.png when OUT ends in "latest".
# Can be rerun on kept raw results.
#
# Input files (each optional except params.tsv): params.tsv, run.tsv,
# machine.tsv, plaintext.tsv, static.tsv, runs.tsv, idle.tsv, alloc.tsv,
# soak.tsv, soak.csv, micro.txt, notes.txt, commands.txt; python/ (from
# bench/python.sh): params.tsv, skipped.tsv, versions.tsv, answers.tsv,
# headers.tsv, pipeline.tsv, runs.tsv, alloc.tsv, notes.txt, commands.txt.
set -euo pipefail
export LC_ALL=C

[[ $# == 2 ]] || {
	echo "usage: bench/report.sh RAW_DIR OUT (e.g. bench/results/latest)" >&2
	exit 2
}
RAW=$1
OUT=$2
[[ -f $RAW/params.tsv ]] || {
	echo "report.sh: no $RAW/params.tsv: not a results directory" >&2
	exit 1
}
DIR=$(dirname "$OUT")
if [[ $(basename "$OUT") == latest ]]; then PREFIX=; else PREFIX="$(basename "$OUT")-"; fi
THROUGHPUT_PNG=${PREFIX}throughput.png
SOAK_PNG=${PREFIX}soak.png
WORK=$(mktemp -d /tmp/ringlet-report.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

param() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$RAW/params.tsv"; }
runval() { [[ -f $RAW/run.tsv ]] && awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$RAW/run.tsv"; }

SERVERS=$(param servers)
SCENARIOS=$(param scenarios)
THREADS=$(param threads)
PIPELINE=$(param pipeline)
ROUNDS=$(param rounds)
DURATION=$(param duration)
NFILES=$(param static_files | wc -w)
has() { [[ " $SERVERS " == *" $1 "* ]]; }
# The servers proper: the ceiling (bench/ceiling) is measured for
# throughput alone.
REAL_SERVERS=" $SERVERS "
REAL_SERVERS=${REAL_SERVERS// ceiling / }
# The machine's logical CPUs, as bench/run.sh recorded them (this
# machine's when it did not).
CORES=
[[ -f $RAW/machine.tsv ]] &&
	CORES=$(sed -n 's/^CPU\t.*, \([0-9]\+\) logical CPUs.*/\1/p' "$RAW/machine.tsv")
CORES=${CORES:-$(nproc)}
warmup_text() {
	if (($(param warmup))); then echo "after a $(param warmup) s wrk warm-up"; else echo "without warm-up"; fi
}

# Number formatting shared by the awk programs below.
AWK_LIB='
function commas(x,    s, r, sign) {
	s = sprintf("%.0f", x); r = ""; sign = ""
	if (substr(s, 1, 1) == "-") { sign = "-"; s = substr(s, 2) }
	while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
	return sign s r
}
function ratio(a, b) { return (b > 0 && a != "" && b != "") ? sprintf("%.2f", a / b) : "-" }
'

# medians.tsv: scenario threads server rps p50 p99 cpu bytes/req rounds
# wrk_cpu_pct, each the median over the rounds (an even count takes the
# mean of the two middle values); wrk_cpu_pct over the rounds that have
# it, empty in raw files from before it was recorded.
medians() {
	awk -F'\t' 'NR > 1 {
		k = $1 SUBSEP $2 SUBSEP $4
		if (!(k in n)) order[++nk] = k
		i = ++n[k]
		v[k, "rps", i] = $5; v[k, "p50", i] = $7; v[k, "p99", i] = $8
		v[k, "cpu", i] = $9; v[k, "bpr", i] = ($6 > 0 ? $10 / $6 : 0)
		if ($11 != "") v[k, "wrk", ++nw[k]] = $11
	}
	function med(k, m, c,    a, i, j, t) {
		for (i = 1; i <= c; i++) a[i] = v[k, m, i] + 0
		for (i = 2; i <= c; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
	}
	END {
		for (o = 1; o <= nk; o++) {
			k = order[o]; split(k, p, SUBSEP); c = n[k]
			printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p[1], p[2], p[3],
				med(k, "rps", c), med(k, "p50", c), med(k, "p99", c),
				med(k, "cpu", c), med(k, "bpr", c), c,
				(nw[k] ? med(k, "wrk", nw[k]) : "")
		}
	}' "$RAW/runs.tsv" >"$WORK/medians.tsv"
}

# m SCENARIO THREADS SERVER FIELD: one median (FIELD 4 rps .. 8 bytes/req,
# 10 wrk CPU %).
m() { awk -F'\t' -v s="$1" -v t="$2" -v n="$3" -v f="$4" \
	'$1 == s && $2 == t && $3 == n { print $f }' "$WORK/medians.tsv"; }

title_of() {
	case $1 in
	plaintext) echo "1. GET /plaintext (13 bytes), 64 connections" ;;
	pipelined) echo "2. GET /plaintext, 64 connections, pipelined $PIPELINE deep" ;;
	c256) echo "3. GET /plaintext, 256 connections" ;;
	static) echo "4. Static files: the $NFILES files of ../shared/data/static in rotation, 64 connections" ;;
	esac
}
short_of() {
	case $1 in
	plaintext) echo "plaintext, 64 conn" ;;
	pipelined) echo "pipelined x$PIPELINE, 64 conn" ;;
	c256) echo "plaintext, 256 conn" ;;
	static) echo "static files, 64 conn" ;;
	esac
}

# A markdown table's header and alignment rows: the first column left,
# the others right.
table_head() {
	local line="| $1 |" sep="| --- |" c
	shift
	for c in "$@"; do
		line+=" $c |"
		sep+=" ---: |"
	done
	printf '%s\n%s\n' "$line" "$sep"
}

# One scenario's table: a row per server measured in it, then ringlet's
# ratio to each of those peers, column by column.
scenario_table() {
	local scen=$1 s t f peer
	local -a cols=() row
	for t in $THREADS; do cols+=("req/s -t$t"); done
	for t in $THREADS; do cols+=("p50 µs -t$t" "p99 µs -t$t"); done
	for t in $THREADS; do cols+=("CPU µs/req -t$t"); done
	for t in $THREADS; do cols+=("wrk CPU % -t$t"); done
	table_head server "${cols[@]}"
	for s in $SERVERS ringlet/nginx ringlet/h2o ringlet/ceiling; do
		peer=${s#*/} # in a server's own row, that server
		[[ $s != */* ]] || { has ringlet && has "$peer"; } || continue
		[[ -n $(m "$scen" "${THREADS%% *}" "$peer" 4) ]] || continue
		row=("$s")
		for f in rps lat cpu wrk; do
			for t in $THREADS; do
				case $f in
				rps) row+=("$(cell "$scen" "$t" "$s" 4)") ;;
				lat) row+=("$(cell "$scen" "$t" "$s" 5)" "$(cell "$scen" "$t" "$s" 6)") ;;
				cpu) row+=("$(cell "$scen" "$t" "$s" 7)") ;;
				wrk) row+=("$(cell "$scen" "$t" "$s" 10)") ;;
				esac
			done
		done
		printf '| %s |\n' "$(printf '%s | ' "${row[@]}" | sed 's/ | $//')"
	done
}

# cell SCENARIO THREADS SERVER|ringlet/PEER FIELD: formatted; wrk's CPU
# (FIELD 10) has no ratio (empty) and is "-" where not recorded.
cell() {
	local a b
	if [[ $3 == */* ]]; then
		[[ $4 == 10 ]] && return
		a=$(m "$1" "$2" ringlet "$4")
		b=$(m "$1" "$2" "${3#*/}" "$4")
		awk -v a="$a" -v b="$b" "$AWK_LIB"'BEGIN { print ratio(a, b) }'
		return
	fi
	a=$(m "$1" "$2" "$3" "$4")
	[[ -n $a ]] || {
		echo "-"
		return
	}
	case $4 in
	4 | 5 | 6) awk -v a="$a" "$AWK_LIB"'BEGIN { print commas(a) }' ;;
	7) printf '%.2f\n' "$a" ;;
	10) printf '%.0f\n' "$a" ;;
	esac
}

summary_table() {
	local scen t peer line
	local -a cols=()
	for t in $THREADS; do
		cols+=("ringlet req/s -t$t")
		for peer in nginx h2o ceiling; do has "$peer" && cols+=("÷ $peer"); done
	done
	table_head scenario "${cols[@]}"
	for scen in $SCENARIOS; do
		line="| $(short_of "$scen") |"
		for t in $THREADS; do
			line+=" $(cell "$scen" "$t" ringlet 4) |"
			for peer in nginx h2o ceiling; do
				has "$peer" && line+=" $(cell "$scen" "$t" "ringlet/$peer" 4) |"
			done
		done
		echo "$line"
	done
}

# Idle memory and heap calls side by side, with ringlet's ratios.
summary_memory() {
	local s peer
	local -a cols=()
	for s in $REAL_SERVERS; do cols+=("$s"); done
	for peer in nginx h2o; do has ringlet && has "$peer" && cols+=("ringlet/$peer"); done
	table_head figure "${cols[@]}"
	awk -F'\t' -v servers="$REAL_SERVERS" -v idle="$RAW/idle.tsv" -v alloc="$RAW/alloc.tsv" \
		-v conns="$(param idle_conns)" -v t1="${THREADS%% *}" "$AWK_LIB"'
	function row(label, key, fmt,    line, i, s) {
		line = "| " label " |"
		for (i = 1; i <= ns; i++) {
			s = sv[i]
			line = line " " (((s, key) in v) ? (fmt == "," ? commas(v[s, key]) : sprintf(fmt, v[s, key])) : "-") " |"
		}
		if (has["ringlet"]) for (i = 1; i <= 2; i++) {
			s = i == 1 ? "nginx" : "h2o"
			if (!has[s]) continue
			line = line " " ((((s, key) in v) && v[s, key] > 0) ? ratio(v["ringlet", key], v[s, key]) : "-") " |"
		}
		print line
	}
	BEGIN {
		ns = split(servers, sv, " ")
		for (i = 1; i <= ns; i++) has[sv[i]] = 1
		while ((getline l < idle) > 0) {
			split(l, f, "\t"); n = split(f[3], kv, " ")
			for (i = 1; i <= n; i++) { split(kv[i], p, "="); if (p[1] == "rss_per_conn") v[f[1], "idle_" f[2]] = p[2] }
		}
		while ((getline l < alloc) > 0) {
			split(l, f, "\t")
			if (f[2] != t1 || f[3] + 0 == 0) continue
			v[f[1], "heap"] = (f[5] + f[6] + f[7] + f[8] + f[9] + f[10] + f[11]) / f[3]
		}
		row("idle connection, B (Rss), cold; " commas(conns) " held", "idle_cold", ",")
		row("idle connection, B (Rss), warm", "idle_warm", ",")
		row("heap calls per request (-t" t1 ")", "heap", "%.3f")
	}' </dev/null
}

# --- idle, alloc, soak ---------------------------------------------------

idle_table() {
	table_head server run "B/conn (Rss)" "B/conn (Pss)" "Rss before → after (kB)" \
		opened "answered again" "fresh request"
	awk -F'\t' "$AWK_LIB"'{
		delete v; n = split($3, kv, " ")
		for (i = 1; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
		printf "| %s | %s | %s | %s | %s → %s | %s in %s ms | %s | %s |\n", $1, $2,
			commas(v["rss_per_conn"]), commas(v["pss_per_conn"]),
			commas(v["rss_before_kb"]), commas(v["rss_after_kb"]),
			commas(v["opened"]), v["open_ms"], commas(v["held"]), v["fresh"]
	}' "$RAW/idle.tsv"
	has ringlet || return 0
	echo
	table_head "B/conn (Rss), ratio" cold warm
	awk -F'\t' "$AWK_LIB"'{
		n = split($3, kv, " ")
		for (i = 1; i <= n; i++) { split(kv[i], p, "="); if (p[1] == "rss_per_conn") rss[$1, $2] = p[2] }
	}
	END {
		for (pi = 1; pi <= 2; pi++) {
			peer = pi == 1 ? "nginx" : "h2o"
			if (!((peer, "cold") in rss)) continue
			printf "| ringlet/%s | %s | %s |\n", peer,
				ratio(rss["ringlet", "cold"], rss[peer, "cold"]),
				ratio(rss["ringlet", "warm"], rss[peer, "warm"])
		}
	}' "$RAW/idle.tsv"
}

alloc_table() {
	table_head server wrk requests malloc calloc realloc free aligned mmap \
		munmap "heap calls" "bytes asked"
	awk -F'\t' "$AWK_LIB"'NR > 1 {
		n = $3
		line = sprintf("| %s | -t%s | %s |", $1, $2, commas(n))
		for (i = 5; i <= 11; i++) line = line sprintf(" %.3f |", $i / n)
		calls = $5 + $6 + $7 + $8 + $9 + $10 + $11
		printf "%s **%.3f** | %s |\n", line, calls / n, commas($12 / n)
	}' "$RAW/alloc.tsv"
}

soak_kv() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$RAW/soak.tsv"; }

# Sets SOAK_* from soak.csv: RSS at the start, at the end of the first
# fifth of the requests (the first million of five; by time when /stats
# gave no counts), at the end, and the largest.
soak_figures() {
	local target
	target=$(soak_kv target)
	read -r SOAK_RSS0 SOAK_MARK SOAK_RSS1 SOAK_RSSN SOAK_RSSMAX SOAK_SECS SOAK_BY < <(
		awk -F, -v target="$target" 'NR > 1 {
			i = ++n; t[i] = $1; r[i] = $2; k[i] = $3
			if ($2 == "") bytime = 1
			if ($3 > max) max = $3
		}
		END {
			mark = target / 5; at = n
			for (i = 1; i <= n; i++) {
				if (bytime ? t[i] >= t[n] / 5 : r[i] >= mark) { at = i; break }
			}
			print k[1], (bytime ? t[at] "s" : r[at]), k[at], k[n], max, t[n],
				(bytime ? "time" : "requests")
		}' "$RAW/soak.csv")
}

soak_section() {
	soak_figures
	local depth target n
	depth=$(soak_kv depth)
	target=$(soak_kv target)
	n=$(soak_kv requests)
	echo "$(soak_kv requests | awk "$AWK_LIB"'{ print commas($1) }') requests (target" \
		"$(awk -v x="$target" "$AWK_LIB"'BEGIN { print commas(x) }')) against ringlet alone," \
		"wrk -t$(soak_kv threads) -c$(soak_kv connections)," \
		"$(if ((depth > 1)); then echo "pipelined $depth deep"; else echo "not pipelined"; fi)," \
		"on a fresh worker; its VmRSS sampled every second against the request count" \
		"its \`/stats\` reports (\`$(basename "$RAW")/soak.csv\`). \`bench/soak.lua\` counts" \
		"the requests it sends in Lua, which slows wrk down: these req/s are not" \
		"comparable with scenario 1's."
	echo
	table_head figure value
	awk -F'\t' -v n="$n" -v r0="$SOAK_RSS0" -v mark="$SOAK_MARK" -v r1="$SOAK_RSS1" \
		-v rn="$SOAK_RSSN" -v rmax="$SOAK_RSSMAX" -v secs="$SOAK_SECS" \
		-v by="$SOAK_BY" -v depth="$depth" \
		-v rps="$(soak_kv rps)" -v p50="$(soak_kv p50_us)" -v p99="$(soak_kv p99_us)" \
		-v cpu="$(soak_kv cpu_us)" "$AWK_LIB"'BEGIN {
		printf "| duration | %.0f s |\n", secs
		printf "| req/s | %s |\n", commas(rps)
		if (depth == 1) printf "| p50 / p99 latency | %s / %s µs |\n", commas(p50), commas(p99)
		printf "| CPU per request (worker) | %.2f µs |\n", cpu
		printf "| RSS before the first request | %s kB |\n", commas(r0)
		printf "| RSS at the end of the first fifth (%s %s) | %s kB |\n",
			(by == "time" ? mark : commas(mark)), (by == "time" ? "" : "requests"), commas(r1)
		printf "| RSS at the end | %s kB |\n", commas(rn)
		printf "| largest RSS sampled | %s kB |\n", commas(rmax)
		d = rn - r1
		printf "| **growth, end of first fifth → end** | **%s%s kB** (%s B per 1,000 requests) |\n",
			(d > 0 ? "+" : ""), commas(d),
			(n > 0 ? sprintf("%.2f", d * 1024 / (n * 0.8 / 1000)) : "-")
	}'
}

# --- charts --------------------------------------------------------------

charts() {
	command -v gnuplot >/dev/null || {
		echo "report.sh: gnuplot not found (apt-get install gnuplot-nox): no charts" >&2
		return 0
	}
	local scen t s i=0 nscen plot=
	nscen=$(wc -w <<<"$SCENARIOS")
	for scen in $SCENARIOS; do
		i=$((i + 1))
		{
			for t in $THREADS; do
				printf -- '-t%s' "$t"
				for s in $SERVERS; do
					printf '\t%s' "$(awk -v v="$(m "$scen" "$t" "$s" 4)" \
						'BEGIN { print v / 1000 }')"
				done
				printf '\n'
			done
		} >"$WORK/chart-$i.dat"
		# A group of bars per wrk thread count, a bar per server (boxes
		# of width W side by side around the group's x), its value above;
		# none for a server not measured (the ceiling's static files).
		local -a names
		local nsrv c x using=
		read -ra names <<<"$SERVERS"
		nsrv=${#names[@]}
		for ((c = 2; c <= nsrv + 1; c++)); do
			[[ -n $(m "$scen" "${THREADS%% *}" "${names[c - 2]}" 4) ]] || continue
			x="(\$0 + ($c - 2 - ($nsrv - 1) / 2.0) * W)"
			using+="'$WORK/chart-$i.dat' using $x:$c with boxes lt $((c - 1)) title '${names[c - 2]}', "
			using+="'' using $x:$c:(sprintf('%.0f', \$$c)) with labels offset 0,0.6 font ',8' notitle, "
		done
		plot+="set title '$(short_of "$scen")'; plot ${using%, }
"
	done
	local rows=$(((nscen + 1) / 2)) colsn=2 xtics='' x=0
	((nscen == 1)) && colsn=1
	for t in $THREADS; do
		xtics+="${xtics:+, }'-t$t' $x"
		x=$((x + 1))
	done
	gnuplot <<EOF
set terminal pngcairo size $((colsn * 460)),$((rows * 300)) font 'sans,9'
set output '$DIR/$THROUGHPUT_PNG'
set multiplot layout $rows,$colsn title 'Throughput, thousand req/s (median of $ROUNDS x ${DURATION}s; one worker each)'
W = 0.8 / $(wc -w <<<"$SERVERS")
set style fill solid 0.85 border -1
set boxwidth W absolute
set xrange [-0.6:$(($(wc -w <<<"$THREADS") - 1)).6]
set xtics ($xtics)
set yrange [0:*]
set offsets 0, 0, graph 0.18, 0
set grid ytics
set key top left horizontal font ',8'
set linetype 1 lc rgb '#d95f02'
set linetype 2 lc rgb '#1b9e77'
set linetype 3 lc rgb '#7570b3'
set linetype 4 lc rgb '#999999'
$plot
unset multiplot
EOF
	[[ -s $RAW/soak.csv ]] || return 0
	# shellcheck disable=SC2016 # gnuplot's $2, not the shell's
	local xcol='($2 / 1e6)' xlabel='requests served (millions, from /stats)'
	[[ $SOAK_BY == time ]] && xcol='1' xlabel='seconds'
	gnuplot <<EOF
set terminal pngcairo size 700,320 font 'sans,9'
set output '$DIR/$SOAK_PNG'
set datafile separator ','
set title 'ringlet worker RSS during the soak (one sample a second)'
set xlabel '$xlabel'
set ylabel 'RSS (MiB)'
set grid
set yrange [0:*]
set key off
plot '$RAW/soak.csv' every ::1 using $xcol:(\$3 / 1024) with linespoints lw 2 pt 7 ps 0.5 lc rgb '#d95f02'
EOF
}

# --- the Python front (bench/python.sh) ----------------------------------

PY=$RAW/python
pyparam() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$PY/params.tsv"; }
PY_SERVERS=
[[ -f $PY/params.tsv ]] && PY_SERVERS=$(pyparam servers)
py_peers() {
	local s
	for s in $PY_SERVERS; do [[ $s == ringlet ]] || echo "$s"; done
}

# py-medians.tsv: scenario threads server rps p99 cpu rounds p50
# wrk_cpu_pct, medians over the rounds (wrk_cpu_pct over those that have
# it, empty in raw files from before it was recorded); py-scen.tsv: scenario server largest_rss_kb
# socket_errors non2xx runs, over all of the scenario's runs.
py_medians() {
	awk -F'\t' -v med="$WORK/py-medians.tsv" -v scen="$WORK/py-scen.tsv" 'NR > 1 {
		k = $1 SUBSEP $2 SUBSEP $4
		if (!(k in n)) order[++nk] = k
		i = ++n[k]
		v[k, "rps", i] = $5; v[k, "p99", i] = $8; v[k, "cpu", i] = $9
		v[k, "p50", i] = $7
		if ($14 != "") v[k, "wrk", ++nw[k]] = $14
		q = $1 SUBSEP $4
		if (!(q in runs)) qorder[++nq] = q
		runs[q]++
		if ($11 != "-" && $11 + 0 > rss[q]) rss[q] = $11 + 0
		errs[q] += $12; non2xx[q] += $13
	}
	function m(k, f, c,    a, i, j, t) {
		if (c == "") c = n[k]
		for (i = 1; i <= c; i++) a[i] = v[k, f, i] + 0
		for (i = 2; i <= c; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
	}
	END {
		for (o = 1; o <= nk; o++) {
			k = order[o]; split(k, p, SUBSEP)
			printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p[1], p[2], p[3],
				m(k, "rps"), m(k, "p99"), m(k, "cpu"), n[k], m(k, "p50"),
				(nw[k] ? m(k, "wrk", nw[k]) : "") > med
		}
		for (o = 1; o <= nq; o++) {
			q = qorder[o]; split(q, p, SUBSEP)
			printf "%s\t%s\t%s\t%s\t%s\t%s\n", p[1], p[2],
				(q in rss ? rss[q] : ""), errs[q], non2xx[q], runs[q] > scen
		}
	}' "$PY/runs.tsv"
	touch "$WORK/py-medians.tsv" "$WORK/py-scen.tsv"
}

# pm SCENARIO THREADS SERVER FIELD: a median (4 rps, 5 p99, 6 cpu, 8 p50,
# 9 wrk CPU %);
# pq SCENARIO SERVER FIELD: 3 largest RSS, 4 socket errors, 5 non-2xx,
# 6 runs.
pm() { awk -F'\t' -v s="$1" -v t="$2" -v n="$3" -v f="$4" \
	'$1 == s && $2 == t && $3 == n { print $f }' "$WORK/py-medians.tsv"; }
pq() { awk -F'\t' -v s="$1" -v n="$2" -v f="$3" \
	'$1 == s && $2 == n { print $f }' "$WORK/py-scen.tsv"; }

py_title() {
	case $1 in
	plaintext) echo "GET /plaintext (13 bytes), 64 connections" ;;
	json) echo "GET /json (json.dumps of one key), 64 connections" ;;
	flask) echo "GET /flask (Flask's hello world), 64 connections" ;;
	sleep) echo "GET /sleep (a 10 ms cooperative sleep), 256 connections" ;;
	pg) echo "GET /pg (SELECT pg_sleep(0.05) on PostgreSQL), 100 connections" ;;
	pipelined) echo "GET /plaintext, 64 connections, pipelined $(pyparam pipeline) deep" ;;
	esac
}

# py_cell VALUE KIND: formatted: n with commas, cpu with two decimals,
# mib (from kB) with one, pct with none; "-" when there is no value.
py_cell() {
	[[ -n $1 ]] || {
		echo "-"
		return
	}
	case $2 in
	n) awk -v a="$1" "$AWK_LIB"'BEGIN { print commas(a) }' ;;
	cpu) printf '%.2f\n' "$1" ;;
	mib) awk -v a="$1" 'BEGIN { printf "%.1f\n", a / 1024 }' ;;
	pct) printf '%.0f\n' "$1" ;;
	esac
}
py_ratio() { awk -v a="$1" -v b="$2" "$AWK_LIB"'BEGIN { print ratio(a, b) }'; }
py_row() { printf '| %s |\n' "$(printf '%s | ' "$@" | sed 's/ | $//')"; }

# One scenario's table: a row per server that ran it, then ringlet ÷ each
# peer that did. pg's has p50 too: there the median is the wait itself.
py_scenario_table() {
	local scen=$1 s t f peer threads kind fields=4
	local -a cols=() row
	threads=$(pyparam threads)
	for t in $threads; do cols+=("req/s -t$t"); done
	if [[ $scen == pg ]]; then
		fields+=" 8"
		for t in $threads; do cols+=("p50 µs -t$t"); done
	fi
	fields+=" 5 6"
	for t in $threads; do cols+=("p99 µs -t$t"); done
	for t in $threads; do cols+=("CPU µs/req -t$t"); done
	fields+=" 9"
	for t in $threads; do cols+=("wrk CPU % -t$t"); done
	cols+=("RSS MiB" "socket errors" "non-2xx")
	table_head server "${cols[@]}"
	for s in $PY_SERVERS; do
		[[ -n $(pq "$scen" "$s" 6) ]] || continue
		row=("$s")
		for f in $fields; do
			for t in $threads; do
				case $f in
				6) kind=cpu ;;
				9) kind=pct ;;
				*) kind=n ;;
				esac
				row+=("$(py_cell "$(pm "$scen" "$t" "$s" "$f")" "$kind")")
			done
		done
		row+=("$(py_cell "$(pq "$scen" "$s" 3)" mib)")
		row+=("$(py_cell "$(pq "$scen" "$s" 4)" n)" "$(py_cell "$(pq "$scen" "$s" 5)" n)")
		py_row "${row[@]}"
	done
	[[ -n $(pq "$scen" ringlet 6) ]] || return 0
	for peer in $(py_peers); do
		[[ -n $(pq "$scen" "$peer" 6) ]] || continue
		row=("ringlet ÷ $peer")
		for f in $fields; do
			for t in $threads; do
				# wrk's CPU is the client's: no ratio.
				if [[ $f == 9 ]]; then
					row+=("")
					continue
				fi
				row+=("$(py_ratio "$(pm "$scen" "$t" ringlet "$f")" "$(pm "$scen" "$t" "$peer" "$f")")")
			done
		done
		row+=("$(py_ratio "$(pq "$scen" ringlet 3)" "$(pq "$scen" "$peer" 3)")" "" "")
		py_row "${row[@]}"
	done
}

# ringlet's req/s per scenario (with the first thread count) and its
# ratio to each peer.
py_summary_table() {
	local scen t peer line
	local -a cols
	t=$(pyparam threads)
	t=${t%% *}
	cols=("ringlet req/s -t$t")
	for peer in $(py_peers); do cols+=("÷ $peer"); done
	table_head scenario "${cols[@]}"
	for scen in $(pyparam scenarios); do
		line="| $scen | $(py_cell "$(pm "$scen" "$t" ringlet 4)" n) |"
		for peer in $(py_peers); do
			if [[ -n $(pm "$scen" "$t" "$peer" 4) ]]; then
				line+=" $(py_ratio "$(pm "$scen" "$t" ringlet 4)" "$(pm "$scen" "$t" "$peer" 4)") |"
			else
				line+=" not run |"
			fi
		done
		echo "$line"
	done
}

# /sleep's and /pg's cells are their time in ms when right; /pg's column
# is there when some server was asked it (a run with pg).
py_checks_table() {
	local -a cols=(/plaintext /json /flask "/sleep (ms)")
	local pg=0
	if awk -F'\t' '$2 == "/pg" { f = 1 } END { exit !f }' "$PY/answers.tsv"; then
		pg=1
		cols+=("/pg (ms)")
	fi
	table_head server "${cols[@]}" "16 pipelined" \
		"/plaintext bytes (head + body)" "header fields"
	awk -F'\t' -v pg="$pg" '
	function waited(s, path) {
		if (!((s, path) in a)) return "not asked"
		return a[s, path] == "ok" ? sprintf("%.1f", t[s, path] * 1000) : a[s, path]
	}
	FILENAME ~ /answers/ {
		if (FNR == 1) next
		a[$1, $2] = ($7 == 1 ? "ok" : $3 " " $4)
		t[$1, $2] = $6
		if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
		next
	}
	FILENAME ~ /pipeline/ { if (FNR > 1) p[$1] = $3; next }
	FILENAME ~ /headers/ { if (FNR > 1) { hb[$1] = $2; hn[$1] = $3 } }
	END {
		for (i = 1; i <= n; i++) {
			s = order[i]
			printf "| %s | %s | %s | %s | %s |%s %s | %s | %s |\n", s,
				a[s, "/plaintext"], a[s, "/json"], a[s, "/flask"],
				waited(s, "/sleep"), (pg ? " " waited(s, "/pg") " |" : ""),
				(s in p ? p[s] : "-"), hb[s], hn[s]
		}
	}' "$PY/answers.tsv" "$PY/pipeline.tsv" "$PY/headers.tsv"
}

py_alloc_table() {
	table_head server wrk requests malloc calloc realloc free aligned mmap \
		munmap "heap calls" "bytes asked" "worker RSS after"
	awk -F'\t' "$AWK_LIB"'NR > 1 && $3 > 0 {
		n = $3
		line = sprintf("| %s | -t%s | %s |", $1, $2, commas(n))
		for (i = 5; i <= 11; i++) line = line sprintf(" %.3f |", $i / n)
		calls = $5 + $6 + $7 + $8 + $9 + $10 + $11
		rss = $13 ~ /^[0-9]+$/ ? sprintf("%.1f MiB", $13 / 1024) : "-"
		printf "%s **%.3f** | %s | %s |\n", line, calls / n,
			commas($12 / n), rss
	}' "$PY/alloc.tsv"
	awk -F'\t' 'NR > 1 && $3 > 0 { c[$1] = ($5 + $6 + $7 + $8 + $9 + $10 + $11) / $3; o[++n] = $1 }
	END {
		if (!("ringlet" in c)) exit
		for (i = 1; i <= n; i++) if (o[i] != "ringlet") {
			r = c[o[i]] > 0 ? sprintf("%.2f", c["ringlet"] / c[o[i]]) : "-"
			line = line (line == "" ? "" : ", ") "÷ " o[i] " " r
		}
		if (line != "") print "\nringlet'"'"'s heap calls per request " line "."
	}' "$PY/alloc.tsv"
}

py_section() {
	local scen why
	echo "## 8. The Python front: ringlet against gunicorn and uWSGI"
	echo
	cat <<EOF
\`bench/python.sh\`: one WSGI application, \`bench/wsgi_app.py\`, served
unchanged by each server with one worker, on Debian's \`/usr/bin/python3\`:
ringlet's Python front (\`python3 -m ringlet -w 1\`, a greenlet per
request), gunicorn's \`sync\` and \`gevent\` workers, uWSGI (\`--master
--processes 1\`, \`--$(pyparam uwsgi_socket)\`) without and with its gevent
loop (\`--gevent 1000\`). /sleep waits 10 ms with \`ringlet.sleep\`,
\`gevent.sleep\` or, in the sync workers, \`time.sleep\`; /pg 50 ms on
PostgreSQL through psycopg2, with ringlet's wait callback
(\`ringlet.patch()\`), psycogreen's under gevent, none in the sync
workers. Each scenario runs with wrk $(pyparam threads | sed 's/\([0-9]\+\)/-t\1/g'), $(pyparam rounds) round(s) of $(pyparam duration) s per server, the servers
interleaved (their order rotates each round), $(if (($(pyparam warmup))); then echo "after a $(pyparam warmup) s warm-up"; else echo "without warm-up"; fi);
req/s, latency (p50, p99) and CPU per request are medians over the rounds. The
measured process is the worker (the master's child): CPU from
\`/proc/PID/stat\`; RSS its VmRSS read after each run, the largest of the
scenario's runs (it carries what earlier scenarios grew). Errors are
wrk's socket errors (connect, read, write, timeout) and non-2xx answers,
summed over the scenario's runs. wrk CPU % is wrk's own user + system
time over the run's wall time, the median over the rounds (100: one core
busy for the whole run; \`-t2\` can reach 200); where it nears 100 ×
wrk's threads, or wrk's plus the worker's CPU (CPU µs/req × req/s ÷
10,000) nears the machine's $CORES cores ($((CORES * 100))%), the
client bounds the figure, not the server. Ratio rows: ringlet's figure ÷ the
peer's; above 1 is better for req/s, below 1 for latency, CPU and RSS
(none for wrk CPU %, the client's).
EOF
	echo
	if [[ -s $PY/versions.tsv ]]; then
		awk -F'\t' '{ printf "%s%s %s", (NR > 1 ? ", " : "Versions: "), $1, $2 } END { print "." }' \
			"$PY/versions.tsv"
		echo
	fi
	if [[ -s $PY/skipped.tsv ]]; then
		awk -F'\t' '{ printf "- **%s skipped**: %s\n", $1, $2 }' "$PY/skipped.tsv"
		echo
	fi
	if [[ " $PY_SERVERS " == *" gunicorn-sync "* || " $PY_SERVERS " == *" uwsgi "* ]]; then
		cat <<EOF
Reading the figures: gunicorn's sync worker and uWSGI without gevent
serve one request at a time; gunicorn's closes the connection after each
answer (\`Connection: close\`). Under /sleep they serve at most 100 req/s,
under /pg at most 20, with the other connections queued: p99 is then
bounded by the run's length (or wrk's 2 s timeout), not a latency either
would show at a lower load.

EOF
	fi
	if [[ $(pyparam uwsgi_socket) == http-socket && " $PY_SERVERS " == *" uwsgi"* ]]; then
		cat <<EOF
uWSGI's \`--http-socket\` closes the connection after each answer
without saying so (no \`Connection: close\`): wrk counts a read error
for each request, then reconnects, so uWSGI's socket errors here are
about one per request and mean closed keep-alive connections, not
failures. (\`UWSGI_SOCKET=http11-socket\` selects its keep-alive socket;
in a check here, uWSGI 2.0.21's under gevent left the second request on
a connection unanswered.)

EOF
	fi
	if [[ -s $PY/runs.tsv ]]; then
		echo "ringlet's median throughput and its ratio to each peer (above 1: ringlet serves more):"
		echo
		py_summary_table
		echo
	fi
	if [[ -s $PY/answers.tsv ]]; then
		cat <<EOF
Checked before timing: each path once (status, body, Content-Type;
/sleep's and /pg's time), then 16 requests pipelined in one write on a
raw socket, /sleep among them, each answer read in turn against the path
asked. A server failing a check is left out of that scenario.
EOF
		echo
		py_checks_table
		echo
	fi
	if [[ -s $PY/runs.tsv ]]; then
		for scen in $(pyparam scenarios); do
			echo "### $(py_title "$scen")"
			echo
			if [[ $scen == pipelined ]]; then
				echo "p99 here is per batch of $(pyparam pipeline) requests (bench/pipeline.lua)."
				echo
			fi
			if [[ $scen == pg ]]; then
				cat <<EOF
Each request waits 50 ms on PostgreSQL (\`SELECT pg_sleep(0.05)\`
through psycopg2, on a connection the application keeps in its list of
idle ones), with one worker: a worker that blocks while it waits serves
one request at a time and tops out at ~20 req/s (1 / 50 ms) whatever its
CPU, the other connections queued; one that waits cooperatively has the
100 connections' queries in flight at once, at most 2,000 req/s
(100 / 50 ms), with p50 near 50 ms. PostgreSQL, a throwaway cluster
(\`tests/python/services.py postgres\`) of 300 connections, closes a
session idle for 1 s (\`idle_session_timeout\`) so that the five
servers' connections fit in it: each run opens its own anew, which its
first requests' latency carries.
EOF
				echo
			fi
			if [[ -z $(awk -F'\t' -v s="$scen" '$1 == s' "$WORK/py-scen.tsv") ]]; then
				why=$(awk -F'\t' -v k="scenario $scen" '$1 == k { print $2 }' "$PY/skipped.tsv" 2>/dev/null || true)
				echo "Not run: ${why:-no server passed its check.}"
			else
				py_scenario_table "$scen"
			fi
			echo
		done
	fi
	if [[ -s $PY/alloc.tsv ]] && (($(wc -l <"$PY/alloc.tsv") > 1)); then
		echo "### Heap calls per request"
		echo
		cat <<EOF
Each worker under \`LD_PRELOAD=bench/alloc_count.so\`, the C server's
shim: it applies to the Python processes as to any dynamically linked
program, and the worker inherits it through the master's fork.
$(if (($(pyparam warmup))); then echo "After a $(pyparam warmup) s warm-up, the"; else echo "The"; fi) calls made during a $(pyparam duration) s run of
\`/plaintext\` (64 connections), divided by the requests wrk completed.
In CPython it sees calls to the C heap only: objects up to 512 bytes
come from CPython's own allocator (pymalloc), carved from 256 KiB arenas
it maps itself (an arena coming or going is one mmap or munmap); larger
blocks (a dict's table past a few keys, a long string or list) go to
malloc, as do C extensions' own allocations. The worker's VmRSS is read
after the run: a fresh worker that served \`/plaintext\` alone, so the
server's and the interpreter's memory without Flask's (imported at the
first \`/flask\`); the counting shim adds a few hundred KiB to each.
EOF
		echo
		py_alloc_table
		echo
	fi
	echo "### Python notes"
	echo
	if [[ -s $PY/notes.txt ]]; then
		sed 's/^/- /' "$PY/notes.txt"
	else
		echo "- none: no socket errors, no non-2xx answers, every check passed."
	fi
	echo
	if [[ -s $PY/commands.txt ]]; then
		echo "### Python commands"
		echo
		if grep -q WSGI_APP_PG_DSN "$PY/commands.txt"; then
			echo "Each server ran in its own directory under \$TMP (\$PORT: its port); from the repository root the commands run as they are, WSGI_APP_PG_DSN with the DSN the first one printed (its port changes from run to run)."
		else
			echo "Each server ran in its own directory under \$TMP (\$PORT: its port); from the repository root the commands run as they are."
		fi
		echo
		echo '```'
		cat "$PY/commands.txt"
		echo '```'
		echo
	fi
}

# --- the report ----------------------------------------------------------

report() {
	local scen t started wall cmd
	started=$(runval started || true)
	wall=$(runval wall_seconds || true)
	cmd=$(runval command || true)
	echo "# ringlet against nginx and h2o"
	echo
	printf "Written by \`%s\` (bench/run.sh)" "${cmd:-bench/run.sh}"
	[[ -n $started ]] && printf ' on %s' "$started"
	[[ -n $wall ]] && printf '; the whole run took %d min %02d s' $((wall / 60)) $((wall % 60))
	printf '. Servers: %s, one worker each, on loopback, the same work.\n' "${SERVERS// /, }"
	if [[ -n $wall ]]; then
		local spent
		spent="build $(runval build_seconds) s"
		(($(runval micro_seconds) > 0)) && spent+=", micro-benchmarks $(runval micro_seconds) s"
		[[ -f $RAW/phases.tsv ]] && spent+=$(awk -F'\t' '{ printf ", %s %s s", $1, $2 }' "$RAW/phases.tsv")
		t=$(runval python_seconds || true)
		((${t:-0} > 0)) && spent+=", Python front $t s"
		printf 'Time spent: %s.\n' "$spent"
	fi
	echo

	if [[ -s $RAW/runs.tsv ]]; then
		echo "## Summary"
		echo
		echo "ringlet's median throughput and its ratio to each peer (above 1: ringlet serves more)."
		has ceiling && echo "÷ ceiling: ringlet's share of what the calibration responder (\`bench/ceiling\`, see Method) serves on this machine; it has no static files."
		echo
		summary_table
		echo
		if [[ -s $RAW/idle.tsv || -s $RAW/alloc.tsv ]]; then
			echo "Memory per idle connection and heap calls per request (ratios below 1: ringlet uses less):"
			echo
			summary_memory
			echo
		fi
		if [[ -s $RAW/soak.tsv && -s $RAW/soak.csv ]]; then
			echo "Soak: ringlet's worker grew by **$(awk -v d=$((SOAK_RSSN - SOAK_RSS1)) \
				"$AWK_LIB"'BEGIN { print (d > 0 ? "+" : "") commas(d) }') kB** from the end of the first fifth of" \
				"$(soak_kv requests | awk "$AWK_LIB"'{ print commas($1) }') requests to the last (section 7)."
			echo
		fi
		echo "![throughput per scenario]($THROUGHPUT_PNG)"
		echo
	fi
	if [[ -s $PY/runs.tsv ]]; then
		echo "The Python front against gunicorn and uWSGI: section 8."
		echo
	fi

	if [[ -f $RAW/machine.tsv ]]; then
		echo "## Machine"
		echo
		awk -F'\t' '{ printf "- %s: %s\n", $1, $2 }' "$RAW/machine.tsv"
		echo
	fi

	echo "## Method"
	echo
	cat <<EOF
- Each server runs with one worker: \`ringlet -w 1\` (its master forks one
  worker), nginx \`worker_processes 1\`, h2o \`num-threads: 1\`. Their
  configurations are in \`bench/peers/\`; all three serve the same
  directory at \`/static/\` and answer \`/plaintext\` with 13 bytes.
$(has ceiling && cat <<CEILING
- ceiling (\`bench/ceiling.c\`) is a measuring stick, not a server: one
  thread on io_uring (multishot accept, multishot receive into provided
  buffers), no parser (each "\\r\\n\\r\\n" received is a request), one
  send per connection and batch of the same 132 bytes ringlet's
  \`/plaintext\` sends. It bounds what one thread can serve here: ringlet
  ÷ ceiling is the share of that bound ringlet reaches. Where wrk, not
  the server, is the bottleneck (pipelined, on few cores) that ratio
  nears 1 or passes it within the noise: ringlet/ceiling's CPU µs/req
  then says more. It runs in the throughput scenarios alone, not the
  static one (it has no files), nor the idle, allocation and soak
  measurements.
CEILING
)
- wrk, on the same machine, sends TechEmpower's plaintext headers. Every
  scenario runs with \`-t1\` and \`-t2\`, $ROUNDS round(s) of ${DURATION} s per
  scenario and server $(warmup_text); the servers are
  interleaved (their order rotates each round) so that drift hits all alike.
  Figures are medians over the rounds.
- Latency: wrk \`--latency\`, its 50% and 99% lines. Pipelined runs: wrk
  records one latency per batch of $PIPELINE, and its coordinated-omission
  correction breaks its percentiles there (99% reads 0), so
  \`bench/pipeline.lua\` undoes the correction exactly and reports the
  batch latency's percentiles.
- CPU µs/req: utime + stime of the serving process (ringlet's and
  nginx's worker, h2o's process with all its threads, the ceiling's
  process) from \`/proc/PID/stat\` (10 ms ticks), before and after each
  run, divided by the requests wrk completed. On loopback part of the network stack's work is charged to
  whichever process runs it, the same way for all.
- wrk CPU %: wrk's own user + system time (all its threads, from bash's
  \`times\` after each run) over the run's wall time, 100 being one core
  busy for the whole run (\`-t2\` can reach 200); where it nears 100 ×
  wrk's threads, or wrk's plus the server's CPU (CPU µs/req × req/s ÷
  10,000) nears the machine's $CORES cores ($((CORES * 100))%), the
  client bounds the figure, not the server.
- Ratio rows: ringlet's figure divided by the peer's. Above 1 is better
  for req/s; below 1 is better for latency and CPU. wrk CPU % has none
  (it is the client's, not the server's).
EOF
	echo

	for scen in $SCENARIOS; do
		echo "## $(title_of "$scen")"
		echo
		if [[ $scen == static && -f $RAW/static.tsv ]]; then
			echo "Checked before timing: each file fetched once from each server, status and size against the file."
			has ceiling && echo "ceiling serves no files: it is not in this scenario."
			echo
			table_head server "files whole, 200" "bytes expected" "bytes received" statuses \
				"bytes/response under wrk"
			awk -F'\t' -v t="${THREADS%% *}" "$AWK_LIB"'
				FILENAME ~ /medians/ { if ($1 == "static" && $2 == t) bpr[$3] = $8; next }
				FNR > 1 { printf "| %s | %s/%s | %s | %s | %s | %s |\n", $1, $2, $3,
					commas($4), commas($5), $6, ($1 in bpr) ? commas(bpr[$1]) : "-" }' \
				"$WORK/medians.tsv" "$RAW/static.tsv"
			echo
		fi
		if [[ $scen == plaintext && -f $RAW/plaintext.tsv ]]; then
			echo "The responses compared:"
			echo
			table_head server "bytes (head + body)" "header fields"
			awk -F'\t' 'NR > 1 { printf "| %s | %s | %s |\n", $1, $2, $3 }' "$RAW/plaintext.tsv"
			echo
		fi
		[[ $scen == pipelined ]] && echo "Latency here is per batch of $PIPELINE requests (wrk's correction undone; see Method)." && echo
		scenario_table "$scen"
		echo
	done

	if [[ -s $RAW/idle.tsv ]]; then
		echo "## 5. Idle memory: $(param idle_conns | awk "$AWK_LIB"'{ print commas($1) }') idle keep-alive connections"
		echo
		cat <<EOF
\`bench/idle\` opens the connections, sends one request on each and reads
the answer, then holds them idle; the serving process's memory is read
before they are opened and $(hold=$(param idle_hold_ms); echo "${hold:-500}") ms after the last answer, once the server
has given back what opening them all at once had in flight (Rss and Pss
from \`/proc/PID/smaps_rollup\`), and every
connection is asked once more, then a fresh one. *cold*: a server that has
served one request; *warm*: a fresh server first loaded with 256 wrk
connections for $(($(param warmup) ? $(param warmup) : 1)) s, so that what is touched once per process is
paid before the count. Ratios: ringlet's B/conn (Rss) over the peer's;
below 1, ringlet holds less.
EOF
		echo
		idle_table
		echo
	fi

	if [[ -s $RAW/alloc.tsv ]]; then
		echo "## 6. Allocation discipline: heap calls per request"
		echo
		cat <<EOF
Each server under \`LD_PRELOAD=bench/alloc_count.so\` (built by the
harness from \`bench/alloc_count.c\`): $(warmup_text), the
calls the serving process makes during a $(param alloc_duration) s run of
\`/plaintext\` (64 connections), divided by the requests wrk completed in
it (the window includes wrk opening and closing its connections).
*heap calls* = malloc + calloc + realloc + free + aligned + mmap + munmap;
*bytes asked* = bytes requested of malloc, calloc, realloc and the aligned
family. glibc's internal mmap of large blocks is not seen.
EOF
		echo
		alloc_table
		echo
	fi

	if [[ -s $RAW/soak.tsv && -s $RAW/soak.csv ]]; then
		echo "## 7. Soak: memory over $(soak_kv target | awk "$AWK_LIB"'{ print commas($1) }') requests"
		echo
		soak_section
		echo
		echo "![ringlet RSS over the soak]($SOAK_PNG)"
		echo
	fi

	if [[ -f $PY/params.tsv ]]; then py_section; fi

	# bench/instructions.sh's own report, its headings one level down.
	if [[ -s $RAW/instructions/instructions.md ]]; then
		echo "## 9. Instructions per request (callgrind), syscalls per request"
		echo
		sed -e '1{/^# /d}' -e 's/^## /### /' \
			"$RAW/instructions/instructions.md"
		echo
	fi

	if [[ -s $RAW/micro.txt ]]; then
		echo "## Micro-benchmarks"
		echo
		echo "\`make bench\` runs them first: allocators (\`bench/alloc\`), request parser"
		echo "(\`bench/parse\`), response writer (\`bench/respond\`), coroutine switch"
		echo "(\`bench/coro\`), each against its peers in the same run."
		echo
		echo '```'
		cat "$RAW/micro.txt"
		echo '```'
		echo
	fi

	echo "## Notes"
	echo
	if [[ -s $RAW/notes.txt ]]; then
		sed 's/^/- /' "$RAW/notes.txt"
	else
		echo "- none: no socket errors, no non-2xx answers, every check passed."
	fi
	echo

	echo "## Commands"
	echo
	echo "Reproduce with \`${cmd:-make bench}\` from the repository root (it installs"
	echo "what is missing from Debian, builds with -O2, runs everything). Parameters:"
	echo
	echo '```'
	awk -F'\t' '$1 != "static_files" { printf "%s=%s\n", toupper($1), $2 }' "$RAW/params.tsv"
	echo '```'
	echo
	echo "Each distinct command, as run (\$PORT: the instance's port; \$TMP: the"
	echo "harness's temporary directory, where the peers' configurations are"
	echo "written from \`bench/peers/*.conf\`):"
	echo
	echo '```'
	[[ -f $RAW/commands.txt ]] && cat "$RAW/commands.txt"
	echo '```'
}

if [[ -s $RAW/runs.tsv ]]; then medians; else : >"$WORK/medians.tsv"; fi
if [[ -s $PY/runs.tsv ]]; then py_medians; else touch "$WORK/py-medians.tsv" "$WORK/py-scen.tsv"; fi
[[ -s $RAW/soak.csv ]] && soak_figures
report >"$OUT.md"
charts
echo "report.sh: wrote $OUT.md$( [[ -f $DIR/$THROUGHPUT_PNG ]] && echo ", $DIR/$THROUGHPUT_PNG")$( [[ -f $DIR/$SOAK_PNG && -s $RAW/soak.csv ]] && echo ", $DIR/$SOAK_PNG")" >&2
