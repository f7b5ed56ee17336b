#!/usr/bin/env bash
# Real JVM runs whose uptime-only GC log (the -Xlog default decorations) must be placed in
# time by an exact anchor in the app log. Each run writes a second GC log that prints both
# clocks (time and uptime): truth/<case>-gc-both-clocks.log.gz, outside the evidence.
# OpenJDK 17 and Debian's liblog4j2-java; each run lasts anchors.seconds and ends by itself.
set -euo pipefail
cd "$(dirname "$0")"
LIBS=/usr/share/java/log4j-api.jar:/usr/share/java/log4j-core.jar
JSON_LIBS=/usr/share/java/jackson-core.jar:/usr/share/java/jackson-databind.jar:/usr/share/java/jackson-annotations.jar
classes=$(mktemp -d)
trap 'rm -rf "$classes"' EXIT
javac -cp "$LIBS" -d "$classes" StartClock.java
mkdir -p truth

run() {  # case style zone pattern [jcmd]: with jcmd, `jcmd PID VM.uptime -date` 1.5 s in
  local case=$1 style=$2 zone=$3 pattern=$4 jcmd=${5:-} config=${CONFIG:-log4j2.xml}
  rm -rf "$case" && mkdir -p "$case"
  TZ=$zone java -Xmx32m -XX:+UseG1GC \
    "-Xlog:gc*:file=$case/gc.log" \
    "-Xlog:gc:file=truth/$case-gc-both-clocks.log:time,uptime,level,tags" \
    -Danchors.style="$style" -Danchors.seconds=3 -Danchors.logFile="$case/app.log" \
    "-Danchors.pattern=$pattern" -Dlog4j.configurationFile="$config" \
    -cp "$classes:$LIBS:$JSON_LIBS" com.example.anchors.StartClock &
  local pid=$!
  if [ -n "$jcmd" ]; then
    sleep 1.5
    TZ=$zone timeout 20 jcmd "$pid" VM.uptime -date > "$case/jcmd-uptime.txt"
  fi
  wait "$pid"
  gzip -9nf "truth/$case-gc-both-clocks.log"
}

# Spring Boot 3's default console layout, offset printed, "process running for"
run boot3-offset boot3 Asia/Kolkata \
  "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %5p %pid --- [%15.15t] %-40.40c{1.} : %m%n"
# Spring Boot 2's layout without an offset, "JVM running for"; read in Europe/Berlin
run boot2-local boot2 Europe/Berlin \
  "%d{yyyy-MM-dd HH:mm:ss.SSS} %5p %pid --- [%15.15t] %-40.40c{1.} : %m%n"
# no startup line, but log4j2's %r: milliseconds since the JVM started, on every record
run relative-column none UTC \
  "%d{yyyy-MM-dd HH:mm:ss.SSS} %r [%t] %-5level %logger{36} - %msg%n"
# no start in the app log; `jcmd PID VM.uptime -date` saved beside it (Asia/Tokyo)
run jcmd-uptime none Asia/Tokyo \
  "%d{yyyy-MM-dd HH:mm:ss.SSS} [%t] %-5level %logger{36} - %msg%n" jcmd
# Spring Boot 3's startup line in log4j2's JsonLayout (one event per line, epoch-ms instant)
CONFIG=log4j2-json.xml run boot3-json boot3 UTC ""
