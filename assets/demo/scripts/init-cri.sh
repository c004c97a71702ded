#!/usr/bin/env bash
# tug demo image: prints what the real init-cri.sh would do; changes nothing.
echo "[demo] init-cri.sh $*: would unpack containerd into ${BIN_DIR:-/usr/bin}, trust ${1:-sealos.hub}:${2:-5000}, start containerd"
