#!/usr/bin/env bash
# Regenerates the real JDK 17 unified-logging GC fixtures in this directory.
# One log per collector x decoration set, plus G1 with -Xlog:safepoint*; the exact command
# for every file is written to commands.txt. Each JVM runs for well under 5 seconds.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export TZ=Europe/Berlin   # the 'time' decorator prints local time with offset
BUILD=$(mktemp -d /tmp/gcfixtures.XXXXXX)
trap 'rm -rf "$BUILD"' EXIT
javac -d "$BUILD" "$HERE/AllocChurn.java"

# name  flags  rounds
COLLECTORS=(
  "serial|-XX:+UseSerialGC -Xms16m -Xmx64m|600"
  "parallel|-XX:+UseParallelGC -Xms16m -Xmx64m|600"
  "g1|-XX:+UseG1GC -Xms16m -Xmx64m|600"
  "zgc|-XX:+UseZGC -Xms16m -Xmx64m|600"
  "shenandoah|-XX:+UseShenandoahGC -Xms16m -Xmx128m|200"
)
# suffix  decorators
DECORATIONS=(
  "time_uptime_level_tags|time,uptime,level,tags"
  "uptime|uptime"
  "utctime_pid_tags|utctime,pid,tags"
  "uptimemillis|uptimemillis"
)

rm -f "$HERE"/*.log
: >"$HERE/commands.txt"
run() {  # run <file> <jvm args...>
  local file=$1; shift
  (cd "$BUILD" && java "$@" -cp "$BUILD" AllocChurn "$ROUNDS" >/dev/null)
  echo "TZ=$TZ java $* AllocChurn $ROUNDS   # -> $file" >>"$HERE/commands.txt"
}

for c in "${COLLECTORS[@]}"; do
  IFS='|' read -r name flags ROUNDS <<<"$c"
  for d in "${DECORATIONS[@]}"; do
    IFS='|' read -r suffix decorators <<<"$d"
    file="$name-$suffix.log"
    # shellcheck disable=SC2086
    run "$file" $flags "-Xlog:gc*:file=$HERE/$file:$decorators"
  done
done
ROUNDS=600
run g1-safepoint.log -XX:+UseG1GC -Xms16m -Xmx64m \
  "-Xlog:gc*,safepoint*:file=$HERE/g1-safepoint.log:time,uptime,level,tags"
sed -i "s#$HERE/##g" "$HERE/commands.txt"
ls -l "$HERE"/*.log
