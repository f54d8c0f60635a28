#!/usr/bin/env bash
# A private ClickHouse server for tests: `scripts/clickhouse.sh start` runs
# Debian's clickhouse-server (installing it if missing) from a copy of its
# config with every path in a temporary directory, listening on 127.0.0.1
# only, waits until it answers and prints its HTTP URL;
# `scripts/clickhouse.sh stop` stops it and removes the directory.
# Ports: CLICKHOUSE_HTTP_PORT (18123), CLICKHOUSE_TCP_PORT (19000).
set -euo pipefail

http_port="${CLICKHOUSE_HTTP_PORT:-18123}"
tcp_port="${CLICKHOUSE_TCP_PORT:-19000}"
state="${CLICKHOUSE_STATE:-/tmp/roentgen-clickhouse-$http_port}"
url="http://127.0.0.1:$http_port/"

start() {
  if ! command -v clickhouse-server >/dev/null; then
    echo "== installing clickhouse-server" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clickhouse-server clickhouse-client >&2
  fi
  if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
    echo "$url"
    return
  fi
  rm -rf "$state"
  mkdir -p "$state"/{data,tmp,logs,user_files,format_schemas}
  cp /etc/clickhouse-server/users.xml "$state/users.xml"
  # The stock config with its paths, ports and listen hosts replaced; the
  # interserver port (replication only) and the graphite exporters are cut.
  sed -e "s|<path>/var/lib/clickhouse/</path>|<path>$state/data/</path>|" \
      -e "s|<tmp_path>[^<]*</tmp_path>|<tmp_path>$state/tmp/</tmp_path>|" \
      -e "s|<user_files_path>[^<]*</user_files_path>|<user_files_path>$state/user_files/</user_files_path>|" \
      -e "s|<format_schema_path>[^<]*</format_schema_path>|<format_schema_path>$state/format_schemas/</format_schema_path>|" \
      -e "s|<log>[^<]*</log>|<log>$state/logs/server.log</log>|" \
      -e "s|<errorlog>[^<]*</errorlog>|<errorlog>$state/logs/server.err.log</errorlog>|" \
      -e "s|<http_port>[^<]*</http_port>|<http_port>$http_port</http_port>|" \
      -e "s|<tcp_port>[^<]*</tcp_port>|<tcp_port>$tcp_port</tcp_port>|" \
      -e "s|<interserver_http_port>[^<]*</interserver_http_port>||" \
      -e "s|<listen_host>::1</listen_host>||" \
      -e "s|<users_config>[^<]*</users_config>|<users_config>$state/users.xml</users_config>|" \
      /etc/clickhouse-server/config.xml >"$state/config.xml"
  clickhouse-server --config-file="$state/config.xml" >"$state/logs/stdout.log" 2>&1 &
  echo $! >"$state/pid"
  for _ in $(seq 1 300); do
    if [ "$(curl -fsS --data-binary 'SELECT 1' "$url" 2>/dev/null)" = "1" ]; then
      echo "$url"
      return
    fi
    if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "clickhouse-server did not start; its log:" >&2
  tail -n 30 "$state/logs/server.err.log" "$state/logs/stdout.log" >&2 2>/dev/null || true
  stop
  exit 1
}

stop() {
  if [ -f "$state/pid" ]; then
    pid="$(cat "$state/pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$state"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
