//! `tug plan -f`, `tug apply --dry-run`, `tug run --dry-run` and `tug reset`
//! (without --force) print the whole plan with secrets masked and hostile
//! values quoted; `tug apply` to hosts that cannot be reached fails with a
//! message naming every one of them before anything is sent.

mod support;

use support::cluster_image::{gz_tar, put_image};
use support::tug::Tug;
use tug::image::Store;

const CLUSTERFILE: &str = r#"apiVersion: apps.sealos.io/v1beta1
kind: Cluster
metadata:
  name: demo
spec:
  hosts:
  - ips: [127.250.0.1:22, 127.250.0.2:22, 127.250.0.3:22]
    roles: [master, amd64]
  - ips: [127.250.0.4:22]
    roles: [node, amd64]
  image: [example.com/kubernetes:v1.25.16]
  ssh:
    user: root
    passwd: hunter2-ssh
  env:
  - EVIL=$(touch /tmp/pwned-by-tug); rm -rf x
"#;

fn setup() -> (Tug, std::path::PathBuf) {
    let tug = Tug::new();
    let store = Store::open(&tug.store()).unwrap();
    put_image(
        &store,
        "example.com/kubernetes:v1.25.16",
        serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {
                "Env": ["registryDomain=sealos.hub", "registryPort=5000",
                        "registryUsername=admin", "registryPassword=passw0rd"],
                "Labels": {"sealos.io.type": "rootfs", "version": "v1.25.16",
                           "init": "init.sh $registryDomain"},
            },
            "rootfs": {"type": "layers", "diff_ids": []},
        }),
        &[gz_tar(&[
            ("scripts/init.sh", "true", 0o755),
            ("registry/docker/x", "r", 0o644),
        ])],
    );
    let file = tug.home().join("Clusterfile");
    std::fs::write(&file, CLUSTERFILE).unwrap();
    (tug, file)
}

fn check_plan(text: &str) {
    // A summary first, then the detail.
    assert!(
        text.starts_with("summary: ")
            && text.contains(" stages on 4 hosts and this machine\n  to send:\n"),
        "{text}"
    );
    assert!(text.contains("\n    127.250.0.4  164 B\n"), "{text}");
    assert!(text.contains("\n\nstage 1: preflight"), "{text}");
    assert!(text.contains("[127.250.0.1] run: kubeadm init '--config=/var/lib/sealos/data/demo/etc/kubeadm-init.yaml'"), "{text}");
    assert_eq!(text.matches("run: kubeadm join").count(), 3, "{text}");
    assert!(text.contains("bash init.sh $registryDomain"), "{text}");
    assert!(text.contains("registryPassword='******'"), "{text}");
    assert!(
        text.contains("EVIL='$(touch /tmp/pwned-by-tug); rm -rf x'"),
        "{text}"
    );
    assert!(
        !text.contains("passw0rd") && !text.contains("hunter2"),
        "{text}"
    );
}

#[test]
fn plan_and_dry_runs_print_every_stage_with_secrets_masked() {
    let (tug, file) = setup();
    let f = file.to_str().unwrap();
    let plan = tug.run(&["plan", "-f", f]).ok();
    check_plan(&plan.stdout);
    let dry = tug.run(&["apply", "-f", f, "--dry-run"]).ok();
    assert_eq!(dry.stdout, plan.stdout);
    let run = tug
        .run(&[
            "run",
            "example.com/kubernetes:v1.25.16",
            "--masters",
            "127.250.0.1-127.250.0.3",
            "--nodes",
            "127.250.0.4",
            "-p",
            "hunter2-ssh",
            "--cluster",
            "demo",
            "-e",
            "EVIL=$(touch /tmp/pwned-by-tug); rm -rf x",
            "--dry-run",
        ])
        .ok();
    check_plan(&run.stdout);
    assert!(!std::path::Path::new("/tmp/pwned-by-tug").exists());
}

#[test]
fn unreachable_hosts_are_all_named_and_reset_shows_its_plan() {
    let (tug, file) = setup();
    let out = tug.run(&["apply", "-f", file.to_str().unwrap()]).fails();
    for host in ["127.250.0.1", "127.250.0.4"] {
        assert!(
            out.stderr
                .contains(&format!("host {host}: {host}:22: cannot connect")),
            "{}",
            out.stderr
        );
    }
    let saved = tug.home().join("state/clusters/demo/Clusterfile");
    // Nothing was changed on any host, so no failure is recorded.
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(!text.contains("ClusterFailed"), "{text}");
    let add = tug
        .run(&[
            "add",
            "--cluster",
            "demo",
            "--nodes",
            "127.250.0.5",
            "--dry-run",
        ])
        .ok();
    assert_eq!(
        add.stdout.matches("run: kubeadm join").count(),
        4,
        "{}",
        add.stdout
    );
    assert!(
        add.stdout.contains("[127.250.0.5] run: kubeadm join"),
        "{}",
        add.stdout
    );
    let dup = tug
        .run(&["add", "--cluster", "demo", "--nodes", "127.250.0.4"])
        .fails();
    assert!(
        dup.stderr.contains("127.250.0.4 is already in the cluster"),
        "{}",
        dup.stderr
    );
    let del = tug
        .run(&[
            "delete",
            "--cluster",
            "demo",
            "--nodes",
            "127.250.0.4",
            "--dry-run",
        ])
        .ok();
    assert!(
        del.stdout.contains("[127.250.0.1] run: bash -c"),
        "{}",
        del.stdout
    );
    assert!(del.stdout.contains("kubectl drain"), "{}", del.stdout);
    assert!(!del.stdout.contains("[127.250.0.2]"), "{}", del.stdout);
    let unasked = tug
        .run(&["delete", "--cluster", "demo", "--nodes", "127.250.0.4"])
        .fails();
    assert!(
        unasked
            .stderr
            .contains("tug delete drains, deletes and resets 127.250.0.4: add --yes"),
        "{}",
        unasked.stderr
    );
    let m0 = tug
        .run(&[
            "delete",
            "--cluster",
            "demo",
            "--masters",
            "127.250.0.1",
            "--yes",
        ])
        .fails();
    assert!(
        m0.stderr.contains("127.250.0.1 is master0"),
        "{}",
        m0.stderr
    );
    let reset = tug.run(&["reset", "--cluster", "demo"]).ok();
    assert!(reset.stdout.contains("kubeadm reset"), "{}", reset.stdout);
    assert!(reset.stderr.contains("--force"), "{}", reset.stderr);
    assert!(!reset.stdout.contains("hunter2") && !reset.stdout.contains("passw0rd"));
}

#[test]
fn output_cut_by_a_closed_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    let (tug, file) = setup();
    // Three hundred nodes: the plan is far larger than a pipe holds, so tug
    // is still writing when the reader goes.
    let nodes: Vec<String> = (1..=300)
        .map(|i| format!("127.250.{}.{}:22", 1 + i / 250, 1 + i % 250))
        .collect();
    let big = CLUSTERFILE.replace(
        "ips: [127.250.0.4:22]",
        &format!("ips: [{}]", nodes.join(", ")),
    );
    std::fs::write(&file, big).unwrap();
    let mut child = tug
        .cmd()
        .args(["plan", "-f", file.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -1`: one line read, then the pipe is closed.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(!first.is_empty());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
}

#[test]
fn single_makes_this_machine_the_one_master_and_conflicts_with_hosts() {
    let (tug, _file) = setup();
    let plan = tug
        .run(&[
            "run",
            "example.com/kubernetes:v1.25.16",
            "--single",
            "--cluster",
            "solo",
            "--dry-run",
        ])
        .ok();
    let mine = local_ipv4();
    let init = plan
        .stdout
        .split("stage ")
        .find(|s| s.contains(": kubeadm-init ("))
        .expect("a kubeadm-init stage");
    assert!(init.contains(&format!("  [{mine}] ")), "{init}");
    assert!(!plan.stdout.contains(": join-nodes ("), "{}", plan.stdout);
    let both = tug
        .run(&[
            "run",
            "example.com/kubernetes:v1.25.16",
            "--single",
            "--masters",
            "10.0.0.2",
            "--dry-run",
        ])
        .fails();
    assert!(both.stderr.contains("--single"), "{}", both.stderr);
}

/// This machine's first IPv4 address that is not loopback.
fn local_ipv4() -> String {
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|a| {
            a.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| !ip.is_loopback())
        })
        .expect("a non-loopback IPv4 address")
        .to_string()
}
