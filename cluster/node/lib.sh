# Helpers of node/up.sh and node/ingress-up.sh (sourced after cluster/lib.sh; expects HERE).
nlog() { printf '[node %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The @VAR@ placeholders of the node's templates (Corefile, kubelet.yaml, ingress.yaml, ...).
CA_CRT="${CLUSTER_DIR}/pki/ca.crt"
VARS=(NODE_DIR NODE_NAME NODE_IP NODE_BRIDGE POD_BRIDGE POD_CIDR POD_GW SERVICE_CIDR KWOK_POD_CIDR
  NFT_TABLE CGROUP_ROOT CONTAINERD_ROOT CONTAINERD_SOCK PROXY_MODE PAUSE_IMAGE DNS_HEALTH_PORT
  DNS_READY_PORT CA_CRT)
render() { # render TEMPLATE OUT: replace every @VAR@ of VARS
  local expr=() v
  for v in "${VARS[@]}"; do expr+=(-e "s#@${v}@#${!v}#g"); done
  sed "${expr[@]}" "$1" >"$2"
  if grep -q '@[A-Z_]*@' "$2"; then nlog "unfilled placeholder in $2: $(grep -o '@[A-Z_]*@' "$2" | head -1)"; exit 1; fi
}

start() { # start NAME CMD...: a process of its own session, pid in pids/NAME.pid
  local name="$1" pid i exe; shift
  setsid "$@" </dev/null >"${NODE_DIR}/logs/${name}.log" 2>&1 3>&- 4>&- &
  pid=$!
  echo "${pid}" >"${NODE_DIR}/pids/${name}.pid"
  # The pid runs this shell, then setsid, maybe env, then CMD: until CMD's exec is done its command
  # line is a launcher's (or, inside execve, empty), and pid_alive would take it for gone. So wait
  # until the pid runs something other than a launcher and its command line names NAME, or it ended.
  for i in $(seq 1 250); do
    exe="$(readlink "/proc/${pid}/exe" 2>/dev/null)" || return 0 # exited (a zombie has no exe)
    if [[ " ${LAUNCHERS[*]} " != *" ${exe} "* ]] && pid_alive "${pid}" "${name}"; then return 0; fi
    sleep 0.02
  done
  nlog "${name} (pid ${pid}) still runs ${exe} after 5 s"
  exit 1
}
LAUNCHERS=("$(readlink /proc/$$/exe)" "$(readlink -f "$(command -v setsid)")" "$(readlink -f "$(command -v env)")")
alive_or_die() { # alive_or_die NAME
  local pid status
  pid="$(cat "${NODE_DIR}/pids/$1.pid")"
  pid_alive "${pid}" "$1" && return 0
  # Our own child: its exit status (128 + N for signal N); another shell's: unknown.
  wait "${pid}" 2>/dev/null && status=0 || status=$?
  nlog "$1 (pid ${pid}) exited with status $([[ ${status} == 127 ]] && echo unknown || echo "${status}"):"
  tail -n 20 "${NODE_DIR}/logs/$1.log" >&2
  exit 1
}
wait_for() { # wait_for NAME SECONDS WHAT CMD...: poll CMD every 0.2 s while process NAME lives
  local name="$1" tries=$(($2 * 5)) what="$3" i; shift 3
  for ((i = 1; ; i++)); do
    "$@" && return 0
    alive_or_die "${name}"
    ((i < tries)) || { nlog "${what} after $((tries / 5)) s"; tail -n 20 "${NODE_DIR}/logs/${name}.log" >&2; exit 1; }
    sleep 0.2
  done
}
url_ok() { curl -sf --max-time 1 "$1" >/dev/null; }

kubeconfig_for() { # kubeconfig_for FILE CN [O]: a client certificate signed by the cluster CA
  local key="${NODE_DIR}/pki/$(basename "$1").key" crt="${NODE_DIR}/pki/$(basename "$1").crt" subj="/CN=$2" server
  [[ -n "${3:-}" ]] && subj+="/O=$3"
  server="$(kc config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
  openssl req -new -newkey rsa:2048 -nodes -keyout "${key}" -subj "${subj}" 2>/dev/null |
    openssl x509 -req -CA "${CA_CRT}" -CAkey "${CLUSTER_DIR}/pki/ca.key" -CAcreateserial \
      -days 7 -out "${crt}" 2>/dev/null
  KUBECONFIG="$1" kubectl config set-cluster local --server="${server}" --certificate-authority="${CA_CRT}" --embed-certs >/dev/null
  KUBECONFIG="$1" kubectl config set-credentials "$2" --client-certificate="${crt}" --client-key="${key}" --embed-certs >/dev/null
  KUBECONFIG="$1" kubectl config set-context local --cluster=local --user="$2" >/dev/null
  KUBECONFIG="$1" kubectl config use-context local >/dev/null
}
