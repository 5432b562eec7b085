#!/usr/bin/env bash
# `make run`: the main job. Starts the demo stack on 127.0.0.1 —
#   traild (embedded store + Loki-compatible API) tailing every log below,
#   nginx (when installed) in front of the backend, writing JSON access logs,
#   demo_backend (libmicrohttpd + trail_mhd middleware) handing jobs to
#   demo_worker over a UNIX socket, and demo_frontend generating requests —
# then prints the API URL and `trail story <id>` of a request that failed in
# the worker: frontend, backend, worker (and nginx) entries, in time order.
# The stack stays up DEMO_LINGER seconds (default 60; Ctrl-C ends it early).
set -euo pipefail
build=${1:-build/release}
build=$(cd "$build" && pwd)
requests=${DEMO_REQUESTS:-30}
linger=${DEMO_LINGER:-60}
run=$(mktemp -d /tmp/trail-demo-XXXXXX)
mkdir -p "$run/logs" "$run/state" "$run/store" "$run/nginx"
pids=()

cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "demo stopped; logs and store kept in $run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free loopback port at or above $1 (bash's /dev/tcp: a refused connect means free).
free_port() {
    local p=$1
    while (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; do p=$((p + 1)); done
    echo "$p"
}
api_port=$(free_port "${DEMO_API_PORT:-3100}")
backend_port=$(free_port 18080)
front_port=$(free_port $((backend_port + 1)))

# Every process logs JSONL to its own rotating file (libtrail's TRAIL_FILE).
export TRAIL_FILE_MAX_BYTES=$((8 * 1024 * 1024)) TRAIL_FILE_KEEP=5 TRAIL_ENV=demo
start() { # name, command...
    local name=$1; shift
    TRAIL_FILE="$run/logs/$name.jsonl" "$@" > >(sed -u "s/^/[$name] /") 2>&1 &
    pids+=($!)
}

nginx_input=""
base_url="http://127.0.0.1:$backend_port"
if [ -x /usr/sbin/nginx ]; then
    cat > "$run/nginx/nginx.conf" <<CONF
pid $run/nginx/nginx.pid;
error_log $run/nginx/error.log;
worker_processes 1;
events { worker_connections 256; }
http {
    log_format trail_json escape=json '{"msec":"\$msec","remote_addr":"\$remote_addr",'
        '"request_method":"\$request_method","request_uri":"\$request_uri","status":"\$status",'
        '"body_bytes_sent":"\$body_bytes_sent","request_time":"\$request_time",'
        '"http_user_agent":"\$http_user_agent","request_id":"\$http_x_request_id"}';
    access_log $run/logs/nginx-access.log trail_json;
    client_body_temp_path $run/nginx/body; proxy_temp_path $run/nginx/proxy;
    fastcgi_temp_path $run/nginx/fastcgi; uwsgi_temp_path $run/nginx/uwsgi; scgi_temp_path $run/nginx/scgi;
    server {
        listen 127.0.0.1:$front_port;
        location / { proxy_pass http://127.0.0.1:$backend_port; proxy_set_header X-Request-ID \$http_x_request_id; }
    }
}
CONF
    nginx_input="
  - name: nginx
    category: access
    labels: {service: nginx}
    paths: [\"$run/logs/nginx-access.log*\"]
    parser: nginx_json
    start_at: beginning"
    base_url="http://127.0.0.1:$front_port"
fi

cat > "$run/traild.yaml" <<CONF
state_dir: $run/state
inputs:
  - name: app
    category: app
    paths: ["$run/logs/*.jsonl*"]
    parser: json
    start_at: beginning$nginx_input
outputs:
  - type: store
    dir: $run/store
    listen: 127.0.0.1:$api_port
CONF

echo "== starting traild, worker, backend${nginx_input:+, nginx} (run dir $run)"
"$build/src/agent/traild" --check-config "$run/traild.yaml"
"$build/src/agent/traild" --config "$run/traild.yaml" > "$run/traild.out" 2>&1 &
pids+=($!)
start worker "$build/examples/demo/demo_worker" "$run/worker.sock"
start backend "$build/examples/demo/demo_backend" "$backend_port" "$run/worker.sock"
if [ -n "$nginx_input" ]; then
    /usr/sbin/nginx -p "$run/nginx" -c "$run/nginx/nginx.conf" -g 'daemon off;' &
    pids+=($!)
fi
for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/$backend_port) 2>/dev/null && [ -S "$run/worker.sock" ] && break
    sleep 0.1
done

echo "== frontend: $requests requests through $base_url"
start frontend "$build/examples/demo/demo_frontend" "$base_url" "$requests" 100 "$run/failed.txt"
wait "${pids[-1]}"

failed=$(head -n 1 "$run/failed.txt" 2>/dev/null || true)
api="http://127.0.0.1:$api_port"
if [ -z "$failed" ]; then
    echo "no request failed (unexpected: items ending in 7 fail in the worker)" >&2
    exit 1
fi
# Wait until traild has stored the worker's entry of that request.
for _ in $(seq 100); do
    "$build/src/cli/trail" --addr "$api" story "$failed" 2>/dev/null | grep -q worker && break
    sleep 0.2
done
echo
echo "== Loki-compatible API: $api   (e.g. $build/src/cli/trail --addr $api query '{service=\"backend\"}' --since 1h)"
echo "== trail story $failed   (a request that failed in the worker)"
"$build/src/cli/trail" --addr "$api" story "$failed"
if [ "$linger" -gt 0 ]; then
    echo
    echo "== the stack stays up for ${linger}s (Ctrl-C to stop): try the commands above"
    sleep "$linger"
fi
