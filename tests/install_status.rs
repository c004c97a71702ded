//! The saved Clusterfile of an install over real OpenSSH hosts says how far
//! the apply got: after every stage, after a failure (which host, which
//! step), after Ctrl-C; and a re-run of that very file completes and says
//! ClusterSuccess.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::fixture::{self, FAIL};
use support::hosts::Hosts;
use support::tug::{Run, Tug};
use tug::cluster::clusterfile::Clusterfile;
use tug::cluster::model::{ClusterStatus, Condition, Phase};

fn saved_path(tug: &Tug) -> PathBuf {
    tug.home().join("state/clusters/default/Clusterfile")
}

/// The saved status, read the way `tug apply -f` reads the file.
fn saved(tug: &Tug) -> ClusterStatus {
    let cf = Clusterfile::load(&saved_path(tug)).unwrap();
    cf.cluster.status.expect("a status")
}

fn condition<'a>(status: &'a ClusterStatus, kind: &str) -> &'a Condition {
    status
        .conditions
        .iter()
        .find(|c| c.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} in {status:#?}"))
}

fn message(c: &Condition) -> &str {
    c.message.as_deref().unwrap_or_default()
}

/// One stage of the plan as `tug plan` prints it.
#[derive(Debug)]
struct Stage {
    number: usize,
    phase: String,
    /// Its step lines, `  [host] action`.
    steps: Vec<String>,
}

impl Stage {
    /// What the progress condition says once this stage finished.
    fn finished(&self, total: usize) -> String {
        let mut hosts: Vec<&str> = self
            .steps
            .iter()
            .filter_map(|s| s.strip_prefix("  [")?.split_once(']'))
            .map(|(host, _)| host)
            // A script line of a step (`  [ -e "$f" ]`) is not a host.
            .filter(|host| !host.contains(char::is_whitespace))
            .collect();
        hosts.sort();
        hosts.dedup();
        let mut shown = hosts.iter().take(5).copied().collect::<Vec<_>>().join(", ");
        if hosts.len() > 5 {
            shown.push_str(&format!(" and {} more", hosts.len() - 5));
        }
        format!(
            "stage {} of {total} ({}) finished on {shown}",
            self.number, self.phase
        )
    }
}

/// The plan of the saved Clusterfile.
fn stages(tug: &Tug) -> Vec<Stage> {
    let file = saved_path(tug);
    let plan = tug.run(&["plan", "-f", file.to_str().unwrap()]).ok();
    let mut stages: Vec<Stage> = Vec::new();
    for line in plan.stdout.lines() {
        if let Some(rest) = line.strip_prefix("stage ") {
            let (number, rest) = rest.split_once(": ").unwrap();
            stages.push(Stage {
                number: number.parse().unwrap(),
                phase: rest.split_whitespace().next().unwrap().to_string(),
                steps: Vec::new(),
            });
        } else if let Some(stage) = stages.last_mut() {
            stage.steps.push(line.to_string());
        }
    }
    assert!(!stages.is_empty(), "{}", plan.stdout);
    stages
}

/// After a successful apply: ClusterSuccess, the last stage recorded, no error.
fn assert_success(tug: &Tug, total: usize) {
    let status = saved(tug);
    assert_eq!(status.phase, Some(Phase::ClusterSuccess), "{status:#?}");
    let kinds: Vec<(&str, &str)> = status
        .conditions
        .iter()
        .map(|c| (c.kind.as_str(), c.status.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("ApplyClusterProgress", "True"),
            ("ApplyClusterSuccess", "True")
        ]
    );
    let progress = message(condition(&status, "ApplyClusterProgress"));
    assert!(
        progress.starts_with(&format!("stage {total} of {total} (")),
        "{progress}"
    );
}

#[test]
fn a_failed_join_is_saved_with_the_stages_before_it_and_a_rerun_of_the_file_succeeds() {
    let hosts = Hosts::start(2);
    hosts[1].exec(&format!("echo kubeadm join > {FAIL}"));
    let tug = Tug::new();
    let args = fixture::run_args(&tug, &hosts, &[]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = tug.run(&argv).fails();

    let node = &hosts[1].ip;
    let stages = stages(&tug);
    let total = stages.len();
    let failing = stages
        .iter()
        .find(|stage| {
            stage
                .steps
                .iter()
                .any(|s| s.contains(&format!("[{node}]")) && s.contains("kubeadm join"))
        })
        .unwrap_or_else(|| panic!("no join stage in {stages:?}"));
    let before = &stages[failing.number - 2];
    let status = saved(&tug);
    assert_eq!(status.phase, Some(Phase::ClusterFailed), "{}", out.stderr);
    let progress = condition(&status, "ApplyClusterProgress");
    assert_eq!(progress.status, "True");
    assert_eq!(message(progress), before.finished(total));
    let error = status.conditions.last().unwrap();
    assert_eq!(
        (
            error.kind.as_str(),
            error.status.as_str(),
            error.reason.as_deref()
        ),
        ("ApplyClusterError", "False", Some("StepFailed"))
    );
    let text = message(error);
    assert!(
        text.starts_with(&format!("[{node}] {}: `", failing.phase))
            && text.contains("kubeadm join")
            && text.contains("exited with code 1")
            && text.ends_with(&format!(
                "; after stage {} of {total} ({})",
                before.number, before.phase
            )),
        "{text}"
    );
    assert!(
        error
            .last_heartbeat_time
            .as_deref()
            .is_some_and(|t| t.ends_with('Z')),
        "{error:?}"
    );
    let mode = std::fs::metadata(saved_path(&tug))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // The failed status does not block anything: the saved file itself is
    // applied again once the fault is gone.
    hosts[1].exec(&format!("rm {FAIL}"));
    let file = saved_path(&tug);
    tug.run(&["apply", "-f", file.to_str().unwrap(), "--plain"])
        .ok();
    assert_success(&tug, total);
}

#[test]
fn the_file_is_saved_while_the_run_is_under_way_and_a_ctrl_c_is_recorded() {
    let hosts = Hosts::start(2);
    // The node's tar (which unpacks each layer) waits for a go-ahead:
    // the run is held inside its first distribute stage.
    fixture::hold_layers(&hosts[1]);
    let tug = Tug::new();
    let args = fixture::run_args(&tug, &hosts, &[]);
    let mut child = tug.spawn(&args);
    fixture::wait_for_held_layer(&hosts[1], &mut child);

    // Mid-run: in process, and every stage before the distribution recorded.
    let stages = stages(&tug);
    let total = stages.len();
    let distribute = stages
        .iter()
        .find(|stage| stage.phase == "distribute")
        .unwrap();
    assert!(distribute.number > 1, "{stages:?}");
    let before = &stages[distribute.number - 2];
    // The file is saved just after the stage's report, which may trail the
    // next stage's start by a moment: wait for it.
    let want = before.finished(total);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut status = saved(&tug);
    while status.conditions.last().is_none_or(|c| message(c) != want) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        status = saved(&tug);
    }
    assert_eq!(status.phase, Some(Phase::ClusterInProcess));
    assert_eq!(
        message(condition(&status, "ApplyClusterProgress")),
        want,
        "{status:#?}"
    );
    assert!(child.try_wait().unwrap().is_none(), "still running");

    // SAFETY: kill(2) on the pid of a child we own and have not waited for.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    std::thread::sleep(Duration::from_millis(500));
    fixture::release_layers(&hosts[1]);
    let out: Run = child.wait_with_output().unwrap().into();
    assert_eq!(out.code, 130, "{}", out.stderr);
    let status = saved(&tug);
    assert_eq!(status.phase, Some(Phase::ClusterInProcess));
    let progress = message(condition(&status, "ApplyClusterProgress")).to_string();
    let error = status.conditions.last().unwrap();
    assert_eq!(
        (
            error.kind.as_str(),
            error.status.as_str(),
            error.reason.as_deref()
        ),
        ("ApplyClusterError", "False", Some("Cancelled"))
    );
    // The cancellation names the last stage the progress shows.
    let last = progress.split(" finished on ").next().unwrap();
    assert_eq!(
        message(error),
        format!("cancelled by the user after {last}"),
        "{progress}"
    );

    fixture::unhold_layers(&hosts[1]);
    let file = saved_path(&tug);
    tug.run(&["apply", "-f", file.to_str().unwrap(), "--plain"])
        .ok();
    assert_success(&tug, total);
}

#[test]
fn status_says_when_the_hosts_contradict_a_saved_success() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    tug.run(
        &fixture::run_args(&tug, &hosts, &[])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    )
    .ok();
    let agreed = tug.run(&["status", "--cluster", "default"]).ok();
    assert!(
        agreed
            .stdout
            .starts_with("cluster default: ClusterSuccess\n"),
        "{}",
        agreed.stdout
    );
    // Both hosts wiped by hand: the saved success no longer holds.
    for h in hosts.iter() {
        h.exec("rm -rf /var/lib/sealos/data/default");
    }
    let status = tug.run(&["status", "--cluster", "default"]).ok();
    let first = status.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("cluster default: ClusterSuccess as saved, but no host that answered holds its files now")
            && first.contains("`tug apply -f "),
        "{}",
        status.stdout
    );
    let json = tug.run(&["status", "--cluster", "default", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(
        v["disagreement"]
            .as_str()
            .is_some_and(|d| d.starts_with("no host")),
        "{v}"
    );
}
