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
