#!/usr/bin/env bash
# A single-node SLURM on this machine (slurmctld + slurmd + munge), for the tests of
# `ensemble run --cluster slurm` and for trying the HPC path on a laptop.
#
#   cluster/slurm_local.sh start   # install (Debian/Ubuntu: slurm-wlm, munge) if needed, configure, start
#   cluster/slurm_local.sh stop    # stop the daemons
#
# Needs root. Idempotent: a second `start` leaves running daemons alone. The node is
# this machine's own short hostname with all its CPUs, in one partition "debug".
set -euo pipefail

action=${1:-start}
conf=/etc/slurm/slurm.conf

stop() {
  pkill -x slurmd 2>/dev/null || true
  pkill -x slurmctld 2>/dev/null || true
  for _ in $(seq 1 50); do pgrep -x 'slurmd|slurmctld' >/dev/null || return 0; sleep 0.1; done
}

install() {
  command -v slurmctld >/dev/null && command -v munged >/dev/null && return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null; }
}

start_munge() {
  mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
      || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
  fi
  chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
  chmod 0700 /etc/munge && chmod 0400 /etc/munge/munge.key
  pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
}

configure() {
  local host cpus mem
  host=$(hostname -s)
  cpus=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)  # nproc obeys OMP_NUM_THREADS: not the machine's count
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
  mkdir -p /etc/slurm /var/lib/slurm/slurmd /var/lib/slurm/slurmctld /var/log/slurm
  cat > "$conf" <<EOF
# written by cluster/slurm_local.sh
ClusterName=ensemble-local
SlurmctldHost=${host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/lib/slurm/slurmd
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=${host} CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  [ "$(id -u)" = 0 ] || { echo "slurm_local.sh: needs root (it installs packages and starts daemons)" >&2; exit 1; }
  install
  start_munge
  configure
  pgrep -x slurmctld >/dev/null || slurmctld
  pgrep -x slurmd >/dev/null || slurmd
  local host state
  host=$(hostname -s)
  for _ in $(seq 1 100); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
    case "$state" in idle* | mixed* | allocated*) sinfo; return 0 ;; esac
    scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true
    sleep 0.2
  done
  echo "slurm_local.sh: node $host did not become idle (state: ${state:-unknown}); see /var/log/slurm/" >&2
  exit 1
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
