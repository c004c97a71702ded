//! Reaching a cluster's hosts through a bastion: a third real sshd test
//! host in front of two, which refuse direct connections from this machine
//! (`only_via_bastion`), so a command that works went through the bastion.
//! The bastion's key is checked like any host's, and it logs in as its own
//! non-root user with its own key.

mod support;

use support::fixture::{self, JOURNAL, calls, calls_of};
use support::hosts::{Hosts, SUDO_USER};
use support::tug::Tug;
use tug::app::Context;
use tug::app::probe::{Tested, test_all};
use tug::engine::plan::HostId;
use tug::engine::spec::{BastionSpec, HostSpec, Role, SshSpec};
use tug::paths::Paths;

/// `tugtest@BASTION:PORT` for the set's third host.
fn bastion(hosts: &Hosts) -> String {
    format!("{SUDO_USER}@{}", hosts[2].addr())
}

/// A cluster `c1` of hosts[0] (master) and hosts[1] (node), its Clusterfile
/// made by `gen` with `extra` flags and saved as a run would save it.
fn cluster(hosts: &Hosts, extra: &[&str]) -> (Tug, String) {
    let tug = Tug::new();
    let key = hosts.key.display().to_string();
    let (master, node) = (hosts[0].addr(), hosts[1].addr());
    let mut args = vec![
        "gen",
        "tugtest/kubernetes:v1.28.9",
        "--masters",
        &master,
        "--nodes",
        &node,
        "--pk",
        &key,
        "--cluster",
        "c1",
    ];
    args.extend_from_slice(extra);
    let generated = tug.run(&args).ok().stdout;
    save(&tug, &generated);
    (tug, generated)
}

fn save(tug: &Tug, clusterfile: &str) {
    let dir = tug.home().join("state/clusters/c1");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("Clusterfile"), clusterfile).unwrap();
}

/// The bastion's logins so far (one line each in its sshd log).
fn bastion_logins(hosts: &Hosts) -> usize {
    let log = std::fs::read_to_string(hosts[2].dir.join("sshd.log")).unwrap_or_default();
    log.lines()
        .filter(|l| l.contains(&format!("Accepted publickey for {SUDO_USER}")))
        .count()
}

#[test]
fn exec_reaches_two_hosts_only_through_the_bastion_over_one_connection() {
    let hosts = Hosts::start(3);
    let (tug, _) = cluster(&hosts, &[]);
    let _walls = [hosts[0].only_via_bastion(), hosts[1].only_via_bastion()];

    // Directly, neither host answers.
    let direct = tug.run(&["exec", "--cluster", "c1", "--", "true"]).fails();
    for h in [&hosts[0], &hosts[1]] {
        assert!(
            direct.stderr.contains(&h.addr()) && direct.stderr.contains("refused"),
            "{}",
            direct.stderr
        );
    }

    let b = bastion(&hosts);
    let key = hosts.key.display().to_string();
    let out = tug
        .run(&[
            "exec",
            "--cluster",
            "c1",
            "--bastion",
            &b,
            "--bastion-pk",
            &key,
            "--",
            "echo on-$(hostname)",
        ])
        .ok();
    for h in [&hosts[0], &hosts[1]] {
        let expect = format!("[{}] exec: on-{}", h.ip, h.hostname);
        assert!(out.stderr.contains(&expect), "{}", out.stderr);
    }
    // The bastion's key was new: recorded and told, named as the bastion's.
    let told = format!("[bastion {}] new host key", hosts[2].addr());
    assert!(out.stderr.contains(&told), "{}", out.stderr);
    let known = std::fs::read_to_string(tug.home().join("config/known_hosts")).unwrap();
    assert!(known.contains(&hosts[2].host_public_key()), "{known}");
    // Both hosts went through one connection to the bastion.
    assert_eq!(bastion_logins(&hosts), 1);
}

#[test]
fn an_install_of_a_master_and_a_node_goes_through_the_bastion() {
    let hosts = Hosts::start(3);
    let tug = Tug::new();
    let images = fixture::build_images(&tug);
    let _walls = [hosts[0].only_via_bastion(), hosts[1].only_via_bastion()];
    let (master, node) = (hosts[0].addr(), hosts[1].addr());
    let key = hosts.key.display().to_string();
    let b = bastion(&hosts);
    let mut args: Vec<&str> = vec!["run"];
    args.extend(images.iter().map(String::as_str));
    args.extend(["--masters", &master, "--nodes", &node, "--pk", &key]);
    args.extend(["--bastion", &b, "--bastion-pk", &key, "--cluster", "c1"]);
    let out = tug.run(&args).ok();
    assert!(out.stderr.contains("cluster c1 is ready"), "{}", out.stderr);
    for (i, verb) in [(0, "init --config="), (1, "join --config=")] {
        let journal = hosts[i].exec(&format!("cat {JOURNAL}"));
        let all = calls(&journal);
        assert_eq!(calls_of(&all, "kubeadm", verb).len(), 1, "{i}: {journal}");
    }
    // The saved Clusterfile keeps the bastion: a later command needs no flag.
    tug.run(&["exec", "--cluster", "c1", "--", "true"]).ok();
}

#[test]
fn a_changed_bastion_key_is_refused_naming_the_bastion_and_nothing_runs() {
    let mut hosts = Hosts::start(3);
    let b = bastion(&hosts);
    let key = hosts.key.display().to_string();
    let (tug, _) = cluster(&hosts, &["--bastion", &b, "--bastion-pk", &key]);
    let _walls = [hosts[0].only_via_bastion(), hosts[1].only_via_bastion()];
    tug.run(&["exec", "--cluster", "c1", "--", "true"]).ok();

    hosts[2].regenerate_host_key();
    let marker = format!("/tmp/tug-bastion-{}", hosts[0].ip);
    let touch = format!("touch {marker}");
    let refused = tug.run(&["exec", "--cluster", "c1", "--", &touch]).fails();
    let expect = format!("through bastion {}: HOST KEY CHANGED", hosts[2].addr());
    assert!(refused.stderr.contains(&expect), "{}", refused.stderr);
    assert!(
        refused.stderr.contains(&hosts[2].fingerprint()),
        "{}",
        refused.stderr
    );
    assert!(!std::path::Path::new(&marker).exists());
    // Only the first exec logged in to the bastion.
    assert_eq!(bastion_logins(&hosts), 1);
}

#[test]
fn spec_ssh_bastion_in_the_clusterfile_works_as_the_flag_does() {
    let hosts = Hosts::start(3);
    let b = bastion(&hosts);
    let key = hosts.key.display().to_string();
    // `gen --bastion` records it in spec.ssh, with the bastion's own key.
    let (tug, generated) = cluster(&hosts, &["--bastion", &b, "--bastion-pk", &key]);
    assert!(generated.contains(&format!("bastion: {b}")), "{generated}");
    assert!(
        generated.contains(&format!("bastionPk: {key}")),
        "{generated}"
    );
    let _walls = [hosts[0].only_via_bastion(), hosts[1].only_via_bastion()];
    let out = tug
        .run(&["exec", "--cluster", "c1", "--", "echo on-$(hostname)"])
        .ok();
    for h in [&hosts[0], &hosts[1]] {
        let expect = format!("[{}] exec: on-{}", h.ip, h.hostname);
        assert!(out.stderr.contains(&expect), "{}", out.stderr);
    }

    // Per host: only hosts[1] is behind the bastion, so hosts[0] (walled)
    // is refused and hosts[1] answers.
    let (_, plain) = cluster(&hosts, &[]);
    let per_host = plain.replace(
        &format!("- {}\n", hosts[1].addr()),
        &format!(
            "- {}\n    ssh:\n      bastion: {b}\n      bastionPk: {key}\n",
            hosts[1].addr()
        ),
    );
    assert_ne!(per_host, plain, "{plain}");
    save(&tug, &per_host);
    let mixed = tug
        .run(&["exec", "--cluster", "c1", "--", "echo on-$(hostname)"])
        .fails();
    let expect = format!("[{}] exec: on-{}", hosts[1].ip, hosts[1].hostname);
    assert!(mixed.stderr.contains(&expect), "{}", mixed.stderr);
    assert!(
        mixed.stderr.contains(&hosts[0].addr()) && mixed.stderr.contains("refused"),
        "{}",
        mixed.stderr
    );
}

/// The wizard's connection test over one host behind the bastion, trusting `trust`.
async fn probe(hosts: &Hosts, home: &std::path::Path, trust: &[String]) -> Tested {
    let ctx = Context {
        paths: Paths::under(home),
        insecure_registries: Vec::new(),
        fancy: false,
        verbose: false,
        strict_host_keys: false,
        bastion: None,
    };
    let h = &hosts[0];
    let host = HostSpec {
        id: HostId::new(h.ip.clone()),
        ip: h.ip.parse().unwrap(),
        port: h.port,
        roles: vec![Role::Master],
        arch: String::new(),
        ssh: SshSpec {
            user: "root".into(),
            key: Some(hosts.key.clone()),
            bastion: Some(BastionSpec {
                addr: bastion(hosts).parse().unwrap(),
                key: Some(hosts.key.clone()),
                password: None,
            }),
            ..SshSpec::default()
        },
        env: Vec::new(),
    };
    let got = std::sync::Mutex::new(Vec::new());
    let reply = |ip: String, t: Tested| got.lock().unwrap().push((ip, t));
    test_all(&ctx, &[host], trust.to_vec(), &reply).await;
    let got = got.into_inner().unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    got.into_iter().next().unwrap().1
}

#[tokio::test]
async fn the_wizard_s_connection_test_asks_to_confirm_the_bastion_key_then_the_host_s() {
    let hosts = Hosts::start(3);
    let home = tempfile::tempdir().unwrap();
    let _wall = hosts[0].only_via_bastion();

    let first = probe(&hosts, home.path(), &[]).await;
    let Tested::NewKey { key, fingerprint } = first else {
        panic!("{first:?}");
    };
    assert_eq!(fingerprint, hosts[2].fingerprint());
    assert!(
        key.starts_with(&format!("bastion {}: ", hosts[2].addr())),
        "{key}"
    );

    // With the bastion's key confirmed, the host's own is shown next.
    let second = probe(&hosts, home.path(), std::slice::from_ref(&fingerprint)).await;
    let Tested::NewKey {
        fingerprint: host_fp,
        ..
    } = second
    else {
        panic!("{second:?}");
    };
    assert_eq!(host_fp, hosts[0].fingerprint());

    let third = probe(&hosts, home.path(), &[host_fp]).await;
    assert!(matches!(third, Tested::Ok { .. }), "{third:?}");
    let known = std::fs::read_to_string(home.path().join("config/known_hosts")).unwrap();
    assert!(known.contains(&hosts[2].host_public_key()), "{known}");
    assert!(known.contains(&hosts[0].host_public_key()), "{known}");
}

#[test]
fn a_bad_bastion_value_is_a_one_line_error_naming_the_field() {
    let tug = Tug::new();
    let flag = tug
        .run(&[
            "--bastion",
            "10.0.0.1",
            "exec",
            "--cluster",
            "c1",
            "--",
            "true",
        ])
        .fails();
    let line = flag.stderr.lines().next().unwrap_or_default();
    assert!(
        line.contains("--bastion") && line.contains("no USER@"),
        "{}",
        flag.stderr
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Clusterfile");
    std::fs::write(
        &file,
        "apiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nmetadata:\n  name: c1\nspec:\n  \
         image:\n  - tugtest/kubernetes:v1.28.9\n  ssh:\n    bastion: ops@jump:99999\n  \
         hosts:\n  - ips:\n    - 10.0.0.2\n    roles:\n    - master\n",
    )
    .unwrap();
    let bad = tug
        .run(&["apply", "-f", file.to_str().unwrap(), "--dry-run"])
        .fails();
    let errors: Vec<&str> = bad
        .stderr
        .lines()
        .filter(|l| l.contains("bastion"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", bad.stderr);
    assert!(
        errors[0].contains("Clusterfile:9: spec.ssh.bastion")
            && errors[0].contains("the port is not 1-65535"),
        "{}",
        bad.stderr
    );
}
