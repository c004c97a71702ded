//! Faults an install meets on real OpenSSH hosts, with the fixture images
//! built by `tug build`: each gives a clear error naming the host, a
//! non-zero exit, and a state a re-run repairs.

mod support;

use std::time::Duration;
use support::fixture::{self, FAIL, JOURNAL, calls, calls_of};
use support::hosts::{Host, Hosts, SUDO_USER, random_hex};
use support::tug::{Run, Tug};

/// `tug run` of the fixture images with `host` as the one master, plus `extra`.
fn run_args(tug: &Tug, host: &Host, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["run".to_string()];
    args.extend(fixture::build_images(tug));
    args.extend(["--masters".to_string(), host.addr(), "--plain".to_string()]);
    args.extend(extra.iter().map(ToString::to_string));
    args
}

/// `tug run` of the fixture images: hosts[0] the master, hosts[1] a node, by key.
fn master_and_node(tug: &Tug, hosts: &Hosts) -> Vec<String> {
    let key = hosts.key.display().to_string();
    let nodes = hosts[1].addr();
    run_args(tug, &hosts[0], &["--nodes", &nodes, "--pk", &key])
}

fn tug_run(tug: &Tug, args: &[String]) -> Run {
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    tug.run(&argv)
}

fn apply(tug: &Tug, cluster: &str) -> Run {
    let file = tug
        .home()
        .join(format!("state/clusters/{cluster}/Clusterfile"));
    tug.run(&["apply", "-f", file.to_str().unwrap(), "--plain"])
}

fn journal(host: &Host) -> String {
    host.exec(&format!("cat {JOURNAL} 2>/dev/null || true"))
}

/// How many times `kubeadm init` ran on this host.
fn inits(host: &Host) -> usize {
    calls_of(&calls(&journal(host)), "kubeadm", "init --config").len()
}

/// Whether anything of tug's reached the host.
fn touched(host: &Host) -> bool {
    host.exec_output("test -e /var/lib/sealos").status.success()
}

/// The hosts tug reports bytes sent to.
fn sent_to(out: &Run) -> Vec<String> {
    out.stderr
        .lines()
        .filter_map(|l| l.strip_prefix("sent "))
        .filter_map(|l| l.rsplit(" to ").next())
        .map(str::to_string)
        .collect()
}

#[test]
fn a_wrong_password_names_the_host_changes_nothing_and_the_right_one_installs() {
    let hosts = Hosts::start(1);
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
    assert!(!touched(&hosts[0]), "nothing reached the host");

    let args = run_args(&tug, &hosts[0], &["-u", SUDO_USER, "-p", &hosts.password]);
    tug_run(&tug, &args).ok();
    assert_eq!(inits(&hosts[0]), 1);
}

#[test]
fn a_changed_host_key_is_refused_naming_the_host_and_both_fingerprints() {
    let mut hosts = Hosts::start(1);
    let tug = Tug::new();
    let key = hosts.key.display().to_string();
    let args = run_args(&tug, &hosts[0], &["--pk", &key, "--cluster", "k"]);
    tug_run(&tug, &args).ok();
    let before = hosts[0].fingerprint();
    let journal_before = journal(&hosts[0]);

    hosts[0].regenerate_host_key();
    let after = hosts[0].fingerprint();
    assert_ne!(before, after);
    let out = apply(&tug, "k").fails();
    assert!(
        out.stderr.contains(&hosts[0].addr())
            && out.stderr.contains("HOST KEY CHANGED")
            && out.stderr.contains(&before)
            && out.stderr.contains(&after),
        "{}",
        out.stderr
    );
    assert_eq!(
        journal(&hosts[0]),
        journal_before,
        "nothing ran on a host whose key changed"
    );
}

#[test]
fn an_unreachable_host_is_named_and_nothing_runs_on_the_others() {
    let hosts = Hosts::start(1);
    let tug = Tug::new();
    let key = hosts.key.display().to_string();
    // 127.0.11.x is outside what the testbed hands out: no sshd there.
    let args = run_args(&tug, &hosts[0], &["--nodes", "127.0.11.250", "--pk", &key]);
    let out = tug_run(&tug, &args).fails();
    assert!(out.stderr.contains("127.0.11.250"), "{}", out.stderr);
    assert!(
        !touched(&hosts[0]),
        "a run that cannot reach every host changes none"
    );
}

#[test]
fn strict_host_keys_refuse_an_unknown_key_and_accept_a_recorded_one() {
    let hosts = Hosts::start(1);
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
    assert!(!touched(&hosts[0]));

    let known = tug.home().join("config/known_hosts");
    std::fs::create_dir_all(known.parent().unwrap()).unwrap();
    std::fs::write(&known, format!("{}\n", hosts[0].known_hosts_line())).unwrap();
    let out = tug_run(&tug, &args).ok();
    assert!(!out.stderr.contains("new host key"), "{}", out.stderr);
    assert_eq!(inits(&hosts[0]), 1);
}

#[test]
fn a_failing_hook_names_host_command_exit_code_and_output_and_a_rerun_completes() {
    let hosts = Hosts::start(2);
    hosts[1].exec(&format!("echo init.sh > {FAIL}"));
    let tug = Tug::new();
    let args = master_and_node(&tug, &hosts);
    let out = tug_run(&tug, &args).fails();
    let node = &hosts[1].ip;
    assert!(
        out.stderr
            .contains(&format!("[{node}] init: init failed: exited with code 1\n"))
            && out.stderr.contains("\n    last output:\n")
            && out
                .stderr
                .contains(&format!("\n      init.sh: failing on purpose ({FAIL})\n"))
            && out.stderr.contains("\n    command:\n      ")
            && out
                .stderr
                .contains("init-cri.sh $registryDomain $registryPort && bash init.sh\n"),
        "{}",
        out.stderr
    );
    // The hook's long export list is counted; the host's log has it whole.
    let log = tug
        .home()
        .join(format!("state/clusters/default/logs/{node}.log"));
    assert!(
        out.stderr.contains(" && export <")
            && out
                .stderr
                .contains(&format!("\n  whole output: {}", log.display())),
        "{}",
        out.stderr
    );
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains(" registryDomain=sealos.hub "), "{log}");
    assert_eq!(inits(&hosts[0]), 0, "no later stage started");
    let hook_runs = |h: &Host| calls_of(&calls(&journal(h)), "init.sh", "").len();
    assert_eq!(hook_runs(&hosts[0]), 1, "master0's init hook ran");

    hosts[1].exec(&format!("rm {FAIL}"));
    let again = apply(&tug, "default").ok();
    assert_eq!(
        sent_to(&again),
        std::slice::from_ref(node),
        "only the node's join secrets go"
    );
    assert_eq!(inits(&hosts[0]), 1);
    assert_eq!(
        calls_of(&calls(&journal(&hosts[1])), "kubeadm", "join --config").len(),
        1
    );
    assert_eq!(
        hook_runs(&hosts[0]),
        1,
        "master0's init hook, which succeeded, did not run again"
    );
    assert_eq!(
        hook_runs(&hosts[1]),
        2,
        "the node's init hook ran again once fixed"
    );
}

#[test]
fn sshd_killed_mid_distribution_names_the_host_and_a_rerun_sends_the_others_nothing() {
    let mut hosts = Hosts::start(2);
    // The node's tar (which unpacks each layer) holds the stream open, so
    // the distribution is under way when its sshd and processes are killed.
    fixture::hold_layers(&hosts[1]);
    let tug = Tug::new();
    let args = master_and_node(&tug, &hosts);
    let mut child = tug.spawn(&args);
    fixture::wait_for_held_layer(&hosts[1], &mut child);
    hosts[1].kill();
    let out: Run = child.wait_with_output().unwrap().into();
    let out = out.fails();
    let node = hosts[1].ip.clone();
    assert!(
        out.stderr.contains(&format!("[{node}] distribute: "))
            && out.stderr.contains(" failed: lost its connection"),
        "{}",
        out.stderr
    );
    assert_eq!(inits(&hosts[0]), 0, "no later stage started");

    fixture::unhold_layers(&hosts[1]);
    hosts[1].restart();
    let again = apply(&tug, "default").ok();
    assert_eq!(sent_to(&again), [node], "master0 received nothing again");
    assert_eq!(inits(&hosts[0]), 1);
    assert_eq!(
        calls_of(&calls(&journal(&hosts[1])), "kubeadm", "join --config").len(),
        1
    );
}

#[test]
fn a_full_disk_on_one_host_is_named_by_preflight_and_by_the_unpack() {
    let hosts = Hosts::start(2);
    hosts[1].mount_tmpfs("/var/lib/sealos", "16k");
    let tug = Tug::new();
    let args = master_and_node(&tug, &hosts);
    let out = tug_run(&tug, &args).fails();
    let node = &hosts[1].ip;
    assert!(
        out.stderr.contains(&format!("[{node}] preflight: "))
            && out
                .stderr
                .contains("preflight: /var/lib/sealos has 0 MiB free; the cluster image needs"),
        "{}",
        out.stderr
    );
    assert!(
        !hosts[0]
            .exec_output("test -e /var/lib/sealos/data")
            .status
            .success(),
        "nothing changed"
    );

    let mut skip = args.clone();
    skip.push("--skip-checks".into());
    let out = tug_run(&tug, &skip).fails();
    assert!(
        out.stderr.contains(&format!("[{node}] distribute: "))
            && out.stderr.contains("No space left on device"),
        "{}",
        out.stderr
    );
}

#[test]
fn hostile_env_values_arrive_byte_exact_and_run_nothing() {
    let hosts = Hosts::start(1);
    let tug = Tug::new();
    let key = hosts.key.display().to_string();
    let canary = format!("/tmp/tug-pwned-{}", random_hex(6));
    let values = [
        ("sandboxImage", format!("$(touch {canary})")),
        (
            "criData",
            format!("; touch {canary}; rm -rf /var/lib/x 'q' \"d\" `touch {canary}`"),
        ),
        ("NAME", format!("two\nlines $(touch {canary}) \\ end")),
        ("NAMESPACE", format!("ns$(touch${{IFS}}{canary})")),
    ];
    let envs: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut extra = vec!["--pk", &key];
    for e in &envs {
        extra.extend(["-e", e.as_str()]);
    }
    let args = run_args(&tug, &hosts[0], &extra);
    tug_run(&tug, &args).ok();
    assert!(
        !std::path::Path::new(&canary).exists(),
        "a value ran as a command"
    );
    let text = journal(&hosts[0]);
    for (k, v) in &values {
        assert!(
            text.contains(&format!("\t{k}={v}")),
            "{k} not byte-exact in\n{text}"
        );
    }
    let all = calls(&text);
    let pulled = calls_of(&all, "crictl", "pull ");
    assert_eq!(
        pulled[0].args,
        format!("pull sealos.hub:5000/$(touch {canary})")
    );
    let app = calls_of(&all, "install.sh", "");
    assert_eq!(
        app[0].args, values[3].1,
        "the CMD's $(NAMESPACE) is one literal word"
    );
}

#[test]
fn ctrl_c_stops_the_running_transfer_at_once_starts_nothing_more_and_a_rerun_resumes() {
    let hosts = Hosts::start(2);
    // The node's tar waits for a go-ahead that only comes after tug has
    // ended, so a layer is mid-stream when Ctrl-C arrives and only
    // stopping the transfer lets the run end.
    fixture::hold_layers(&hosts[1]);
    let tug = Tug::new();
    let args = master_and_node(&tug, &hosts);
    let mut child = tug.spawn(&args);
    fixture::wait_for_held_layer(&hosts[1], &mut child);
    // SAFETY: kill(2) on the pid of a child we own and have not waited for.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("tug still waits for the held transfer after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out: Run = child.wait_with_output().unwrap().into();
    assert_eq!(out.code, 130, "{}", out.stderr);
    assert!(
        out.stderr.contains("cancelling: no new step starts"),
        "{}",
        out.stderr
    );
    assert!(
        !hosts[1]
            .exec_output("test -x /var/lib/sealos/data/default/rootfs/bin/kubeadm")
            .status
            .success(),
        "the stopped layer was unpacked"
    );
    assert!(!touched_render(&hosts[0]), "no new stage started");
    let file = tug.home().join("state/clusters/default/Clusterfile");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("phase: ClusterInProcess"), "{saved}");

    // The held tar of the stopped transfer finds its stream cut.
    fixture::release_layers(&hosts[1]);
    fixture::unhold_layers(&hosts[1]);
    let again = apply(&tug, "default").ok();
    assert!(
        sent_to(&again).contains(&hosts[1].ip),
        "the stopped layer was not sent again:\n{}",
        again.stderr
    );
    assert!(
        hosts[1]
            .exec_output("test -x /var/lib/sealos/data/default/rootfs/bin/kubeadm")
            .status
            .success(),
        "the re-run did not unpack the layer"
    );
    assert_eq!(inits(&hosts[0]), 1);
}

/// Whether the render stage wrote the rendered templates on this host.
fn touched_render(host: &Host) -> bool {
    host.exec_output("test -e /var/lib/sealos/data/default/rootfs/etc/config.toml")
        .status
        .success()
}

#[test]
fn preflight_names_every_problem_on_every_host_before_anything_changes() {
    let hosts = Hosts::start(2);
    // The node takes master0's hostname, and something already listens on
    // master0's API server port (the hosts share this machine's network).
    let name = hosts[0].exec("hostname");
    hosts[1].exec(&format!(
        "printf '%s' '{}' > /proc/sys/kernel/hostname",
        name.trim()
    ));
    let busy = std::net::TcpListener::bind((hosts[0].ip.as_str(), 6443)).unwrap();
    let tug = Tug::new();
    let mut args = master_and_node(&tug, &hosts);
    // -v: every line the checks print, not only the failure reports.
    args.push("-v".into());
    let out = tug_run(&tug, &args).fails();
    let (m0, node) = (&hosts[0].ip, &hosts[1].ip);
    for want in [
        format!("[{m0}] preflight: ! preflight: port 6443 is in use"),
        format!("have the same hostname {}", name.trim()),
    ] {
        assert!(out.stderr.contains(&want), "{want} not in\n{}", out.stderr);
    }
    assert!(
        out.stderr.contains(&format!("hosts {m0} and {node}")),
        "{}",
        out.stderr
    );
    assert!(
        !touched(&hosts[0]) && !touched(&hosts[1]),
        "nothing changed"
    );
    drop(busy);
}

/// Make every step in the cluster's install journal look a day old.
fn age_journal(tug: &Tug, cluster: &str) {
    let path = tug
        .home()
        .join(format!("state/clusters/{cluster}/install.journal"));
    let mut j: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let day_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 86_400;
    for (_, at) in j["done"].as_object_mut().unwrap() {
        *at = day_ago.into();
    }
    std::fs::write(&path, serde_json::to_vec(&j).unwrap()).unwrap();
}

#[test]
fn join_secrets_are_made_again_only_when_stale_and_a_join_still_needs_them() {
    let hosts = Hosts::start(2);
    hosts[1].exec(&format!("echo 'kubeadm join' > {FAIL}"));
    let tug = Tug::new();
    let args = master_and_node(&tug, &hosts);
    tug_run(&tug, &args).fails();
    let tokens = || calls_of(&calls(&journal(&hosts[0])), "kubeadm", "token create").len();
    assert_eq!(tokens(), 1);
    // Still failing, an hour has not passed: the secrets are used again.
    apply(&tug, "default").fails();
    assert_eq!(tokens(), 1);
    // A day later (the certificate key is gone by then): made again, and the join completes.
    age_journal(&tug, "default");
    hosts[1].exec(&format!("rm {FAIL}"));
    let fixed = apply(&tug, "default").ok();
    assert_eq!(tokens(), 2, "{}", fixed.stderr);
    assert_eq!(
        calls_of(&calls(&journal(&hosts[1])), "kubeadm", "join --config").len(),
        3
    );
    // A day after that, nothing needs a token: a no-op re-apply makes none.
    age_journal(&tug, "default");
    let again = apply(&tug, "default").ok();
    assert_eq!(tokens(), 2, "{}", again.stderr);
    assert!(
        again.stderr.contains("skipped (nothing needs it)"),
        "{}",
        again.stderr
    );
}

#[test]
fn an_init_hook_that_leaves_no_kubeadm_on_path_fails_before_kubeadm_runs() {
    let hosts = Hosts::start(1);
    let tug = Tug::new();
    let key = hosts.key.display().to_string();
    let args = run_args(
        &tug,
        &hosts[0],
        &["--pk", &key, "--env", "BIN_DIR=/opt/tug-not-on-path"],
    );
    let out = tug_run(&tug, &args).fails();
    assert!(
        out.stderr.contains("kubeadm is not on PATH")
            && out
                .stderr
                .contains("it should install kubeadm into BIN_DIR")
            && out.stderr.contains(&hosts[0].ip),
        "{}",
        out.stderr
    );
    assert_eq!(inits(&hosts[0]), 0, "kubeadm init never ran");
}
