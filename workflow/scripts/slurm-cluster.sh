#!/usr/bin/env bash
# A throw-away single-node SLURM cluster on localhost, for CI and for trying the slurm profile.
#
#   workflow/scripts/slurm-cluster.sh start  WORKDIR   install (root, Debian) and start it
#   workflow/scripts/slurm-cluster.sh status WORKDIR   show what runs; exit 0 only if it is up
#   workflow/scripts/slurm-cluster.sh stop   WORKDIR   cancel its jobs and stop its daemons
#
# WORKDIR holds everything the cluster writes (state, spool, logs) and the pid files of the
# daemons this script started; `stop` ends exactly those processes, nothing else. A munged
# that was already running is used and left alone. The node gets the machine's real CPU count
# and memory. /etc/slurm/slurm.conf is written (the jobstep plugin ignores SLURM_CONF inside
# jobs, so the config must be at the default path); a slurm.conf that this script did not
# write is kept aside as slurm.conf.before-helgenom and put back by `stop`.
#
# Requires root (slurmd runs as root). Needs Linux and either the slurm-wlm and munge Debian
# packages or apt-get to install them. Tested with Debian 12 (SLURM 22.05, munge 0.5.15).
set -euo pipefail

PROG=$(basename "$0")
CONF=/etc/slurm/slurm.conf
CONF_BACKUP=/etc/slurm/slurm.conf.before-helgenom
MARKER="# Written by helgenom workflow/scripts/slurm-cluster.sh"
MUNGE_KEY=/etc/munge/munge.key
READY_TIMEOUT=${SLURM_CLUSTER_READY_TIMEOUT:-60}
# Daemons in start order; stop goes in reverse.
DAEMONS=(munged slurmctld slurmd)

die() {
    echo "$PROG: error: $*" >&2
    exit 1
}

say() {
    echo "$PROG: $*"
}

usage() {
    cat >&2 <<USAGE
usage: $PROG start|stop|status WORKDIR
  start   install slurm-wlm and munge if missing (root + apt-get), write $CONF for one
          node (localhost, real CPUs and memory), start munged, slurmctld and slurmd, and
          wait until the node is idle. Pid files and logs go to WORKDIR.
  status  print the daemons started from WORKDIR and sinfo; exit 0 only if all are up.
  stop    cancel the cluster's jobs and stop the daemons whose pid files are in WORKDIR.
USAGE
    exit 2
}

# --- pid bookkeeping ---------------------------------------------------------------------

pid_file() {
    echo "$WORKDIR/$1.pid"
}

# Process $1 exists and has not exited. (An exited daemon whose parent is an init that does
# not reap orphans stays a zombie: it counts as gone.)
running() {
    local state
    state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# The pid recorded for daemon $1 if that process is still running and is that daemon.
live_pid() {
    local file pid comm
    file=$(pid_file "$1")
    [ -s "$file" ] || return 1
    pid=$(tr -dc '0-9' <"$file")
    [ -n "$pid" ] && running "$pid" || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [ "$comm" = "$1" ] || return 1
    echo "$pid"
}

# Pids of running processes named exactly $1 that WORKDIR did not start.
foreign_pids() {
    local ours all
    ours=$(live_pid "$1" || true)
    all=$(pgrep -x "$1" || true)
    for pid in $all; do
        [ "$pid" != "$ours" ] && running "$pid" && echo "$pid"
    done
    return 0
}

# Wait until process $1 is gone; $2 seconds at most.
wait_gone() {
    local pid=$1 limit=$2 i
    for ((i = 0; i < limit * 10; i++)); do
        running "$pid" || return 0
        sleep 0.1
    done
    return 1
}

stop_daemon() {
    local name=$1 pid
    if pid=$(live_pid "$name"); then
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" 15; then
            say "$name (pid $pid) ignored SIGTERM for 15 s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" 5 || die "$name (pid $pid) survived SIGKILL"
        fi
        say "stopped $name (pid $pid)"
    fi
    rm -f "$(pid_file "$name")"
}

# --- installation --------------------------------------------------------------------------

have_slurm() {
    local tool
    for tool in slurmctld slurmd sinfo squeue sbatch scontrol munged munge; do
        command -v "$tool" >/dev/null 2>&1 || return 1
    done
}

install_slurm() {
    have_slurm && return 0
    [ "$(id -u)" = 0 ] || die "slurm-wlm/munge are not installed and only root can install them"
    command -v apt-get >/dev/null 2>&1 ||
        die "slurm-wlm/munge are not installed and apt-get is not available to install them"
    say "installing slurm-wlm and munge with apt-get"
    # Keep the packages' init scripts from starting daemons nobody would stop.
    local policy=/usr/sbin/policy-rc.d own_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        own_policy=1
    fi
    local status=0
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null; then
        apt-get update -qq &&
            apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null ||
            status=$?
    fi
    [ "$own_policy" = 1 ] && rm -f "$policy"
    [ "$status" = 0 ] || die "apt-get install slurm-wlm munge failed (exit $status)"
    have_slurm || die "slurm-wlm/munge installed, but slurmctld, slurmd or munged is not on PATH"
}

# --- configuration -------------------------------------------------------------------------

node_cpus() {
    nproc
}

# Memory in MB: the smaller of MemTotal and a cgroup limit; never above what slurmd detects
# (a RealMemory larger than the detected one puts the node in DRAIN).
node_memory_mb() {
    local mem limit detected
    mem=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
    for file in /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes; do
        [ -r "$file" ] || continue
        limit=$(cat "$file")
        [[ "$limit" =~ ^[0-9]+$ ]] || continue
        limit=$((limit / 1024 / 1024))
        ((limit < mem)) && mem=$limit
    done
    detected=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
    if [[ "$detected" =~ ^[0-9]+$ ]] && ((detected < mem)); then
        mem=$detected
    fi
    echo "$mem"
}

write_config() {
    local cpus mem
    cpus=$(node_cpus)
    mem=$(node_memory_mb)
    if ! [[ "$cpus" =~ ^[1-9][0-9]*$ ]]; then
        die "cannot determine the CPU count (nproc: '$cpus')"
    fi
    if ! [[ "$mem" =~ ^[1-9][0-9]*$ ]]; then
        die "cannot determine the memory size (got '$mem' MB)"
    fi
    mkdir -p /etc/slurm "$WORKDIR/state" "$WORKDIR/spool"
    if [ -e "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
        [ -e "$CONF_BACKUP" ] && die "$CONF is not ours and $CONF_BACKUP exists already"
        say "keeping the existing $CONF as $CONF_BACKUP"
        mv "$CONF" "$CONF_BACKUP"
    fi
    cat >"$CONF" <<CONFIG
$MARKER
# for a single-node test cluster; state, logs and pid files in $WORKDIR.
ClusterName=helgenom
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=500
SchedulerType=sched/backfill
# Finished jobs stay visible to squeue for 10 min: the executor plugin can use squeue
# (there is no slurmdbd, so sacct does not work).
MinJobAge=600
KillWait=5
ReturnToService=2
# Reject at submission a job that can never run here (e.g. more CPUs than the node has),
# instead of leaving it pending for ever.
EnforcePartLimits=ALL
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
StateSaveLocation=$WORKDIR/state
SlurmdSpoolDir=$WORKDIR/spool
SlurmctldPidFile=$WORKDIR/slurmctld.pid
SlurmdPidFile=$WORKDIR/slurmd.pid
SlurmctldLogFile=$WORKDIR/slurmctld.log
SlurmdLogFile=$WORKDIR/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONFIG
    say "wrote $CONF: 1 node, $cpus CPUs, $mem MB"
}

restore_config() {
    if [ -e "$CONF" ] && grep -qF "$MARKER" "$CONF" && grep -qF "$WORKDIR/state" "$CONF"; then
        rm -f "$CONF"
        if [ -e "$CONF_BACKUP" ]; then
            mv "$CONF_BACKUP" "$CONF"
            say "restored the previous $CONF"
        fi
    fi
}

# --- daemons -------------------------------------------------------------------------------

munge_works() {
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1
}

start_munged() {
    if live_pid munged >/dev/null; then
        return 0
    fi
    if [ -n "$(foreign_pids munged)" ]; then
        munge_works || die "a munged not started from $WORKDIR is running but does not work"
        say "using the munged that is already running (not started here, not stopped by stop)"
        return 0
    fi
    id munge >/dev/null 2>&1 || die "user 'munge' does not exist (is the munge package installed?)"
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
    if [ ! -s "$MUNGE_KEY" ]; then
        say "creating $MUNGE_KEY"
        (umask 077 && dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none)
    fi
    chown munge:munge "$MUNGE_KEY"
    chmod 0400 "$MUNGE_KEY"
    # munged daemonises and writes its own pid file (as user munge: not into WORKDIR).
    local own=/run/munge/munged.pid
    rm -f "$own"
    runuser -u munge -- munged --pid-file="$own" ||
        die "munged did not start (see /var/log/munge/munged.log)"
    wait_for_file "$own" 10 || die "munged wrote no pid file $own"
    cp "$own" "$(pid_file munged)"
    live_pid munged >/dev/null || die "munged exited right after start (see /var/log/munge/munged.log)"
    munge_works || die "munged runs but munge -n | unmunge fails"
    say "started munged (pid $(live_pid munged))"
}

wait_for_file() {
    local file=$1 limit=$2 i
    for ((i = 0; i < limit * 10; i++)); do
        [ -s "$file" ] && return 0
        sleep 0.1
    done
    return 1
}

start_slurm_daemon() {
    local name=$1
    shift
    live_pid "$name" >/dev/null && return 0
    rm -f "$(pid_file "$name")"
    "$name" "$@" || die "$name did not start; its log: $WORKDIR/$name.log
$(tail -n 20 "$WORKDIR/$name.log" 2>/dev/null)"
    wait_for_file "$(pid_file "$name")" 15 ||
        die "$name wrote no pid file; its log: $WORKDIR/$name.log
$(tail -n 20 "$WORKDIR/$name.log" 2>/dev/null)"
    local pid
    pid=$(live_pid "$name") || die "$name exited right after start; its log: $WORKDIR/$name.log
$(tail -n 20 "$WORKDIR/$name.log" 2>/dev/null)"
    say "started $name (pid $pid)"
}

node_state() {
    sinfo -h -N -n localhost -o '%T' 2>/dev/null | head -1
}

wait_until_idle() {
    local i state=""
    for ((i = 0; i < READY_TIMEOUT * 2; i++)); do
        state=$(node_state)
        case "$state" in
            idle | mixed | allocated | completing) say "node localhost is $state"; return 0 ;;
            down* | drain*)
                # A restarted node can come back DOWN ("Node unexpectedly rebooted").
                scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true ;;
        esac
        sleep 0.5
    done
    die "node localhost is not idle after ${READY_TIMEOUT} s (state: '${state:-unknown}'):
$(scontrol show node localhost 2>&1 | grep -E 'State|Reason' || true)
see $WORKDIR/slurmctld.log and $WORKDIR/slurmd.log"
}

cluster_up() {
    local name
    for name in slurmctld slurmd; do
        live_pid "$name" >/dev/null || return 1
    done
    live_pid munged >/dev/null || munge_works || return 1
    case "$(node_state)" in
        idle | mixed | allocated | completing) return 0 ;;
    esac
    return 1
}

# --- commands ------------------------------------------------------------------------------

cmd_start() {
    [ "$(uname -s)" = Linux ] || die "needs Linux"
    if cluster_up; then
        say "already running (pid files in $WORKDIR)"
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "must run as root (slurmd runs as root; packages may need installing)"
    install_slurm
    local name foreign
    for name in slurmctld slurmd; do
        foreign=$(foreign_pids "$name" | tr '\n' ' ')
        [ -z "$foreign" ] ||
            die "$name is already running (pid ${foreign% }) and was not started from $WORKDIR; stop it first"
    done
    # A failed start stops whatever it had started.
    trap 'on_start_exit $?' EXIT
    write_config
    start_munged
    # -c: start from a clean job state (ids restart; nothing is left of an earlier run).
    start_slurm_daemon slurmctld -c
    start_slurm_daemon slurmd -N localhost
    wait_until_idle
    trap - EXIT
    sinfo
}

on_start_exit() {
    [ "$1" = 0 ] && return 0
    say "start failed: stopping the daemons it started"
    cmd_stop >&2 || true
}

cancel_jobs() {
    command -v squeue >/dev/null 2>&1 || return 0
    local jobs i
    jobs=$(squeue -h -o '%i' -t PENDING,RUNNING,SUSPENDED,COMPLETING,CONFIGURING 2>/dev/null || true)
    [ -n "$jobs" ] || return 0
    say "cancelling jobs: $(echo "$jobs" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null || true
    for ((i = 0; i < 30 * 2; i++)); do
        jobs=$(squeue -h -o '%i' -t PENDING,RUNNING,SUSPENDED,COMPLETING,CONFIGURING 2>/dev/null ||
            true)
        [ -z "$jobs" ] && return 0
        sleep 0.5
    done
    say "warning: jobs still not finished after 30 s: $(echo "$jobs" | tr '\n' ' ')"
}

cmd_stop() {
    local i
    if live_pid slurmctld >/dev/null && live_pid slurmd >/dev/null; then
        cancel_jobs
    fi
    for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
        stop_daemon "${DAEMONS[i]}"
    done
    restore_config
    local steps=""
    for pid in $(pgrep -x slurmstepd || true); do
        running "$pid" && steps="$steps $pid"
    done
    [ -z "$steps" ] || say "warning: job step daemons (slurmstepd) still running:$steps"
    say "stopped (nothing left running from $WORKDIR)"
}

cmd_status() {
    local name pid up=0
    for name in "${DAEMONS[@]}"; do
        if pid=$(live_pid "$name"); then
            echo "$name: running (pid $pid)"
        elif [ "$name" = munged ] && [ -n "$(foreign_pids munged)" ]; then
            echo "munged: running, not started from $WORKDIR"
        else
            echo "$name: not running"
            up=1
        fi
    done
    if [ "$up" = 0 ]; then
        sinfo 2>&1 || up=1
        cluster_up || up=1
    fi
    return "$up"
}

[ $# -eq 2 ] || usage
COMMAND=$1
WORKDIR=$2
case "$COMMAND" in
    start | stop | status) ;;
    *) usage ;;
esac
mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd -P)
"cmd_$COMMAND"
