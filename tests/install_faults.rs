//! Faults an install meets on real OpenSSH hosts: each gives a clear error
//! naming the host, a non-zero exit, and a state a re-run can repair.

mod support;
#[allow(dead_code)]
#[path = "install_local/testbed.rs"]
mod testbed;

use support::hosts::{Host, Hosts, SUDO_USER};
use support::tug::{Run, Tug};
use testbed::{JOURNAL, KUBEADM, free_port, images};
use tug::image::Store;

/// A one-master cluster's `tug run` arguments for `host`, plus `extra`.
fn run_args(tug: &Tug, host: &Host, extra: &[&str]) -> Vec<String> {
    let store = Store::open(&tug.store()).unwrap();
    let mut args = vec!["run".to_string()];
    args.extend(images(&store, free_port()).iter().map(ToString::to_string));
    args.extend(["--masters".to_string(), host.addr()]);
    args.extend(extra.iter().map(ToString::to_string));
    args
}

fn tug_run(tug: &Tug, args: &[String]) -> Run {
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    tug.run(&argv)
}

fn install_kubeadm(hosts: &Hosts, h: &Host) {
    std::fs::write(hosts.dir().join("kubeadm"), KUBEADM).unwrap();
    h.exec(&format!(
        "cp {} /usr/local/bin/kubeadm && chmod 755 /usr/local/bin/kubeadm",
        hosts.dir().join("kubeadm").display()
    ));
}

#[test]
fn a_wrong_password_names_the_host_changes_nothing_and_the_right_one_installs() {
    let hosts = Hosts::start(1);
    install_kubeadm(&hosts, &hosts[0]);
    let tug = Tug::new();
    let wrong = "not-the-password-7f3a";
    let args = run_args(&tug, &hosts[0], &["-u", SUDO_USER, "-p", wrong]);
    let out = tug_run(&tug, &args).fails();
    assert!(
        out.stderr
            .contains(&format!("{}: authentication failed", hosts[0].addr())),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(wrong) && !out.stdout.contains(wrong));
    assert_eq!(
        hosts[0]
            .exec("ls /var/lib/sealos 2>/dev/null | wc -l")
            .trim(),
        "0",
        "nothing reached the host"
    );

    let args = run_args(&tug, &hosts[0], &["-u", SUDO_USER, "-p", &hosts.password]);
    tug_run(&tug, &args).ok();
    assert!(
        hosts[0]
            .exec(&format!("cat {JOURNAL}"))
            .contains("kubeadm init")
    );
}

#[test]
fn a_changed_host_key_is_refused_naming_the_host_and_both_fingerprints() {
    let mut hosts = Hosts::start(1);
    install_kubeadm(&hosts, &hosts[0]);
    let tug = Tug::new();
    let key = hosts.key.display().to_string();
    let args = run_args(&tug, &hosts[0], &["--pk", &key, "--cluster", "k"]);
    tug_run(&tug, &args).ok();
    let before = hosts[0].fingerprint();
    let journal_before = hosts[0].exec(&format!("cat {JOURNAL}"));

    hosts[0].regenerate_host_key();
    let after = hosts[0].fingerprint();
    assert_ne!(before, after);
    let file = tug.home().join("state/clusters/k/Clusterfile");
    let out = tug.run(&["apply", "-f", file.to_str().unwrap()]).fails();
    assert!(
        out.stderr.contains(&hosts[0].addr())
            && out.stderr.contains("HOST KEY CHANGED")
            && out.stderr.contains(&before)
            && out.stderr.contains(&after),
        "{}",
        out.stderr
    );
    assert_eq!(
        hosts[0].exec(&format!("cat {JOURNAL}")),
        journal_before,
        "nothing ran on a host whose key changed"
    );
}

#[test]
fn an_unreachable_host_is_named_and_nothing_runs_on_the_others() {
    let hosts = Hosts::start(1);
    install_kubeadm(&hosts, &hosts[0]);
    let tug = Tug::new();
    let key = hosts.key.display().to_string();
    // 127.0.11.x is outside what the testbed hands out: no sshd there.
    let args = run_args(&tug, &hosts[0], &["--nodes", "127.0.11.250", "--pk", &key]);
    let out = tug_run(&tug, &args).fails();
    assert!(out.stderr.contains("127.0.11.250"), "{}", out.stderr);
    assert_eq!(
        hosts[0]
            .exec("ls /var/lib/sealos 2>/dev/null | wc -l")
            .trim(),
        "0",
        "a run that cannot reach every host changes none"
    );
}

#[test]
fn strict_host_keys_refuse_an_unknown_key_and_accept_a_recorded_one() {
    let hosts = Hosts::start(1);
    install_kubeadm(&hosts, &hosts[0]);
    let tug = Tug::new();
    let key = hosts.key.display().to_string();
    let args = run_args(&tug, &hosts[0], &["--pk", &key, "--strict-host-keys"]);
    let out = tug_run(&tug, &args).fails();
    assert!(
        out.stderr.contains(&format!(
            "{}: unknown host key {} refused",
            hosts[0].addr(),
            hosts[0].fingerprint()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(
        hosts[0]
            .exec("ls /var/lib/sealos 2>/dev/null | wc -l")
            .trim(),
        "0"
    );

    let known = tug.home().join("config/known_hosts");
    std::fs::create_dir_all(known.parent().unwrap()).unwrap();
    std::fs::write(&known, format!("{}\n", hosts[0].known_hosts_line())).unwrap();
    let out = tug_run(&tug, &args).ok();
    assert!(!out.stderr.contains("new host key"), "{}", out.stderr);
    assert!(
        hosts[0]
            .exec(&format!("cat {JOURNAL}"))
            .contains("kubeadm init")
    );
}

#[test]
fn a_failing_hook_names_host_command_exit_code_and_output_and_a_rerun_completes() {
    let hosts = Hosts::start(2);
    for h in hosts.iter() {
        install_kubeadm(&hosts, h);
    }
    hosts[1].exec("touch /var/lib/fail-init");
    let tug = Tug::new();
    let key = hosts.key.display().to_string();
    let nodes = hosts[1].addr();
    let args = run_args(&tug, &hosts[0], &["--nodes", &nodes, "--pk", &key]);
    let out = tug_run(&tug, &args).fails();
    let node = &hosts[1].ip;
    assert!(
        out.stderr.contains(&format!("[{node}] init: `"))
            && out.stderr.contains("bash init.sh $registryDomain")
            && out
                .stderr
                .contains("exited with code 1; last output:\n    init failed on purpose"),
        "{}",
        out.stderr
    );
    let journal = |i: usize| hosts[i].exec(&format!("cat {JOURNAL}"));
    assert!(
        !journal(0).contains("kubeadm init"),
        "no later stage started"
    );
    // The init hook journals a line "init <args>".
    let hook_runs = |i: usize| {
        journal(i)
            .lines()
            .filter(|l| l.starts_with("init "))
            .count()
    };
    assert_eq!(hook_runs(0), 1, "master0's init hook ran");

    hosts[1].exec("rm /var/lib/fail-init");
    let file = tug.home().join("state/clusters/default/Clusterfile");
    tug.run(&["apply", "-f", file.to_str().unwrap()]).ok();
    assert!(journal(0).contains("kubeadm init"));
    assert!(journal(1).contains("kubeadm join"));
    assert_eq!(
        hook_runs(0),
        1,
        "master0's init hook, which succeeded, did not run again"
    );
    assert_eq!(hook_runs(1), 1, "the node's init hook ran once it could");
}
