#!/usr/bin/env bash
# tug demo image: prints what the real clean-registry.sh would do; changes nothing.
echo "[demo] clean-registry.sh $*: would stop the registry and remove ${1:-/var/lib/registry} ${2:-/etc/registry}"
