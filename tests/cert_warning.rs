//! The certificate warning at the start of a run comes from the masters
//! themselves, over real OpenSSH hosts with the fixture images (whose
//! kubeadm answers `certs check-expiration` from a date a test can
//! change): a fresh install asks nothing; an apply over the installed
//! cluster warns about a master under 30 days with no record of an earlier
//! `tug status`, says nothing once the master answers with more (a stale
//! record notwithstanding), and falls back to the record when the master
//! cannot answer.

mod support;

use support::fixture::{self, FAIL, JOURNAL, calls, calls_of};
use support::hosts::Hosts;
use support::tug::{Run, Tug};

/// Where the fixture keeps its leaf certificates' expiry date on a master.
const EXPIRY: &str = "/etc/kubernetes/pki/.fixture-expiry";

fn expire_in_days(hosts: &Hosts, i: usize, days: u32) {
    hosts[i].exec(&format!(
        "date -u -d '+{days} days' '+%Y-%m-%d %H:%M UTC' > {EXPIRY}"
    ));
}

/// How often host `i` was asked for its certificates.
fn asked(hosts: &Hosts, i: usize) -> usize {
    let journal = hosts[i].exec(&format!("cat {JOURNAL}"));
    calls_of(&calls(&journal), "kubeadm", "certs check-expiration").len()
}

/// `tug apply -f` of the saved Clusterfile.
fn apply(tug: &Tug) -> Run {
    let file = tug.home().join("state/clusters/default/Clusterfile");
    tug.run(&["apply", "-f", file.to_str().unwrap(), "--plain"])
}

/// The lines of `run`'s stderr that warn about a certificate.
fn cert_warnings(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|l| l.starts_with("warning: certificate "))
        .collect()
}

#[test]
fn a_run_warns_from_the_masters_own_answer_and_falls_back_to_the_record_when_they_cannot_answer() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    let args = fixture::run_args(&tug, &hosts, &[]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let installed = tug.run(&argv).ok();
    assert!(cert_warnings(&installed).is_empty(), "{}", installed.stderr);
    assert_eq!(asked(&hosts, 0), 0, "a fresh install has nothing to ask");
    let record = tug.home().join("state/clusters/default/certs.json");
    assert!(!record.exists(), "nobody ran tug status or tug cert");

    // The master's certificates near their end: the next run says so
    // before its first step, naming the master, with no record to go by.
    expire_in_days(&hosts, 0, 10);
    let run = apply(&tug).ok();
    let m0 = hosts[0].ip.as_str();
    let warned = cert_warnings(&run);
    assert_eq!(warned.len(), 1, "{}", run.stderr);
    assert!(
        warned[0].starts_with(&format!(
            "warning: certificate admin.conf of master {m0} expires in"
        )) && (warned[0].contains(" in 9 days") || warned[0].contains(" in 10 days"))
            && warned[0].ends_with("`tug cert --cluster default --renew` renews them"),
        "{}",
        run.stderr
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    let at = lines.iter().position(|l| *l == warned[0]).unwrap();
    let first_step = lines
        .iter()
        .position(|l| l.contains("] preflight:") || l.contains("] distribute:"))
        .unwrap_or(lines.len());
    assert!(at < first_step, "{}", run.stderr);
    assert_eq!(asked(&hosts, 0), 1);
    assert_eq!(asked(&hosts, 1), 0, "a node has no control plane to ask");
    // The record is refreshed from the answer.
    let text = std::fs::read_to_string(&record).unwrap();
    assert!(text.contains(m0) && text.contains("admin.conf"), "{text}");

    // The master cannot answer: the record it left speaks for it, quietly.
    hosts[0].exec(&format!("echo 'kubeadm certs' > {FAIL}"));
    let run = apply(&tug).ok();
    let warned = cert_warnings(&run);
    assert_eq!(warned.len(), 1, "{}", run.stderr);
    assert!(
        warned[0].contains(&format!("of master {m0} expires in")),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("check-expiration"), "{}", run.stderr);
    hosts[0].exec(&format!("rm -f {FAIL}"));

    // Renewed by hand: the master's own answer wins over the stale record.
    expire_in_days(&hosts, 0, 200);
    let run = apply(&tug).ok();
    assert!(cert_warnings(&run).is_empty(), "{}", run.stderr);
    assert!(
        run.stderr.contains("cluster default is ready"),
        "{}",
        run.stderr
    );
    let text = std::fs::read_to_string(&record).unwrap();
    let saved: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(saved[0][1]["days_left"].as_i64().unwrap() >= 199, "{text}");
}

#[test]
fn a_master_with_more_than_thirty_days_and_no_record_gives_no_warning() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    let args = fixture::run_args(&tug, &hosts, &[]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    tug.run(&argv).ok();
    expire_in_days(&hosts, 0, 45);
    let run = apply(&tug).ok();
    assert!(cert_warnings(&run).is_empty(), "{}", run.stderr);
    assert!(!run.stderr.contains("warning:"), "{}", run.stderr);
    assert_eq!(asked(&hosts, 0), 1, "the master was asked");
    let record = tug.home().join("state/clusters/default/certs.json");
    let text = std::fs::read_to_string(&record).unwrap();
    assert!(text.contains(&hosts[0].ip), "{text}");
}
