#!/usr/bin/env bash
# tug demo image: prints what the real init-registry.sh would do; changes nothing.
echo "[demo] init-registry.sh $*: would start a registry on :${registryPort:-5000} serving ${1:-/var/lib/registry} with config in ${2:-/etc/registry}"
