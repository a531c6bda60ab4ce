#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine: install Debian's docker.io when no
# engine is installed, start dockerd when no socket answers, then wait for it. Idempotent.
set -euo pipefail

log() { printf '[engine] %s\n' "$*" >&2; }

if docker info >/dev/null 2>&1; then
  log "a Docker engine already answers"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  log "no dockerd: installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

log "starting dockerd (log: /tmp/dockerd.log)"
# A killed daemon leaves its pid file and socket behind; a new dockerd starts over the
# socket, but refuses to start while a stale pid file names a live process of another kind.
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  rm -f /var/run/docker.pid
fi
setsid dockerd >/tmp/dockerd.log 2>&1 < /dev/null &

for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then
    log "engine is up"
    exit 0
  fi
  sleep 0.5
done
log "dockerd did not answer within 60 s; last lines of /tmp/dockerd.log:"
tail -n 20 /tmp/dockerd.log >&2 || true
exit 1
