//! Untrusted inputs other than images, through the real `tug`: a deeply
//! nested Clusterfile, addresses that are no host, a revoked host key on a
//! real sshd test host, and host output carrying terminal escapes.

mod support;

use support::fixture;
use support::hosts::Hosts;
use support::sh;
use support::tug::Tug;

#[test]
fn a_clusterfile_nested_100k_deep_is_refused_with_its_line() {
    let tug = Tug::new();
    let file = tug.home().join("deep.yaml");
    let deep = format!(
        "apiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nmetadata:\n  name: deep\nspec:\n  hosts: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    std::fs::write(&file, deep).unwrap();
    let run = tug.run(&["plan", "-f", file.to_str().unwrap()]).fails();
    assert!(
        run.stderr.contains("deep.yaml")
            && run.stderr.contains(":6")
            && run.stderr.contains("nested 65 levels deep"),
        "{}",
        run.stderr
    );
    // Block nesting without brackets: 100k compact sequence entries.
    let compact = format!(
        "apiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nmetadata:\n  name: deep\nspec:\n  hosts:\n  {}x\n",
        "- ".repeat(100_000)
    );
    std::fs::write(&file, compact).unwrap();
    let run = tug.run(&["plan", "-f", file.to_str().unwrap()]).fails();
    assert!(
        run.stderr.contains("deep.yaml:7") && run.stderr.contains("levels deep"),
        "{}",
        run.stderr
    );
}

#[test]
fn unspecified_and_broadcast_addresses_are_no_hosts() {
    let tug = Tug::new();
    for ip in ["0.0.0.0", "255.255.255.255"] {
        let run = tug
            .run(&["gen", "labring/kubernetes:v1.25.0", "--masters", ip])
            .fails();
        assert!(
            run.stderr
                .contains(&format!("address \"{ip}\" is not a host")),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn a_revoked_host_key_is_refused_also_in_strict_mode() {
    let hosts = Hosts::start(1);
    let h = &hosts[0];
    let tug = Tug::new();
    fixture::build_images(&tug);
    let key = hosts.key.display().to_string();
    // The key is both on record and revoked: revoked wins.
    let line = h.known_hosts_line();
    let key_part = line
        .split_whitespace()
        .skip(1)
        .collect::<Vec<_>>()
        .join(" ");
    let ssh_dir = tug.home().join(".ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    let known = format!("{line}\n@revoked * {key_part}\n");
    std::fs::write(ssh_dir.join("known_hosts"), known).unwrap();
    let addr = h.addr();
    for strict in [false, true] {
        let mut args = vec!["run", fixture::ROOTFS, "--masters", &addr, "--pk", &key];
        args.extend(["--cluster", "c1", "--plain"]);
        if strict {
            args.push("--strict-host-keys");
        }
        let run = tug.run(&args).fails();
        assert!(
            run.stderr.contains("is revoked") && run.stderr.contains(&h.fingerprint()),
            "strict={strict}: {}",
            run.stderr
        );
    }
}

#[test]
fn host_certificates_are_trusted_by_their_ca_and_only_by_it() {
    let mut hosts = Hosts::start(1);
    let tug = Tug::new();
    fixture::build_images(&tug);
    let keys = tempfile::tempdir().unwrap();
    for ca in ["ca", "other-ca"] {
        sh(std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(keys.path().join(ca)));
    }
    let h = &mut hosts[0];
    let host_pub = h.dir.join("ssh_host_ed25519_key.pub");
    sh(std::process::Command::new("ssh-keygen")
        .args(["-q", "-s"])
        .arg(keys.path().join("ca"))
        .args(["-I", "tug-test", "-h", "-n", &h.ip])
        .arg(&host_pub));
    let cert = h.dir.join("ssh_host_ed25519_key-cert.pub");
    let config = h.dir.join("sshd_config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("HostCertificate {}\n", cert.display()));
    std::fs::write(&config, text).unwrap();
    h.restart();
    let ssh_dir = tug.home().join(".ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    let addr = h.addr();
    let key = hosts.key.display().to_string();
    let args = [
        "run",
        fixture::ROOTFS,
        "--masters",
        &addr,
        "--pk",
        &key,
        "--cluster",
        "c1",
        "--plain",
        "--strict-host-keys",
    ];
    // Only the key of another CA is trusted: the certificate is refused.
    let ca_line = |ca: &str| {
        let public = std::fs::read_to_string(keys.path().join(format!("{ca}.pub"))).unwrap();
        format!("@cert-authority {} {public}", hosts[0].ip)
    };
    std::fs::write(ssh_dir.join("known_hosts"), ca_line("other-ca")).unwrap();
    let refused = tug.run(&args).fails();
    assert!(
        refused.stderr.contains("host certificate for key")
            && refused.stderr.contains("not signed by a @cert-authority"),
        "{}",
        refused.stderr
    );
    // Its own CA is trusted: the host is accepted with no key on record.
    std::fs::write(ssh_dir.join("known_hosts"), ca_line("ca")).unwrap();
    let run = tug.run(&args).ok();
    assert!(run.stderr.contains("cluster c1 is ready"), "{}", run.stderr);
    let recorded = tug.home().join("config/known_hosts");
    let recorded = std::fs::read_to_string(recorded).unwrap_or_default();
    assert!(!recorded.contains(&hosts[0].ip), "{recorded}");
}
