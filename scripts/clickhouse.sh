#!/usr/bin/env bash
# A private ClickHouse server for tests: `scripts/clickhouse.sh start` runs
# Debian's clickhouse-server (installing it if missing) from a copy of its
# config with every path in a temporary directory, listening on 127.0.0.1
# only, waits until it answers and prints its HTTP URL;
# `scripts/clickhouse.sh stop` stops it and removes the directory.
# Ports: CLICKHOUSE_HTTP_PORT (18123), CLICKHOUSE_TCP_PORT (19000).
#
# CLICKHOUSE_SHARDS=N (N > 1) starts N servers instead, the i-th listening
# on 127.0.0.(i+1) with the same ports (so every node of the cluster has the
# same ports, as in production), each with the cluster `roentgen_shards`
# of N shards, one per server, in its remote_servers (and two clusters
# Roentgen's tests expect it to refuse); it prints the first server's URL
# (docs/clickhouse.md, "Sharded"). `stop` needs the same variables.
set -euo pipefail

http_port="${CLICKHOUSE_HTTP_PORT:-18123}"
tcp_port="${CLICKHOUSE_TCP_PORT:-19000}"
shards="${CLICKHOUSE_SHARDS:-1}"
state="${CLICKHOUSE_STATE:-/tmp/roentgen-clickhouse-$http_port}"
if [ "$shards" -gt 1 ]; then state="${CLICKHOUSE_STATE:-/tmp/roentgen-clickhouse-$http_port-shards}"; fi

# server_dir is where server i keeps its state; server_host its address:
# not 127.0.0.1, which every server takes for itself (is_local), so each
# sees every shard as remote, as on separate hosts.
server_dir() { if [ "$shards" -gt 1 ]; then echo "$state/shard$1"; else echo "$state"; fi; }
server_host() { if [ "$shards" -gt 1 ]; then echo "127.0.0.$(($1 + 1))"; else echo 127.0.0.1; fi; }

install() {
  if ! command -v clickhouse-server >/dev/null; then
    echo "== installing clickhouse-server" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clickhouse-server clickhouse-client >&2
  fi
}

# launch starts server i (not waiting for it).
launch() {
  local dir host
  dir="$(server_dir "$1")"
  host="$(server_host "$1")"
  mkdir -p "$dir"/{data,tmp,logs,user_files,format_schemas}
  cp /etc/clickhouse-server/users.xml "$dir/users.xml"
  # The stock config with its paths, ports and listen hosts replaced; the
  # interserver port (replication only) and the graphite exporters are cut.
  sed -e "s|<path>/var/lib/clickhouse/</path>|<path>$dir/data/</path>|" \
      -e "s|<tmp_path>[^<]*</tmp_path>|<tmp_path>$dir/tmp/</tmp_path>|" \
      -e "s|<user_files_path>[^<]*</user_files_path>|<user_files_path>$dir/user_files/</user_files_path>|" \
      -e "s|<format_schema_path>[^<]*</format_schema_path>|<format_schema_path>$dir/format_schemas/</format_schema_path>|" \
      -e "s|<log>[^<]*</log>|<log>$dir/logs/server.log</log>|" \
      -e "s|<errorlog>[^<]*</errorlog>|<errorlog>$dir/logs/server.err.log</errorlog>|" \
      -e "s|<http_port>[^<]*</http_port>|<http_port>$http_port</http_port>|" \
      -e "s|<tcp_port>[^<]*</tcp_port>|<tcp_port>$tcp_port</tcp_port>|" \
      -e "s|<interserver_http_port>[^<]*</interserver_http_port>||" \
      -e "s|<listen_host>::1</listen_host>||" \
      -e "s|<users_config>[^<]*</users_config>|<users_config>$dir/users.xml</users_config>|" \
      /etc/clickhouse-server/config.xml >"$dir/config.xml"
  if [ "$shards" -gt 1 ]; then
    # Each server listens on its own address only (the stock config's
    # listen_host lines are commented out: the default is ::1 and
    # 127.0.0.1), and the cluster goes into its remote_servers.
    sed -i "s|<tcp_port>$tcp_port</tcp_port>|&<listen_host>$host</listen_host>|" "$dir/config.xml"
    local cluster="<roentgen_shards>"
    for j in $(seq 1 "$shards"); do
      cluster+="<shard><replica><host>$(server_host "$j")</host><port>$tcp_port</port></replica></shard>"
    done
    cluster+="</roentgen_shards>"
    # Two clusters Roentgen must refuse, for its tests: a shard of two
    # replicas, and a shard no server answers for.
    cluster+="<roentgen_replicas><shard>"
    for j in $(seq 1 "$shards"); do
      cluster+="<replica><host>$(server_host "$j")</host><port>$tcp_port</port></replica>"
    done
    cluster+="</shard></roentgen_replicas>"
    cluster+="<roentgen_unreachable><shard><replica><host>$(server_host 1)</host><port>$tcp_port</port></replica></shard>"
    cluster+="<shard><replica><host>127.0.0.254</host><port>$tcp_port</port></replica></shard></roentgen_unreachable>"
    sed -i "s|<remote_servers incl=\"clickhouse_remote_servers\" >|&$cluster|" "$dir/config.xml"
    grep -q '<roentgen_shards>' "$dir/config.xml"
  fi
  clickhouse-server --config-file="$dir/config.xml" >"$dir/logs/stdout.log" 2>&1 &
  echo $! >"$dir/pid"
}

# ready waits until server i answers.
ready() {
  local dir url
  dir="$(server_dir "$1")"
  url="http://$(server_host "$1"):$http_port/"
  for _ in $(seq 1 300); do
    if [ "$(curl -fsS --data-binary 'SELECT 1' "$url" 2>/dev/null)" = "1" ]; then
      return 0
    fi
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "clickhouse-server $url did not start; its log:" >&2
  tail -n 30 "$dir/logs/server.err.log" "$dir/logs/stdout.log" >&2 2>/dev/null || true
  return 1
}

running() {
  local i dir
  for i in $(seq 1 "$shards"); do
    dir="$(server_dir "$i")"
    if ! [ -f "$dir/pid" ] || ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then return 1; fi
  done
}

start() {
  install
  local url="http://$(server_host 1):$http_port/"
  if running; then
    echo "$url"
    return
  fi
  rm -rf "$state"
  for i in $(seq 1 "$shards"); do launch "$i"; done
  for i in $(seq 1 "$shards"); do
    if ! ready "$i"; then
      stop
      exit 1
    fi
  done
  echo "$url"
}

stop() {
  local i dir pid
  for i in $(seq 1 "$shards"); do
    dir="$(server_dir "$i")"
    if [ -f "$dir/pid" ]; then
      pid="$(cat "$dir/pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$state"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
