#!/usr/bin/env bash
# tug demo image: prints what the real clean.sh would do; changes nothing.
echo "[demo] clean.sh: would stop kubelet and image-cri-shim and remove their binaries and units"
