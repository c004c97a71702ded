#!/usr/bin/env bash
# tug demo image: prints what the real clean-cri.sh would do; changes nothing.
echo "[demo] clean-cri.sh $*: would stop containerd and remove ${1:-/var/lib/containerd}"
