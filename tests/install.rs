//! The real thing: the `tug` binary installs a cluster over SSH onto five
//! OpenSSH test hosts (3 masters, 2 nodes) from the fixture images built by
//! `tug build`; each host's journal shows what ran where. A second `apply`
//! sends nothing and runs nothing.

mod support;

use std::os::unix::fs::PermissionsExt;
use support::fixture::{self, Call, JOURNAL, calls, calls_of};
use support::hosts::Hosts;
use support::tug::Tug;

const DATA: &str = "/var/lib/sealos/data/c1";
const DATA_DEFAULT: &str = "/var/lib/sealos/data/default";

/// Whether a call ran in this host's rootfs scripts dir with the image's env.
fn is_hook(c: &Call, mode: &str) -> bool {
    c.cwd == format!("{DATA}/rootfs/scripts")
        && c.env.get("registryDomain").map(String::as_str) == Some("sealos.hub")
        && c.env.get("SEALOS_SYS_RUN_MODE").map(String::as_str) == Some(mode)
        && c.env.get("SEALOS_SYS_KUBE_VERSION").map(String::as_str) == Some("v1.28.9")
}

/// An HTTP GET to the registry on `sealos.hub:5000` from inside a host, as
/// the registry's user; returns the whole response.
fn registry_get(hosts: &Hosts, i: usize, path: &str) -> String {
    hosts[i].exec(&format!(
        "bash -c 'exec 3<>/dev/tcp/sealos.hub/5000; printf \"GET {path} HTTP/1.0\\r\\nAuthorization: Basic YWRtaW46cGFzc3cwcmQ=\\r\\n\\r\\n\" >&3; cat <&3'"
    ))
}

#[test]
fn three_masters_and_two_nodes_over_ssh_then_a_no_op_reapply() {
    let hosts = Hosts::start(5);
    let tug = Tug::new();
    let images = fixture::build_images(&tug);
    let addrs: Vec<String> = hosts.iter().map(|h| h.addr()).collect();
    let ips: Vec<&str> = hosts.iter().map(|h| h.ip.as_str()).collect();
    let key = hosts.key.display().to_string();
    let mut args: Vec<&str> = vec!["run"];
    args.extend(images.iter().map(String::as_str));
    let (masters, nodes) = (addrs[..3].join(","), addrs[3..].join(","));
    args.extend(["--masters", &masters, "--nodes", &nodes]);
    args.extend(["--pk", &key, "--cluster", "c1", "--plain"]);
    let first = tug.run(&args).ok();
    assert!(
        first.stderr.contains("cluster c1 is ready"),
        "{}",
        first.stderr
    );
    let journal = |i: usize| hosts[i].exec(&format!("cat {JOURNAL}"));
    let read = |i: usize, path: &str| hosts[i].exec(&format!("cat {path}"));

    for i in 0..5 {
        let all = calls(&journal(i));
        let mode = if i < 3 { "master" } else { "node" };
        // check and init with their label args expanded, in the scripts dir.
        let check = calls_of(&all, "check.sh", "");
        assert!(
            check.len() == 1 && check[0].args == "/var/lib/registry" && is_hook(check[0], mode),
            "{i}: {check:?}"
        );
        let cri = calls_of(&all, "init-cri.sh", "");
        assert!(
            cri.len() == 1 && cri[0].args == "sealos.hub 5000" && is_hook(cri[0], mode),
            "{i}: {cri:?}"
        );
        assert_eq!(calls_of(&all, "init.sh", "").len(), 1, "{i}");
        assert_eq!(
            calls_of(&all, "init-registry.sh", "/var/lib/registry /etc/registry").len(),
            usize::from(i == 0),
            "init-registry only on master0 ({i})"
        );
        assert_eq!(
            calls_of(&all, "kubeadm", "init --config=").len(),
            usize::from(i == 0),
            "kubeadm init once, on master0 ({i})"
        );
        let joins = calls_of(&all, "kubeadm", "join --config=");
        let want = match i {
            0 => vec![],
            1 | 2 => vec![format!("join --config={DATA}/etc/kubeadm-join-master.yaml")],
            _ => vec![format!("join --config={DATA}/etc/kubeadm-join-node.yaml")],
        };
        let got: Vec<String> = joins
            .iter()
            .map(|c| c.args.split(" -v").next().unwrap().to_string())
            .collect();
        assert_eq!(got, want, "{i}");
        // The app's CMD runs on master0 only, in its workdir, with its env.
        let app = calls_of(&all, "install.sh", "default");
        assert_eq!(app.len(), usize::from(i == 0), "{i}: {app:?}");
        if i == 0 {
            assert_eq!(
                app[0].cwd,
                format!("{DATA}/applications/echo-app-v1/workdir")
            );
            assert_eq!(app[0].env["NAME"], "tug-echo");
            assert_eq!(
                calls_of(&all, "kubectl", "apply -n default -f manifests/echo.yaml").len(),
                1
            );
        }
        // .tmpl files rendered with the image's env.
        let containerd = read(i, &format!("{DATA}/rootfs/etc/config.toml"));
        assert!(
            containerd.contains("root = \"/var/lib/containerd\"")
                && containerd.contains("sandbox_image = \"sealos.hub:5000/pause:3.9\"")
                && containerd.contains("disable_apparmor = false"),
            "{containerd}"
        );
        let kubelet = read(i, &format!("{DATA}/rootfs/etc/kubelet.service"));
        assert!(
            kubelet.contains("ExecStart=/usr/local/bin/kubelet"),
            "{kubelet}"
        );
        // /etc/hosts: the registry domain everywhere; the apiserver on masters
        // at themselves or master0, on nodes at the VIP.
        let etc_hosts = read(i, "/etc/hosts");
        assert!(
            etc_hosts.contains(&format!("{} sealos.hub", ips[0])),
            "{etc_hosts}"
        );
        let apiserver = if i < 3 { ips[i] } else { "10.103.97.2" };
        assert!(
            etc_hosts.contains(&format!("{apiserver} apiserver.cluster.local")),
            "{i}: {etc_hosts}"
        );
        // The join configs carry the real secrets, and control-plane only on masters.
        if i > 0 {
            let kind = if i < 3 { "master" } else { "node" };
            let cfg = read(i, &format!("{DATA}/etc/kubeadm-join-{kind}.yaml"));
            assert_eq!(cfg.contains("controlPlane:"), i < 3, "{cfg}");
            assert!(!cfg.contains("TUG_JOIN_"), "{cfg}");
        }
        // The lvscare static pod and the IPVS rule, on nodes only.
        let pod = hosts[i]
            .exec_output("cat /etc/kubernetes/manifests/kube-sealos-lvscare.yaml")
            .stdout;
        let pod = String::from_utf8_lossy(&pod);
        let ipvs = calls_of(&all, "sealctl", "ipvs --vs 10.103.97.2:6443");
        if i < 3 {
            assert!(pod.is_empty() && ipvs.is_empty(), "{i}: {pod}");
        } else {
            assert!(pod.contains("ghcr.io/labring/lvscare:v4.3.7"), "{pod}");
            assert!(
                etc_hosts.contains(&format!("{} lvscare.node.ip", ips[i])),
                "{etc_hosts}"
            );
            let rs: Vec<String> = ips[..3]
                .iter()
                .map(|ip| format!("--rs {ip}:6443"))
                .collect();
            assert!(
                ipvs.len() == 1 && ipvs[0].args.contains(&rs.join(" ")),
                "{ipvs:?}"
            );
        }
        // admin.conf to ~/.kube/config on masters.
        let kubeconfig = hosts[i].exec_output("cat /root/.kube/config").stdout;
        assert_eq!(!kubeconfig.is_empty(), i < 3, "{i}");
    }
    // kubeadm init ran with the effective config: the image's kubeadm.yml
    // merged with tug's defaults and computed fields.
    let init = read(0, &format!("{DATA}/etc/kubeadm-init.yaml"));
    for want in [
        "podSubnet: 100.64.0.0/10",
        "controlPlaneEndpoint: apiserver.cluster.local:6443",
        "kubernetesVersion: v1.28.9",
        &format!("advertiseAddress: {}", ips[0]),
        "- 10.103.97.2",
    ] {
        assert!(init.contains(want), "{want} not in\n{init}");
    }
    // The registry host serves the registry data with the real docker-registry.
    let tags = registry_get(&hosts, 0, "/v2/tugtest/echo/tags/list");
    assert!(tags.contains("\"tags\":[\"v1\"]"), "{tags}");
    for i in 1..5 {
        let has = hosts[i].exec_output(&format!("test -e {DATA}/rootfs/registry/docker"));
        assert!(!has.status.success(), "registry data only on master0 ({i})");
    }
    let admin = tug.home().join("state/clusters/c1/admin.conf");
    let text = std::fs::read_to_string(&admin).unwrap();
    assert!(text.contains("user: kubernetes-admin"), "{text}");
    assert_eq!(
        std::fs::metadata(&admin).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // A second apply: nothing sent, nothing run (the masters are only
    // asked when their certificates expire, as every run starts).
    let before: Vec<String> = (0..5).map(journal).collect();
    let file = tug.home().join("state/clusters/c1/Clusterfile");
    let again = tug
        .run(&["apply", "-f", file.to_str().unwrap(), "--plain"])
        .ok();
    assert!(!again.stderr.contains("sent "), "{}", again.stderr);
    for (i, before) in before.iter().enumerate() {
        let after = journal(i);
        let new = after
            .strip_prefix(before.as_str())
            .unwrap_or_else(|| panic!("{i}: the journal was rewritten:\n{after}"));
        let ran: Vec<String> = calls(new)
            .into_iter()
            .map(|c| format!("{} {}", c.prog, c.args))
            .collect();
        let asked: &[&str] = if i < 3 {
            &["kubeadm certs check-expiration"]
        } else {
            &[]
        };
        assert_eq!(ran, asked, "{i}: the second apply ran nothing else");
    }

    // A changed input redoes what it affects, and only that: a new
    // sandboxImage re-renders config.toml and re-runs the hooks that see
    // it, but sends no layer and runs kubeadm nowhere.
    let text = std::fs::read_to_string(&file).unwrap();
    let changed = text.replacen("spec:\n", "spec:\n  env:\n  - sandboxImage=pause:3.10\n", 1);
    assert_ne!(text, changed);
    std::fs::write(&file, changed).unwrap();
    let third = tug
        .run(&["apply", "-f", file.to_str().unwrap(), "--plain"])
        .ok();
    assert!(
        !third.stderr.contains("distribute: send"),
        "{}",
        third.stderr
    );
    for i in 0..5 {
        let containerd = read(i, &format!("{DATA}/rootfs/etc/config.toml"));
        assert!(
            containerd.contains("sealos.hub:5000/pause:3.10"),
            "{containerd}"
        );
        let all = calls(&journal(i));
        let inits = calls_of(&all, "init.sh", "");
        assert_eq!(
            inits.len(),
            2,
            "{i}: the init hook ran again with the new value"
        );
        assert_eq!(inits[1].env["sandboxImage"], "pause:3.10");
        assert_eq!(
            calls_of(&all, "kubeadm", "init --config").len(),
            usize::from(i == 0)
        );
        assert_eq!(
            calls_of(&all, "kubeadm", "join --config").len(),
            usize::from(i > 0)
        );
    }
    // Every host's whole output is in its own log on the jump host.
    let logs = tug.home().join("state/clusters/c1/logs");
    for ip in &ips {
        let text = std::fs::read_to_string(logs.join(format!("{ip}.log"))).unwrap();
        assert!(
            text.contains("INFO [fixture] kubelet installed in"),
            "{ip}: {text}"
        );
    }
    for entry in std::fs::read_dir(&logs).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(
            !text.contains("passw0rd"),
            "a log shows the registry password"
        );
    }
}

#[test]
fn a_non_root_user_installs_through_sudo_and_its_password_shows_nowhere() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    let images = fixture::build_images(&tug);
    let mut args: Vec<&str> = vec!["run"];
    args.extend(images.iter().map(String::as_str));
    let (master, node) = (hosts[0].addr(), hosts[1].addr());
    args.extend(["--masters", &master, "--nodes", &node]);
    args.extend(["-u", support::hosts::SUDO_USER, "-p", &hosts.password]);
    let out = tug.run(&args).ok();
    let joined = calls(&hosts[1].exec(&format!("cat {JOURNAL}")));
    assert_eq!(calls_of(&joined, "kubeadm", "join").len(), 1);
    assert!(!out.stdout.contains(&hosts.password) && !out.stderr.contains(&hosts.password));
    let state = tug.home().join("state");
    let grep = std::process::Command::new("grep")
        .args(["-rlF", &hosts.password])
        .arg(&state)
        .output()
        .unwrap();
    // Only the Clusterfile keeps it (as sealos's does), readable by its owner only.
    let holders = String::from_utf8_lossy(&grep.stdout);
    for path in holders.lines() {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert!(
            path.ends_with("/Clusterfile") && mode == 0o600,
            "{path} ({mode:o})"
        );
    }
    assert_eq!(holders.lines().count(), 1, "{holders}");
}

#[test]
fn a_master_at_one_of_this_machines_addresses_runs_locally_without_ssh() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    let images = fixture::build_images(&tug);
    // tug runs inside node1's namespaces, so "this machine" is node1 there,
    // and 127.0.0.1 (no sshd listens on it) is one of its addresses.
    let cmd = format!(
        "TUG_HOME={home} HOME={home} {bin} run {images} --masters 127.0.0.1 --nodes {node} --pk {key} --plain",
        home = tug.home().display(),
        bin = env!("CARGO_BIN_EXE_tug"),
        images = images.join(" "),
        node = hosts[1].addr(),
        key = hosts.key.display(),
    );
    let out = hosts[0].exec_output(&cmd);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("[127.0.0.1] new host key"), "{stderr}");
    let local = calls(&hosts[0].exec(&format!("cat {JOURNAL}")));
    let init = calls_of(&local, "kubeadm", "init --config");
    assert!(
        init.len() == 1 && init[0].host == hosts[0].hostname,
        "{init:?}"
    );
    let node = calls(&hosts[1].exec(&format!("cat {JOURNAL}")));
    assert_eq!(calls_of(&node, "kubeadm", "join --config").len(), 1);
    let etc_hosts = hosts[1].exec("cat /etc/hosts");
    assert!(etc_hosts.contains("127.0.0.1 sealos.hub"), "{etc_hosts}");
}

#[test]
fn until_distribute_stages_the_image_and_a_later_apply_finishes_without_resending() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    let images = fixture::build_images(&tug);
    let (master, node) = (hosts[0].addr(), hosts[1].addr());
    let key = hosts.key.display().to_string();
    let mut args: Vec<&str> = vec!["run"];
    args.extend(images.iter().map(String::as_str));
    args.extend([
        "--masters",
        &master,
        "--nodes",
        &node,
        "--pk",
        &key,
        "--plain",
    ]);
    let bad = tug
        .run(&[&args[..], &["--until", "kubelet"]].concat())
        .fails();
    assert!(
        bad.stderr
            .contains("not an install phase; one of preflight, distribute"),
        "{}",
        bad.stderr
    );

    let staged = tug
        .run(&[&args[..], &["--until", "distribute"]].concat())
        .ok();
    assert!(
        staged.stderr.contains("stopped after distribute as asked"),
        "{}",
        staged.stderr
    );
    for h in hosts.iter() {
        let rootfs = format!("{DATA_DEFAULT}/rootfs/bin/kubeadm");
        assert!(h.exec_output(&format!("test -x {rootfs}")).status.success());
        let ran = h
            .exec_output(&format!("test -e {JOURNAL}"))
            .status
            .success();
        assert!(!ran, "a hook ran before the install was asked for");
    }
    let file = tug.home().join("state/clusters/default/Clusterfile");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("phase: ClusterInProcess"), "{saved}");

    let finished = tug
        .run(&["apply", "-f", file.to_str().unwrap(), "--plain"])
        .ok();
    assert!(
        !finished.stderr.contains("distribute: send"),
        "{}",
        finished.stderr
    );
    assert!(
        finished.stderr.contains("cluster default is ready"),
        "{}",
        finished.stderr
    );
    assert_eq!(
        calls_of(
            &calls(&hosts[1].exec(&format!("cat {JOURNAL}"))),
            "kubeadm",
            "join"
        )
        .len(),
        1
    );
}
