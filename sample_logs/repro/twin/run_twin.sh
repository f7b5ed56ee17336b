#!/usr/bin/env bash
# One real JVM run logging the same events as text (PatternLayout) and as log4j2 JsonLayout
# (frames as objects, and stacktraceAsString) and GELF, for logsleuth's text/JSON twin test.
#
#   run_twin.sh OUTDIR [ROUNDS]     writes OUTDIR/twin.log, twin.json, twin-string.json, twin-gelf.json
#                                   (one log4j2 run) and logback-twin.log, logback-twin.json (a logback run)
#
# Bounded: ROUNDS (default 40) events loops, then the JVM exits (timeout 120 s).
# Needs: JDK 17, libnetty-java, liblog4j2-java, libjackson2-databind-java, liblogback-java,
# liblogstash-logback-encoder-java (Debian packages).
set -euo pipefail
OUT=$(realpath -m "${1:?usage: run_twin.sh OUTDIR [ROUNDS]}")
ROUNDS=${2:-40}
HERE=$(cd "$(dirname "$0")" && pwd)
J=/usr/share/java
CP=$J/netty-common.jar:$J/netty-buffer.jar:$J/netty-transport.jar:$J/netty-codec.jar
CP=$CP:$J/log4j-api.jar:$J/log4j-core.jar
CP=$CP:$J/jackson-core.jar:$J/jackson-databind.jar:$J/jackson-annotations.jar
BUILD=$(mktemp -d /tmp/twinrun.XXXXXX)
trap 'rm -rf "$BUILD"' EXIT
javac -g -cp "$CP" -d "$BUILD/classes" "$HERE/TwinLog.java"
mkdir -p "$OUT"
# The same JVM, ceilings and zone for both runs, so the twins differ only in their logging stack.
JVM=(-Xms32m -Xmx64m -XX:MaxDirectMemorySize=1m -Dio.netty.maxDirectMemory=1048576
     -Dio.netty.tryReflectionSetAccessible=true
     --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/jdk.internal.misc=ALL-UNNAMED
     -Duser.timezone=Europe/Berlin)
TZ=Europe/Berlin timeout 120 java "${JVM[@]}" \
  -Dlog4j.configurationFile="$HERE/log4j2-twin.xml" \
  -Dtwin.dir="$OUT" \
  -cp "$BUILD/classes:$CP" com.example.twin.TwinLog "$ROUNDS"
# The same program again, its log4j2 API calls routed to logback (log4j-to-slf4j):
# logback's text layout and logstash-logback-encoder's JSON, written at once.
LB=$J/log4j-api.jar:$J/log4j-to-slf4j.jar:$J/slf4j-api.jar:$J/logback-core.jar
LB=$LB:$J/logback-classic.jar:$J/logstash-logback-encoder.jar
LB=$LB:$J/jackson-core.jar:$J/jackson-databind.jar:$J/jackson-annotations.jar
LB=$LB:$J/netty-common.jar:$J/netty-buffer.jar:$J/netty-transport.jar:$J/netty-codec.jar
TZ=Europe/Berlin timeout 120 java "${JVM[@]}" \
  -Dlogback.configurationFile="$HERE/logback-twin.xml" \
  -Dtwin.dir="$OUT" \
  -cp "$BUILD/classes:$LB" com.example.twin.TwinLog "$ROUNDS"
wc -l "$OUT"/twin.log "$OUT"/twin.json "$OUT"/twin-string.json "$OUT"/twin-gelf.json \
  "$OUT"/logback-twin.log "$OUT"/logback-twin.json
