//! The install dashboard: engine events moving hosts through their
//! phases (bytes, throughput, ETA, log), and the rows, bars, selected log
//! and help it draws.

use super::{A, B, app, dashboard, ev, feed, key, started};
use crate::engine::event::{EventKind, Stream};
use crate::engine::plan::Phase;
use crate::tui::action::{Action, RunOutcome};
use crate::tui::app::{Exit, Screen};
use crate::tui::dashboard::state::HostStatus;
use crate::tui::testkit::draw;
use crossterm::event::KeyCode;

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
    assert!(
        feed(
            &mut app,
            vec![Action::RunDone(RunOutcome::Done(Default::default()))]
        )
        .is_empty()
    );
    assert!(matches!(&app.screen, Screen::Done(d) if matches!(d.outcome, RunOutcome::Done(_))));
    assert_eq!(app.exit(), Exit::Quit);
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
fn a_bar_never_moves_back_when_counting_turns_from_bytes_to_steps() {
    let mut app = app();
    let actions = vec![
        started(&app, A, Phase::Distribute, "send", 0),
        ev(
            &app,
            A,
            Phase::Distribute,
            "send",
            100,
            EventKind::Progress {
                done: 900,
                total: Some(1000),
            },
        ),
    ];
    feed(&mut app, actions);
    assert_eq!(dashboard(&app).run.hosts[0].ratio(), 0.9);
    let actions = vec![
        ev(&app, A, Phase::Distribute, "send", 200, EventKind::Finished),
        started(&app, A, Phase::Init, "init", 300),
    ];
    feed(&mut app, actions);
    let a = &dashboard(&app).run.hosts[0];
    assert_eq!(a.ended, 1, "one of two steps ended: 50% by steps");
    assert_eq!(a.ratio(), 0.9, "the bar stays where it was");
    let end = ev(&app, A, Phase::Init, "init", 400, EventKind::Finished);
    feed(&mut app, vec![end]);
    assert_eq!(dashboard(&app).run.hosts[0].ratio(), 1.0);
}

#[test]
fn a_warning_of_the_run_shows_whole_on_the_dashboard_and_stays_on_the_done_screen() {
    let mut app = app();
    let warning = "certificate apiserver of master 10.0.0.1 expires in 9 days (2026-12-16): \
                   `tug cert --cluster c1 --renew` renews them";
    app.update(Action::Notice(crate::app::Notice::Warning(
        warning.to_string(),
    )));
    let flat = |screen: &str| {
        screen
            .lines()
            .map(|l| l.trim_matches(|c: char| c.is_whitespace() || c == '│'))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let screen = draw(&app, 80, 24);
    assert!(
        flat(&screen).contains(&format!("warning: {warning}")),
        "{screen}"
    );
    app.update(Action::RunDone(RunOutcome::Done(Default::default())));
    let screen = draw(&app, 80, 24);
    assert!(matches!(app.screen, Screen::Done(_)), "{screen}");
    assert!(
        flat(&screen).contains(&format!("warning: {warning}")),
        "{screen}"
    );
}
