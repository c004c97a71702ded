//! Taking hosts out of an installed cluster and resetting it from the
//! clusters screen: `d` marks hosts and asks for the plan of their
//! removal, `r` asks for the reset's; nothing starts before Enter on the
//! plan, Esc backs out at every stage, a refused plan is said where it was
//! asked, and the done screen and the farewell say what was done; each new
//! screen state snapshotted at 80×24 and 160×48.

use super::clusters::with_clusters;
use super::snapshots::{IMAGE, snap};
use crate::app::AppError;
use crate::engine::plan::Plan;
use crate::tui::action::{Action, Effect, RunOutcome};
use crate::tui::app::{App, Screen};
use crate::tui::target::{Doing, Target};
use crate::tui::testkit::{draw, press, wizard};
use crate::tui::wizard::takedown::Takedown;
use crate::tui::wizard::{Job, Planned, Reply, Step};
use crossterm::event::KeyCode;

fn planned(doing: Doing, first: &str) -> Action {
    Action::Wizard(Reply::TeardownPlanned(Ok(Planned {
        target: Target {
            cluster: "default".into(),
            image: IMAGE.into(),
            plan: Plan::default(),
            roles: Default::default(),
            kubeconfig: "/state/clusters/default/admin.conf".into(),
            doing,
        },
        lines: vec![first.into(), String::new(), "# Plan".into()],
    })))
}

/// The clusters screen with `default` (the first) selected.
fn on_default() -> App {
    let mut app = with_clusters();
    press(&mut app, KeyCode::Up);
    press(&mut app, KeyCode::Up);
    app
}

#[test]
fn d_marks_hosts_and_only_enter_on_their_plan_starts_the_removal() {
    let mut app = on_default();
    assert_eq!(press(&mut app, KeyCode::Char('d')), []);
    // Enter with nothing marked asks for marks, not a plan.
    assert_eq!(press(&mut app, KeyCode::Enter), []);
    snap("takedown_nothing_marked", &app);
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Char(' '));
    snap("takedown_marked", &app);
    let effects = press(&mut app, KeyCode::Enter);
    let [Effect::Wizard(Job::Teardown(Takedown::Delete { cluster, hosts }))] = &effects[..] else {
        panic!("{effects:?}");
    };
    assert_eq!(cluster, "default");
    let hosts: Vec<String> = hosts.iter().map(ToString::to_string).collect();
    assert_eq!(hosts, ["192.168.100.202", "192.168.100.203"]);
    let removing = Doing::Remove("192.168.100.203".into());
    app.update(planned(
        removing.clone(),
        "# 192.168.100.202, 192.168.100.203: each drained and deleted from Kubernetes",
    ));
    snap("takedown_confirm", &app);
    // Esc goes back to the marks, kept; nothing started.
    assert_eq!(press(&mut app, KeyCode::Esc), []);
    assert_eq!(wizard(&app).step, Step::Clusters);
    press(&mut app, KeyCode::Up);
    press(&mut app, KeyCode::Char(' '));
    let effects = press(&mut app, KeyCode::Enter);
    let [Effect::Wizard(Job::Teardown(Takedown::Delete { hosts, .. }))] = &effects[..] else {
        panic!("{effects:?}");
    };
    assert_eq!(
        hosts,
        &["192.168.100.203".parse::<std::net::IpAddr>().unwrap()]
    );
    app.update(planned(removing, "# 192.168.100.203"));
    assert_eq!(press(&mut app, KeyCode::Enter), [Effect::StartRun]);
    assert!(matches!(app.screen, Screen::Install(_)));
    snap("takedown_running", &app);
    app.update(Action::RunDone(RunOutcome::Done(Default::default())));
    snap("takedown_removed", &app);
    let text = app.farewell().unwrap();
    assert!(
        text.contains("kubeconfig: /state/clusters/default/admin.conf"),
        "{text}"
    );
}

#[test]
fn r_plans_the_reset_and_a_refused_plan_is_said_on_the_list() {
    let mut app = on_default();
    let effects = press(&mut app, KeyCode::Char('r'));
    assert_eq!(
        effects,
        [Effect::Wizard(Job::Teardown(Takedown::Reset {
            cluster: "default".into()
        }))]
    );
    let why = anyhow::anyhow!("cluster default: the image is not in the store");
    app.update(Action::Wizard(Reply::TeardownPlanned(Err(AppError::from(
        why,
    )))));
    let w = wizard(&app);
    assert!(w.clusters.takedown.is_none());
    assert_eq!(
        w.clusters.note.as_deref(),
        Some("cluster default: the image is not in the store")
    );
    snap("takedown_reset_refused", &app);
    press(&mut app, KeyCode::Char('r'));
    app.update(planned(Doing::Reset, "# Every host of cluster default"));
    snap("takedown_reset_confirm", &app);
    assert_eq!(press(&mut app, KeyCode::Enter), [Effect::StartRun]);
    app.update(Action::RunDone(RunOutcome::Done(Default::default())));
    snap("takedown_reset_done", &app);
    let text = app.farewell().unwrap();
    assert!(text.contains("cluster default is reset"), "{text}");
}

#[test]
fn a_reset_that_did_not_run_goes_back_to_the_clusters_and_esc_cancels_a_plan() {
    let mut app = on_default();
    press(&mut app, KeyCode::Char('r'));
    // Esc while planning: back to the list; the late plan is ignored.
    assert_eq!(press(&mut app, KeyCode::Esc), []);
    app.update(planned(Doing::Reset, "# late"));
    assert!(wizard(&app).clusters.takedown.is_none());
    assert!(app.target.is_none(), "the late plan is not taken");
    press(&mut app, KeyCode::Char('r'));
    app.update(planned(Doing::Reset, "# Every host of cluster default"));
    press(&mut app, KeyCode::Enter);
    let why = anyhow::anyhow!("host 192.168.100.201: cannot connect");
    app.update(Action::RunDone(RunOutcome::Error(AppError::from(why))));
    snap("takedown_reset_not_run", &app);
    press(&mut app, KeyCode::Char('e'));
    let w = wizard(&app);
    assert_eq!(w.step, Step::Clusters);
    assert!(w.clusters.takedown.is_none());
    assert_eq!(app.farewell(), None);
}

#[test]
fn every_takedown_screen_draws_down_to_60x15_keeping_the_footer_help() {
    let mut marking = on_default();
    press(&mut marking, KeyCode::Char('d'));
    press(&mut marking, KeyCode::Down);
    press(&mut marking, KeyCode::Char(' '));
    let mut confirming = marking.clone();
    press(&mut confirming, KeyCode::Enter);
    confirming.update(planned(
        Doing::Remove("192.168.100.202".into()),
        "# 192.168.100.202: each drained and deleted from Kubernetes (kubectl on master0)",
    ));
    let mut removed = confirming.clone();
    press(&mut removed, KeyCode::Enter);
    removed.update(Action::RunDone(RunOutcome::Done(Default::default())));
    for app in [marking, confirming, removed] {
        for (w, h) in [(60, 15), (61, 17)] {
            let screen = draw(&app, w, h);
            let footer = screen.lines().last().unwrap();
            assert!(footer.trim_end().ends_with("? help"), "{w}x{h}: {screen}");
        }
    }
}
