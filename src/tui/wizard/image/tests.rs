//! The image screen's sources driven through `App::update`: the pull and
//! bundle inputs, progress as it arrives, the refreshed list selecting the
//! new image, failures in one line; and the screen drawn on a TestBackend.

use super::{Choice, Fetched, Note, Progress, Source};
use crate::image::oci::Platform;
use crate::tui::action::{Action, Effect};
use crate::tui::app::{App, Screen};
use crate::tui::testkit::{draw, press, typed, wizard};
use crate::tui::theme::Theme;
use crate::tui::wizard::{Job, Reply, Step, Wizard};
use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn choice(name: &str) -> Choice {
    Choice {
        name: name.into(),
        details: vec![format!("name {name}")],
        archs: vec!["amd64".into()],
        ..Choice::default()
    }
}

fn app(names: &[&str]) -> App {
    App::wizard(
        Wizard::new(names.iter().map(|n| choice(n)).collect()),
        Theme::default(),
    )
}

fn note(app: &App) -> Option<Note> {
    wizard(app).image.note.clone()
}

#[test]
fn the_pull_input_takes_q_and_question_marks_and_esc_closes_it_without_quitting() {
    let mut app = app(&[]);
    press(&mut app, KeyCode::Char('p'));
    assert!(wizard(&app).typing());
    typed(&mut app, "q?");
    assert!(!app.help, "? is typed while the input is open");
    let (_, field) = wizard(&app).image.input.clone().unwrap();
    assert_eq!(field.text(), "q?");
    assert!(
        press(&mut app, KeyCode::Esc).is_empty(),
        "Esc only closes it"
    );
    assert!(!wizard(&app).typing());
    assert_eq!(wizard(&app).step, Step::Image);
    assert!(
        press(&mut app, KeyCode::Enter).is_empty(),
        "nothing to pick"
    );
    assert_eq!(press(&mut app, KeyCode::Esc), [Effect::Quit]);
}

#[test]
fn a_bad_reference_or_platform_is_named_and_the_input_stays_open() {
    let mut app = app(&[]);
    press(&mut app, KeyCode::Char('p'));
    press(&mut app, KeyCode::Enter);
    assert!(matches!(note(&app), Some(Note::Failed(e)) if e.starts_with("type a reference")));
    typed(&mut app, "Bad/UPPER:v1");
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    let Some(Note::Failed(e)) = note(&app) else {
        panic!("{:?}", note(&app))
    };
    assert!(e.contains("Bad/UPPER:v1"), "{e}");
    assert!(wizard(&app).typing());
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('p'));
    typed(&mut app, "example.com/a:v1 linux");
    press(&mut app, KeyCode::Enter);
    assert!(
        matches!(note(&app), Some(Note::Failed(e)) if e.starts_with("linux: not a platform")),
        "{:?}",
        note(&app)
    );
}

#[test]
fn a_pull_shows_progress_then_selects_the_pulled_image_in_the_refreshed_list() {
    let mut app = app(&["docker.io/a/old:v1"]);
    press(&mut app, KeyCode::Char('p'));
    typed(
        &mut app,
        "127.0.0.1:5000/tug/demo:v1.28.9 linux/arm64,linux/amd64",
    );
    let effects = press(&mut app, KeyCode::Enter);
    let want = Source::Pull {
        reference: "127.0.0.1:5000/tug/demo:v1.28.9".parse().unwrap(),
        platforms: vec![
            Platform::parse("linux/arm64").unwrap(),
            Platform::parse("linux/amd64").unwrap(),
        ],
    };
    assert_eq!(effects, [Effect::Wizard(Job::Fetch(want.clone()))]);
    let [Effect::Wizard(Job::Fetch(got))] = &effects[..] else {
        unreachable!()
    };
    assert_eq!(got, &want, "jobs compare by kind only: check the source");
    assert!(!wizard(&app).typing());
    assert_eq!(
        wizard(&app).image.fetching.as_ref().unwrap().phase,
        "pulling 127.0.0.1:5000/tug/demo:v1.28.9"
    );
    // One fetch at a time, and no picking while the list is about to change.
    press(&mut app, KeyCode::Char('p'));
    typed(&mut app, "example.com/other:v1");
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    assert!(matches!(note(&app), Some(Note::Failed(e)) if e.contains("still under way")));
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    assert_eq!(wizard(&app).step, Step::Image);

    let progress = Progress {
        phase: "pulling 127.0.0.1:5000/tug/demo:v1.28.9".into(),
        done: 1024,
        total: 4096,
        blobs: Some((1, 3)),
    };
    app.update(Action::Wizard(Reply::Fetching(progress.clone())));
    assert_eq!(wizard(&app).image.fetching, Some(progress));
    let shown = draw(&app, 120, 30);
    assert!(
        shown.contains("pulling 127.0.0.1:5000/tug/demo:v1.28.9: 1/3 blobs, 1.0 KiB of 4.0 KiB"),
        "{shown}"
    );

    let new = "127.0.0.1:5000/tug/demo:v1.28.9";
    app.update(Action::Wizard(Reply::Fetched(Ok(Fetched {
        choices: vec![choice("docker.io/a/old:v1"), choice(new)],
        select: new.into(),
        note: format!("pulled {new}"),
        hosts: None,
    }))));
    let image = &wizard(&app).image;
    assert_eq!(image.fetching, None);
    assert_eq!(image.picked(), [new]);
    assert_eq!(image.note, Some(Note::Done(format!("pulled {new}"))));
    assert!(
        draw(&app, 120, 30).contains("name 127.0.0.1:5000"),
        "its details"
    );
    press(&mut app, KeyCode::Enter);
    assert_eq!(wizard(&app).step, Step::Hosts);
}

#[test]
fn a_failed_fetch_keeps_the_list_and_says_why_in_one_line() {
    let mut app = app(&["docker.io/a/old:v1"]);
    press(&mut app, KeyCode::Char('p'));
    typed(&mut app, "127.0.0.1:1/nope:v1");
    press(&mut app, KeyCode::Enter);
    // A late progress report after the end changes nothing.
    let why = "cannot pull 127.0.0.1:1/nope:v1: cannot reach registry 127.0.0.1:1";
    app.update(Action::Wizard(Reply::Fetched(Err(why.into()))));
    app.update(Action::Wizard(Reply::Fetching(Progress::default())));
    let image = &wizard(&app).image;
    assert_eq!(image.fetching, None);
    assert_eq!(image.picked(), ["docker.io/a/old:v1"]);
    assert_eq!(image.note, Some(Note::Failed(why.into())));
    assert!(draw(&app, 120, 30).contains(why));
}

#[test]
fn b_loads_the_bundle_found_next_to_tug_and_b_upper_asks_for_a_path() {
    let mut app = app(&[]);
    press(&mut app, KeyCode::Char('b'));
    assert!(matches!(note(&app), Some(Note::Failed(e)) if e.starts_with("no bundle next to")));
    press(&mut app, KeyCode::Char('B'));
    press(&mut app, KeyCode::Enter);
    assert!(matches!(note(&app), Some(Note::Failed(e)) if e.contains("path of a bundle")));
    typed(&mut app, "/media/stick/bundle.tar");
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        [Effect::Wizard(Job::Fetch(Source::Bundle(
            "/media/stick/bundle.tar".into()
        )))]
    );
    assert_eq!(
        wizard(&app).image.fetching.as_ref().unwrap().phase,
        "loading bundle /media/stick/bundle.tar"
    );
    app.update(Action::Wizard(Reply::Fetched(Err(
        "bundle x not loaded".into()
    ))));

    if let Screen::Wizard(w) = &mut app.screen {
        w.image.bundle = Some("/media/stick".into());
    }
    assert!(
        draw(&app, 120, 30).contains("bundle found: /media/stick — b verifies and loads it"),
        "{}",
        draw(&app, 120, 30)
    );
    let effects = press(&mut app, KeyCode::Char('b'));
    assert!(
        matches!(&effects[..], [Effect::Wizard(Job::Fetch(Source::Bundle(p)))] if p.to_str() == Some("/media/stick"))
    );
}

#[test]
fn every_state_of_the_screen_draws_at_any_size() {
    let mut app = app(&["docker.io/a/old:v1"]);
    if let Screen::Wizard(w) = &mut app.screen {
        w.image.bundle = Some("/media/a/rather/long/path/to/the/stick".into());
    }
    let sized = |app: &App| {
        for (w, h) in [(120, 30), (40, 8), (12, 4), (1, 1)] {
            let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
            t.draw(|f| app.view(f)).unwrap();
        }
    };
    sized(&app);
    press(&mut app, KeyCode::Char('p'));
    typed(&mut app, "example.com/a:v1");
    sized(&app);
    press(&mut app, KeyCode::Enter);
    app.update(Action::Wizard(Reply::Fetching(Progress {
        phase: "pulling example.com/a:v1".into(),
        done: 5,
        total: 3,
        blobs: Some((1, 1)),
    })));
    assert_eq!(wizard(&app).image.fetching.as_ref().unwrap().ratio(), 1.0);
    sized(&app);
    app.update(Action::Wizard(Reply::Fetched(Err("x".repeat(500)))));
    sized(&app);
}

fn loaded(hosts: Option<super::FromBundle>) -> Action {
    Action::Wizard(Reply::Fetched(Ok(Fetched {
        choices: vec![choice("docker.io/a/k8s:v1")],
        select: "docker.io/a/k8s:v1".into(),
        note: "loaded 1 image(s) from bundle /b".into(),
        hosts,
    })))
}

#[test]
fn a_bundles_hosts_fill_an_empty_hosts_screen_and_never_replace_typed_ones() {
    let from = super::FromBundle {
        masters: vec!["10.0.0.2".parse().unwrap()],
        nodes: vec![
            "10.0.0.3:2222".parse().unwrap(),
            "10.0.0.4".parse().unwrap(),
        ],
        user: Some("ops".into()),
        pk: Some("/keys/id".into()),
        name: Some("default".into()),
    };
    let mut app = app(&[]);
    app.update(loaded(Some(from.clone())));
    let w = wizard(&app);
    let hosts: Vec<(String, bool)> = w
        .hosts
        .hosts
        .iter()
        .map(|h| (h.addr.to_string(), h.master))
        .collect();
    assert_eq!(
        hosts,
        [
            ("10.0.0.2".into(), true),
            ("10.0.0.3:2222".into(), false),
            ("10.0.0.4".into(), false)
        ]
    );
    assert_eq!(
        (w.ssh.value(0), w.ssh.value(1), w.ssh.value(3)),
        ("default", "ops", "/keys/id")
    );
    assert_eq!(w.ssh.value(2), "", "no password");
    assert_eq!(
        note(&app),
        Some(Note::Done(
            "loaded 1 image(s) from bundle /b; hosts from the bundle's Clusterfile: 1 master, \
             2 nodes; from it too: user, private key"
                .into()
        ))
    );

    // Typed hosts and SSH fields stay as they are.
    let mut app = self::app(&[]);
    app.update(loaded(None));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "10.9.9.9");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Enter);
    typed(&mut app, "x");
    assert_eq!(wizard(&app).step, Step::Ssh);
    for _ in 0..2 {
        press(&mut app, KeyCode::Esc);
    }
    assert_eq!(wizard(&app).step, Step::Image);
    let mut mine = from;
    mine.user = Some("root".into());
    app.update(loaded(Some(mine)));
    let w = wizard(&app);
    assert_eq!(w.hosts.hosts.len(), 1);
    assert_eq!(w.hosts.hosts[0].addr.to_string(), "10.9.9.9");
    assert_eq!(w.ssh.value(2), "x");
    let Some(Note::Done(said)) = note(&app) else {
        panic!("{:?}", note(&app))
    };
    assert!(
        said.ends_with(
            "the bundle's Clusterfile hosts were left out: the hosts screen already has hosts; \
             from it too: private key"
        ),
        "{said}"
    );
    assert!(draw(&app, 120, 30).contains("hosts were left out"));
}
