//! The engine over real bash: temp dirs stand in for hosts, each driven by a
//! `LocalTransport` rooted there. Concurrency and order are recorded by the
//! commands themselves (flock'd counter files), never by timing.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tug::engine::command::{Command, Secret, Value};
use tug::engine::event::{Event, EventKind, FailCause, SkipReason};
use tug::engine::journal::Journal;
use tug::engine::plan::{
    Action, Compression, HostId, LocalFile, Marker, OnFailure, Order, Phase, Plan, Source, Stage,
    Step,
};
use tug::engine::runner::{Report, RunError, RunOptions, Runner};
use tug::engine::transport::local::LocalTransport;
use tug::engine::transport::{BoxFuture, ByteStream, LineSink, Transport, TransportError};

/// A temp dir with `shared/` (files every "host" writes to) and one dir per host.
struct Bed {
    dir: tempfile::TempDir,
    hosts: Vec<HostId>,
}

impl Bed {
    fn new(n: usize) -> Bed {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("shared")).unwrap();
        let hosts = (1..=n)
            .map(|i| {
                std::fs::create_dir(dir.path().join(format!("h{i}"))).unwrap();
                HostId::new(format!("h{i}"))
            })
            .collect();
        Bed { dir, hosts }
    }

    fn h(&self, i: usize) -> HostId {
        self.hosts[i - 1].clone()
    }

    fn shared(&self, name: &str) -> PathBuf {
        self.dir.path().join("shared").join(name)
    }

    fn host_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("h{i}"))
    }

    fn logs(&self) -> PathBuf {
        self.dir.path().join("logs")
    }

    fn journal(&self) -> Journal {
        Journal::load(self.dir.path().join("journal.json")).unwrap()
    }

    fn transports(&self) -> HashMap<HostId, Arc<dyn Transport>> {
        (1..=self.hosts.len())
            .map(|i| {
                (
                    self.h(i),
                    Arc::new(LocalTransport::in_dir(self.host_dir(i))) as Arc<dyn Transport>,
                )
            })
            .collect()
    }

    /// A step running trusted test shell text on host `i`, with `$S` = the shared dir.
    fn sh(&self, phase: Phase, i: usize, key: &str, script: &str) -> Step {
        let cmd = Command::shell(script).env("S", self.dir.path().join("shared").to_str().unwrap());
        Step::new(phase, self.h(i), key, Action::Run { cmd, timeout: None }).unwrap()
    }

    async fn run(&self, plan: &Plan) -> (Result<Report, RunError>, Vec<Event>) {
        self.run_with(
            plan,
            self.transports(),
            RunOptions::default(),
            CancellationToken::new(),
        )
        .await
    }

    async fn run_with(
        &self,
        plan: &Plan,
        hosts: HashMap<HostId, Arc<dyn Transport>>,
        options: RunOptions,
        cancel: CancellationToken,
    ) -> (Result<Report, RunError>, Vec<Event>) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let runner = Runner::new(hosts, self.logs(), tx)
            .with_options(options)
            .with_cancel(cancel);
        let mut journal = self.journal();
        let result = runner.run(plan, &mut journal).await;
        drop(runner);
        let mut events = Vec::new();
        while let Some(e) = rx.recv().await {
            events.push(e);
        }
        (result, events)
    }
}

fn stage(phase: Phase, order: Order, steps: Vec<Step>) -> Stage {
    Stage {
        phase,
        steps,
        order,
        on_failure: OnFailure::Stop,
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Shell text that records how many such commands run at once in
/// `$S/max`, holding for up to 5 s until `want` are running together.
fn concurrency_probe(want: usize, then: &str) -> String {
    format!(
        r#"cd "$S" && exec 9>lock
flock 9; n=$(( $(cat cur 2>/dev/null || echo 0) + 1 )); echo $n > cur
m=$(cat max 2>/dev/null || echo 0); [ $n -gt $m ] && echo $n > max; flock -u 9
for i in $(seq 100); do [ "$(cat max)" -ge {want} ] && break; sleep 0.05; done
{then}
flock 9; echo $(( $(cat cur) - 1 )) > cur; flock -u 9"#
    )
}

#[tokio::test]
async fn stages_run_in_order_and_parallel_limits_hold() {
    let bed = Bed::new(6);
    let first: Vec<Step> = (1..=6)
        .map(|i| {
            bed.sh(
                Phase::Distribute,
                i,
                "probe",
                &concurrency_probe(2, "echo first >> order"),
            )
        })
        .collect();
    let second = vec![bed.sh(Phase::Init, 1, "after", r#"echo second >> "$S/order""#)];
    let plan = Plan {
        stages: vec![
            stage(Phase::Distribute, Order::Parallel(2), first),
            stage(Phase::Init, Order::Parallel(4), second),
        ],
    };
    let (result, _) = bed.run(&plan).await;
    let report = result.unwrap();
    assert_eq!(report.executed, 7);
    assert_eq!(
        read(&bed.shared("max")).trim(),
        "2",
        "at most and at least 2 ran together"
    );
    assert_eq!(read(&bed.shared("order")), "first\n".repeat(6) + "second\n");
}

#[tokio::test]
async fn one_by_one_keeps_plan_order() {
    let bed = Bed::new(4);
    let steps = [3, 1, 4, 2]
        .into_iter()
        .map(|i| {
            bed.sh(
                Phase::JoinMasters,
                i,
                "join",
                &concurrency_probe(1, &format!("echo h{i} >> order")),
            )
        })
        .collect();
    let plan = Plan {
        stages: vec![stage(Phase::JoinMasters, Order::OneByOne, steps)],
    };
    bed.run(&plan).await.0.unwrap();
    assert_eq!(read(&bed.shared("order")), "h3\nh1\nh4\nh2\n");
    assert_eq!(read(&bed.shared("max")).trim(), "1");
}

#[tokio::test]
async fn check_stages_report_every_problem_of_their_phase_then_stop() {
    let bed = Bed::new(2);
    let checks = |mut s: Stage| {
        s.on_failure = OnFailure::FinishPhase;
        s
    };
    let plan = Plan {
        stages: vec![
            checks(stage(
                Phase::Preflight,
                Order::Parallel(2),
                vec![
                    bed.sh(
                        Phase::Preflight,
                        1,
                        "checks",
                        "echo 'port 6443 is in use' >&2; exit 1",
                    ),
                    bed.sh(Phase::Preflight, 1, "clock", r#"touch "$S/h1-clock""#),
                    bed.sh(Phase::Preflight, 2, "checks", "exit 1"),
                ],
            )),
            checks(stage(
                Phase::Preflight,
                Order::OneByOne,
                vec![bed.sh(
                    Phase::Preflight,
                    1,
                    "hostnames",
                    r#"touch "$S/compared"; exit 1"#,
                )],
            )),
            stage(
                Phase::Distribute,
                Order::OneByOne,
                vec![bed.sh(Phase::Distribute, 1, "send", r#"touch "$S/sent""#)],
            ),
        ],
    };
    let Err(RunError::Failed(failures)) = bed.run(&plan).await.0 else {
        panic!("expected a failure")
    };
    let mut keys: Vec<String> = failures
        .iter()
        .map(|f| format!("{} {}", f.host, f.step.as_str().split('/').nth(2).unwrap()))
        .collect();
    // The parallel stage's two failures come in completion order.
    keys[..2].sort();
    assert_eq!(keys, ["h1 checks", "h2 checks", "h1 hostnames"]);
    assert!(
        bed.shared("h1-clock").exists(),
        "the failed host's next check ran"
    );
    assert!(
        bed.shared("compared").exists(),
        "the phase's next stage ran"
    );
    assert!(!bed.shared("sent").exists(), "the next phase did not start");
}

#[tokio::test]
async fn a_failure_in_a_one_by_one_stage_starts_no_later_host() {
    let bed = Bed::new(3);
    let steps = vec![
        bed.sh(Phase::JoinMasters, 1, "join", r#"touch "$S/h1""#),
        bed.sh(Phase::JoinMasters, 2, "join", "exit 1"),
        bed.sh(Phase::JoinMasters, 3, "join", r#"touch "$S/h3""#),
    ];
    let plan = Plan {
        stages: vec![stage(Phase::JoinMasters, Order::OneByOne, steps)],
    };
    let Err(RunError::Failed(failures)) = bed.run(&plan).await.0 else {
        panic!("expected a failure")
    };
    assert_eq!(failures.len(), 1);
    assert!(bed.shared("h1").exists());
    assert!(
        !bed.shared("h3").exists(),
        "a master joined after a failed one"
    );
}

#[tokio::test]
async fn a_failure_stops_its_host_but_the_other_hosts_finish_the_stage() {
    let bed = Bed::new(3);
    let plan = Plan {
        stages: vec![
            stage(
                Phase::Init,
                Order::Parallel(2),
                vec![
                    // h1 finishes only after h2 has failed: running steps are let finish.
                    bed.sh(Phase::Init, 1, "init", r#"for i in $(seq 100); do [ -e "$S/failing" ] && break; sleep 0.05; done; sleep 0.2; touch "$S/h1-done""#),
                    bed.sh(Phase::Init, 2, "init", r#"echo preparing; echo 'disk full' >&2; touch "$S/failing"; exit 3"#),
                    bed.sh(Phase::Init, 2, "init-more", r#"touch "$S/h2-more""#),
                    bed.sh(Phase::Init, 3, "init", r#"for i in $(seq 100); do [ -e "$S/failing" ] && break; sleep 0.05; done; touch "$S/h3-done""#),
                ],
            ),
            stage(Phase::KubeadmInit, Order::OneByOne, vec![bed.sh(Phase::KubeadmInit, 1, "k", r#"touch "$S/stage2""#)]),
        ],
    };
    let (result, events) = bed.run(&plan).await;
    let Err(RunError::Failed(failures)) = result else {
        panic!("expected a failure, got {result:?}")
    };
    assert_eq!(failures.len(), 1);
    let f = &failures[0];
    assert_eq!(f.host, bed.h(2));
    assert_eq!(f.phase, Phase::Init);
    assert_eq!(f.error.exit_code(), Some(3));
    // stdout and stderr are two pipes: their relative order is not defined.
    let mut last = f.error.last_lines.clone();
    last.sort();
    assert_eq!(last, ["disk full", "preparing"]);
    let msg = RunError::Failed(failures.clone()).to_string();
    assert!(
        msg.starts_with("[h2] init: init failed: exited with code 3\n"),
        "{msg}"
    );
    assert!(
        msg.contains("exit 3") && msg.contains("exited with code 3") && msg.contains("disk full"),
        "{msg}"
    );
    assert!(bed.shared("h1-done").exists(), "the running step finished");
    assert!(
        bed.shared("h3-done").exists(),
        "another host's step started after the failure and finished"
    );
    assert!(
        !bed.shared("h2-more").exists(),
        "nothing more started on the failed host"
    );
    assert!(!bed.shared("stage2").exists(), "no later stage started");
    assert!(
        events
            .iter()
            .any(|e| e.host == bed.h(2) && matches!(e.kind, EventKind::Failed { .. }))
    );
}

#[tokio::test]
async fn a_second_run_skips_finished_steps_and_continues_after_a_fix() {
    let bed = Bed::new(2);
    let count = |name: &str| format!(r#"echo x >> "$S/{name}""#);
    let plan = Plan {
        stages: vec![
            stage(
                Phase::Check,
                Order::Parallel(2),
                vec![
                    bed.sh(Phase::Check, 1, "c", &count("c1")),
                    bed.sh(Phase::Check, 2, "c", &count("c2")),
                ],
            ),
            stage(
                Phase::Init,
                Order::OneByOne,
                vec![bed.sh(
                    Phase::Init,
                    1,
                    "i",
                    &format!(r#"[ -e "$S/fixed" ] || exit 1; {}"#, count("i1")),
                )],
            ),
        ],
    };
    let (first, _) = bed.run(&plan).await;
    assert!(matches!(first, Err(RunError::Failed(_))));
    std::fs::write(bed.shared("fixed"), "").unwrap();
    let second = bed.run(&plan).await.0.unwrap();
    assert_eq!((second.executed, second.skipped), (1, 2));
    let (third, events) = bed.run(&plan).await;
    let third = third.unwrap();
    assert_eq!((third.executed, third.skipped), (0, 3));
    assert!(events.iter().all(|e| e.kind
        == EventKind::Skipped {
            reason: SkipReason::Journal
        }));
    for name in ["c1", "c2", "i1"] {
        assert_eq!(read(&bed.shared(name)), "x\n", "{name} ran exactly once");
    }
}

#[tokio::test]
async fn changed_inputs_run_a_step_again() {
    let bed = Bed::new(1);
    let plan = |v: &str| {
        let cmd = Command::shell(r#"echo "$V" >> "$S/runs""#)
            .env("S", bed.shared("").to_str().unwrap())
            .env("V", v);
        let step = Step::new(
            Phase::Render,
            bed.h(1),
            "render",
            Action::Run { cmd, timeout: None },
        )
        .unwrap();
        Plan {
            stages: vec![stage(Phase::Render, Order::OneByOne, vec![step])],
        }
    };
    for v in ["1", "1", "2", "2", "1"] {
        bed.run(&plan(v)).await.0.unwrap();
    }
    assert_eq!(
        read(&bed.shared("runs")),
        "1\n2\n1\n",
        "a value changed back runs again"
    );
}

#[tokio::test]
async fn cancelling_lets_the_running_step_finish_and_starts_no_other() {
    let bed = Bed::new(2);
    let slow = bed.sh(Phase::Distribute, 1, "slow", r#"for i in $(seq 200); do [ -e "$S/go" ] && break; sleep 0.05; done; touch "$S/slow-done""#);
    let slow_id = slow.id.clone();
    let plan = Plan {
        stages: vec![
            stage(
                Phase::Distribute,
                Order::OneByOne,
                vec![
                    slow,
                    bed.sh(Phase::Distribute, 2, "next", r#"touch "$S/next""#),
                ],
            ),
            stage(
                Phase::Init,
                Order::OneByOne,
                vec![bed.sh(Phase::Init, 1, "later", r#"touch "$S/later""#)],
            ),
        ],
    };
    let cancel = CancellationToken::new();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let runner = Runner::new(bed.transports(), bed.logs(), tx).with_cancel(cancel.clone());
    let go = bed.shared("go");
    let watcher = tokio::spawn(async move {
        while let Some(e) = rx.recv().await {
            if matches!(e.kind, EventKind::Started { .. }) {
                cancel.cancel();
                std::fs::write(&go, "").unwrap();
            }
        }
    });
    let mut journal = bed.journal();
    let result = runner.run(&plan, &mut journal).await;
    drop(runner);
    watcher.await.unwrap();
    assert!(matches!(result, Err(RunError::Cancelled)), "{result:?}");
    assert!(bed.shared("slow-done").exists());
    assert!(!bed.shared("next").exists() && !bed.shared("later").exists());
    let saved: Vec<_> = bed.journal().done().cloned().collect();
    assert_eq!(saved, [slow_id]);
}

#[tokio::test]
async fn a_step_past_its_timeout_is_stopped_with_its_children() {
    let bed = Bed::new(1);
    let cmd = Command::shell(r#"echo $$ > pid; echo waiting; sleep 300; touch late"#);
    let step = Step::new(
        Phase::Init,
        bed.h(1),
        "t",
        Action::Run {
            cmd,
            timeout: Some(Duration::from_millis(500)),
        },
    )
    .unwrap();
    let plan = Plan {
        stages: vec![stage(Phase::Init, Order::OneByOne, vec![step])],
    };
    let Err(RunError::Failed(f)) = bed.run(&plan).await.0 else {
        panic!("expected a timeout")
    };
    assert_eq!(
        f[0].error.cause,
        FailCause::TimedOut(Duration::from_millis(500))
    );
    assert_eq!(f[0].error.last_lines, ["waiting"]);
    let pgid = read(&bed.host_dir(1).join("pid")).trim().to_string();
    let mut gone = false;
    for _ in 0..100 {
        // Live processes only: the killed bash stays a zombie until tokio
        // reaps it, which it does the next time it spawns a process.
        let out = std::process::Command::new("pgrep")
            .args(["-g", &pgid, "--runstates", "R,S,D,T,t"])
            .output()
            .unwrap();
        if out.stdout.is_empty() {
            gone = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(gone, "the step's process group {pgid} was killed");
}

#[tokio::test]
async fn each_host_has_its_whole_output_in_its_own_log() {
    let bed = Bed::new(2);
    let plan = Plan {
        stages: vec![stage(
            Phase::Preflight,
            Order::Parallel(2),
            vec![
                bed.sh(Phase::Preflight, 1, "p", "echo one-out; echo one-err >&2"),
                bed.sh(Phase::Preflight, 2, "p", "echo two-out"),
            ],
        )],
    };
    bed.run(&plan).await.0.unwrap();
    let h1 = read(&bed.logs().join("h1.log"));
    let h2 = read(&bed.logs().join("h2.log"));
    assert!(
        h1.contains("one-out\n") && h1.contains("one-err\n") && !h1.contains("two-out"),
        "{h1}"
    );
    assert!(h2.contains("two-out\n") && !h2.contains("one-"), "{h2}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(bed.logs().join("h1.log"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test]
async fn events_of_a_small_plan_come_in_order() {
    let bed = Bed::new(1);
    std::fs::write(bed.host_dir(1).join("there"), "").unwrap();
    let plan = Plan {
        stages: vec![
            stage(
                Phase::Check,
                Order::OneByOne,
                vec![bed.sh(Phase::Check, 1, "c", "echo hi")],
            ),
            stage(
                Phase::Registry,
                Order::OneByOne,
                vec![
                    bed.sh(Phase::Registry, 1, "r", "exit 9")
                        .skip_when(Marker::FileExists("there".into())),
                ],
            ),
        ],
    };
    let (result, events) = bed.run(&plan).await;
    result.unwrap();
    let seen: Vec<(Phase, String)> = events
        .iter()
        .map(|e| (e.phase, kind_name(&e.kind)))
        .collect();
    let want = [
        (Phase::Check, "started"),
        (Phase::Check, "log hi"),
        (Phase::Check, "finished"),
        (Phase::Registry, "started"),
        (Phase::Registry, "skipped Marker"),
    ];
    assert_eq!(seen, want.map(|(p, k)| (p, k.to_string())));
    assert!(events.iter().all(|e| e.host == bed.h(1)));
}

fn kind_name(k: &EventKind) -> String {
    match k {
        EventKind::Started { .. } => "started".into(),
        EventKind::Log { line, .. } => format!("log {line}"),
        EventKind::Finished => "finished".into(),
        EventKind::Skipped { reason } => format!("skipped {reason:?}"),
        other => format!("{other:?}"),
    }
}

const HOSTILE: &[&str] = &[
    "$(touch CANARY)",
    "`touch CANARY`",
    "; touch CANARY",
    "' ; touch CANARY ; '",
    "\"; touch CANARY; \"",
    "a\nb; touch CANARY\n",
    "x\\",
    "'",
    "''",
    "* ? [a] ~ !! $HOME ${HOME} & | > < #",
    "-n",
    "",
    "ünïcödé \t tab",
];

#[test]
fn hostile_values_arrive_byte_exact_and_run_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bash = |line: &str| {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(line)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{line}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    for v in HOSTILE {
        let arg = Command::new("printf").arg("%s").arg(*v).render().unwrap();
        assert_eq!(bash(&arg), *v, "as an argument: {arg}");
        let env = Command::shell(r#"printf %s "$V""#)
            .env("V", *v)
            .render()
            .unwrap();
        assert_eq!(bash(&env), *v, "as an env value: {env}");
        let secret = Command::new("printf")
            .arg("%s")
            .arg(Secret::new(*v))
            .render()
            .unwrap();
        assert_eq!(bash(&secret), *v, "as a secret");
        if !v.is_empty() && !v.contains('/') {
            std::fs::create_dir_all(dir.path().join(v)).unwrap();
            let cwd = Command::new("pwd").cwd(*v).render().unwrap();
            assert_eq!(
                bash(&cwd),
                format!("{}/{v}\n", dir.path().display()),
                "as a dir: {cwd}"
            );
        }
    }
    // A program named like an assignment is looked up, not assigned.
    let assign = Command::new("CANARY=1").arg("true").render().unwrap();
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg(&assign)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(127), "{assign}");
    assert!(!dir.path().join("CANARY").exists(), "a hostile value ran");
    assert!(Command::new("echo").arg("a\0b").render().is_err());
    assert!(Command::new("echo").env("V", "a\0b").render().is_err());
}

#[tokio::test]
async fn hostile_values_through_the_runner_run_nothing_and_hostile_hosts_stay_in_the_log_dir() {
    let bed = Bed::new(0);
    let evil = HostId::new("../$(touch CANARY)");
    let root = bed.dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let hosts: HashMap<HostId, Arc<dyn Transport>> = [(
        evil.clone(),
        Arc::new(LocalTransport::in_dir(&root)) as Arc<dyn Transport>,
    )]
    .into();
    let steps = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let cmd = Command::new("printf")
                .arg("%s\n")
                .arg(*v)
                .env("V", *v)
                .cwd(root.to_str().unwrap());
            Step::new(
                Phase::Init,
                evil.clone(),
                &format!("v{i}"),
                Action::Run { cmd, timeout: None },
            )
            .unwrap()
        })
        .chain([Step::new(
            Phase::Render,
            evil.clone(),
            "file",
            Action::WriteFile {
                path: "sub/$(touch CANARY)'x".into(),
                mode: 0o640,
                content: Value::from(HOSTILE.concat()),
            },
        )
        .unwrap()])
        .collect();
    let plan = Plan {
        stages: vec![stage(Phase::Init, Order::Parallel(4), steps)],
    };
    bed.run_with(
        &plan,
        hosts,
        RunOptions::default(),
        CancellationToken::new(),
    )
    .await
    .0
    .unwrap();
    assert_eq!(read(&root.join("sub/$(touch CANARY)'x")), HOSTILE.concat());
    assert!(!root.join("CANARY").exists() && !bed.dir.path().join("CANARY").exists());
    let logs: Vec<_> = std::fs::read_dir(bed.logs())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(logs, ["_..___touch_CANARY_.log"]);
}

#[test]
fn plans_print_every_stage_host_and_command_with_secrets_masked() {
    let h = HostId::new("10.0.0.2");
    let token = Secret::new("s3cr3t-token");
    let join = Command::new("kubeadm")
        .args(["join", "apiserver.cluster.local:6443", "--token"])
        .arg(token.clone());
    let steps = vec![
        Step::new(
            Phase::Distribute,
            h.clone(),
            "rootfs",
            Action::Send {
                source: Source::Files(vec![LocalFile {
                    path: "/store/blob".into(),
                    size: 3 << 20,
                    identity: "sha256:abc".into(),
                }]),
                to: Command::new("tar").args(["-xz", "-C", "/var/lib/tug/rootfs"]),
            },
        )
        .unwrap()
        .skip_when(Marker::FileExists("/var/lib/tug/layers/abc".into())),
        Step::new(
            Phase::Registry,
            h.clone(),
            "htpasswd",
            Action::WriteFile {
                path: "/etc/registry/htpasswd".into(),
                mode: 0o600,
                content: Value::Secret(Secret::new("admin:s3cr3t")),
            },
        )
        .unwrap(),
    ];
    let plan = Plan {
        stages: vec![
            stage(Phase::Distribute, Order::Parallel(8), steps),
            stage(
                Phase::JoinNodes,
                Order::OneByOne,
                vec![
                    Step::new(
                        Phase::JoinNodes,
                        h.clone(),
                        "join",
                        Action::Run {
                            cmd: join
                                .env("registryDomain", "sealos.hub")
                                .cwd("/var/lib/tug/rootfs/scripts"),
                            timeout: None,
                        },
                    )
                    .unwrap(),
                ],
            ),
        ],
    };
    let text = plan.to_string();
    assert_eq!(
        text,
        "stage 1: distribute (parallel, up to 8)
  [10.0.0.2] send sha256:abc (3.0 MiB) | tar -xz -C /var/lib/tug/rootfs  (skip if /var/lib/tug/layers/abc exists)
  [10.0.0.2] write /etc/registry/htpasswd (mode 600, 12 B, secret)
stage 2: join-nodes (one by one)
  [10.0.0.2] run: cd -- /var/lib/tug/rootfs/scripts && export registryDomain=sealos.hub && kubeadm join apiserver.cluster.local:6443 --token '******'
"
    );
    assert!(!text.contains("s3cr3t"));
}

#[tokio::test]
async fn secrets_echoed_by_a_command_are_masked_in_logs_events_and_errors() {
    let bed = Bed::new(1);
    let cmd = Command::shell(r#"echo "token is $TOKEN"; echo "sudo pw hunter2" >&2; exit 1"#)
        .env("TOKEN", Secret::new("t0k3n"));
    let step = Step::new(
        Phase::Init,
        bed.h(1),
        "s",
        Action::Run { cmd, timeout: None },
    )
    .unwrap();
    let plan = Plan {
        stages: vec![stage(Phase::Init, Order::OneByOne, vec![step])],
    };
    let options = RunOptions {
        secrets: vec![Secret::new("hunter2")],
        ..RunOptions::default()
    };
    let (result, events) = bed
        .run_with(&plan, bed.transports(), options, CancellationToken::new())
        .await;
    let msg = result.unwrap_err().to_string();
    let log = read(&bed.logs().join("h1.log"));
    let shown = format!("{msg}\n{log}\n{events:?}");
    assert!(
        !shown.contains("t0k3n") && !shown.contains("hunter2"),
        "{shown}"
    );
    assert!(
        log.contains("token is ******") && msg.contains("sudo pw ******"),
        "{shown}"
    );
}

#[tokio::test]
async fn files_are_sent_written_and_fetched_and_bytes_counted() {
    let bed = Bed::new(1);
    let local = bed.dir.path().join("local");
    std::fs::create_dir_all(local.join("tree/etc")).unwrap();
    std::fs::write(local.join("a"), vec![b'a'; 3 << 20]).unwrap();
    std::fs::write(local.join("b"), b"bee").unwrap();
    std::fs::write(local.join("tree/etc/kubelet.conf"), b"conf").unwrap();
    let files = vec![
        LocalFile {
            path: local.join("a"),
            size: 3 << 20,
            identity: "sha256:a".into(),
        },
        LocalFile {
            path: local.join("b"),
            size: 3,
            identity: "sha256:b".into(),
        },
    ];
    let send = |key: &str, source: Source, to: Command| {
        Step::new(
            Phase::Distribute,
            bed.h(1),
            key,
            Action::Send { source, to },
        )
        .unwrap()
    };
    let plan = Plan {
        stages: vec![
            stage(
                Phase::Distribute,
                Order::Parallel(3),
                vec![
                    send("blobs", Source::Files(files), Command::shell("cat > blobs"))
                        .skip_when(Marker::FileExists("blobs".into())),
                    send(
                        "tree",
                        Source::Tar {
                            dir: local.join("tree"),
                            paths: vec![],
                            compress: Compression::Gzip,
                            identity: "tree".into(),
                        },
                        Command::shell("mkdir -p rootfs && tar -xz -C rootfs"),
                    ),
                    Step::new(
                        Phase::Distribute,
                        bed.h(1),
                        "pw",
                        Action::WriteFile {
                            path: "etc/pw".into(),
                            mode: 0o600,
                            content: Value::Secret(Secret::new("p@ss")),
                        },
                    )
                    .unwrap(),
                ],
            ),
            stage(
                Phase::Finish,
                Order::OneByOne,
                vec![
                    Step::new(
                        Phase::Finish,
                        bed.h(1),
                        "admin",
                        Action::Fetch {
                            path: "rootfs/etc/kubelet.conf".into(),
                            to_local: bed.dir.path().join("out/admin.conf"),
                        },
                    )
                    .unwrap(),
                ],
            ),
        ],
    };
    let (result, events) = bed.run(&plan).await;
    let report = result.unwrap();
    let sent = report.bytes_sent[&bed.h(1)];
    assert!(sent > (3 << 20) + 3, "the blobs and the tar: {sent}");
    let got = std::fs::read(bed.host_dir(1).join("blobs")).unwrap();
    assert_eq!(got.len(), (3 << 20) + 3);
    assert!(got.ends_with(b"abee"));
    assert_eq!(read(&bed.host_dir(1).join("etc/pw")), "p@ss");
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&bed.host_dir(1).join("etc/pw")), 0o600);
    assert_eq!(read(&bed.dir.path().join("out/admin.conf")), "conf");
    assert_eq!(mode(&bed.dir.path().join("out/admin.conf")), 0o600);
    let last = events.iter().rev().find_map(|e| match e.kind {
        EventKind::Progress {
            done,
            total: Some(t),
        } if t == (3 << 20) + 3 => Some(done),
        _ => None,
    });
    assert_eq!(last, Some((3 << 20) + 3));
    // Forget the journal: the marker alone keeps the blobs from being sent again.
    std::fs::remove_file(bed.dir.path().join("journal.json")).unwrap();
    let again = bed.run(&plan).await.0.unwrap();
    assert!(again.bytes_sent[&bed.h(1)] < sent - (3 << 20), "{again:?}");
    assert_eq!(again.skipped, 1);
}

/// A real local transport whose first `fail` calls break like a dropped connection.
struct Flaky {
    inner: LocalTransport,
    fail: std::sync::atomic::AtomicU32,
}

impl Flaky {
    fn broken(&self) -> Option<TransportError> {
        use std::sync::atomic::Ordering;
        let left = self.fail.load(Ordering::SeqCst);
        (left > 0).then(|| {
            self.fail.store(left - 1, Ordering::SeqCst);
            TransportError::Connection("connection reset by peer".into())
        })
    }
}

impl Transport for Flaky {
    fn run<'a>(
        &'a self,
        cmd: &'a Command,
        out: LineSink<'a>,
    ) -> BoxFuture<'a, Result<i32, TransportError>> {
        match self.broken() {
            Some(e) => Box::pin(async move { Err(e) }),
            None => self.inner.run(cmd, out),
        }
    }
    fn send<'a>(
        &'a self,
        data: ByteStream<'a>,
        cmd: &'a Command,
        out: LineSink<'a>,
    ) -> BoxFuture<'a, Result<i32, TransportError>> {
        self.inner.send(data, cmd, out)
    }
    fn fetch<'a>(
        &'a self,
        path: &'a str,
        limit: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, TransportError>> {
        self.inner.fetch(path, limit)
    }
}

#[tokio::test]
async fn connection_errors_are_retried_a_bounded_number_of_times_and_exit_codes_never() {
    let bed = Bed::new(1);
    let options = RunOptions {
        retries: 2,
        backoff: Duration::from_millis(10),
        ..RunOptions::default()
    };
    let flaky = |fail: u32| -> HashMap<HostId, Arc<dyn Transport>> {
        [(
            bed.h(1),
            Arc::new(Flaky {
                inner: LocalTransport::in_dir(bed.host_dir(1)),
                fail: fail.into(),
            }) as Arc<dyn Transport>,
        )]
        .into()
    };
    let plan = |key: &str, script: &str| Plan {
        stages: vec![stage(
            Phase::Connect,
            Order::OneByOne,
            vec![bed.sh(Phase::Connect, 1, key, script)],
        )],
    };

    let (ok, events) = bed
        .run_with(
            &plan("a", r#"echo x >> "$S/a""#),
            flaky(2),
            options.clone(),
            CancellationToken::new(),
        )
        .await;
    ok.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Retrying { .. }))
            .count(),
        2
    );
    assert_eq!(read(&bed.shared("a")), "x\n");

    let (gave_up, _) = bed
        .run_with(
            &plan("b", r#"echo x >> "$S/b""#),
            flaky(3),
            options.clone(),
            CancellationToken::new(),
        )
        .await;
    let Err(RunError::Failed(f)) = gave_up else {
        panic!("expected a connection failure")
    };
    assert!(matches!(&f[0].error.cause, FailCause::Connection(e) if e.contains("reset by peer")));
    assert!(!bed.shared("b").exists());

    let (exit, _) = bed
        .run_with(
            &plan("c", r#"echo x >> "$S/c"; exit 1"#),
            flaky(0),
            options,
            CancellationToken::new(),
        )
        .await;
    assert!(exit.is_err());
    assert_eq!(read(&bed.shared("c")), "x\n", "a failing command runs once");
}

#[tokio::test]
async fn a_bad_plan_is_refused_before_anything_runs() {
    let bed = Bed::new(1);
    let touch = bed.sh(Phase::Check, 1, "t", r#"touch "$S/ran""#);
    let nul = Step::new(
        Phase::Init,
        bed.h(1),
        "n",
        Action::Run {
            cmd: Command::new("echo").arg("a\0b"),
            timeout: None,
        },
    );
    assert!(nul.is_err(), "a NUL cannot make a step id");
    let unknown = Step::new(
        Phase::Init,
        HostId::new("ghost"),
        "g",
        Action::Run {
            cmd: Command::new("true"),
            timeout: None,
        },
    )
    .unwrap();
    let plan = Plan {
        stages: vec![
            stage(Phase::Check, Order::OneByOne, vec![touch.clone()]),
            stage(Phase::Init, Order::OneByOne, vec![unknown]),
        ],
    };
    let err = bed.run(&plan).await.0.unwrap_err().to_string();
    assert_eq!(err, "the plan names host ghost, which has no connection");
    let dup = Plan {
        stages: vec![stage(
            Phase::Check,
            Order::Parallel(2),
            vec![touch.clone(), touch],
        )],
    };
    assert!(
        bed.run(&dup)
            .await
            .0
            .unwrap_err()
            .to_string()
            .contains("two steps with id check/h1/t/")
    );
    assert!(!bed.shared("ran").exists());
}

#[tokio::test]
async fn cancelling_during_a_retry_wait_ends_the_run_as_cancelled() {
    let bed = Bed::new(1);
    let hosts: HashMap<HostId, Arc<dyn Transport>> = [(
        bed.h(1),
        Arc::new(Flaky {
            inner: LocalTransport::in_dir(bed.host_dir(1)),
            fail: 5.into(),
        }) as Arc<dyn Transport>,
    )]
    .into();
    let plan = Plan {
        stages: vec![stage(
            Phase::Connect,
            Order::OneByOne,
            vec![bed.sh(Phase::Connect, 1, "c", r#"touch "$S/ran""#)],
        )],
    };
    let options = RunOptions {
        retries: 3,
        backoff: Duration::from_secs(600),
        ..RunOptions::default()
    };
    let cancel = CancellationToken::new();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let runner = Runner::new(hosts, bed.logs(), tx)
        .with_options(options)
        .with_cancel(cancel.clone());
    let watcher = tokio::spawn(async move {
        while let Some(e) = rx.recv().await {
            if matches!(e.kind, EventKind::Retrying { .. }) {
                cancel.cancel();
            }
        }
    });
    let result = runner.run(&plan, &mut bed.journal()).await;
    drop(runner);
    watcher.await.unwrap();
    assert!(matches!(result, Err(RunError::Cancelled)), "{result:?}");
    assert!(!bed.shared("ran").exists());
    assert_eq!(bed.journal().done().count(), 0);
}
