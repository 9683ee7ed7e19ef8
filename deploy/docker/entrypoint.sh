#!/usr/bin/env bash
# Container entry point shared by docker-compose and Kubernetes:
#   coordkafka-entrypoint.sh coordd|brokerd|console TEMPLATE
# Works out this server's id: COORDKAFKA_ID if set, else the ordinal of a StatefulSet pod
# (hostname NAME-N) plus COORDKAFKA_ID_OFFSET (1 for coordd: ZooKeeper ids start at 1).
# Replaces @ID@ and @HOST@ (COORDKAFKA_HOST, else this host's name) in TEMPLATE, writes coordd's
# dataDir/myid (refusing a data dir that belongs to another id) and, from COORDKAFKA_QUORUM_SECRET,
# the 0600 file quorum.auth.secretFile names (container secrets are mounted readable by others,
# which coordd refuses); then execs the daemon so that signals reach it directly.
# COORDKAFKA_RENDER_ONLY=1 prints the rendered file instead.
set -euo pipefail
daemon=${1:?usage: coordkafka-entrypoint.sh coordd|brokerd|console TEMPLATE}
template=${2:?usage: coordkafka-entrypoint.sh coordd|brokerd|console TEMPLATE}
case "$daemon" in coordd|brokerd|console) ;; *) echo "entrypoint: unknown daemon '$daemon'" >&2; exit 2 ;; esac
[ -r "$template" ] || { echo "entrypoint: cannot read $template" >&2; exit 2; }
host=${COORDKAFKA_HOST:-$(hostname -f 2>/dev/null || hostname)}
if [ -n "${COORDKAFKA_ID:-}" ]; then
    id=$COORDKAFKA_ID
else
    name=${HOSTNAME:-$(hostname)}
    ordinal=${name##*-}
    if ! [[ "$ordinal" =~ ^[0-9]+$ ]]; then
        echo "entrypoint: set COORDKAFKA_ID, or run as a StatefulSet pod named NAME-N (hostname is '$name')" >&2
        exit 2
    fi
    id=$((ordinal + ${COORDKAFKA_ID_OFFSET:-0}))
fi
[[ "$id" =~ ^[0-9]+$ ]] || { echo "entrypoint: id '$id' is not a number" >&2; exit 2; }
out=${COORDKAFKA_RENDERED:-/tmp/$daemon.conf}
sed -e "s/@ID@/$id/g" -e "s/@HOST@/$host/g" "$template" > "$out"
if [ "$daemon" = coordd ]; then
    data=$(sed -n 's/^[[:space:]]*dataDir[[:space:]]*=[[:space:]]*//p' "$out" | tail -n 1)
    [ -n "$data" ] || { echo "entrypoint: $template has no dataDir" >&2; exit 2; }
    mkdir -p "$data"
    if [ -s "$data/myid" ]; then
        have=$(tr -d '[:space:]' < "$data/myid")
        [ "$have" = "$id" ] || { echo "entrypoint: $data/myid says $have but this is server $id; refusing to start on another server's data" >&2; exit 2; }
    else
        echo "$id" > "$data/myid"
    fi
    if [ -n "${COORDKAFKA_QUORUM_SECRET:-}" ]; then
        secret=$(sed -n 's/^[[:space:]]*quorum\.auth\.secretFile[[:space:]]*=[[:space:]]*//p' "$out" | tail -n 1)
        [ -n "$secret" ] || { echo "entrypoint: COORDKAFKA_QUORUM_SECRET is set but $template has no quorum.auth.secretFile" >&2; exit 2; }
        (umask 077; printf '%s' "$COORDKAFKA_QUORUM_SECRET" > "$secret")
    fi
fi
unset COORDKAFKA_QUORUM_SECRET
if [ "${COORDKAFKA_RENDER_ONLY:-0}" = 1 ]; then cat "$out"; exit 0; fi
bin=${COORDKAFKA_BIN_DIR:+$COORDKAFKA_BIN_DIR/}$daemon
exec "$bin" "$out"
