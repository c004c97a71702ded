//! Certificates over real OpenSSH hosts with the fixture images (whose
//! kubeadm answers `certs check-expiration` from a date a test can change,
//! renews, and writes the API server certificate with the config's
//! certSANs): `tug status` shows versions, Ready and expiry and warns under
//! 30 days, as does the start of a run; `tug cert` lists every master's
//! certificates, `--renew` renews and restarts one master at a time, and
//! `--alt-names` reaches every master's API server certificate and the
//! Clusterfile.

mod support;

use support::fixture::{self, JOURNAL, calls};
use support::hosts::Hosts;
use support::tug::{Run, Tug};

/// Where the fixture keeps its leaf certificates' expiry date on a master.
const EXPIRY: &str = "/etc/kubernetes/pki/.fixture-expiry";

/// Install the fixture images: `masters` masters, then the other hosts as nodes.
fn install(tug: &Tug, hosts: &Hosts, masters: usize) {
    let mut args = vec!["run".to_string()];
    args.extend(fixture::build_images(tug));
    let m: Vec<String> = (0..masters).map(|i| hosts[i].addr()).collect();
    let n: Vec<String> = (masters..hosts.len()).map(|i| hosts[i].addr()).collect();
    args.extend(["--masters".into(), m.join(",")]);
    if !n.is_empty() {
        args.extend(["--nodes".into(), n.join(",")]);
    }
    args.extend([
        "--pk".into(),
        hosts.key.display().to_string(),
        "--plain".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    tug.run(&args).ok();
}

fn expire_in_days(hosts: &Hosts, i: usize, days: u32) {
    hosts[i].exec(&format!(
        "date -u -d '+{days} days' '+%Y-%m-%d %H:%M UTC' > {EXPIRY}"
    ));
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// The calls of `prog` on host `i` as `prog args` strings, in order.
fn journal_of(hosts: &Hosts, i: usize) -> Vec<String> {
    let text = hosts[i].exec(&format!("cat {JOURNAL}"));
    calls(&text)
        .into_iter()
        .map(|c| format!("{} {}", c.prog, c.args))
        .collect()
}

fn position(lines: &[String], start: &str) -> usize {
    lines
        .iter()
        .position(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no {start:?} in {lines:#?}"))
}

#[test]
fn status_and_cert_show_versions_readiness_and_expiry_and_warn_under_thirty_days() {
    let hosts = Hosts::start(3);
    let tug = Tug::new();
    install(&tug, &hosts, 2);

    let status = tug.run(&["status", "--cluster", "default", "--json"]).ok();
    let v = json(&status);
    for (i, h) in v["hosts"].as_array().unwrap().iter().enumerate() {
        let a = &h["answer"];
        assert_eq!(a["state"], "reachable", "{h}");
        assert_eq!(a["version"], "v1.28.9", "{h}");
        assert_eq!(a["ready"], true, "{h}");
        if i < 2 {
            assert!(
                a["cert_expiry"]["days_left"].as_i64().unwrap() >= 360,
                "{h}"
            );
        } else {
            assert!(
                a.get("cert_expiry").is_none(),
                "a node has no control plane: {h}"
            );
        }
    }
    assert!(!status.stderr.contains("warning:"), "{}", status.stderr);
    let listed = json(&tug.run(&["cert", "--cluster", "default", "--json"]).ok());
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    for (m, l) in listed.iter().enumerate() {
        assert_eq!(l["host"], hosts[m].ip.as_str());
        let names: Vec<&str> = l["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        for want in [
            "admin.conf",
            "apiserver",
            "etcd-server",
            "ca",
            "front-proxy-ca",
        ] {
            assert!(names.contains(&want), "{want} missing on {m}: {names:?}");
        }
    }

    // The second master's certificates near their end; the node goes NotReady.
    expire_in_days(&hosts, 1, 10);
    hosts[0].exec(
        "printf 'node3\\tKubeletNotReady\\tPLEG is not healthy\\n' > /var/lib/tug-fixture-notready",
    );
    let status = tug.run(&["status", "--cluster", "default"]).ok();
    let m1 = hosts[1].ip.as_str();
    assert!(
        status
            .stderr
            .contains(&format!("of master {m1} expires in 9 days"))
            || status
                .stderr
                .contains(&format!("of master {m1} expires in 10 days")),
        "{}",
        status.stderr
    );
    assert!(
        status
            .stderr
            .contains("`tug cert --cluster default --renew` renews them"),
        "{}",
        status.stderr
    );
    assert!(
        !status
            .stderr
            .contains(&format!("of master {} ", hosts[0].ip))
    );
    let row = status
        .stdout
        .lines()
        .find(|l| l.starts_with(&hosts[2].ip))
        .unwrap();
    assert!(
        row.contains("v1.28.9") && row.contains(" no "),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains(&format!(
            "{} is not Ready: Ready=False (KubeletNotReady: PLEG is not healthy)",
            hosts[2].ip
        )),
        "{}",
        status.stdout
    );
    let cert = tug.run(&["cert", "--cluster", "default"]).ok();
    assert!(
        cert.stderr.contains(&format!("of master {m1} expires in")),
        "{}",
        cert.stderr
    );

    // A run on the cluster warns at its start.
    hosts[0].exec("rm -f /var/lib/tug-fixture-notready");
    let file = tug.home().join("state/clusters/default/Clusterfile");
    let run = tug
        .run(&["apply", "-f", file.to_str().unwrap(), "--plain"])
        .ok();
    let lines: Vec<String> = run.stderr.lines().map(str::to_string).collect();
    let warned = lines
        .iter()
        .position(|l| l.contains(&format!("of master {m1} expires in")))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    let first_step = lines
        .iter()
        .position(|l| l.contains("] preflight:") || l.contains("] distribute:"))
        .unwrap_or(lines.len());
    assert!(warned < first_step, "{}", run.stderr);
}

#[test]
fn renew_renews_then_restarts_the_control_plane_one_master_at_a_time() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    install(&tug, &hosts, 2);
    for i in 0..2 {
        expire_in_days(&hosts, i, 5);
    }
    let before: Vec<usize> = (0..2).map(|i| journal_of(&hosts, i).len()).collect();
    let refused = tug
        .run(&["cert", "--cluster", "default", "--renew"])
        .fails();
    assert!(refused.stderr.contains("add --yes"), "{}", refused.stderr);
    for (i, had) in before.iter().enumerate() {
        assert_eq!(
            journal_of(&hosts, i).len(),
            *had,
            "asked first, nothing ran"
        );
    }

    let renewed = tug
        .run(&[
            "cert",
            "--cluster",
            "default",
            "--renew",
            "--yes",
            "--plain",
            "-v",
        ])
        .ok();
    let out: Vec<String> = renewed.stderr.lines().map(str::to_string).collect();
    let at = |i: usize, what: &str| {
        out.iter()
            .position(|l| l.contains(&format!("[{}] certs: {what}", hosts[i].ip)))
            .unwrap_or_else(|| panic!("no [{i}] {what} in {}", renewed.stderr))
    };
    let restarted = "restarted: etcd kube-apiserver kube-controller-manager kube-scheduler";
    // master0 renews and restarts before master1 starts renewing.
    assert!(at(0, "run: kubeadm certs renew all") < at(0, restarted));
    assert!(
        at(0, restarted) < at(1, "run: kubeadm certs renew all"),
        "{}",
        renewed.stderr
    );
    assert!(at(1, "run: kubeadm certs renew all") < at(1, restarted));
    for i in 0..2 {
        let j = journal_of(&hosts, i);
        let renew = position(&j, "kubeadm certs renew all");
        let stopped = position(
            &j[renew..],
            "crictl ps -q --name ^(etcd|kube-apiserver|kube-controller-manager|kube-scheduler)$",
        );
        let ready = position(
            &j[renew..],
            "kubectl --kubeconfig /etc/kubernetes/admin.conf get --raw=/readyz",
        );
        assert!(stopped < ready, "{j:#?}");
        let manifests = hosts[i]
            .exec("ls /etc/kubernetes/manifests; ls -d /etc/kubernetes/tug-restart 2>&1 || true");
        for p in [
            "etcd.yaml",
            "kube-apiserver.yaml",
            "kube-controller-manager.yaml",
            "kube-scheduler.yaml",
        ] {
            assert!(manifests.contains(p), "{i}: {manifests}");
        }
        assert!(manifests.contains("No such file"), "{i}: {manifests}");
    }
    let listed = json(&tug.run(&["cert", "--cluster", "default", "--json"]).ok());
    for l in listed.as_array().unwrap() {
        for c in l["certificates"].as_array().unwrap() {
            assert!(c["days_left"].as_i64().unwrap() >= 360, "{c}");
        }
    }
    assert!(!renewed.stderr.contains("expires in"), "{}", renewed.stderr);
}

#[test]
fn alt_names_reach_every_masters_apiserver_certificate_and_the_clusterfile() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    install(&tug, &hosts, 2);
    let bad = tug
        .run(&[
            "cert",
            "--cluster",
            "default",
            "--alt-names",
            "ok.example,bad name",
            "--yes",
        ])
        .fails();
    assert!(
        bad.stderr
            .contains("--alt-names: \"bad name\" is neither an IP address nor a DNS name"),
        "{}",
        bad.stderr
    );
    let before = journal_of(&hosts, 0).len();
    assert!(
        !journal_of(&hosts, 0)[..before]
            .iter()
            .any(|c| c.contains("certs apiserver"))
    );

    tug.run(&[
        "cert",
        "--cluster",
        "default",
        "--alt-names",
        "api.example.com,203.0.113.7",
        "--yes",
        "--plain",
    ])
    .ok();
    let etc = "/var/lib/sealos/data/default/etc";
    let m0 = journal_of(&hosts, 0);
    let upload = position(
        &m0,
        &format!("kubeadm init phase upload-config kubeadm --config {etc}/kubeadm-update.yaml"),
    );
    let cert0 = position(
        &m0,
        &format!("kubeadm init phase certs apiserver --config {etc}/kubeadm-certs.yaml"),
    );
    assert!(upload < cert0);
    for i in 0..2 {
        let j = journal_of(&hosts, i);
        position(
            &j,
            &format!("kubeadm init phase certs apiserver --config {etc}/kubeadm-certs.yaml"),
        );
        let cert = hosts[i].exec("cat /etc/kubernetes/pki/apiserver.crt");
        assert!(
            cert.contains("api.example.com") && cert.contains("203.0.113.7"),
            "master {i}: {cert}"
        );
        let cfg = hosts[i].exec(&format!("cat {etc}/kubeadm-certs.yaml"));
        assert!(
            cfg.contains(&format!("advertiseAddress: {}", hosts[i].ip)),
            "{cfg}"
        );
        assert!(
            hosts[i]
                .exec("ls /etc/kubernetes/manifests")
                .contains("kube-apiserver.yaml")
        );
    }
    let file = tug.home().join("state/clusters/default/Clusterfile");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("certSANs")
            && text.contains("api.example.com")
            && text.contains("203.0.113.7"),
        "{text}"
    );

    // A later run keeps them in the kubeadm configuration it writes.
    tug.run(&["apply", "-f", file.to_str().unwrap(), "--plain"])
        .ok();
    let init = hosts[0].exec(&format!("cat {etc}/kubeadm-init.yaml"));
    assert!(
        init.contains("- api.example.com") && init.contains("- 203.0.113.7"),
        "{init}"
    );
}
