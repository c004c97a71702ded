//! An apply whose hosts no longer list some of the installed cluster's
//! takes them out first, as sealos's apply does, over real sshd hosts with
//! the fixture images: without a terminal it is refused unless `--yes`,
//! and nothing changes; `--dry-run` shows the delete; with `--yes` the node
//! is drained on master0 and reset, and the record forgets it.

mod support;

use support::fixture::{self, JOURNAL, NODES, calls, calls_of};
use support::hosts::Hosts;
use support::tug::Tug;

/// `tug run` of the fixture images on master hosts[0] and `nodes`, as c1.
fn run_on(images: &[String], hosts: &Hosts, nodes: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["run".to_string()];
    args.extend(images.iter().cloned());
    let key = hosts.key.display().to_string();
    let fixed = [
        "--masters",
        &hosts[0].addr(),
        "--nodes",
        nodes,
        "--pk",
        &key,
        "--cluster",
        "c1",
        "--plain",
    ];
    args.extend(fixed.iter().chain(extra).map(|s| s.to_string()));
    args
}

#[test]
fn a_run_without_a_node_deletes_it_first_and_only_when_told_to() {
    let tug = Tug::new();
    let images = fixture::build_images(&tug);
    let hosts = Hosts::start(3);
    let both = format!("{},{}", hosts[1].addr(), hosts[2].addr());
    let args = run_on(&images, &hosts, &both, &[]);
    tug.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .ok();
    hosts[0].exec(&format!(
        "printf '%s %s\\n' node2 {} node3 {} > {NODES}",
        hosts[1].ip, hosts[2].ip
    ));
    let clusterfile = tug.home().join("state/clusters/c1/Clusterfile");
    let reset_on = |i: usize| {
        let all = calls(&hosts[i].exec(&format!("cat {JOURNAL}")));
        calls_of(&all, "kubeadm", "reset").len()
    };

    let fewer = |extra: &[&str]| {
        let args = run_on(&images, &hosts, &hosts[1].addr(), extra);
        tug.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let refused = fewer(&[]).fails();
    assert!(
        refused.stderr.contains(&format!(
            "tug run drains, deletes and resets {} (no longer among the Clusterfile's hosts): add --yes",
            hosts[2].ip
        )),
        "{}",
        refused.stderr
    );
    assert!(
        std::fs::read_to_string(&clusterfile)
            .unwrap()
            .contains(&hosts[2].ip)
    );
    assert_eq!(reset_on(2), 0, "nothing ran");

    let shown = fewer(&["--dry-run"]).ok();
    assert!(shown.stdout.contains("kubectl drain"), "{}", shown.stdout);
    assert!(
        shown.stdout.contains(&format!("[{}] run: ", hosts[2].ip)),
        "{}",
        shown.stdout
    );
    assert!(
        shown
            .stderr
            .contains("then the remaining hosts are re-applied")
    );
    assert_eq!(reset_on(2), 0, "a dry run changes nothing");

    let done = fewer(&["--yes"]).ok();
    assert!(
        done.stderr.contains(&format!(
            "{} deleted from cluster c1, which is ready",
            hosts[2].ip
        )),
        "{}",
        done.stderr
    );
    let m0 = calls(&hosts[0].exec(&format!("cat {JOURNAL}")));
    assert_eq!(calls_of(&m0, "kubectl", "drain node3 ").len(), 1, "{m0:?}");
    assert_eq!(reset_on(2), 1);
    assert_eq!(reset_on(1), 0, "the kept node is not reset");
    let saved = std::fs::read_to_string(&clusterfile).unwrap();
    assert!(!saved.contains(&hosts[2].ip), "{saved}");
    assert!(saved.contains(&hosts[1].ip), "{saved}");
}
