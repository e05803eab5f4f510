#!/usr/bin/env bash
# Live events: `berth events --follow` sees a change as it happens; one caller may hold at most
# 8 event streams at once (the 9th gets 503 TOO_MANY_STREAMS).
. "$(dirname "$0")/lib.sh"

start_berthd main
# Background children must not hold fd 3 (the TAP pipe) or meson waits for them.
"$BERTH_BIN" events --follow --project "$PROJECT" >"$IT_TMP/follow.out" 2>&1 3>&- &
follower=$!
sleep 0.5
apply_yaml >/dev/null <<'YAML'
kind: docker_service
metadata: {name: app, project: __PROJECT__}
spec: {image: berth/busybox:latest, type: worker, command: [sleep, "3600"]}
YAML
saw_running() { grep -q 'PhaseChanged' "$IT_TMP/follow.out" && grep -q 'RUNNING' "$IT_TMP/follow.out"; }
check "berth events --follow shows the phase change live" wait_until 30 saw_running
kill "$follower" 2>/dev/null || true
streams_closed() { curl -fsS "$BERTH_SERVER/metrics" | grep -qx 'berth_api_event_streams 0'; }
# A stream notices its client left at its next write (the 15 s heartbeat at the latest).
check "the follower's stream is released" wait_until 40 streams_closed

pids=()
for i in $(seq 1 8); do
        curl -sS -N --max-time 30 "$BERTH_SERVER/api/v1/events?follow=true&project=$PROJECT" >/dev/null 2>&1 3>&- &
        pids+=($!)
done
streams_open() { [[ $(curl -fsS "$BERTH_SERVER/metrics" | sed -n 's/^berth_api_event_streams //p') -ge 8 ]]; }
check "8 streams open" wait_until 20 streams_open
code=$(curl -sS -o "$IT_TMP/ninth" -w '%{http_code}' --max-time 3 "$BERTH_SERVER/api/v1/events?follow=true&project=$PROJECT" || true)
check "a 9th stream of one caller: 503" test "$code" = 503
check "it says why" grep -q 'TOO_MANY_STREAMS' "$IT_TMP/ninth"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
wait "${pids[@]}" 2>/dev/null || true
check "closed streams give their slots back" wait_until 40 streams_closed
finish
