//! Preflight: everything that would make the install fail half-way, checked
//! on every host before anything changes. Each host runs one script that
//! reports every problem it finds (arch, OS tools, free disk for what it
//! will receive, ports, swap) and compares its clock with the jump host's,
//! sent on stdin as the step starts. Hostnames are fetched and compared on
//! the jump host. A host that already holds this cluster's rootfs skips
//! the checks: its ports are in use by the cluster itself. When such a
//! host's hostname was never fetched here, the cluster it holds is not
//! one this machine installed: the comparison says so and stops.

use super::distribute::{Delivery, unpacked_size};
use super::shell::script;
use super::{Ctx, InstallError, JUMP_HOST, one_by_one, unless_exists};
use crate::engine::command::Command;
use crate::engine::plan::{Action, HostId, OnFailure, Phase, Source, Stage, Step};
use crate::engine::spec::{HostSpec, Role};

/// Largest clock difference to the jump host, in seconds.
pub const MAX_CLOCK_SKEW: u64 = 5;

const CHECKS: &str = r#"problems=0
problem() { echo "preflight: $*" >&2; problems=$((problems + 1)); }
want_arch=$1 root=$2 need_kib=$3 ip=$4 ipvs=$5; shift 5
case $(uname -m) in
  x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) arch=$(uname -m) ;;
esac
if [ -n "$want_arch" ] && [ "$arch" != "$want_arch" ]; then problem "this host is $arch but the image is $want_arch"; fi
[ "$(uname -s)" = Linux ] || problem "this host runs $(uname -s), not Linux"
for tool in tar gzip systemctl sed awk grep cp find; do
  command -v "$tool" >/dev/null 2>&1 || problem "$tool is not installed (the image's scripts need it)"
done
if [ "$ipvs" = ipvsadm ] && ! command -v ipvsadm >/dev/null 2>&1; then
  problem "ipvsadm is not installed and the image has no opt/sealctl: a node needs one of them to route to the API servers (install ipvsadm)"
fi
d=$root
while [ ! -d "$d" ]; do d=$(dirname -- "$d"); done
avail=$(df -Pk -- "$d" | awk 'NR == 2 { print $4 }')
if [ -n "$avail" ] && [ "$avail" -lt "$need_kib" ]; then
  problem "$d has $((avail / 1024)) MiB free; the cluster image needs $((need_kib / 1024)) MiB there"
fi
for port in "$@"; do
  if (exec 3<>"/dev/tcp/$ip/$port") 2>/dev/null; then problem "port $port is in use"; fi
done
if [ -r /proc/swaps ] && [ "$(wc -l < /proc/swaps)" -gt 1 ]; then problem "swap is on (kubelet needs it off: swapoff -a)"; fi
if [ "$problems" -gt 0 ]; then echo "preflight: $problems problem(s); fix them or run with --skip-checks" >&2; exit 1; fi"#;

pub(crate) const CLOCK: &str = r#"read -r now || { echo "preflight: no time from the machine running tug" >&2; exit 1; }
skew=$(( $(date +%s) - now ))
if [ "${skew#-}" -gt "$1" ]; then
  echo "preflight: this host's clock is ${skew}s off the machine running tug (at most $1s allowed)" >&2
  exit 1
fi"#;

const HOSTNAMES: &str = r#"set -e
facts=$1 rootfs=$2 name=$3; shift 3
held=
for h in "$@"; do [ -e "$facts/$h.hostname" ] || held="$held $h"; done
if [ -n "$held" ]; then
  echo "preflight: host(s)$held already hold a cluster named $name ($rootfs) that this machine's record of $name does not know: reset it there first (tug reset --cluster $name --force from the machine that installed it), or give this cluster another name" >&2
  exit 1
fi
cd -- "$facts"
for f in *.hostname; do
  [ -e "$f" ] || continue
  printf '%s %s\n' "$(tr '[:upper:]' '[:lower:]' < "$f")" "${f%.hostname}"
done | sort -k1,1 -k2,2V | awk '$1 == prev { printf "preflight: hosts %s and %s have the same hostname %s\n", host, $2, $1; bad = 1 }
  { prev = $1; host = $2 } END { exit bad }'"#;

/// The preflight stages.
pub(crate) fn stages(
    ctx: &Ctx<'_>,
    deliveries: &[(&HostSpec, Vec<Delivery<'_>>)],
) -> Result<Vec<Option<Stage>>, InstallError> {
    let facts = ctx.spec.local_dir.join("facts");
    let rootfs = ctx.spec.rootfs_dir();
    let mut steps = Vec::new();
    for (host, ds) in deliveries {
        let need_kib = unpacked_size(ds) / 1024 + 64 * 1024;
        let mut ports = vec!["10250"];
        if host.has(Role::Master) {
            ports.extend(["6443", "2379"]);
        }
        if ctx.is_registry(host) {
            ports.push(ctx.registry.1.as_str());
        }
        let cmd = checks_command(
            &ctx.rootfs.arch,
            &ctx.spec.data_root,
            need_kib,
            &host.ip.to_string(),
            !host.has(Role::Master) && !ctx.rootfs.has_sealctl,
            &ports,
        );
        let check = super::run(Phase::Preflight, host, "checks", cmd)?;
        steps.push(unless_exists(check, &rootfs));
        let clock = Step::new(
            Phase::Preflight,
            host.id.clone(),
            "clock",
            Action::Send {
                source: Source::Clock,
                to: script(CLOCK, [MAX_CLOCK_SKEW.to_string()]),
            },
        )?;
        steps.push(unless_exists(clock, &rootfs));
        let name = Step::new(
            Phase::Preflight,
            host.id.clone(),
            "hostname",
            Action::Fetch {
                path: "/proc/sys/kernel/hostname".into(),
                to_local: facts.join(format!("{}.hostname", host.id.file_stem())),
            },
        )?;
        steps.push(unless_exists(name, &rootfs));
    }
    let compare = Step::new(
        Phase::Preflight,
        HostId::new(JUMP_HOST),
        "hostnames",
        Action::Run {
            // Every host is named so a host added later makes this run
            // again, and one whose hostname was never fetched is named.
            cmd: script(
                HOSTNAMES,
                [
                    facts.display().to_string(),
                    rootfs.clone(),
                    ctx.spec.name.clone(),
                ]
                .into_iter()
                .chain(deliveries.iter().map(|(h, _)| h.id.file_stem())),
            ),
            timeout: None,
        },
    )?;
    Ok([
        ctx.parallel(Phase::Preflight, steps),
        one_by_one(Phase::Preflight, vec![compare]),
    ]
    .into_iter()
    .map(|s| {
        s.map(|s| Stage {
            on_failure: OnFailure::FinishPhase,
            ..s
        })
    })
    .collect())
}

/// The command that reports every problem of a host that is to receive
/// `need_kib` KiB under `data_root`, serve on `ports`, and set the API
/// servers' IPVS rule with `ipvsadm` when `needs_ipvsadm`.
pub(crate) fn checks_command(
    arch: &str,
    data_root: &str,
    need_kib: u64,
    ip: &str,
    needs_ipvsadm: bool,
    ports: &[&str],
) -> Command {
    let mut args = vec![
        arch.to_string(),
        data_root.to_string(),
        need_kib.to_string(),
        ip.to_string(),
        if needs_ipvsadm { "ipvsadm" } else { "-" }.to_string(),
    ];
    args.extend(ports.iter().map(|p| p.to_string()));
    script(CHECKS, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cmd: &Command, stdin: &str) -> (bool, String) {
        use std::io::Write;
        let mut child = std::process::Command::new("bash")
            .arg("-c")
            .arg(cmd.render().unwrap())
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    #[test]
    fn every_problem_is_reported_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let root = dir.path().join("var/lib/sealos").display().to_string();
        let cmd = checks_command(
            "s390x",
            &root,
            u64::MAX / 2048,
            "127.0.0.1",
            true,
            &[port.as_str()],
        );
        let (ok, err) = run(&cmd, "");
        assert!(!ok);
        assert!(err.contains("but the image is s390x"), "{err}");
        assert!(err.contains("MiB free; the cluster image needs"), "{err}");
        assert!(err.contains(&format!("port {port} is in use")), "{err}");
        assert!(err.contains("fix them or run with --skip-checks"), "{err}");
    }

    #[test]
    fn a_node_without_ipvsadm_needs_the_images_sealctl() {
        // A PATH with bash alone: no ipvsadm, whatever this machine has.
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/bin/bash", dir.path().join("bash")).unwrap();
        let root = dir.path().display().to_string();
        let without_ipvsadm = |needs: bool| {
            let cmd = checks_command("", &root, 0, "127.0.0.1", needs, &[]);
            let out = std::process::Command::new("/bin/bash")
                .arg("-c")
                .arg(cmd.render().unwrap())
                .env("PATH", dir.path())
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stderr).into_owned()
        };
        let needed = without_ipvsadm(true);
        assert!(
            needed.contains("preflight: ipvsadm is not installed and the image has no opt/sealctl"),
            "{needed}"
        );
        assert!(!without_ipvsadm(false).contains("ipvsadm"));
    }

    #[test]
    fn a_clock_far_from_the_jump_hosts_fails() {
        let cmd = script(CLOCK, ["5"]);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(run(&cmd, &format!("{now}\n")).0);
        let (ok, err) = run(&cmd, &format!("{}\n", now - 60));
        assert!(!ok);
        assert!(
            err.contains("clock is 6") && err.contains("at most 5s"),
            "{err}"
        );
    }

    fn hostnames(facts: &std::path::Path, hosts: &[&str]) -> Command {
        let args = [
            facts.display().to_string(),
            "/var/lib/tug/c1".into(),
            "c1".into(),
        ];
        script(
            HOSTNAMES,
            args.into_iter().chain(hosts.iter().map(|h| h.to_string())),
        )
    }

    #[test]
    fn equal_hostnames_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];
        for (h, n) in hosts.iter().zip(["a\n", "B\n", "b"]) {
            std::fs::write(dir.path().join(format!("{h}.hostname")), n).unwrap();
        }
        let (ok, _) = run(&hostnames(dir.path(), &hosts), "");
        assert!(!ok);
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(hostnames(dir.path(), &hosts).render().unwrap())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("hosts 10.0.0.2 and 10.0.0.3 have the same hostname b"),
            "{text}"
        );
    }

    #[test]
    fn hosts_with_one_hostname_are_named_in_address_order() {
        let dir = tempfile::tempdir().unwrap();
        let hosts = ["10.0.0.9", "10.0.0.10"];
        for h in hosts {
            std::fs::write(dir.path().join(format!("{h}.hostname")), "same").unwrap();
        }
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(hostnames(dir.path(), &hosts).render().unwrap())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("hosts 10.0.0.9 and 10.0.0.10 have"), "{text}");
    }

    #[test]
    fn hosts_holding_a_cluster_this_machine_did_not_install_are_named() {
        let dir = tempfile::tempdir().unwrap();
        // Every host held the rootfs: none was asked its name, no facts dir.
        let gone = dir.path().join("facts");
        let (ok, err) = run(&hostnames(&gone, &["10.0.0.1", "10.0.0.2"]), "");
        assert!(!ok);
        assert!(!err.contains("No such file"), "{err}");
        assert!(
            err.contains("preflight: host(s) 10.0.0.1 10.0.0.2 already hold a cluster named c1 (/var/lib/tug/c1)")
                && err.contains("or give this cluster another name"),
            "{err}"
        );
        // One host new, one held: the held one is named.
        std::fs::create_dir(&gone).unwrap();
        std::fs::write(gone.join("10.0.0.1.hostname"), "a").unwrap();
        let (ok, err) = run(&hostnames(&gone, &["10.0.0.1", "10.0.0.2"]), "");
        assert!(!ok);
        assert!(err.contains("host(s) 10.0.0.2 already hold"), "{err}");
        std::fs::write(gone.join("10.0.0.2.hostname"), "b").unwrap();
        assert!(run(&hostnames(&gone, &["10.0.0.1", "10.0.0.2"]), "").0);
    }
}
