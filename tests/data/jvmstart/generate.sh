#!/usr/bin/env bash
# Real evidence of one JVM: an uptime-only GC log and a jstack dump taken 2 s in.
set -euo pipefail
cd "$(dirname "$0")"
javac -d /tmp/jvmstart-classes Churn.java
date -u +%Y-%m-%dT%H:%M:%S.%3NZ > started-approx.txt
java -cp /tmp/jvmstart-classes -Xmx64m -XX:+UseG1GC -Xlog:gc*:file=gc-uptime.log:uptime Churn &
pid=$!
sleep 2
jstack "$pid" > jstack.txt
wait "$pid"
