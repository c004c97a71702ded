#!/usr/bin/env bash
# Install what the tests need (only what is missing), then run the whole
# suite: format check, clippy, and every test target. Exits non-zero on any
# failure. Meant for a fresh Debian machine as root; CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package
declare -A want=(
  [/usr/sbin/sshd]=openssh-server
  [/usr/bin/docker-registry]=docker-registry
  [/usr/bin/skopeo]=skopeo
  [/usr/bin/umoci]=umoci
  [/usr/bin/tmux]=tmux
  [/usr/bin/htpasswd]=apache2-utils
  [/usr/bin/unshare]=util-linux
  [/usr/bin/sudo]=sudo
  [/usr/bin/zstd]=zstd
  [/usr/bin/ssh-keygen]=openssh-client
  [/usr/bin/cc]=build-essential
  [/usr/bin/pkg-config]=pkg-config
  [/usr/sbin/iptables]=iptables
)
missing=()
for path in "${!want[@]}"; do
  [ -x "$path" ] || missing+=("${want[$path]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: missing packages (${missing[*]}) and not root; install them first" >&2
    exit 1
  fi
  echo "test.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's docker-registry package starts a registry on :5000 for every
# address where systemd runs; the test hosts' own registries and tug's
# preflight need that port, so the service is stopped and masked.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ] \
  && systemctl is-active --quiet docker-registry 2>/dev/null; then
  echo "test.sh: stopping and masking the docker-registry service (it holds :5000)" >&2
  systemctl stop docker-registry
  systemctl mask docker-registry >/dev/null 2>&1 || true
fi

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --all-targets --no-fail-fast
else
  cargo test --all-targets --no-fail-fast
fi
