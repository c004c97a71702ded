//! An install as a new user would run it: a non-root SSH user with password
//! sudo, a registry password of its own and a 200 KB env value, onto real
//! OpenSSH test hosts. While it runs, a sampler reads the command line of
//! every process on the machine (the test hosts share its process table):
//! none may hold the SSH password, the registry password, the join token or
//! the certificate key. The hooks still get every env value, the long one
//! whole.

mod support;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use support::fixture::{self, Call, JOURNAL, calls, calls_of};
use support::hosts::{Hosts, SUDO_USER, random_hex};
use support::tug::Tug;

const DATA: &str = "/var/lib/sealos/data/c1";

/// Reads `/proc/*/cmdline` of every process, over and over, keeping each
/// distinct command line (NULs shown as spaces) until stopped.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<BTreeSet<String>>,
}

impl Sampler {
    fn start() -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut seen = BTreeSet::new();
            while !flag.load(Ordering::Relaxed) {
                for entry in std::fs::read_dir("/proc").unwrap().flatten() {
                    let name = entry.file_name();
                    if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
                        continue;
                    }
                    // A process may be gone by now; that is no leak.
                    if let Ok(raw) = std::fs::read(entry.path().join("cmdline")) {
                        let line = String::from_utf8_lossy(&raw).replace('\0', " ");
                        if !line.is_empty() && !seen.contains(&line) {
                            seen.insert(line);
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            seen
        });
        Sampler { stop, thread }
    }

    fn finish(self) -> BTreeSet<String> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// `cksum`'s checksum of `data`, as the fixture journal records it.
fn cksum(data: &str) -> String {
    let mut child = Command::new("cksum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(data.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    out.split_whitespace().next().unwrap().to_string()
}

/// Whether a call ran in the rootfs scripts dir with the image's env, the
/// user's registry settings and the long value whole.
fn is_hook(c: &Call, mode: &str, big: &(usize, String)) -> bool {
    let env = |k: &str| c.env.get(k).map(String::as_str);
    c.cwd == format!("{DATA}/rootfs/scripts")
        && env("registryDomain") == Some("sealos.hub")
        && env("registryUsername") == Some("tug-admin")
        && env("SEALOS_SYS_RUN_MODE") == Some(mode)
        && env("SEALOS_SYS_KUBE_VERSION") == Some("v1.28.9")
        && env("tugBigLen") == Some(big.0.to_string().as_str())
        && env("tugBigSum") == Some(big.1.as_str())
}

#[test]
fn no_secret_on_any_command_line_while_a_sudo_user_installs() {
    let hosts = Hosts::start(3);
    let tug = Tug::new();
    let images = fixture::build_images(&tug);
    let registry_password = format!("reg-{}", random_hex(10));
    // 200 KB, longer than Linux lets one env entry through exec.
    let big: String = (0..200_000)
        .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
        .collect();
    let want_big = (big.len(), cksum(&big));
    let clusterfile = format!(
        "apiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nmetadata:\n  name: c1\nspec:\n  \
         hosts:\n  - ips: ['{}', '{}']\n    roles: [master]\n  - ips: ['{}']\n    roles: [node]\n  \
         image: [{}]\n  ssh:\n    user: {SUDO_USER}\n    passwd: '{}'\n  \
         env:\n  - registryUsername=tug-admin\n  - registryPassword={registry_password}\n  \
         - tugBig={big}\n",
        hosts[0].addr(),
        hosts[1].addr(),
        hosts[2].addr(),
        images.join(", "),
        hosts.password,
    );
    let file = tug.home().join("Clusterfile");
    std::fs::write(&file, clusterfile).unwrap();

    let sampler = Sampler::start();
    // The sampler sees the test hosts' processes: a marked one runs on a host first.
    let canary = format!("canary-{}", random_hex(6));
    hosts[0].exec(&format!("bash -c 'sleep 0.5' {canary}"));
    let out = tug
        .run(&["apply", "-f", file.to_str().unwrap(), "--plain"])
        .ok();
    let seen = sampler.finish();
    assert!(out.stderr.contains("cluster c1 is ready"), "{}", out.stderr);

    // The real join secrets, as master0 made them and the jump host fetched them.
    let secrets = std::fs::read_to_string(
        tug.home()
            .join("state/clusters/c1/etc/kubeadm-join-secrets"),
    )
    .unwrap();
    let [token, hash, key]: [&str; 3] = secrets.lines().collect::<Vec<_>>().try_into().unwrap();
    assert_eq!(
        hosts[0].exec("cat /etc/kubernetes/.fixture-token"),
        token,
        "the token kubeadm made"
    );
    assert!(hash.starts_with("sha256:") && key.len() == 64, "{secrets}");
    for i in 1..3 {
        let kind = if i == 1 { "master" } else { "node" };
        let cfg = hosts[i].exec(&format!("cat {DATA}/etc/kubeadm-join-{kind}.yaml"));
        assert!(cfg.contains(token), "{i}: {cfg}");
        assert_eq!(cfg.contains(key), i == 1, "{i}: {cfg}");
    }

    // The sampler caught what ran: the canary, the hooks and kubeadm, under sudo.
    let saw = |what: &str| seen.iter().any(|l| l.contains(what));
    assert!(saw(&canary), "the sampler sees the hosts' processes");
    for what in [
        "sudo -k -S",
        "bash -s",
        "init-cri.sh",
        "init.sh",
        "kubeadm join",
    ] {
        assert!(
            saw(what),
            "never saw {what:?} among {} command lines",
            seen.len()
        );
    }
    for (name, secret) in [
        ("the SSH password", hosts.password.as_str()),
        ("the registry password", registry_password.as_str()),
        ("the join token", token),
        ("the certificate key", key),
    ] {
        let leaks: Vec<&String> = seen.iter().filter(|l| l.contains(secret)).collect();
        assert!(leaks.is_empty(), "{name} on a command line: {leaks:?}");
    }
    assert!(!saw(&big[..64]), "the long value on a command line");

    // The hooks got every env value as before, the long one whole.
    for i in 0..3 {
        let all = calls(&hosts[i].exec(&format!("cat {JOURNAL}")));
        let mode = if i < 2 { "master" } else { "node" };
        for hook in ["check.sh", "init-cri.sh", "init.sh"] {
            let found = calls_of(&all, hook, "");
            assert!(
                found.len() == 1 && is_hook(found[0], mode, &want_big),
                "{i} {hook}: {found:?}"
            );
        }
        let cri = calls_of(&all, "init-cri.sh", "");
        assert_eq!(cri[0].args, "sealos.hub 5000", "{i}");
    }
    // The registry password reached the registry's htpasswd.
    let htpasswd = hosts[0].exec(&format!("cat {DATA}/rootfs/etc/registry_htpasswd"));
    assert!(htpasswd.starts_with("tug-admin:$2"), "{htpasswd}");
}
