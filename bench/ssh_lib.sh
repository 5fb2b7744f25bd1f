# shellcheck shell=bash
# Sourced by bench/cli.sh and bench/tls.sh (not run on its own): a private
# sshd on 127.0.0.1 for a throwaway user, an open ControlMaster connection
# to it, and the clean-up. The caller sets TMP (a fresh mktemp -d; sun_path
# holds 107 bytes, so keep it short), optionally SSH_CIPHER (e.g.
# aes128-gcm@openssh.com: the master and every client use it), and calls
# stop_ssh from its exit trap. setup_ssh prints the set-up commands as run,
# in a Markdown code block, and sets:
#   SSH_OPTS   ssh's options for a fresh connection (no ControlMaster):
#              -F /dev/null -p PORT -i KEY ... [-c SSH_CIPHER]
#   SSH_DEST   USER@127.0.0.1
#   SSH_PORT   sshd's port
#   SSH_CM     the ControlPath of the open master connection

SSHD_PID=
SSH_USER=
MADE_RUN_SSHD=0

stop_ssh() {
  if [ -S "$TMP/ssh/cm" ]; then # the master
    ssh -F /dev/null -o ControlPath="$TMP/ssh/cm" -O exit x 2>/dev/null || true
  fi
  if [ -n "$SSHD_PID" ]; then
    kill -TERM "$SSHD_PID" 2>/dev/null || true
    wait "$SSHD_PID" 2>/dev/null || true
    SSHD_PID=
  fi
  if [ -n "$SSH_USER" ]; then
    # The user's session processes end with the master; any left are ours.
    local i pids
    for i in $(seq 1 20); do
      pids=$(pgrep -u "$SSH_USER" || true)
      [ -z "$pids" ] && break
      # shellcheck disable=SC2086 # $pids: one word per process
      [ "$i" -lt 10 ] || kill -KILL $pids 2>/dev/null || true
      sleep 0.1
    done
    userdel -r "$SSH_USER" 2>/dev/null || userdel -r -f "$SSH_USER" || true
    SSH_USER=
  fi
  if [ "$MADE_RUN_SSHD" = 1 ]; then
    rmdir /run/sshd 2>/dev/null || true
  fi
}

# Prints a command, quoted for a shell, indented.
show() {
  local c
  c=$(printf '%q ' "$@")
  echo "    ${c% }"
}

# Prints a command as it runs it (the set-up commands go into the docs).
step() {
  show "$@"
  "$@"
}

# The same, with the command's own output on stderr.
step_quiet() {
  show "$@"
  "$@" >&2
}

# A free TCP port on 127.0.0.1 (free when asked; sshd takes it next).
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0));
print(s.getsockname()[1])'
}

# Starts a private sshd for a throwaway user and opens a ControlMaster
# connection to it. Sets SSH_OPTS, SSH_DEST and SSH_CM (see the top).
setup_ssh() {
  local d=$TMP/ssh port home
  mkdir -m 700 "$d"
  echo
  echo "ssh set-up, as run (as root; $TMP from mktemp -d):"
  echo
  echo '```sh'
  if [ ! -x /usr/sbin/sshd ]; then
    step_quiet apt-get update -qq
    step_quiet apt-get install -y -qq --no-install-recommends openssh-server
  fi
  if [ ! -d /run/sshd ]; then # sshd's privilege separation directory
    step mkdir -m 755 /run/sshd
    MADE_RUN_SSHD=1
  fi
  SSH_USER=gxb$$
  step useradd -m -s /bin/sh "$SSH_USER"
  step usermod -p '*' "$SSH_USER" # no password, but not locked: keys work
  home=$(getent passwd "$SSH_USER" | cut -d: -f6)
  step ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
  step ssh-keygen -q -t ed25519 -N '' -f "$d/client_key"
  step install -d -m 700 -o "$SSH_USER" -g "$SSH_USER" "$home/.ssh"
  step install -m 600 -o "$SSH_USER" -g "$SSH_USER" "$d/client_key.pub" \
    "$home/.ssh/authorized_keys"
  port=$(free_port)
  cat >"$d/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $d/host_key
PidFile $d/sshd.pid
UsePAM no
AllowUsers $SSH_USER
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes yes
MaxStartups 256
MaxSessions 256
PrintMotd no
PrintLastLog no
UseDNS no
LogLevel ERROR
EOF
  echo "    cat >$d/sshd_config <<EOF"
  sed "s/^/    /" "$d/sshd_config"
  echo "    EOF"
  step /usr/sbin/sshd -t -f "$d/sshd_config"
  echo "    /usr/sbin/sshd -f $d/sshd_config -D -e &"
  /usr/sbin/sshd -f "$d/sshd_config" -D -e 2>"$d/sshd.log" &
  SSHD_PID=$!
  echo "    echo \"[127.0.0.1]:$port \$(cut -d' ' -f1-2 $d/host_key.pub)\"" \
    ">$d/known_hosts"
  echo "[127.0.0.1]:$port $(cut -d' ' -f1-2 "$d/host_key.pub")" \
    >"$d/known_hosts"
  SSH_OPTS=(-F /dev/null -p "$port" -i "$d/client_key"
    -o IdentitiesOnly=yes -o BatchMode=yes
    -o UserKnownHostsFile="$d/known_hosts" -o StrictHostKeyChecking=yes)
  [ -z "${SSH_CIPHER:-}" ] || SSH_OPTS+=(-c "$SSH_CIPHER")
  SSH_DEST=$SSH_USER@127.0.0.1
  # shellcheck disable=SC2034 # for the caller
  SSH_PORT=$port
  SSH_CM=$d/cm
  local master=("${SSH_OPTS[@]}" -o ControlPath="$SSH_CM"
    -o ControlMaster=yes -o ControlPersist=yes -fN "$SSH_DEST")
  local ok=0
  for _ in $(seq 1 50); do # sshd binds after it started
    if ssh "${master[@]}" 2>"$d/master.err"; then
      ok=1
      break
    fi
    sleep 0.1
  done
  echo "    ssh ${master[*]}"
  echo '```'
  if [ "$ok" != 1 ]; then
    echo "ssh_lib.sh: cannot open the ssh master:" >&2
    cat "$d/master.err" "$d/sshd.log" >&2
    return 1
  fi
  if ! ssh -F /dev/null -o ControlPath="$SSH_CM" -O check "$SSH_DEST" \
    2>/dev/null; then
    echo "ssh_lib.sh: the ssh master is not up" >&2
    return 1
  fi
}
