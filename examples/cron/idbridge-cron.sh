#!/usr/bin/env bash
# Run the idbridge kit for one engagement from cron (see docs/scheduling.md).
#
#   idbridge-cron.sh PARAMETERS_FILE [ENV_FILE] [idbridge run options...]
#
# ENV_FILE (optional, chmod 600) holds the variables the parameters' env: references name. Runs of one
# engagement never overlap (flock). Prints nothing on exit 0; otherwise one line saying what to do, which cron
# mails. The whole log goes to <repo>/runs/cron.log. Exits with idbridge's code.
set -uo pipefail

params=${1:?usage: idbridge-cron.sh PARAMETERS_FILE [ENV_FILE] [idbridge run options...]}
shift
env_file=""
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then env_file=$1; shift; fi

home=${IDBRIDGE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
idbridge=${IDBRIDGE:-$home/.venv/bin/idbridge}
log=${IDBRIDGE_CRON_LOG:-$home/runs/cron.log}
mkdir -p "$(dirname "$log")"

if [ -n "$env_file" ]; then
    set -a; . "$env_file"; set +a      # secrets for env: references, never passed on the command line
fi

cd "$home" || exit 2
exec 9>"$log.$(basename "$params" .yaml).lock"
if ! flock -n 9; then
    echo "idbridge: a run for $params is still going; this one is skipped"
    exit 0
fi

output=$("$idbridge" run -p "$params" "$@" 2>>"$log")
code=$?
echo "$(date -u +%FT%TZ) $params exit $code ${output}" >>"$log"
report=${output#Report: }
case $code in
    0) ;;
    1) echo "idbridge: findings at or above fail_on for $params — read $report" ;;
    2) echo "idbridge: bad parameters or input for $params — see $log" ;;
    3) echo "idbridge: incomplete run for $params (a source not collected or a report failed) — see $log and $report" ;;
    *) echo "idbridge: exit $code for $params — see $log" ;;
esac
exit $code
