//! The whole install plan run for real, without SSH: five "hosts" are
//! mount+UTS namespaces on this machine (private /etc, /var/lib, hostname),
//! each driven through `nsenter` by a small transport; the jump host is the
//! local transport. A fixture cluster image (scripts, sealctl and a fake
//! kubeadm record into a journal on each host) is written to a real store,
//! resolved, planned and run; the test then reads each host's journal,
//! /etc/hosts and files. A second run sends nothing and runs nothing.

mod support;
#[path = "install_local/testbed.rs"]
mod testbed;

use std::os::unix::fs::PermissionsExt;
use std::process::Command as Process;
use std::sync::Arc;
use testbed::{JOURNAL, NsHost, Shared, Testbed, run, testbed};
use tug::engine::install::{InstallOptions, JUMP_HOST, plan_install};
use tug::engine::journal::Journal;
use tug::engine::plan::HostId;
use tug::engine::resolve::resolve;
use tug::engine::runner::{Report, RunError};
use tug::engine::spec::{HostSpec, Role, SshSpec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_namespace_hosts_are_installed_and_a_rerun_does_nothing() {
    let Testbed {
        dir,
        bin,
        store,
        ns,
        mut transports,
        inputs,
        cluster,
        net,
    } = testbed(
        &[
            Role::Master,
            Role::Master,
            Role::Master,
            Role::Node,
            Role::Node,
        ],
        9,
    );
    let root = dir.path();
    let spec = resolve(&store, inputs.clone(), None).unwrap().spec;
    let plan = plan_install(&spec, &InstallOptions::default())
        .unwrap()
        .plan;
    let mut journal = Journal::load(cluster.join("install.journal")).unwrap();
    let report = run(&plan, &transports, &cluster, &mut journal)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let sent = |r: &Report| -> Vec<u64> {
        r.bytes_sent
            .iter()
            .filter(|(h, _)| h.as_str() != JUMP_HOST)
            .map(|(_, b)| *b)
            .collect()
    };
    assert!(sent(&report).iter().all(|b| *b > 0), "{report:?}");

    let journal_of = |i: usize| ns[i].read(JOURNAL);
    let m0 = journal_of(0);
    assert!(m0.contains("check /var/lib/registry"), "{m0}");
    assert!(m0.contains("init-registry /var/lib/registry htpasswd=admin link=/var/lib/sealos/data/c1/rootfs/registry"), "{m0}");
    assert!(m0.contains("init sealos.hub"), "{m0}");
    assert_eq!(
        m0.matches("kubeadm init --config=/var/lib/sealos/data/c1/etc/kubeadm-init.yaml")
            .count(),
        1,
        "{m0}"
    );
    assert!(
        m0.contains("app calico /var/lib/sealos/data/c1/applications/calico-v3/workdir"),
        "{m0}"
    );
    for (i, host) in ns.iter().enumerate().take(3).skip(1) {
        let m = host.read(JOURNAL);
        assert!(
            m.contains(
                "kubeadm join --config=/var/lib/sealos/data/c1/etc/kubeadm-join-master.yaml"
            ),
            "{m}"
        );
        assert!(
            !m.contains("init-registry") && !m.contains("kubeadm init") && !m.contains("app "),
            "{m}"
        );
        assert!(
            m.contains("check /var/lib/registry") && m.contains("init sealos.hub"),
            "{m}"
        );
        let hosts = host.read("/etc/hosts");
        assert!(
            hosts.contains(&format!("127.{net}.9.{} apiserver.cluster.local", i + 1)),
            "{hosts}"
        );
    }
    for (i, host) in ns.iter().enumerate().skip(3) {
        let n = host.read(JOURNAL);
        assert!(
            n.contains("kubeadm join --config=/var/lib/sealos/data/c1/etc/kubeadm-join-node.yaml"),
            "{n}"
        );
        assert!(
            n.contains(&format!(
                "sealctl ipvs --vs 10.103.97.2:6443 --rs 127.{net}.9.1:6443"
            )),
            "{n}"
        );
        let hosts = host.read("/etc/hosts");
        assert!(
            hosts.contains("10.103.97.2 apiserver.cluster.local"),
            "{hosts}"
        );
        assert!(
            hosts.contains(&format!("127.{net}.9.{} lvscare.node.ip", i + 1)),
            "{hosts}"
        );
        let pod = host.read("/etc/kubernetes/manifests/kube-sealos-lvscare.yaml");
        assert!(
            pod.contains("image: sealos.hub:5000/labring/lvscare:v5"),
            "{pod}"
        );
    }
    for (i, host) in ns.iter().enumerate() {
        let hosts = host.read("/etc/hosts");
        assert!(
            hosts.contains(&format!("127.{net}.9.1 sealos.hub")),
            "{hosts}"
        );
        let rendered = host.read("/var/lib/sealos/data/c1/rootfs/etc/registry.yml");
        let mode = if i < 3 { "master" } else { "node" };
        assert_eq!(rendered, format!("domain: sealos.hub\nmode: {mode}\n"));
        assert!(
            !host.exec("test -e /var/lib/sealos/data/c1/rootfs/etc/old.conf".into()),
            "whiteout"
        );
        let has_registry = host
            .exec("test -f /var/lib/sealos/data/c1/rootfs/registry/docker/registry/v2/blob".into());
        assert_eq!(
            has_registry,
            i == 0,
            "registry data only on the registry host"
        );
    }
    assert!(
        ns[0].exec("test -f /var/lib/sealos/data/c1/rootfs/registry/docker/registry/v2/app".into())
    );
    let admin = cluster.join("admin.conf");
    assert!(
        std::fs::read_to_string(&admin)
            .unwrap()
            .contains("admin.conf of host1")
    );
    assert_eq!(
        std::fs::metadata(&admin).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let mut reloaded = Journal::load(cluster.join("install.journal")).unwrap();
    let again = run(&plan, &transports, &cluster, &mut reloaded)
        .await
        .unwrap();
    assert_eq!(again.executed, 0);
    assert_eq!(sent(&again), [0; 5]);
    assert_eq!(journal_of(0), m0, "no script ran again");

    let before = journal_of(3);
    let fresh = run(&plan, &transports, &cluster, &mut Journal::in_memory())
        .await
        .unwrap();
    assert!(
        sent(&fresh).iter().all(|b| *b < 100),
        "without a journal, layer markers on the hosts still stop every layer (only the 45-byte join secrets go again): {fresh:?}"
    );
    assert_eq!(
        journal_of(3).matches("kubeadm join").count(),
        before.matches("kubeadm join").count()
    );

    for entry in std::fs::read_dir(cluster.join("logs")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(
            !text.contains("passw0rd"),
            "a log shows the registry password"
        );
        assert!(
            !text.contains("abcdef.0123456789abcdef"),
            "a log shows the join token"
        );
    }

    // Add a node to the installed cluster: only it receives and runs anything
    // (and master0 makes a fresh join token for it).
    let (m0_before, n4_before) = (journal_of(0), journal_of(3));
    let ip6 = format!("127.{net}.9.6");
    let host6 = Arc::new(NsHost::start(root, "host6", &bin));
    transports.insert(HostId::new(&ip6), Arc::new(Shared(Arc::clone(&host6))));
    let mut bigger = inputs.clone();
    bigger.hosts.push(HostSpec {
        id: HostId::new(&ip6),
        ip: ip6.parse().unwrap(),
        port: 22,
        roles: vec![Role::Node],
        arch: "amd64".into(),
        ssh: SshSpec::default(),
        env: vec![],
    });
    let spec6 = resolve(&store, bigger, None).unwrap().spec;
    let plan6 = plan_install(&spec6, &InstallOptions::default())
        .unwrap()
        .plan;
    let mut j = Journal::load(cluster.join("install.journal")).unwrap();
    let added = run(&plan6, &transports, &cluster, &mut j)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for (h, bytes) in &added.bytes_sent {
        assert_eq!(*bytes > 0, h.as_str() == ip6, "{added:?}");
    }
    let n6 = host6.read(JOURNAL);
    assert!(
        n6.contains("check /var/lib/registry") && n6.contains("init sealos.hub"),
        "{n6}"
    );
    assert!(
        n6.contains("kubeadm join --config=/var/lib/sealos/data/c1/etc/kubeadm-join-node.yaml"),
        "{n6}"
    );
    assert_eq!(journal_of(3), n4_before, "an existing node runs nothing");
    let m0_after = journal_of(0);
    for line in [
        "kubeadm init --config",
        "check ",
        "init sealos.hub",
        "app calico",
    ] {
        assert_eq!(
            m0_after.matches(line).count(),
            m0_before.matches(line).count(),
            "{line}"
        );
    }
    assert_eq!(
        m0_after.matches("kubeadm token create").count(),
        m0_before.matches("kubeadm token create").count() + 1
    );

    // Delete the added node: drained and deleted on master0, then reset.
    let delete = tug::engine::reset::plan_delete(&spec6, &[HostId::new(&ip6)], 8).unwrap();
    run(&delete, &transports, &cluster, &mut Journal::in_memory())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let m0 = journal_of(0);
    assert!(
        m0.contains("kubectl drain host6 --ignore-daemonsets"),
        "{m0}"
    );
    assert!(m0.contains("kubectl delete node host6"), "{m0}");
    let n6 = host6.read(JOURNAL);
    assert!(
        n6.contains("kubeadm reset -f") && n6.contains("clean "),
        "{n6}"
    );
    assert!(!host6.exec("test -e /var/lib/sealos/data/c1".into()));
    assert!(
        ns[3].exec("test -e /var/lib/sealos/data/c1".into()),
        "other nodes keep theirs"
    );

    // Reset, with one node gone: the others are cleaned, the run names the gone one.
    Process::new("kill")
        .arg(ns[4].holder.id().to_string())
        .status()
        .unwrap();
    let reset = tug::engine::reset::plan_reset(&spec, 8).unwrap();
    let err = run(&reset, &transports, &cluster, &mut Journal::in_memory())
        .await
        .unwrap_err();
    let RunError::Failed(failures) = err else {
        panic!("{err}")
    };
    assert!(
        failures
            .iter()
            .all(|f| f.host.as_str() == format!("127.{net}.9.5")),
        "{failures:?}"
    );
    for (i, host) in ns.iter().enumerate().take(4) {
        let j = host.read(JOURNAL);
        assert!(j.contains("kubeadm reset -f"), "{j}");
        assert!(j.contains("clean "), "{j}");
        assert_eq!(
            j.contains("clean-registry /var/lib/registry"),
            i == 0,
            "{j}"
        );
        assert!(!host.exec("test -e /var/lib/sealos/data/c1 || test -e /etc/kubernetes || test -L /var/lib/registry".into()));
        let hosts = host.read("/etc/hosts");
        assert!(
            !hosts.contains("sealos.hub") && !hosts.contains("apiserver.cluster.local"),
            "{hosts}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_script_names_its_host_and_a_rerun_after_the_fix_completes() {
    let tb = testbed(&[Role::Master, Role::Node], 8);
    assert!(tb.ns[1].exec("touch /var/lib/fail-init".into()));
    let spec = resolve(&tb.store, tb.inputs.clone(), None).unwrap().spec;
    let plan = plan_install(&spec, &InstallOptions::default())
        .unwrap()
        .plan;
    let journal = tb.cluster.join("install.journal");
    let err = run(
        &plan,
        &tb.transports,
        &tb.cluster,
        &mut Journal::load(&journal).unwrap(),
    )
    .await
    .unwrap_err();
    let node = format!("127.{}.8.2", tb.net);
    let RunError::Failed(failures) = &err else {
        panic!("{err}")
    };
    assert_eq!(failures.len(), 1, "{err}");
    assert_eq!(failures[0].host.as_str(), node);
    assert_eq!(failures[0].error.exit_code(), Some(1));
    assert!(
        failures[0]
            .error
            .command
            .contains("bash init.sh $registryDomain"),
        "{err}"
    );
    assert_eq!(failures[0].error.last_lines, ["init failed on purpose"]);
    let shown = err.to_string();
    assert!(shown.starts_with(&format!("[{node}] init: `")), "{shown}");
    assert!(
        shown.contains("exited with code 1; last output:\n    init failed on purpose"),
        "{shown}"
    );
    let m0_before = tb.ns[0].read(JOURNAL);
    assert!(
        !m0_before.contains("kubeadm init --config"),
        "no later stage started"
    );

    assert!(tb.ns[1].exec("rm /var/lib/fail-init".into()));
    let report = run(
        &plan,
        &tb.transports,
        &tb.cluster,
        &mut Journal::load(&journal).unwrap(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    // No layer again: only the 45-byte join secrets, which the first run never reached.
    assert!(report.bytes_sent.values().all(|b| *b < 100), "{report:?}");
    let m0 = tb.ns[0].read(JOURNAL);
    for line in ["check ", "init sealos.hub", "init-registry"] {
        assert_eq!(
            m0.matches(line).count(),
            m0_before.matches(line).count(),
            "{line} ran again"
        );
    }
    assert_eq!(m0.matches("kubeadm init --config").count(), 1);
    let n = tb.ns[1].read(JOURNAL);
    assert_eq!(n.matches("init sealos.hub").count(), 1, "{n}");
    assert!(n.contains("kubeadm join"), "{n}");
}
