//! A multi-arch cluster image resolves to the hosts' architecture (SPEC §1).
//! The store holds the fixture rootfs as one name over two manifests, an
//! amd64 and an arm64 build whose `arch.txt` says which they are. Test
//! hosts share this machine's kernel, so each gets a `uname` in its own
//! /usr/local/bin answering `-m` as the test wants. Every SSH login shows
//! in the host's sshd log: that is how the tests tell a host was asked.
//! Installs and `add` refuse hosts of two archs before sending anything;
//! a reset asks the hosts that answer; plans and dry runs contact nobody.

mod support;

use serde_json::json;
use support::fixture::{JOURNAL, ROOTFS, calls, calls_of, context};
use support::hosts::{Host, Hosts};
use support::tug::Tug;
use tug::image::oci::{Descriptor, media};
use tug::image::{Reference, Store};

/// The arm64-only build, a plain manifest.
const ARM64_ONLY: &str = "tugtest/kubernetes:arm64";
/// Where the installed rootfs says which build it is.
const ARCH_TXT: &str = "/var/lib/sealos/data/c1/rootfs/arch.txt";

/// Build the fixture rootfs for amd64 (`tugtest/kubernetes:amd64`) and
/// arm64 ([`ARM64_ONLY`]), each with an `arch.txt` naming its arch, and
/// point [`ROOTFS`] at an index of both.
fn multi_arch(tug: &Tug) {
    let scratch = tempfile::tempdir().unwrap();
    let mut entries = Vec::new();
    for arch in ["amd64", "arm64"] {
        let dir = scratch.path().join(arch);
        support::sh(
            std::process::Command::new("cp")
                .arg("-a")
                .arg(context("rootfs"))
                .arg(&dir),
        );
        std::fs::write(dir.join("arch.txt"), format!("{arch}\n")).unwrap();
        let tag = format!("tugtest/kubernetes:{arch}");
        let platform = format!("linux/{arch}");
        let dir = dir.to_str().unwrap();
        tug.run(&["build", "--platform", &platform, "-t", &tag, dir])
            .ok();
        let store = Store::open(&tug.store()).unwrap();
        let d = store.resolve(&tag.parse().unwrap()).unwrap();
        entries.push(json!({
            "mediaType": d.media_type, "digest": d.digest.to_string(), "size": d.size,
            "platform": {"architecture": arch, "os": "linux"},
        }));
    }
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": entries,
    }))
    .unwrap();
    let store = Store::open(&tug.store()).unwrap();
    let digest = store.put_bytes(&index).unwrap();
    let name: Reference = ROOTFS.parse().unwrap();
    let top = Descriptor::new(media::OCI_INDEX, digest, index.len() as u64);
    store.set_name(&name, top).unwrap();
}

/// Make `host` answer `uname -m` with `machine` (other uses of uname, as
/// preflight's `uname -s`, go to the real one).
fn answer_uname(host: &Host, machine: &str) {
    host.exec(&format!(
        "printf '#!/bin/sh\\nif [ \"$1\" = -m ]; then echo {machine}; else exec /usr/bin/uname \"$@\"; fi\\n' > /usr/local/bin/uname && chmod 755 /usr/local/bin/uname"
    ));
    assert_eq!(host.exec("/usr/local/bin/uname -m"), format!("{machine}\n"));
}

/// How many SSH logins `host` has accepted so far.
fn logins(host: &Host) -> usize {
    std::fs::read_to_string(host.dir.join("sshd.log"))
        .unwrap()
        .matches("Accepted publickey for root")
        .count()
}

/// Whether tug left nothing on `host`: no data dir, no stand-in ran.
fn untouched(host: &Host) -> bool {
    !host
        .exec_output(&format!("test -e /var/lib/sealos || test -e {JOURNAL}"))
        .status
        .success()
}

/// `tug run` of `image` onto these masters and nodes as `cluster`.
fn run_args<'a>(
    image: &'a str,
    cluster: &'a str,
    masters: &'a str,
    nodes: &'a str,
    key: &'a str,
) -> Vec<&'a str> {
    let mut args = vec!["run", image, "--masters", masters];
    if !nodes.is_empty() {
        args.extend(["--nodes", nodes]);
    }
    args.extend(["--pk", key, "--cluster", cluster, "--plain"]);
    args
}

#[test]
fn the_hosts_arch_picks_the_platform_mixed_hosts_are_refused_and_reset_asks_who_answers() {
    let mut hosts = Hosts::start(3);
    let tug = Tug::new();
    multi_arch(&tug);
    answer_uname(&hosts[0], "aarch64");
    answer_uname(&hosts[1], "aarch64");
    answer_uname(&hosts[2], "x86_64");
    let key = hosts.key.display().to_string();
    let (a, b, c) = (hosts[0].addr(), hosts[1].addr(), hosts[2].addr());
    let (ip_a, ip_b, ip_c) = (
        hosts[0].ip.clone(),
        hosts[1].ip.clone(),
        hosts[2].ip.clone(),
    );

    // An arm64 and an amd64 host: refused before anything is sent.
    let masters = format!("{a},{c}");
    let mixed = tug.run(&run_args(ROOTFS, "c1", &masters, "", &key)).fails();
    let line = format!(
        "error: hosts are of different architectures: {ip_c} amd64; {ip_a} arm64 \
         — a cluster is one architecture (every host gets the same platform of each image)\n"
    );
    assert!(mixed.stderr.ends_with(&line), "{}", mixed.stderr);
    assert!(untouched(&hosts[0]) && untouched(&hosts[2]));

    // Two arm64 hosts: asked once each, then the arm64 build is staged and
    // preflight (which runs uname too) passes.
    let before = [logins(&hosts[0]), logins(&hosts[1])];
    let args = [
        run_args(ROOTFS, "c1", &a, &b, &key),
        vec!["--until", "distribute"],
    ]
    .concat();
    let out = tug.run(&args).ok();
    assert!(!out.stderr.contains("warning:"), "{}", out.stderr);
    assert!(
        out.stderr.contains("stopped after distribute"),
        "{}",
        out.stderr
    );
    for (i, host) in hosts[..2].iter().enumerate() {
        assert_eq!(host.exec(&format!("cat {ARCH_TXT}")), "arm64\n", "{i}");
        assert_eq!(logins(host), before[i] + 2, "{i}: asked, then installed");
    }

    // Adding an amd64 node to it is refused the same way.
    let add = tug
        .run(&["add", "--cluster", "c1", "--nodes", &c, "--plain"])
        .fails();
    let line = format!(
        "error: hosts are of different architectures: {ip_c} amd64; {ip_a}, {ip_b} arm64 \
         — a cluster is one architecture"
    );
    assert!(add.stderr.contains(&line), "{}", add.stderr);
    assert!(untouched(&hosts[2]));

    // A reset with one host gone asks the other, and cleans it.
    hosts[1].kill();
    let before = logins(&hosts[0]);
    let reset = tug
        .run(&["reset", "--cluster", "c1", "--force", "--plain"])
        .fails();
    assert!(reset.stderr.contains(&ip_b), "{}", reset.stderr);
    assert!(!reset.stderr.contains("warning:"), "{}", reset.stderr);
    assert_eq!(logins(&hosts[0]), before + 2, "asked, then reset");
    let ran = calls(&hosts[0].exec(&format!("cat {JOURNAL}")));
    assert_eq!(calls_of(&ran, "clean.sh", "").len(), 1, "{ran:?}");
    assert!(
        !hosts[0]
            .exec_output("test -e /var/lib/sealos")
            .status
            .success(),
        "{}",
        reset.stderr
    );
}

#[test]
fn arch_roles_decide_and_single_platform_images_ask_nobody() {
    let hosts = Hosts::start(1);
    let tug = Tug::new();
    multi_arch(&tug);
    answer_uname(&hosts[0], "x86_64");
    let host = &hosts[0];

    // The Clusterfile's arch role wins over what the host would say.
    let file = tug.home().join("Clusterfile");
    let clusterfile = format!(
        "apiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nmetadata:\n  name: c1\n\
         spec:\n  hosts:\n  - ips: [{}]\n    roles: [master, arm64]\n  image: [{ROOTFS}]\n\
         \x20 ssh:\n    user: root\n    pk: {}\n",
        host.addr(),
        hosts.key.display()
    );
    std::fs::write(&file, clusterfile).unwrap();
    let f = file.to_str().unwrap();
    let before = logins(host);
    let args = ["apply", "-f", f, "--skip-checks", "--until", "distribute"];
    let out = tug.run(&args).ok();
    assert!(!out.stderr.contains("warning:"), "{}", out.stderr);
    assert_eq!(host.exec(&format!("cat {ARCH_TXT}")), "arm64\n");
    assert_eq!(logins(host), before + 1, "installed without asking");

    // A single-platform image: nobody is asked either (and preflight,
    // which asks uname itself, refuses the host).
    let before = logins(host);
    let (addr, key) = (host.addr(), hosts.key.display().to_string());
    let args = [
        run_args(ARM64_ONLY, "c2", &addr, "", &key),
        vec!["--until", "preflight"],
    ]
    .concat();
    let out = tug.run(&args).fails();
    assert!(
        out.stderr
            .contains("preflight: this host is amd64 but the image is arm64"),
        "{}",
        out.stderr
    );
    assert_eq!(logins(host), before + 1, "installed without asking");
}

#[test]
fn plans_and_dry_runs_assume_this_machine_and_contact_nobody() {
    let tug = Tug::new();
    multi_arch(&tug);
    // Nothing listens on these addresses: a contact would fail.
    let file = tug.home().join("Clusterfile");
    std::fs::write(
        &file,
        format!(
            "apiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nmetadata:\n  name: c1\n\
             spec:\n  hosts:\n  - ips: [127.250.0.1:22, 127.250.0.2:22]\n    roles: [master]\n\
             \x20 image: [{ROOTFS}]\n"
        ),
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let mine = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => panic!("no fixture build for {other}"),
    };
    let warning = format!(
        "warning: image docker.io/{ROOTFS} holds several platforms (linux/amd64, \
         linux/arm64); this plan assumes linux/{mine} (this machine's); a real run asks the \
         hosts their arch, or arch roles in the Clusterfile decide\n"
    );
    // The Clusterfile's own warning comes first: it names two masters.
    let masters = format!(
        "warning: {f}:6: spec.hosts: 2 masters: etcd needs a majority, so an even count \
         tolerates no more failures than one master fewer\n"
    );
    let arch_warning = warning;
    let warning = format!("{masters}{arch_warning}");
    let plan = tug.run(&["plan", "-f", f]).ok();
    assert_eq!(plan.stderr, warning);
    assert!(
        plan.stdout.starts_with("summary: ") && plan.stdout.contains("\n\nstage 1: preflight"),
        "{}",
        plan.stdout
    );
    let dry = tug.run(&["apply", "-f", f, "--dry-run"]).ok();
    assert_eq!(
        (dry.stdout.as_str(), dry.stderr.as_str()),
        (plan.stdout.as_str(), warning.as_str())
    );
    let run = tug
        .run(&[
            "run",
            ROOTFS,
            "--masters",
            "127.250.0.1,127.250.0.2",
            "--cluster",
            "c1",
            "-p",
            "x",
            "--dry-run",
        ])
        .ok();
    assert_eq!(run.stderr, arch_warning);
    // The same plan resolved for the other platform differs (its rootfs
    // layer is another), so the plan really is the assumed platform's.
    let other = if mine == "amd64" { "arm64" } else { "amd64" };
    let pinned = std::fs::read_to_string(&file)
        .unwrap()
        .replace("roles: [master]", &format!("roles: [master, {other}]"));
    std::fs::write(&file, pinned).unwrap();
    let theirs = tug.run(&["plan", "-f", f]).ok();
    assert_eq!(theirs.stderr, masters);
    assert_ne!(theirs.stdout, plan.stdout);
}
