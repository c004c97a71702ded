#!/usr/bin/env bash
# tug demo image: prints what the real init.sh would do; changes nothing.
echo "[demo] init.sh: would install image-cri-shim, kubelet, kubeadm, kubectl into ${BIN_DIR:-/usr/bin}"
echo "[demo] init.sh: would pull ${registryDomain:-sealos.hub}:${registryPort:-5000}/${sandboxImage:-pause:3.9} and enable kubelet"
