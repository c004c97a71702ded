//! A site of 1,000 hosts on the dashboard: the table scrolls to any host
//! the selection reaches, which is drawn (and only the rows on show are
//! made; see benches/dashboard.rs for the time per frame).

use super::step;
use crate::engine::plan::{HostId, OnFailure, Order, Phase, Plan, Stage};
use crate::tui::app::{App, Screen};
use crate::tui::target::Target;
use crate::tui::testkit::{draw, press};
use crate::tui::theme::Theme;
use crossterm::event::KeyCode;
use std::collections::BTreeMap;

/// `host-0001` … `host-1000`, each with one sending step.
fn thousand() -> App {
    let hosts: Vec<String> = (1..=1000).map(|i| format!("host-{i:04}")).collect();
    let stage = Stage {
        phase: Phase::Distribute,
        steps: hosts
            .iter()
            .map(|h| step(Phase::Distribute, h, "send"))
            .collect(),
        order: Order::Parallel(1000),
        on_failure: OnFailure::Stop,
    };
    let roles: BTreeMap<HostId, String> = hosts
        .iter()
        .map(|h| (HostId::new(h), "node".to_string()))
        .collect();
    let target = Target {
        cluster: "big".into(),
        image: "tug/demo:v1.28.9".into(),
        plan: Plan {
            stages: vec![stage],
        },
        roles,
        kubeconfig: "/k".into(),
        doing: Default::default(),
    };
    App::installing(target, false, Theme::default()).0
}

fn selected(app: &App) -> usize {
    match &app.screen {
        Screen::Install(d) => d.selected,
        _ => unreachable!(),
    }
}

/// The screen's row that shows `host` in the table (not the log title).
fn table_row<'a>(screen: &'a str, host: &str) -> Option<&'a str> {
    screen
        .lines()
        .find(|l| l.contains(&format!("│{host}")) || l.contains(&format!(" {host} ")))
        .filter(|l| !l.contains("log:"))
}

#[test]
fn the_table_scrolls_to_host_937_of_1000_and_back() {
    let mut app = thousand();
    for _ in 0..936 {
        press(&mut app, KeyCode::Down);
    }
    assert_eq!(selected(&app), 936);
    for (w, h) in [(160, 48), (80, 24)] {
        let screen = draw(&app, w, h);
        let row = table_row(&screen, "host-0937").unwrap_or_else(|| panic!("{screen}"));
        assert!(row.contains("node") && row.contains("waiting"), "{screen}");
        assert!(screen.contains(" log: host-0937 "), "{screen}");
        assert!(table_row(&screen, "host-0001").is_none(), "{screen}");
    }
    // To the last host, then all the way back to the first.
    for _ in 0..100 {
        press(&mut app, KeyCode::Down);
    }
    assert_eq!(selected(&app), 999);
    assert!(table_row(&draw(&app, 160, 48), "host-1000").is_some());
    for _ in 0..1000 {
        press(&mut app, KeyCode::Up);
    }
    let screen = draw(&app, 160, 48);
    assert!(table_row(&screen, "host-0001").is_some(), "{screen}");
    assert!(table_row(&screen, "host-0937").is_none(), "{screen}");
}
