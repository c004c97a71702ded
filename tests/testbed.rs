//! Self-tests of the test harness: the SSH test hosts are really separate,
//! really reachable with OpenSSH, and the registry answers as promised.

mod support;

use std::path::Path;
use std::process::Command;

use support::hosts::{Hosts, SUDO_USER};
use support::registry::Registry;

fn known_hosts(hosts: &Hosts) -> std::path::PathBuf {
    let path = hosts.dir().join("known_hosts");
    std::fs::write(&path, hosts.known_hosts()).unwrap();
    path
}

#[test]
fn files_under_private_dirs_stay_on_their_host() {
    let hosts = Hosts::start(2);
    let marker = format!("/var/lib/tug-testbed-{}", support::hosts::random_hex(6));
    hosts[0].exec(&format!("echo one > {marker}"));
    assert_eq!(hosts[0].exec(&format!("cat {marker}")), "one\n");
    assert!(
        !hosts[1]
            .exec_output(&format!("test -e {marker}"))
            .status
            .success()
    );
    assert!(
        !Path::new(&marker).exists(),
        "{marker} leaked onto the machine"
    );
    for dir in [
        "/opt",
        "/usr/local/bin",
        "/root",
        "/etc/kubernetes",
        "/etc/registry",
        "/var/tmp",
    ] {
        assert_eq!(
            hosts[1].exec(&format!("ls -A {dir}")),
            "",
            "{dir} is not empty on a fresh host"
        );
    }
}

#[test]
fn etc_hosts_and_hostname_are_private() {
    let hosts = Hosts::start(2);
    let line = format!("10.99.0.1 tug-testbed-{}", support::hosts::random_hex(6));
    hosts[0].exec(&format!("echo '{line}' >> /etc/hosts"));
    assert!(hosts[0].exec("cat /etc/hosts").contains(&line));
    assert!(!hosts[1].exec("cat /etc/hosts").contains(&line));
    assert!(
        !std::fs::read_to_string("/etc/hosts")
            .unwrap()
            .contains(&line)
    );
    assert_eq!(hosts[0].exec("hostname"), "node1\n");
    assert_eq!(hosts[1].exec("hostname"), "node2\n");
    assert_ne!(hosts[0].ip, hosts[1].ip);
}

#[test]
fn root_key_auth_works_with_openssh_and_known_hosts() {
    let hosts = Hosts::start(2);
    let kh = known_hosts(&hosts);
    for h in hosts.iter() {
        let out = support::sh(h.ssh("root", &kh).arg("hostname; cat /etc/hostname; id -u"));
        assert!(out.starts_with(&format!("{}\n", h.hostname)), "{out}");
        assert!(out.ends_with("0\n"), "{out}");
    }
    // A host key that is not the recorded one is refused by the real client.
    let wrong = hosts.dir().join("wrong_known_hosts");
    std::fs::write(
        &wrong,
        format!(
            "{} {}\n",
            hosts[0].known_hosts_line().split(' ').next().unwrap(),
            hosts[1].host_public_key()
        ),
    )
    .unwrap();
    let out = hosts[0].ssh("root", &wrong).arg("true").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HOST IDENTIFICATION HAS CHANGED"));
}

#[test]
fn sudo_user_needs_its_password() {
    let hosts = Hosts::start(1);
    let kh = known_hosts(&hosts);
    let h = &hosts[0];
    let id = support::sh(h.ssh(SUDO_USER, &kh).arg("id -u"));
    assert_ne!(id.trim(), "0");
    let no_pw = h.ssh(SUDO_USER, &kh).arg("sudo -n true").output().unwrap();
    assert!(!no_pw.status.success(), "sudo -n worked without a password");
    let wrong = h
        .ssh(SUDO_USER, &kh)
        .arg("echo nope | sudo -S -p '' true")
        .output()
        .unwrap();
    assert!(!wrong.status.success(), "sudo took a wrong password");
    let mut ok = h.ssh(SUDO_USER, &kh);
    ok.arg("sudo -S -p '' id -u")
        .stdin(std::process::Stdio::piped());
    let out = feed(ok, &format!("{}\n", h.password));
    assert_eq!(out, "0\n");
}

#[test]
fn password_auth_works_with_openssh() {
    let hosts = Hosts::start(1);
    let kh = known_hosts(&hosts);
    let h = &hosts[0];
    let askpass = hosts.dir().join("askpass");
    std::fs::write(
        &askpass,
        "#!/bin/sh\nprintf '%s\\n' \"$TUG_TEST_PASSWORD\"\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &askpass,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let login = |password: &str| {
        Command::new("ssh")
            .args([
                "-F",
                "/dev/null",
                "-o",
                "PubkeyAuthentication=no",
                "-o",
                "PreferredAuthentications=password",
            ])
            .args([
                "-o",
                "NumberOfPasswordPrompts=1",
                "-o",
                "StrictHostKeyChecking=yes",
            ])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", kh.display()))
            .args([
                "-p",
                &h.port.to_string(),
                &format!("{SUDO_USER}@{}", h.ip),
                "whoami",
            ])
            .env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .env("TUG_TEST_PASSWORD", password)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let ok = login(&h.password);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout),
        format!("{SUDO_USER}\n")
    );
    assert!(!login("wrong").status.success());
}

#[test]
fn kill_restart_and_new_host_key_keep_files() {
    let mut hosts = Hosts::start(1);
    let kh = known_hosts(&hosts);
    hosts[0].exec("echo kept > /opt/kept");
    let before = hosts[0].fingerprint();
    hosts[0].kill();
    assert!(
        !hosts[0]
            .ssh("root", &kh)
            .arg("true")
            .output()
            .unwrap()
            .status
            .success()
    );
    hosts[0].restart();
    assert_eq!(
        support::sh(hosts[0].ssh("root", &kh).arg("cat /opt/kept")),
        "kept\n"
    );
    hosts[0].regenerate_host_key();
    assert_ne!(hosts[0].fingerprint(), before);
    assert!(
        !hosts[0]
            .ssh("root", &kh)
            .arg("true")
            .output()
            .unwrap()
            .status
            .success()
    );
    assert_eq!(hosts[0].exec("cat /opt/kept"), "kept\n");
}

#[test]
fn small_tmpfs_fills_up() {
    let hosts = Hosts::start(1);
    hosts[0].mount_tmpfs("/var/lib/small", "1M");
    let out = hosts[0].exec_output("dd if=/dev/zero of=/var/lib/small/big bs=64k count=64");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("No space left"));
}

#[test]
fn sets_in_parallel_do_not_collide() {
    let a = Hosts::start(2);
    let b = Hosts::start(2);
    let ips: std::collections::HashSet<_> = a.iter().chain(b.iter()).map(|h| h.addr()).collect();
    assert_eq!(ips.len(), 4);
    for h in a.iter().chain(b.iter()) {
        assert_eq!(h.exec("hostname").trim(), h.hostname);
    }
}

#[test]
fn registry_answers_v2_with_and_without_auth() {
    let open = Registry::start();
    assert_eq!(open.v2_status(), Some(200));
    let closed = Registry::start_with_auth("tug", "secret");
    assert_eq!(closed.v2_status(), Some(401));
}

fn feed(mut cmd: Command, input: &str) -> String {
    use std::io::Write;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_panicking_test_leaves_no_process_behind() {
    let (tx, rx) = std::sync::mpsc::channel();
    let outcome = std::thread::spawn(move || {
        let hosts = Hosts::start(1);
        tx.send((
            hosts[0].exec("readlink /proc/self/ns/mnt"),
            hosts.dir().to_path_buf(),
        ))
        .unwrap();
        panic!("a test failing while its hosts run");
    })
    .join();
    assert!(outcome.is_err());
    let (ns, dir) = rx.recv().unwrap();
    let ns = ns.trim();
    assert!(ns.starts_with("mnt:["), "{ns}");
    let in_ns: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            std::fs::read_link(e.path().join("ns/mnt")).is_ok_and(|l| l.to_str() == Some(ns))
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        in_ns.is_empty(),
        "processes left in the host's namespace: {in_ns:?}"
    );
    assert!(!dir.exists(), "{} left behind", dir.display());
}
