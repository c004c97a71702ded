//! The steps that upgrade one host, as data: drained (kubectl on master0),
//! the new kubeadm installed, `kubeadm upgrade apply` (master0) or
//! `kubeadm upgrade node` (the rest), kubelet and kubectl installed from
//! the new rootfs, the kubelet restarted, uncordoned. Fixed scripts take
//! their inputs as quoted arguments, so nothing from a host or an image is
//! read as shell code.

use crate::engine::command::{Command, CommandError, Value};
use crate::engine::install::shell::script;
use crate::engine::plan::{Action, Phase, Step};
use crate::engine::spec::HostSpec;

/// On master0: the node whose InternalIP is `$1`, drained. A host the
/// cluster does not know fails the step: upgrading it unseen is not safe.
const DRAIN: &str = r#"set -e
name=$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}' | awk -v ip="$1" '$2 == ip { print $1 }')
if [ -z "$name" ]; then echo "no node with address $1 in the cluster; not upgrading it unseen" >&2; exit 1; fi
kubectl drain "$name" --ignore-daemonsets --delete-emptydir-data --timeout="$2""#;

/// On master0: the node whose InternalIP is `$1`, uncordoned.
const UNCORDON: &str = r#"set -e
name=$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}' | awk -v ip="$1" '$2 == ip { print $1 }')
if [ -z "$name" ]; then echo "no node with address $1 in the cluster" >&2; exit 1; fi
kubectl uncordon "$name""#;

/// Install `$4…` from the new rootfs' `bin` (`$1`) where each is found on
/// the PATH (else in `$2`), through a temp file and a rename, so a running
/// kubelet is never half-overwritten. The image's file must be a regular
/// file (never a link out of its tree). kubeadm and kubelet must then say
/// they are the target version `$3`: a rootfs whose binaries do not match
/// its label stops the upgrade on this host.
const INSTALL: &str = r#"set -e
src=$1 default=$2 want=$3; shift 3
for b in "$@"; do
  if [ -L "$src/$b" ] || [ ! -f "$src/$b" ]; then echo "the new image has no regular file bin/$b" >&2; exit 1; fi
  dst=$(command -v -- "$b" 2>/dev/null || true)
  case $dst in /*) ;; *) dst=$default/$b ;; esac
  mkdir -p -- "$(dirname -- "$dst")"
  cp -f -- "$src/$b" "$dst.tug-new"
  chmod 0755 -- "$dst.tug-new"
  mv -f -- "$dst.tug-new" "$dst"
  case $b in
    kubeadm) got=$("$dst" version -o short) ;;
    kubelet) got=$("$dst" --version) ;;
    *) continue ;;
  esac
  case " $got " in *"$want "*) ;; *) echo "bin/$b of the new image is '$got', not $want" >&2; exit 1 ;; esac
done"#;

/// Reload units and restart the kubelet (the new binary).
const RESTART: &str = "set -e\nsystemctl daemon-reload\nsystemctl restart kubelet";

/// How long a drain may take before it fails the host's upgrade.
pub const DRAIN_TIMEOUT: &str = "300s";

/// What one host's upgrade needs to know.
pub(super) struct Target<'a> {
    /// The host.
    pub host: &'a HostSpec,
    /// master0, where kubectl runs.
    pub master0: &'a HostSpec,
    /// The target version, e.g. `v1.26.0`.
    pub version: &'a str,
    /// The new rootfs' `bin` dir on the host.
    pub bin: String,
    /// Where a binary not on the PATH goes (`BIN_DIR`, else `/usr/bin`).
    pub bin_dir: String,
    /// The stages' phase.
    pub phase: Phase,
}

impl Target<'_> {
    fn step(&self, on: &HostSpec, what: &str, cmd: Command) -> Result<Step, CommandError> {
        let key = format!("{what} {}@{}", self.host.id, self.version);
        Step::new(
            self.phase,
            on.id.clone(),
            &key,
            Action::Run { cmd, timeout: None },
        )
    }

    /// Drain the host (on master0).
    pub fn drain(&self) -> Result<Step, CommandError> {
        let ip = self.host.ip.to_string();
        self.step(
            self.master0,
            "drain",
            script(DRAIN, [ip.as_str(), DRAIN_TIMEOUT]),
        )
    }

    /// Install the new kubeadm on the host.
    pub fn kubeadm_binary(&self) -> Result<Step, CommandError> {
        self.step(self.host, "kubeadm-binary", self.install(&["kubeadm"]))
    }

    /// Run `kubeadm` with `args` on the host.
    pub fn kubeadm(&self, args: Vec<String>) -> Result<Step, CommandError> {
        self.step(
            self.host,
            "kubeadm-upgrade",
            Command::new("kubeadm").args(args),
        )
    }

    /// Install the new kubelet and kubectl on the host.
    pub fn binaries(&self) -> Result<Step, CommandError> {
        self.step(self.host, "binaries", self.install(&["kubelet", "kubectl"]))
    }

    /// Restart the host's kubelet.
    pub fn restart_kubelet(&self) -> Result<Step, CommandError> {
        let none: [&str; 0] = [];
        self.step(self.host, "kubelet-restart", script(RESTART, none))
    }

    /// Uncordon the host (on master0).
    pub fn uncordon(&self) -> Result<Step, CommandError> {
        let ip = self.host.ip.to_string();
        self.step(self.master0, "uncordon", script(UNCORDON, [ip]))
    }

    fn install(&self, names: &[&str]) -> Command {
        let mut args: Vec<Value> = vec![
            self.bin.clone().into(),
            self.bin_dir.clone().into(),
            self.version.to_string().into(),
        ];
        args.extend(names.iter().map(|n| Value::from(n.to_string())));
        script(INSTALL, args)
    }
}
