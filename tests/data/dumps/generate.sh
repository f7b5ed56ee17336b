#!/usr/bin/env bash
# Regenerates the real JDK 17 thread dumps in this directory from LockScenarios.java.
# Two runs of at most ~10 s each (the program also exits by itself after 60 s).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export TZ=Europe/Berlin
J=/usr/share/java
CP=$J/log4j-api.jar:$J/log4j-core.jar
BUILD=$(mktemp -d /tmp/dumpfixtures.XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$BUILD"; }
trap cleanup EXIT
javac -g -cp "$CP" -d "$BUILD" "$HERE/LockScenarios.java"

start() {  # start <mode> <stdout-file>: runs LockScenarios in the background, waits until settled
  java -Xmx32m -Duser.timezone=$TZ -Dlog4j.configurationFile="$HERE/log4j2.xml" \
    -cp "$BUILD:$CP" com.example.locks.LockScenarios "$1" >"$2" 2>&1 &
  PID=$!
  for _ in $(seq 1 80); do
    grep -qs 'heartbeat n=4 ' "$2" && return 0
    sleep 0.1
  done
  echo "LockScenarios did not settle" >&2; return 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

rm -f "$HERE"/*.txt "$HERE"/console-sigquit.log
start contention "$BUILD/contention.out"
jstack "$PID" >"$HERE/jstack-contention.txt"
jcmd "$PID" Thread.print -l >"$HERE/jcmd-thread-print-l-contention.txt"
stop

start deadlock "$HERE/console-sigquit.log"
kill -QUIT "$PID"; sleep 1
jstack "$PID" >"$HERE/jstack-deadlock.txt"
jstack -l "$PID" >"$HERE/jstack-l-deadlock.txt"
jstack -l -e "$PID" >"$HERE/jstack-l-e-deadlock.txt"
jcmd "$PID" Thread.print >"$HERE/jcmd-thread-print-deadlock.txt"
sleep 1; kill -QUIT "$PID"; sleep 1
stop
ls -l "$HERE"
