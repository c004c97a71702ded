//! The done screen: each failure named with its command, exit code, last
//! lines and log; `r` retries, and a finished cluster shows its kubeconfig.

use super::{A, B, app, key};
use crate::engine::event::{FailCause, StepError};
use crate::engine::plan::{HostId, Phase};
use crate::engine::runner::StepFailure;
use crate::tui::action::{Action, Effect, RunOutcome};
use crate::tui::testkit::draw;
use crossterm::event::KeyCode;

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
    app.update(Action::RunDone(RunOutcome::Done(Default::default())));
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

#[test]
fn pgdn_scrolls_a_long_wrapped_command_to_the_lines_after_it() {
    let mut app = app();
    let step = app.target.as_ref().unwrap().plan.steps().next().unwrap();
    let failure = StepFailure {
        host: HostId::new(A),
        phase: Phase::Preflight,
        step: step.id.clone(),
        error: StepError {
            command: format!("bash -c '{}'", "echo a long script; ".repeat(60)),
            cause: FailCause::Exit(1),
            last_lines: vec!["the cause, at the end".into()],
        },
        log: "/state/logs/a.log".into(),
    };
    app.update(Action::RunDone(RunOutcome::Failed(vec![failure])));
    let screen = draw(&app, 80, 24);
    assert!(!screen.contains("the cause, at the end"), "{screen}");
    let mut seen = false;
    for _ in 0..20 {
        app.update(key(KeyCode::PageDown));
        seen |= draw(&app, 80, 24).contains("| the cause, at the end");
    }
    assert!(seen, "{}", draw(&app, 80, 24));
}
