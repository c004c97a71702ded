#!/usr/bin/env bash
# tug demo image: prints what the real check.sh would do; changes nothing.
echo "[demo] check.sh $*: would check ports 10249-10259 and 5050-5054 are free and ${1:-/var/lib/registry} is not a file"
