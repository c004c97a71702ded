//! The real thing: the `tug` binary installs a cluster over SSH onto five
//! OpenSSH test hosts (3 masters, 2 nodes) from a fixture image in its
//! store; each host's journal shows what ran where. A second `apply`
//! sends nothing and runs nothing.

mod support;
#[allow(dead_code)]
#[path = "install_local/testbed.rs"]
mod testbed;

use support::hosts::Hosts;
use support::tug::Tug;
use testbed::{JOURNAL, KUBEADM, free_port, images, kubectl};
use tug::image::Store;

#[test]
fn three_masters_and_two_nodes_over_ssh_then_a_no_op_reapply() {
    let hosts = Hosts::start(5);
    let tug = Tug::new();
    let store = Store::open(&tug.store()).unwrap();
    let refs = images(&store, free_port());
    for h in hosts.iter() {
        let tools = [
            ("kubeadm", KUBEADM.to_string()),
            ("kubectl", kubectl("127.0.0.1")),
        ];
        for (name, text) in tools {
            let path = format!("/usr/local/bin/{name}");
            std::fs::write(hosts.dir().join(name), &text).unwrap();
            h.exec(&format!(
                "cp {} {path} && chmod 755 {path}",
                hosts.dir().join(name).display()
            ));
        }
    }
    let addrs: Vec<String> = hosts.iter().map(|h| h.addr()).collect();
    let key = hosts.key.display().to_string();
    let images: Vec<String> = refs.iter().map(ToString::to_string).collect();
    let mut args = vec!["run".to_string()];
    args.extend(images.iter().cloned());
    args.extend([
        "--masters".into(),
        addrs[..3].join(","),
        "--nodes".into(),
        addrs[3..].join(","),
        "--pk".into(),
        key,
        "--cluster".into(),
        "c1".into(),
    ]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = tug.run(&argv).ok();
    assert!(
        first.stderr.contains("cluster c1 is ready"),
        "{}",
        first.stderr
    );
    let journal = |i: usize| hosts[i].exec(&format!("cat {JOURNAL}"));
    let m0 = journal(0);
    assert!(
        m0.contains("init-registry /var/lib/registry htpasswd=admin"),
        "{m0}"
    );
    assert_eq!(m0.matches("kubeadm init --config=").count(), 1, "{m0}");
    assert!(m0.contains("app calico"), "{m0}");
    for i in 1..3 {
        let m = journal(i);
        assert!(
            m.contains("kubeadm-join-master.yaml") && !m.contains("init-registry"),
            "{m}"
        );
        assert!(!m.contains("app "), "{m}");
    }
    for i in 3..5 {
        let n = journal(i);
        assert!(
            n.contains("kubeadm-join-node.yaml") && n.contains("sealctl ipvs"),
            "{n}"
        );
        let pod = hosts[i].exec("cat /etc/kubernetes/manifests/kube-sealos-lvscare.yaml");
        assert!(pod.contains("lvscare"), "{pod}");
        let etc_hosts = hosts[i].exec("cat /etc/hosts");
        assert!(
            etc_hosts.contains("10.103.97.2 apiserver.cluster.local"),
            "{etc_hosts}"
        );
    }
    let admin = tug.home().join("state/clusters/c1/admin.conf");
    assert!(
        std::fs::read_to_string(&admin)
            .unwrap()
            .contains("admin.conf of node1")
    );

    let before: Vec<String> = (0..5).map(journal).collect();
    let file = tug.home().join("state/clusters/c1/Clusterfile");
    let again = tug.run(&["apply", "-f", file.to_str().unwrap()]).ok();
    assert!(!again.stderr.contains("sent "), "{}", again.stderr);
    let after: Vec<String> = (0..5).map(journal).collect();
    assert_eq!(before, after, "the second apply ran nothing on any host");
    for entry in std::fs::read_dir(tug.home().join("state/clusters/c1/logs")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains("passw0rd"));
    }
}

#[test]
fn a_non_root_user_installs_through_sudo_and_its_password_shows_nowhere() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    let store = Store::open(&tug.store()).unwrap();
    let refs = images(&store, free_port());
    for h in hosts.iter() {
        std::fs::write(hosts.dir().join("kubeadm"), KUBEADM).unwrap();
        h.exec(&format!(
            "cp {} /usr/local/bin/kubeadm && chmod 755 /usr/local/bin/kubeadm",
            hosts.dir().join("kubeadm").display()
        ));
    }
    let mut args = vec!["run".to_string()];
    args.extend(refs.iter().map(ToString::to_string));
    args.extend([
        "--masters".into(),
        hosts[0].addr(),
        "--nodes".into(),
        hosts[1].addr(),
        "-u".into(),
        support::hosts::SUDO_USER.into(),
        "-p".into(),
        hosts.password.clone(),
    ]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = tug.run(&argv).ok();
    assert!(
        hosts[1]
            .exec(&format!("cat {JOURNAL}"))
            .contains("kubeadm join")
    );
    assert!(!out.stdout.contains(&hosts.password) && !out.stderr.contains(&hosts.password));
    let logs = tug.home().join("state/clusters/default/logs");
    for entry in std::fs::read_dir(logs).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(
            !text.contains(&hosts.password),
            "a log shows the sudo password"
        );
    }
}
