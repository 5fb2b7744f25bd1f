#!/usr/bin/env bash
# Starts N namespace "hosts" on this machine, each with its own hostname,
# address and gexecd (mTLS on ADDRESS:7443), for trying fleet mode out and
# for the benchmark (bench/fleet.sh). Needs root (ip netns, unshare).
#
#   deploy/fleet-hosts.sh start N [--dir DIR] [--prefix P] [--sshd]
#   deploy/fleet-hosts.sh stop [--dir DIR]
#   deploy/fleet-hosts.sh env [--dir DIR]     print the environment again
#
# Layout (P = --prefix, default gxf; DIR default /tmp/gexec-fleet):
#   network namespace P-c: the client's side, bridge br0, 10.214.0.254/16;
#     its /etc/hosts (ip netns exec binds /etc/netns/P-c/hosts) names
#     every host, so `ip netns exec P-c gexec run -w 'node[001-N]'` works;
#   host i (1..N): network namespace P-nodeI and its own UTS namespace,
#     hostname nodeI (zero-padded to 3 digits, or more for N > 999),
#     eth0 = 10.214.(1 + (i-1)/250).(1 + (i-1)%250)/16 (node001 =
#     10.214.1.1, node250 = 10.214.1.250, node251 = 10.214.2.1), a gexecd
#     listening on that address, port 7443 only (--instance P-nodeI: its
#     own lock and cgroup subtree), --tls-cert DIR/nodeI/server.pem
#     (CN and DNS SAN nodeI, IP SAN its address), --tls-client-ca
#     DIR/ca.pem, --policy DIR/policy.json (the client CN
#     gexec-fleet-client may run anything and read facts);
#   DIR/client.{pem,key}: the client certificate; DIR/hosts (name and
#     address per line), DIR/nodes (one name per line: pdsh -w ^FILE);
#     DIR/env: the exports printed at the end; DIR/nodeI/gexecd.log.
# With --sshd each host also runs sshd on ADDRESS:22 (its own host key,
# UsePAM no, MaxStartups 256) for the user gxfleet (made once, shell
# /bin/sh with no start-up files, key login with DIR/ssh/id_ed25519);
# DIR/ssh/config is the client configuration (ssh -F).
#
# start first stops what an earlier start with the same DIR left; a
# failed start removes what it made. stop removes the namespaces, every
# process in them, /etc/netns/P-c and DIR (only a DIR this script made).
# Binaries: $GEXECD / $GEXEC if set, else bazel-bin/server/gexecd and
# bazel-bin/client/cli/gexec of this checkout (gexec-launch is found
# beside gexecd), else `bazel info bazel-bin`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd /
PORT=7443
CLIENT_CN=gexec-fleet-client
SSH_USER=gxfleet
MARK=.gexec-fleet-hosts

die() { echo "fleet-hosts: $*" >&2; exit 2; }
say() { echo "fleet-hosts: $*" >&2; }

# ------------------------------------------------------------- binaries

find_bins() {
  local bin="$ROOT/bazel-bin"
  if [[ -z "${GEXECD:-}" || -z "${GEXEC:-}" ]] && [[ ! -x "$bin/server/gexecd" ]]; then
    bin=$(cd "$ROOT" && bazel info bazel-bin 2>/dev/null) || bin=""
  fi
  GEXECD=${GEXECD:-$bin/server/gexecd}
  GEXEC=${GEXEC:-$bin/client/cli/gexec}
  [[ -x "$GEXECD" ]] || die "no gexecd at $GEXECD: bazel build //server:gexecd //client/cli:gexec (or set GEXECD)"
  [[ -x "$GEXEC" ]] || die "no gexec at $GEXEC (set GEXEC)"
}

# ---------------------------------------------------------------- names

# addr I: host I's address
addr() { echo "10.214.$((1 + ($1 - 1) / 250)).$((1 + ($1 - 1) % 250))"; }
# name I: host I's hostname (width W, set by start)
name() { printf 'node%0*d' "$W" "$1"; }

load_state() {
  # shellcheck disable=SC1091
  [[ -f "$DIR/$MARK" ]] && . "$DIR/$MARK"
  return 0
}

# ---------------------------------------------------------------- stop

# kill_ns NS...: TERM then KILL every process in those namespaces
kill_ns() {
  local ns pids left t
  pids=$(for ns in "$@"; do ip netns pids "$ns" 2>/dev/null || true; done)
  [[ -z "$pids" ]] && return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for t in $(seq 1 50); do
    left=""
    for p in $pids; do [[ -d /proc/$p ]] && left="$left $p"; done
    [[ -z "$left" ]] && return 0
    [[ $t -eq 50 ]] || sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $left 2>/dev/null || true
}

# do_stop: runs in a subshell (load_state sets the stopped run's names)
do_stop() (
  local P_OLD
  P=""
  load_state
  P_OLD=$P
  if [[ -z "$P_OLD" ]]; then
    [[ -e "$DIR" ]] && say "$DIR was not made by this script; left alone"
    return 0
  fi
  local nss
  nss=$(ip netns list | awk '{print $1}' | grep -E "^$P_OLD-(c|node[0-9]+)\$" || true)
  # shellcheck disable=SC2086
  [[ -n "$nss" ]] && kill_ns $nss
  # shellcheck disable=SC2086
  [[ -n "$nss" ]] && printf 'netns del %s\n' $nss | ip -force -b - 2>/dev/null || true
  rm -rf "/etc/netns/$P_OLD-c"
  rm -rf "$DIR"
  say "stopped $P_OLD ($DIR)"
)

# --------------------------------------------------------------- start

write_policy() {
  cat > "$DIR/policy.json" <<EOF
{"rules": [
  {"name": "fleet-client", "match": {"cn": "$CLIENT_CN"},
   "allow": {"facts": true}}
]}
EOF
}

make_net() {
  local i C=$P-c
  {
    echo "netns add $C"
    for i in $(seq 1 "$N"); do echo "netns add $P-$(name "$i")"; done
  } | ip -b -
  ip -n "$C" link set lo up
  ip -n "$C" link add br0 type bridge
  ip -n "$C" addr add 10.214.0.254/16 dev br0
  ip -n "$C" link set br0 up
  for i in $(seq 1 "$N"); do
    echo "link add eth0 netns $P-$(name "$i") type veth peer name v$i netns $C"
  done | ip -b -
  for i in $(seq 1 "$N"); do
    echo "link set v$i master br0"
    echo "link set v$i up"
  done | ip -n "$C" -b -
  mkdir -p "/etc/netns/$C"
  { printf '127.0.0.1\tlocalhost\n'; cat "$DIR/hosts"; } > "/etc/netns/$C/hosts"
}

setup_sshd_user() {
  id "$SSH_USER" >/dev/null 2>&1 ||
    useradd -M -d /nonexistent -s /bin/sh "$SSH_USER"
  usermod -p '*' "$SSH_USER"
  mkdir -p "$DIR/ssh" /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$DIR/ssh/id_ed25519"
  cp "$DIR/ssh/id_ed25519.pub" "$DIR/ssh/authorized_keys"
  chmod 755 "$DIR" "$DIR/ssh"
  chmod 644 "$DIR/ssh/authorized_keys"
  cat > "$DIR/ssh/config" <<EOF
Host *
  User $SSH_USER
  IdentityFile $DIR/ssh/id_ed25519
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  BatchMode yes
EOF
}

# host_files I: host I's sshd configuration and start-up script
host_files() {
  local i=$1 h ip d
  h=$(name "$i") ip=$(addr "$i") d="$DIR/$(name "$i")"
  if [[ $SSHD -eq 1 ]]; then
    ssh-keygen -q -t ed25519 -N '' -f "$d/ssh_host_ed25519_key"
    cat > "$d/sshd_config" <<EOF
ListenAddress $ip:22
HostKey $d/ssh_host_ed25519_key
PidFile $d/sshd.pid
UsePAM no
MaxStartups 256
MaxSessions 64
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile $DIR/ssh/authorized_keys
StrictModes no
PrintMotd no
UseDNS no
AcceptEnv none
Subsystem sftp internal-sftp
EOF
  fi
  cp "$DIR/policy.json" "$d/policy.json"
  cat > "$d/start.sh" <<EOF
# host $h (run by: setsid ip netns exec $P-$h unshare -u sh start.sh);
# may run again to restart the daemon
ip link set lo up
ip addr replace $ip/16 dev eth0
ip link set eth0 up
hostname $h
$CGROUP_MOUNTS
$([[ $SSHD -eq 1 ]] && echo "/usr/sbin/sshd -f $d/sshd_config")
exec "$GEXECD" --listen $ip:$PORT --instance $P-$h \\
  --tls-cert $d/server.pem --tls-key $d/server.key \\
  --tls-client-ca $DIR/ca.pem --policy $d/policy.json
EOF
}

# cgroup_mounts: commands that mount this host's cgroup hierarchies again
# inside `ip netns exec`, which mounts a fresh /sys (hiding them): each
# daemon then has cgroups, all in the one shared hierarchy, as on a host
cgroup_mounts() {
  awk '$2 ~ /^\/sys\/fs\/cgroup/ && $3 ~ /^(tmpfs|cgroup|cgroup2)$/ {
         print "mkdir -p " $2 " && mount -t " $3 " -o " $4 " " $1 " " $2 }' \
    /proc/self/mounts
}

start_hosts() {
  local i h
  CGROUP_MOUNTS=$(cgroup_mounts)
  for i in $(seq 1 "$N"); do host_files "$i" & done
  wait
  phase "host files"
  for i in $(seq 1 "$N"); do
    h=$(name "$i")
    setsid ip netns exec "$P-$h" unshare -u sh "$DIR/$h/start.sh" \
      </dev/null >"$DIR/$h/gexecd.log" 2>&1 &
    echo $! > "$DIR/$h/gexecd.pid"
  done
  return 0
}

wait_ready() {
  local i h pending deadline=$((SECONDS + 60))
  pending=$(seq 1 "$N")
  while [[ -n "$pending" ]]; do
    local still=""
    for i in $pending; do
      h=$(name "$i")
      if grep -q '"listening"' "$DIR/$h/gexecd.log" 2>/dev/null; then
        [[ $SSHD -eq 0 || -s "$DIR/$h/sshd.pid" ]] || still="$still $i"
      elif ! kill -0 "$(cat "$DIR/$h/gexecd.pid")" 2>/dev/null; then
        say "$h: gexecd exited; its log:"; tail -n 5 "$DIR/$h/gexecd.log" >&2
        return 1
      else
        still="$still $i"
      fi
    done
    pending=$still
    [[ -z "$pending" ]] && break
    ((SECONDS < deadline)) || { say "not listening after 60 s:$pending"; return 1; }
    sleep 0.05
  done
}

write_env() {
  cat > "$DIR/env" <<EOF
export GEXEC_CA=$DIR/ca.pem
export GEXEC_CERT=$DIR/client.pem
export GEXEC_KEY=$DIR/client.key
export GEXEC_FLEET_NETNS=$P-c
export GEXEC_FLEET_NODES='node[$(name 1 | sed 's/node//')-$(name "$N" | sed 's/node//')]'
EOF
  [[ $SSHD -eq 1 ]] && echo "export GEXEC_FLEET_SSH_CONFIG=$DIR/ssh/config" >> "$DIR/env"
  return 0
}

print_env() {
  load_state
  [[ -n "${P:-}" ]] || die "nothing started in $DIR"
  cat "$DIR/env"
  # shellcheck disable=SC1091
  . "$DIR/env"
  cat <<EOF

# $N hosts; try (as root):
#   . $DIR/env
#   ip netns exec $P-c $GEXEC run -H node001:$PORT -- uname -n
#   ip netns exec $P-c $GEXEC run -w '$GEXEC_FLEET_NODES' -- uname -n
# addresses and names: $DIR/hosts; stop: $0 stop --dir $DIR
EOF
}

T0=$(date +%s%N)
# phase WHAT: with FLEET_HOSTS_TIMING=1, the time since start on stderr
phase() {
  [[ -n "${FLEET_HOSTS_TIMING:-}" ]] &&
    say "$(( ($(date +%s%N) - T0) / 1000000 )) ms: $1"
  return 0
}

do_start() {
  [[ "$N" =~ ^[0-9]+$ ]] && ((N >= 1 && N <= 60000)) || die "N must be 1..60000"
  W=$(( ${#N} > 3 ? ${#N} : 3 ))
  find_bins
  do_stop
  local t0=$SECONDS
  mkdir -p "$DIR"
  printf 'P=%s\nN=%s\nW=%s\nSSHD=%s\nGEXECD=%s\nGEXEC=%s\n' "$P" "$N" "$W" \
    "$SSHD" "$GEXECD" "$GEXEC" > "$DIR/$MARK"
  STARTING=1
  trap 'exit 130' INT TERM
  trap 'if [[ $STARTING -eq 1 ]]; then say "start failed; cleaning up"; do_stop; fi' EXIT
  local i
  for i in $(seq 1 "$N"); do printf '%s\t%s\n' "$(addr "$i")" "$(name "$i")"; done > "$DIR/hosts"
  awk '{print $2}' "$DIR/hosts" > "$DIR/nodes"
  write_policy
  sh "$ROOT/deploy/fleet-certs.sh" ca "$DIR" ca "gexec fleet CA"
  sh "$ROOT/deploy/fleet-certs.sh" client "$DIR" ca client "$CLIENT_CN"
  # shellcheck disable=SC2046
  sh "$ROOT/deploy/fleet-certs.sh" servers "$DIR" ca \
    $(awk '{print $2 ":" $1}' "$DIR/hosts")
  [[ $SSHD -eq 1 ]] && setup_sshd_user
  phase certs
  make_net
  phase network
  start_hosts
  phase "daemons launched"
  wait_ready
  phase "daemons listening"
  write_env
  STARTING=0
  say "$N hosts up in $((SECONDS - t0)) s"
  print_env
}

# ---------------------------------------------------------------- main

[[ $(id -u) -eq 0 ]] || die "needs root (ip netns)"
CMD=${1:-}
[[ -n "$CMD" ]] && shift
N=""
DIR=/tmp/gexec-fleet
P=gxf
SSHD=0
if [[ "$CMD" == start ]]; then
  N=${1:-}
  [[ -n "$N" ]] && shift
fi
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) DIR=${2:?--dir needs a value}; shift 2 ;;
    --prefix) P=${2:?--prefix needs a value}; shift 2 ;;
    --sshd) SSHD=1; shift ;;
    *) die "unknown argument '$1'" ;;
  esac
done
[[ "$P" =~ ^[a-z][a-z0-9]{0,5}$ ]] || die "--prefix: 1..6 of [a-z0-9], a letter first"
DIR=$(realpath -m "$DIR")
case "$CMD" in
  start) do_start ;;
  stop) do_stop ;;
  env) P=""; print_env ;;
  *) die "usage: $0 start N [--dir DIR] [--prefix P] [--sshd] | stop [--dir DIR] | env [--dir DIR]" ;;
esac
