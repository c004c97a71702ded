//! `App::update` as pure state transitions, and `App::view` drawn into
//! ratatui's `TestBackend` with assertions on the buffer.

use super::action::{Action, Effect, RunOutcome};
use super::app::{App, Exit, Screen, Target};
use super::dashboard::state::HostStatus;
use super::theme::Theme;
use crate::engine::command::Command;
use crate::engine::event::{Event, EventKind, FailCause, StepError, Stream};
use crate::engine::plan::{
    Action as StepAction, HostId, OnFailure, Order, Phase, Plan, Stage, Step,
};
use crate::engine::runner::StepFailure;
use crate::tui::testkit::draw;
use chrono::{DateTime, Local, TimeZone};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

const A: &str = "10.0.0.1";
const B: &str = "10.0.0.2";

fn step(phase: Phase, host: &str, key: &str) -> Step {
    Step::new(
        phase,
        HostId::new(host),
        key,
        StepAction::Run {
            cmd: Command::new("true").arg(key),
            timeout: None,
        },
    )
    .unwrap()
}

/// Two hosts, each with a distribution step and an init step.
fn target() -> Target {
    let stage = |phase, key: &str| Stage {
        phase,
        steps: vec![step(phase, A, key), step(phase, B, key)],
        order: Order::Parallel(2),
        on_failure: OnFailure::Stop,
    };
    let roles: BTreeMap<HostId, String> = [(A, "master"), (B, "node")]
        .into_iter()
        .map(|(h, r)| (HostId::new(h), r.to_string()))
        .collect();
    Target {
        cluster: "demo".into(),
        image: "tug/demo:v1.28.9".into(),
        plan: Plan {
            stages: vec![stage(Phase::Distribute, "send"), stage(Phase::Init, "init")],
        },
        roles,
        kubeconfig: "/state/demo/admin.conf".into(),
    }
}

fn at(ms: i64) -> DateTime<Local> {
    Local.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap() + chrono::Duration::milliseconds(ms)
}

fn ev(app: &App, host: &str, phase: Phase, key: &str, ms: i64, kind: EventKind) -> Action {
    let step = app
        .target
        .as_ref()
        .unwrap()
        .plan
        .steps()
        .find(|s| s.host.as_str() == host && s.id.as_str().contains(&format!("/{key}/")))
        .unwrap();
    Action::Engine(Event {
        at: at(ms),
        host: HostId::new(host),
        phase,
        step: step.id.clone(),
        kind,
    })
}

fn key(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl_c() -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL))
}

fn app() -> App {
    let (app, first) = App::installing(target(), true, Theme::default());
    assert_eq!(first, [Effect::StartRun]);
    app
}

fn dashboard(app: &App) -> &super::dashboard::Dashboard {
    match &app.screen {
        Screen::Install(d) => d,
        other => panic!("not installing: {other:?}"),
    }
}

/// Feed `actions` in order, collecting the effects.
fn feed(app: &mut App, actions: Vec<Action>) -> Vec<Effect> {
    actions.into_iter().flat_map(|a| app.update(a)).collect()
}

fn started(app: &App, host: &str, phase: Phase, key: &str, ms: i64) -> Action {
    ev(
        app,
        host,
        phase,
        key,
        ms,
        EventKind::Started {
            what: format!("run: {key}\nmore"),
        },
    )
}

#[test]
fn engine_events_move_hosts_from_waiting_through_running_to_done() {
    let mut app = app();
    assert_eq!(dashboard(&app).run.hosts[0].status(), HostStatus::Waiting);
    let actions = vec![
        started(&app, A, Phase::Distribute, "send", 0),
        ev(
            &app,
            A,
            Phase::Distribute,
            "send",
            0,
            EventKind::Progress {
                done: 0,
                total: Some(4000),
            },
        ),
        ev(
            &app,
            A,
            Phase::Distribute,
            "send",
            1000,
            EventKind::Progress {
                done: 1000,
                total: Some(4000),
            },
        ),
        ev(
            &app,
            A,
            Phase::Distribute,
            "send",
            2000,
            EventKind::Progress {
                done: 2000,
                total: Some(4000),
            },
        ),
    ];
    assert!(feed(&mut app, actions).is_empty());
    let a = &dashboard(&app).run.hosts[0];
    assert_eq!(a.status(), HostStatus::Running(Phase::Distribute));
    assert!(a.sending());
    assert_eq!(a.bytes(), (2000, Some(4000)));
    assert_eq!(a.throughput(), Some(1000.0));
    assert_eq!(a.eta(), Some(2));
    assert_eq!(a.ratio(), 0.5);
    let actions = vec![
        ev(
            &app,
            A,
            Phase::Distribute,
            "send",
            3000,
            EventKind::Finished,
        ),
        started(&app, A, Phase::Init, "init", 3000),
        ev(
            &app,
            A,
            Phase::Init,
            "init",
            3100,
            EventKind::Log {
                stream: Stream::Stdout,
                line: "init.sh ok".into(),
            },
        ),
        ev(&app, A, Phase::Init, "init", 3200, EventKind::Finished),
        ev(
            &app,
            B,
            Phase::Distribute,
            "send",
            3200,
            EventKind::Skipped {
                reason: crate::engine::event::SkipReason::Journal,
            },
        ),
    ];
    feed(&mut app, actions);
    let d = dashboard(&app);
    assert_eq!(d.run.hosts[0].status(), HostStatus::Done);
    assert_eq!(d.run.hosts[1].status(), HostStatus::Idle(Phase::Distribute));
    assert_eq!(d.run.overall(), (3, 4));
    let log: Vec<&str> = d.run.hosts[0].log.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        log,
        ["▶ distribute: run: send", "▶ init: run: init", "init.sh ok"]
    );
    assert!(feed(&mut app, vec![Action::RunDone(RunOutcome::Done)]).is_empty());
    assert!(matches!(&app.screen, Screen::Done(d) if matches!(d.outcome, RunOutcome::Done)));
    assert_eq!(app.exit(), Exit::Quit);
}

#[test]
fn q_cancels_then_quits_when_the_run_stopped() {
    let mut app = app();
    let start = started(&app, A, Phase::Distribute, "send", 0);
    let effects = app.update(start);
    assert!(effects.is_empty());
    assert_eq!(app.update(key(KeyCode::Char('q'))), [Effect::Cancel]);
    assert!(dashboard(&app).cancelling);
    // Running steps finish; the run returns cancelled; then the wizard leaves.
    assert_eq!(
        app.update(Action::RunDone(RunOutcome::Cancelled)),
        [Effect::Quit]
    );
    assert_eq!(app.exit(), Exit::Cancelled);
    let Screen::Done(d) = &app.screen else {
        panic!("not done")
    };
    assert!(
        d.run.hosts[0].running.is_empty(),
        "a stopped run runs nothing"
    );
}

#[test]
fn ctrl_c_twice_quits_at_once_and_esc_never_quits_an_install() {
    let mut app = app();
    assert!(app.update(key(KeyCode::Esc)).is_empty());
    assert_eq!(app.update(ctrl_c()), [Effect::Cancel]);
    assert_eq!(app.update(ctrl_c()), [Effect::Quit]);
    assert_eq!(app.exit(), Exit::Abandoned);
}

#[test]
fn c_cancels_without_leaving_and_r_resumes() {
    let mut app = app();
    assert_eq!(app.update(key(KeyCode::Char('c'))), [Effect::Cancel]);
    assert!(
        app.update(key(KeyCode::Char('c'))).is_empty(),
        "cancel is asked once"
    );
    assert!(
        app.update(Action::RunDone(RunOutcome::Cancelled))
            .is_empty()
    );
    assert_eq!(app.update(key(KeyCode::Char('r'))), [Effect::StartRun]);
    let d = dashboard(&app);
    assert!(!d.cancelling);
    assert_eq!(d.run.overall(), (0, 4), "a retry starts with fresh rows");
}

#[test]
fn help_opens_with_question_mark_and_any_key_closes_it() {
    let mut app = app();
    app.update(key(KeyCode::Char('?')));
    assert!(app.help);
    // The key that closes help does nothing else.
    assert!(app.update(key(KeyCode::Char('q'))).is_empty());
    assert!(!app.help);
    assert!(!dashboard(&app).cancelling);
}

#[test]
fn arrows_select_hosts_within_bounds() {
    let mut app = app();
    app.update(key(KeyCode::Up));
    assert_eq!(dashboard(&app).selected, 0);
    for _ in 0..5 {
        app.update(key(KeyCode::Down));
    }
    assert_eq!(dashboard(&app).selected, 1);
}

#[test]
fn the_dashboard_shows_rows_bars_the_selected_log_and_the_demo_label() {
    let mut app = app();
    let actions = vec![
        started(&app, A, Phase::Distribute, "send", 0),
        ev(
            &app,
            A,
            Phase::Distribute,
            "send",
            0,
            EventKind::Progress {
                done: 0,
                total: Some(4 << 20),
            },
        ),
        ev(
            &app,
            A,
            Phase::Distribute,
            "send",
            1000,
            EventKind::Progress {
                done: 2 << 20,
                total: Some(4 << 20),
            },
        ),
        started(&app, B, Phase::Distribute, "send", 0),
        ev(
            &app,
            B,
            Phase::Distribute,
            "send",
            10,
            EventKind::Log {
                stream: Stream::Stderr,
                line: "B says hello".into(),
            },
        ),
    ];
    feed(&mut app, actions);
    let screen = draw(&app, 110, 30);
    assert!(screen.contains("demo: simulated hosts"), "{screen}");
    assert!(
        screen.contains("installing cluster demo (tug/demo:v1.28.9)"),
        "{screen}"
    );
    let row_a = screen.lines().find(|l| l.contains(A)).unwrap();
    assert!(
        row_a.contains("master") && row_a.contains("distribute") && row_a.contains("running"),
        "{row_a}"
    );
    assert!(row_a.contains("████████░░░░░░░░  50%"), "{row_a}");
    assert!(
        row_a.contains("2.0 MiB/s") && row_a.contains("0:01"),
        "{row_a}"
    );
    assert!(screen.contains("0/4 steps · 0/2 hosts done"), "{screen}");
    assert!(
        screen.contains("log: 10.0.0.1") && screen.contains("▶ distribute: run: send"),
        "{screen}"
    );
    assert!(
        !screen.contains("B says hello"),
        "only the selected host's log: {screen}"
    );
    app.update(key(KeyCode::Down));
    let screen = draw(&app, 110, 30);
    assert!(
        screen.contains("log: 10.0.0.2") && screen.contains("B says hello"),
        "{screen}"
    );
    app.update(key(KeyCode::Char('?')));
    let screen = draw(&app, 110, 30);
    assert!(
        screen.contains(" help ")
            && screen.contains("cancel, then quit once running steps finished"),
        "{screen}"
    );
    // Tiny terminals draw without panicking.
    for (w, h) in [(20, 5), (1, 1), (60, 12)] {
        draw(&app, w, h);
    }
}

#[test]
fn the_done_screen_names_each_failure_with_command_exit_and_last_lines() {
    let mut app = app();
    let failure = |host: &str, code| StepFailure {
        host: HostId::new(host),
        phase: Phase::Init,
        step: app
            .target
            .as_ref()
            .unwrap()
            .plan
            .steps()
            .next()
            .unwrap()
            .id
            .clone(),
        error: StepError {
            command: "bash init.sh".into(),
            cause: FailCause::Exit(code),
            last_lines: vec![format!("{host} broke")],
        },
        log: format!("/state/logs/{host}.log").into(),
    };
    let failures = vec![failure(A, 3), failure(B, 4)];
    app.update(Action::RunDone(RunOutcome::Failed(failures)));
    let screen = draw(&app, 110, 40);
    assert!(screen.contains(" install failed "), "{screen}");
    assert!(
        screen.contains("✗ [10.0.0.1] init: `bash init.sh`"),
        "{screen}"
    );
    assert!(
        screen.contains("exit code 3")
            && screen.contains("| 10.0.0.1 broke")
            && screen.contains("whole output: /state/logs/10.0.0.1.log"),
        "{screen}"
    );
    assert!(
        screen.contains("✗ [10.0.0.2] init") && screen.contains("exit code 4"),
        "{screen}"
    );
    assert!(screen.contains("r retries"), "{screen}");
    assert_eq!(app.update(key(KeyCode::Char('r'))), [Effect::StartRun]);
    app.update(Action::RunDone(RunOutcome::Done));
    let screen = draw(&app, 110, 40);
    assert!(
        screen.contains(" cluster ready ") && screen.contains("kubeconfig: /state/demo/admin.conf"),
        "{screen}"
    );
    assert!(
        app.update(key(KeyCode::Char('r'))).is_empty(),
        "nothing to retry"
    );
    assert_eq!(app.update(key(KeyCode::Char('q'))), [Effect::Quit]);
}
