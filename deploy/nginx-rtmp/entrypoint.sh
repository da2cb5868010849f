#!/bin/sh
# Render the nginx config from the environment and run nginx in the foreground.
set -eu
: "${LIVE_HOOK_SECRET:?set LIVE_HOOK_SECRET (the same value the app has)}"
export LIVE_HOOK_SECRET
export APP_URL="${APP_URL:-http://node1:8000}"
export RTMP_PORT="${RTMP_PORT:-1935}" HTTP_PORT="${HTTP_PORT:-8080}" HOOK_PORT="${HOOK_PORT:-8089}"
export CONTROL_PORT="${CONTROL_PORT:-8088}"  # reached by the app nodes only: not published by compose
export HLS_DIR="${HLS_DIR:-/var/lib/social-flow/hls}" RECORD_DIR="${RECORD_DIR:-/var/lib/social-flow/recordings}"
export RUN_DIR=/run/nginx-live RTMP_MODULE=/usr/lib/nginx/modules/ngx_rtmp_module.so
mkdir -p "$HLS_DIR" "$RECORD_DIR" "$RUN_DIR"
chown www-data "$HLS_DIR" "$RECORD_DIR" "$RUN_DIR"
envsubst '${LIVE_HOOK_SECRET} ${APP_URL} ${RTMP_PORT} ${HTTP_PORT} ${HOOK_PORT} ${CONTROL_PORT} ${HLS_DIR} ${RECORD_DIR} ${RUN_DIR} ${RTMP_MODULE}' \
  < /etc/nginx/live.conf.template > "$RUN_DIR/nginx.conf"
exec nginx -c "$RUN_DIR/nginx.conf" -g 'daemon off; user www-data;'
