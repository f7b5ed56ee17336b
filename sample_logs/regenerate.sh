#!/usr/bin/env bash
# Rebuilds all bundled evidence from source: the incident and healthy PushServer runs
# (sample_logs/incident, sample_logs/healthy) and the JVM fixtures in tests/data/gc and
# tests/data/dumps, and the validation matrix (sample_logs/matrix). Takes about 10 minutes;
# every process is bound to 127.0.0.1 and time-limited. Needs (Debian): openjdk-17-jdk-headless,
# libnetty-java, liblog4j2-java, libjackson2-databind-java, nginx-light (or nginx), python3, curl.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
bash "$HERE/repro/run.sh" incident "$HERE/incident"
bash "$HERE/repro/run.sh" healthy "$HERE/healthy"
python3 "$HERE/repro/matrix.py" --out "$HERE/matrix"   # ~5.5 min; also needs libjackson2-databind-java
bash "$ROOT/tests/data/gc/generate.sh"
bash "$ROOT/tests/data/dumps/generate.sh"
bash "$HERE/anchors/generate.sh"        # ~10 s: uptime-only GC logs and the app-log clocks that place them
