#!/usr/bin/env bash
# A Docker Swarm of N extra engines on this machine, for the swarm backend's tests
# (tests/swarm/). Each node is a dockerd in a network namespace of its own (docs/scale-out.md;
# never in the host's namespace: these daemons run with `--bridge none`), reached from the
# host through its unix socket /run/docker-swI.sock. Needs root, nsenter, ip and iptables.
#
#   bash .ci/swarm.sh up       start the nodes, form the swarm, load the default image
#   bash .ci/swarm.sh status   exit 0 when every node answers and the swarm has them all;
#                              prints `manager URL` and one `engine URL` line per node
#   bash .ci/swarm.sh down     leave the swarm, stop the daemons, remove what `up` made
#
# Idempotent: `up` on a running swarm only checks it; `down` on nothing does nothing.
# What `up` makes: network namespaces swI, veth pairs vswI/eswI (10.213.I.0/24), dockerd
# I with pid file /run/docker-swI/pid, exec root /run/docker-swI/exec, log
# /tmp/dockerd-swI.log, and one iptables rule in DOCKER-USER (comment "jcm-swarm") that
# lets the namespaces talk through the host. `down` removes all of that; it keeps the data
# roots /var/lib/docker-swI (the image's layers: the next `up` loads no image again);
# `down --purge` removes them too.
# Settings (environment): SWARM_NODES (3), SWARM_IMAGE (jupyter-container-manager/node:24).
set -euo pipefail

NODES="${SWARM_NODES:-3}"
IMAGE="${SWARM_IMAGE:-jupyter-container-manager/node:24}"
RULE=(DOCKER-USER -i vsw+ -o vsw+ -m comment --comment jcm-swarm -j ACCEPT)

log() { printf '[swarm] %s\n' "$*" >&2; }
sock() { printf 'unix:///run/docker-sw%s.sock' "$1"; }
dk() { local i=$1; shift; timeout 60 docker -H "$(sock "$i")" "$@"; }
answers() { timeout 5 docker -H "$(sock "$1")" version --format '{{.Server.Version}}' >/dev/null 2>&1; }
daemon_pid() {
  local file="/run/docker-sw$1/pid" pid
  [ -f "$file" ] || return 1
  pid=$(cat "$file" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q dockerd "/proc/$pid/cmdline" 2>/dev/null \
    && printf '%s' "$pid"
}

need_tools() {
  if [ "$(id -u)" != 0 ]; then log "needs root"; exit 2; fi
  for tool in nsenter ip iptables dockerd docker; do
    command -v "$tool" >/dev/null 2>&1 || { log "needs $tool"; exit 2; }
  done
}

network_up() {
  local i=$1
  ip netns list | grep -qw "sw$i" || ip netns add "sw$i"
  if ! ip link show "vsw$i" >/dev/null 2>&1; then
    ip link add "vsw$i" type veth peer name "esw$i"
    ip link set "esw$i" netns "sw$i"
  fi
  ip addr replace "10.213.$i.1/24" dev "vsw$i"
  ip link set "vsw$i" up
  ip netns exec "sw$i" sh -c "ip addr replace 10.213.$i.2/24 dev esw$i && ip link set esw$i up \
    && ip link set lo up && ip route replace default via 10.213.$i.1"
}

daemon_up() {
  local i=$1
  if answers "$i"; then return 0; fi
  if pid=$(daemon_pid "$i"); then return 0; fi  # starting: wait_daemons waits for it
  mkdir -p "/run/docker-sw$i/exec"
  rm -f "/run/docker-sw$i/pid" "/run/docker-sw$i.sock"
  # A daemon that was killed leaves its containerd's pid file; once that pid is another
  # process's, the new daemon waits for a containerd that is not there.
  local cpid="/run/docker-sw$i/exec/containerd/containerd.pid"
  if [ -f "$cpid" ] && ! grep -qs "docker-sw$i/exec/containerd" "/proc/$(cat "$cpid")/cmdline"; then
    rm -f "$cpid"
  fi
  # nsenter, not `ip netns exec`: that one remounts /sys and hides the cgroup mounts.
  # --no-new-privileges: a swarm service spec cannot ask for it (docs/scale-out.md).
  nsenter --net="/var/run/netns/sw$i" setsid dockerd --data-root "/var/lib/docker-sw$i" \
    --exec-root "/run/docker-sw$i/exec" --pidfile "/run/docker-sw$i/pid" -H "$(sock "$i")" \
    --bridge none --iptables=false --ip6tables=false --no-new-privileges \
    --containerd-namespace "sw$i" --containerd-plugins-namespace "sw${i}p" \
    >"/tmp/dockerd-sw$i.log" 2>&1 </dev/null &
}

wait_daemons() {
  local i
  for i in $(seq 1 "$NODES"); do
    for _ in $(seq 1 120); do answers "$i" && break; sleep 0.25; done
    if ! answers "$i"; then
      log "node $i did not answer within 30 s; last lines of /tmp/dockerd-sw$i.log:"
      tail -n 20 "/tmp/dockerd-sw$i.log" >&2 || true
      exit 1
    fi
  done
}

state() { dk "$1" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }

ready_nodes() {
  dk 1 node ls --format '{{.Status}} {{.Availability}}' 2>/dev/null | grep -c '^Ready Active' || true
}

swarm_up() {
  local i token
  if [ "$(state 1)" != active ] || [ "$(dk 1 info --format '{{.Swarm.ControlAvailable}}')" != true ]; then
    dk 1 swarm leave --force >/dev/null 2>&1 || true
    dk 1 swarm init --advertise-addr 10.213.1.2 >/dev/null
  fi
  token=$(dk 1 swarm join-token -q worker)
  # Nodes of an earlier swarm that are down (their daemons came back with a new id).
  for id in $(dk 1 node ls --filter role=worker --format '{{.ID}} {{.Status}}' | awk '$2 != "Ready" {print $1}'); do
    dk 1 node rm --force "$id" >/dev/null 2>&1 || true
  done
  local managed
  managed=$(dk 1 node ls --format '{{.ID}}')
  for i in $(seq 2 "$NODES"); do
    local id
    id=$(dk "$i" info --format '{{.Swarm.NodeID}}' 2>/dev/null || true)
    if [ "$(state "$i")" = active ] && [ -n "$id" ] && grep -qx "$id" <<<"$managed"; then
      continue
    fi
    dk "$i" swarm leave --force >/dev/null 2>&1 || true
    dk "$i" swarm join --token "$token" 10.213.1.2:2377 >/dev/null
  done
  for _ in $(seq 1 120); do
    [ "$(ready_nodes)" -ge "$NODES" ] && return 0
    sleep 0.25
  done
  log "the swarm has $(ready_nodes) of $NODES nodes ready"
  dk 1 node ls >&2 || true
  exit 1
}

image_up() {
  local want i tar="" pids=()
  want=$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null) || {
    log "$IMAGE is not on the host's engine (bash .ci/image.sh builds it)"; exit 1; }
  for i in $(seq 1 "$NODES"); do
    if [ "$(dk "$i" image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null)" = "$want" ]; then
      continue
    fi
    if [ -z "$tar" ]; then
      tar=$(mktemp /tmp/jcm-swarm-image.XXXXXX)
      docker save -o "$tar" "$IMAGE"
    fi
    log "loading $IMAGE on node $i"
    dk "$i" load -q -i "$tar" >/dev/null &
    pids+=($!)
  done
  local failed=0
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ -z "$tar" ] || rm -f "$tar"
  [ "$failed" = 0 ] || { log "loading the image failed"; exit 1; }
}

print_engines() {
  printf 'manager %s\n' "$(sock 1)"
  for i in $(seq 1 "$NODES"); do printf 'engine %s\n' "$(sock "$i")"; done
}

up() {
  need_tools
  local i
  sysctl -qw net.ipv4.ip_forward=1
  iptables -C "${RULE[@]}" 2>/dev/null || iptables -I "${RULE[@]}"
  for i in $(seq 1 "$NODES"); do network_up "$i"; daemon_up "$i"; done
  wait_daemons
  swarm_up
  image_up
  print_engines
}

status() {
  local i
  for i in $(seq 1 "$NODES"); do
    answers "$i" || { log "node $i does not answer"; exit 1; }
  done
  [ "$(ready_nodes)" -ge "$NODES" ] || { log "the swarm has $(ready_nodes) of $NODES nodes ready"; exit 1; }
  print_engines
}

down() {
  need_tools
  local i pid
  # Every node that ever came up, even beyond SWARM_NODES.
  local nodes
  nodes=$(ls -d /run/docker-sw[0-9]* 2>/dev/null | sed 's/.*docker-sw//; s/\.sock$//' | sort -un || true)
  nodes=$(printf '%s\n' $nodes $(ip netns list | awk '{print $1}' | sed -n 's/^sw\([0-9]\+\)$/\1/p') | sort -un)
  for i in $nodes; do
    answers "$i" && { timeout 20 docker -H "$(sock "$i")" swarm leave --force >/dev/null 2>&1 || true; }
  done
  for i in $nodes; do
    if pid=$(daemon_pid "$i"); then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for i in $nodes; do
    for _ in $(seq 1 60); do daemon_pid "$i" >/dev/null || break; sleep 0.25; done
    if pid=$(daemon_pid "$i"); then log "node $i: dockerd $pid did not stop; SIGKILL"; kill -KILL "$pid" || true; fi
    # The daemon's network sandboxes (swarm's ingress) stay bind-mounted under its exec root.
    awk -v root="/run/docker-sw$i/" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r |
      while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
    rm -rf "/run/docker-sw$i" "/run/docker-sw$i.sock" 2>/dev/null ||
      log "node $i: could not remove all of /run/docker-sw$i"
    ip link del "vsw$i" 2>/dev/null || true
    ip netns del "sw$i" 2>/dev/null || true
    if [ "${1:-}" = --purge ]; then rm -rf "/var/lib/docker-sw$i"; fi
  done
  while iptables -C "${RULE[@]}" 2>/dev/null; do iptables -D "${RULE[@]}"; done
  log "down"
}

case "${1:-}" in
  up) up ;;
  status) status ;;
  down) shift; down "$@" ;;
  *) echo "usage: $0 up|status|down [--purge]" >&2; exit 2 ;;
esac
