//! `App::update` as pure state transitions, and `App::view` drawn into
//! ratatui's `TestBackend` with assertions on the buffer: here the install
//! of two hosts the tests share and the keys of a running install; the
//! screens' own tests in the `dashboard` and `done` modules.

mod clusters;
mod dashboard;
mod done;
mod many_hosts;
mod snapshots;
mod takedown;

use super::action::{Action, Effect, RunOutcome};
use super::app::{App, Exit, Screen};
use super::target::Target;
use super::theme::Theme;
use crate::engine::command::Command;
use crate::engine::event::{Event, EventKind};
use crate::engine::plan::{
    Action as StepAction, HostId, OnFailure, Order, Phase, Plan, Stage, Step,
};
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
        doing: Default::default(),
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
