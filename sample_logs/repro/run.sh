#!/usr/bin/env bash
# Runs the PushServer reproduction behind nginx and collects the evidence.
#
#   run.sh incident OUTDIR   leak enabled; runs until the OutOfDirectMemoryError flood, then stops
#   run.sh healthy  OUTDIR   leak disabled (-Dpush.bug.leakOnDisconnect=false); 30 s of traffic
#
# Everything listens on 127.0.0.1 only (nginx :18080 -> PushServer :18081) and every step is
# bounded in time. Needs: JDK 17, libnetty-java, liblog4j2-java, nginx (Debian packages), python3.
set -euo pipefail

MODE=${1:?usage: run.sh incident|healthy OUTDIR}
OUT=$(realpath -m "${2:?usage: run.sh incident|healthy OUTDIR}")
HERE=$(cd "$(dirname "$0")" && pwd)
ZONE=Europe/Berlin
export TZ=$ZONE   # GC log 'time' decorator, jstack header and nginx $time_local use the process TZ

case "$MODE" in
  incident) LEAK=true ;;
  healthy) LEAK=false ;;
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac

J=/usr/share/java
CP_LIBS=$J/netty-common.jar:$J/netty-buffer.jar:$J/netty-transport.jar:$J/netty-codec.jar
CP_LIBS=$CP_LIBS:$J/netty-codec-http.jar:$J/netty-handler.jar:$J/netty-resolver.jar
CP_LIBS=$CP_LIBS:$J/log4j-api.jar:$J/log4j-core.jar

RUN=$(mktemp -d /tmp/pushrun.XXXXXX)
APP=$RUN/app
mkdir -p "$RUN/classes" "$APP" "$RUN/nginx/logs" "$RUN/nginx/tmp"
mkfifo "$RUN/console.fifo"
CONSOLE_RATE=${PUSH_CONSOLE_RATE:-327680}  # bytes/s the console reader keeps up with (320 KiB/s)
javac -g -cp "$CP_LIBS" -d "$RUN/classes" "$HERE/PushServer.java"

JAVA_PID="" NGINX_PID="" CLIENT_PID="" SINK_PID=""
cleanup() {
  for pid in $CLIENT_PID $JAVA_PID $NGINX_PID $SINK_PID; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

log() { echo "[run.sh $(date +%H:%M:%S)] $*" >&2; }

take_jstack() {
  local f
  f="$OUT/jstack-$(date +%Y%m%dT%H%M%S).txt"
  jstack -l "$JAVA_PID" >"$f"
  log "thread dump -> $f"
}

nginx -p "$RUN/nginx/" -c "$HERE/nginx.conf" -e logs/error.log &
NGINX_PID=$!

(
  cd "$APP"
  exec java -Xms32m -Xmx48m -XX:+UseG1GC \
    -Xlog:gc*:file=gc.log:time,uptime,level,tags \
    -XX:MaxDirectMemorySize=16m \
    -Dio.netty.maxDirectMemory=1048576 \
    -Dio.netty.allocator.type=unpooled \
    -Dio.netty.noPreferDirect=false \
    -Dio.netty.tryReflectionSetAccessible=true \
    --add-opens java.base/java.nio=ALL-UNNAMED \
    --add-opens java.base/jdk.internal.misc=ALL-UNNAMED \
    -Duser.timezone=$ZONE \
    -Dlog4j.configurationFile="$HERE/log4j2.xml" \
    -Dpush.logDir="$APP" \
    -Dpush.logRollSize="${PUSH_LOG_ROLL_SIZE:-1 MB}" \
    -Dpush.bug.leakOnDisconnect=$LEAK \
    -cp "$RUN/classes:$CP_LIBS" com.example.push.PushServer >"$RUN/console.fifo" 2>&1
) &
JAVA_PID=$!
# stdout is drained at a bounded rate, like a container log driver (see console_sink.py)
python3 "$HERE/console_sink.py" "$CONSOLE_RATE" "$APP/console.out" <"$RUN/console.fifo" &
SINK_PID=$!

for _ in $(seq 1 60); do
  curl -fsS -o /dev/null http://127.0.0.1:18081/health 2>/dev/null && break
  sleep 0.25
done
mkdir -p "$OUT"
# run facts and ground truth sit BESIDE the evidence ($OUT.run.json, $OUT.truth.json), so a
# scan of $OUT reads evidence only
rm -rf "$OUT"/*.log "$OUT"/*.log.gz "$OUT"/jstack-*.txt "$OUT/nginx" "$OUT.run.json" "$OUT.truth.json"
mkdir -p "$OUT/nginx"

if [ "$MODE" = incident ]; then
  python3 "$HERE/client.py" --seconds 170 --subscribers 6 --churners 4 --rate 20 >"$RUN/client.json" &
  CLIENT_PID=$!
  sleep 8
  take_jstack
  seen=no
  for _ in $(seq 1 600); do  # at most 150 s; the flood keeps writing to the active file
    if grep -q OutOfDirectMemoryError "$APP/push-server.log"; then seen=yes; break; fi
    sleep 0.25
  done
  log "OutOfDirectMemoryError seen: $seen"
  sleep 1.5; take_jstack
  sleep 1.5; take_jstack
  sleep 1.5
else
  python3 "$HERE/client.py" --seconds 30 --subscribers 6 --churners 2 --rate 10 >"$RUN/client.json" &
  CLIENT_PID=$!
  sleep 15
  take_jstack
  sleep 15
fi

kill -TERM "$CLIENT_PID"; wait "$CLIENT_PID" || true; CLIENT_PID=""
log "client: $(cat "$RUN/client.json")"
kill -TERM "$JAVA_PID"
for _ in $(seq 1 40); do kill -0 "$JAVA_PID" 2>/dev/null || break; sleep 0.25; done
kill -KILL "$JAVA_PID" 2>/dev/null || true
wait "$JAVA_PID" 2>/dev/null || true
JAVA_PID=""
wait "$SINK_PID" 2>/dev/null || true
SINK_PID=""
if [ "$MODE" = incident ]; then
  # Probes after the backend is gone: nginx answers 502 (connection refused upstream).
  for _ in 1 2 3; do curl -s -o /dev/null -A lb-probe/1.0 http://127.0.0.1:18080/health || true; sleep 0.5; done
fi
kill -QUIT "$NGINX_PID"; wait "$NGINX_PID" || true; NGINX_PID=""

cp "$APP"/push-server*.log* "$APP/gc.log" "$OUT/"
cp "$RUN/nginx/logs/access.log" "$RUN/nginx/logs/error.log" "$OUT/nginx/"
python3 - "$RUN/client.json" "$OUT.run.json" "$MODE" "$ZONE" <<'EOF'
import json, sys
client = json.load(open(sys.argv[1]))
json.dump({"mode": sys.argv[3], "timezone": sys.argv[4], "client": client,
           "io.netty.maxDirectMemory": 1048576, "leak_bytes_per_disconnect": 256 if sys.argv[3] == "incident" else 0},
          open(sys.argv[2], "w"), indent=2)
EOF
python3 "$HERE/facts.py" "$OUT" >"$OUT.truth.json"
rm -rf "$RUN"
log "evidence in $OUT"
