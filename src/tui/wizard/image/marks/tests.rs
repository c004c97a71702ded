//! Marking images for one install, driven through `App::update`: the
//! order, unmarking, the rootfs going first, the refusals, the default with
//! nothing marked, what the later screens take from the list, and the
//! screen drawn.

use super::super::{Choice, Fetched, Note};
use crate::image::cluster_image::ImageType;
use crate::tui::action::{Action, Effect};
use crate::tui::app::App;
use crate::tui::testkit::{draw, press, typed, wizard};
use crate::tui::theme::Theme;
use crate::tui::wizard::{Job, Reply, Step, Wizard};
use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const K8S: &str = "docker.io/a/k8s:v1";
const NET: &str = "docker.io/a/net:v1";
const HELM: &str = "docker.io/a/helm:v1";
const PATCH: &str = "docker.io/a/patch:v1";
const K8S2: &str = "docker.io/a/k8s:v2";
const BROKEN: &str = "docker.io/a/broken:v1";

/// The rows, in this order: 0 k8s, 1 net, 2 helm, 3 patch, 4 k8s:v2, 5 broken.
fn choices() -> Vec<Choice> {
    let c = |name: &str, kind, arch: &str| Choice {
        name: name.into(),
        details: vec![format!("name {name}")],
        archs: vec![arch.into()],
        kind,
    };
    vec![
        c(K8S, Some(ImageType::Rootfs), "arm64"),
        c(NET, Some(ImageType::Application), "amd64"),
        c(HELM, Some(ImageType::Application), "amd64"),
        c(PATCH, Some(ImageType::Patch), "amd64"),
        c(K8S2, Some(ImageType::Rootfs), "amd64"),
        c(BROKEN, None, ""),
    ]
}

fn app() -> App {
    App::wizard(Wizard::new(choices()), Theme::default())
}

/// Highlight row `row` (from wherever the cursor is) and press Space.
fn mark(app: &mut App, row: usize) {
    for _ in 0..6 {
        press(app, KeyCode::Up);
    }
    for _ in 0..row {
        press(app, KeyCode::Down);
    }
    press(app, KeyCode::Char(' '));
}

fn marked(app: &App) -> Vec<String> {
    wizard(app).image.marked.clone()
}

/// The Clusterfile's images once the hosts screen has a master.
fn images(app: &mut App) -> Vec<String> {
    assert_eq!(wizard(app).step, Step::Hosts);
    press(app, KeyCode::Char('a'));
    typed(app, "10.0.0.2\n");
    wizard(app).clusterfile().unwrap().cluster.spec.image
}

fn refusal(app: &App) -> String {
    match &wizard(app).image.note {
        Some(Note::Failed(why)) => why.clone(),
        other => panic!("no refusal: {other:?}"),
    }
}

#[test]
fn marked_images_show_their_order_and_go_on_together_in_it() {
    let mut app = app();
    mark(&mut app, 0);
    mark(&mut app, 2);
    mark(&mut app, 1);
    assert_eq!(marked(&app), [K8S, HELM, NET]);
    let shown = draw(&app, 120, 30);
    assert!(shown.contains(&format!(" 1 {K8S}")), "{shown}");
    assert!(shown.contains(&format!(" 2 {HELM}")), "{shown}");
    assert!(shown.contains(&format!(" 3 {NET}")), "{shown}");
    assert!(shown.contains(&format!("   {PATCH}")), "unmarked: {shown}");
    assert!(shown.contains("3 marked for the install"), "{shown}");
    // The highlighted row is still the one whose details show.
    assert!(shown.contains(&format!("name {NET}")), "{shown}");
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    assert_eq!(images(&mut app), [K8S, HELM, NET]);
}

#[test]
fn space_unmarks_and_the_others_close_up() {
    let mut app = app();
    for row in [0, 1, 3, 2] {
        mark(&mut app, row);
    }
    assert_eq!(marked(&app), [K8S, NET, PATCH, HELM]);
    mark(&mut app, 1);
    assert_eq!(marked(&app), [K8S, PATCH, HELM]);
    let shown = draw(&app, 120, 30);
    assert!(shown.contains(&format!(" 2 {PATCH}")), "{shown}");
    assert!(shown.contains(&format!("   {NET}")), "{shown}");
    for row in [0, 3, 2] {
        mark(&mut app, row);
    }
    assert!(marked(&app).is_empty());
    assert!(draw(&app, 120, 30).contains("1 image: pick the cluster image"));
}

#[test]
fn a_rootfs_marked_after_applications_goes_first_and_says_so() {
    let mut app = app();
    mark(&mut app, 1);
    mark(&mut app, 3);
    mark(&mut app, 0);
    assert_eq!(marked(&app), [K8S, NET, PATCH]);
    assert_eq!(
        wizard(&app).image.note,
        Some(Note::Done(format!(
            "{K8S} goes first: the rootfs image makes the cluster the others go on"
        )))
    );
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    assert_eq!(wizard(&app).step, Step::Hosts);
}

#[test]
fn a_second_rootfs_an_unreadable_image_and_applications_alone_are_refused() {
    let mut app = app();
    mark(&mut app, 0);
    mark(&mut app, 4);
    assert_eq!(
        refusal(&app),
        format!(
            "{K8S2} is a second rootfs image: a cluster has one ({K8S} is marked; Space on it \
             unmarks it)"
        )
    );
    mark(&mut app, 5);
    assert_eq!(
        refusal(&app),
        format!("{BROKEN} cannot be read, so it cannot be installed")
    );
    assert_eq!(marked(&app), [K8S]);
    assert!(draw(&app, 120, 30).contains("cannot be read, so it cannot be installed"));
    // A mark that works takes the refusal away.
    mark(&mut app, 1);
    assert_eq!(wizard(&app).image.note, None);

    // Applications with no rootfs under them do not go on.
    mark(&mut app, 0);
    assert_eq!(marked(&app), [NET]);
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    assert_eq!(wizard(&app).step, Step::Image);
    assert_eq!(
        refusal(&app),
        "mark a rootfs image too: the marked images go on the cluster it makes"
    );
    // Nor does an application highlighted alone.
    mark(&mut app, 1);
    assert!(marked(&app).is_empty());
    press(&mut app, KeyCode::Enter);
    assert_eq!(wizard(&app).step, Step::Image);
    assert!(
        refusal(&app).starts_with(&format!("{NET} is not a rootfs image (application)")),
        "{}",
        refusal(&app)
    );
}

#[test]
fn with_nothing_marked_the_highlighted_image_is_the_install() {
    let mut app = app();
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    assert_eq!(wizard(&app).image.picked(), [K8S2]);
    assert_eq!(wizard(&app).image.archs(), ["amd64"]);
    press(&mut app, KeyCode::Enter);
    assert_eq!(images(&mut app), [K8S2]);
}

#[test]
fn later_screens_take_the_rootfs_for_arch_and_env_and_every_image_for_the_clusterfile() {
    let mut app = app();
    mark(&mut app, 1);
    mark(&mut app, 0);
    // The application stays highlighted; the hosts need the rootfs's arch.
    press(&mut app, KeyCode::Down);
    assert_eq!(wizard(&app).image.archs(), ["arm64"]);
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "10.0.0.2\n");
    if let crate::tui::app::Screen::Wizard(w) = &mut app.screen {
        w.hosts.set_arch("10.0.0.2", "amd64");
    }
    let shown = draw(&app, 120, 30);
    assert!(shown.contains("amd64 host, arm64 image"), "{shown}");
    press(&mut app, KeyCode::Enter);
    assert_eq!(wizard(&app).step, Step::Ssh);
    // The configuration's preview reads the first image's env: the rootfs.
    let effects = press(&mut app, KeyCode::Enter);
    let [Effect::Wizard(Job::Preview(cf))] = &effects[..] else {
        panic!("{effects:?}")
    };
    assert_eq!(cf.cluster.spec.image, [K8S, NET]);
}

#[test]
fn marks_of_images_gone_from_the_store_are_dropped_when_it_is_read_again() {
    let mut app = app();
    mark(&mut app, 0);
    mark(&mut app, 1);
    mark(&mut app, 2);
    let mut left = choices();
    left.retain(|c| c.name != NET);
    // HELM can no longer be read.
    left[1].kind = None;
    app.update(Action::Wizard(Reply::Fetched(Ok(Fetched {
        choices: left,
        select: K8S.into(),
        note: "pulled".into(),
        hosts: None,
    }))));
    assert_eq!(marked(&app), [K8S]);
}

#[test]
fn space_is_typed_into_an_open_input_and_the_keys_name_it() {
    let mut app = app();
    press(&mut app, KeyCode::Char('p'));
    typed(&mut app, "a b");
    assert!(marked(&app).is_empty());
    let (_, field) = wizard(&app).image.input.clone().unwrap();
    assert_eq!(field.text(), "a b");
    press(&mut app, KeyCode::Esc);
    let shown = draw(&app, 200, 30);
    assert!(shown.contains("Space mark for the install"), "{shown}");
    press(&mut app, KeyCode::Char('?'));
    let shown = draw(&app, 120, 30);
    assert!(
        shown.contains("Space  mark for the install (in order, the rootfs first)"),
        "{shown}"
    );
}

#[test]
fn marks_and_refusals_draw_at_any_size() {
    let mut app = app();
    mark(&mut app, 1);
    mark(&mut app, 0);
    mark(&mut app, 5);
    for (w, h) in [(120, 30), (40, 8), (12, 4), (3, 2), (1, 1)] {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| app.view(f)).unwrap();
    }
}
