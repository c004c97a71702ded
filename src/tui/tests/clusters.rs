//! The wizard over a machine with installed clusters: their list comes
//! first, a new cluster takes no installed name, one opens (as `--answers`
//! opens a file) to add hosts, a taken name is refused, `p` on the review
//! plans without preflight, and an install that did not run goes back to
//! the hosts; each new screen state snapshotted at 80×24 and 160×48.

use super::snapshots::{IMAGE, snap, wizard as store_wizard};
use crate::app::AppError;
use crate::app::clusters::{Installed, Member};
use crate::cluster::create::{NewCluster, generate};
use crate::cluster::model::Ssh;
use crate::engine::plan::Plan;
use crate::tui::action::{Action, Effect, RunOutcome};
use crate::tui::app::{App, Screen};
use crate::tui::target::{Doing, Target};
use crate::tui::testkit::{ctrl, press, typed, wizard};
use crate::tui::theme::Theme;
use crate::tui::wizard::{Job, Opened, Planned, Reply, Step, Wizard};
use crossterm::event::KeyCode;

pub(super) fn installed(name: &str, phase: &'static str) -> Installed {
    Installed {
        name: name.into(),
        clusterfile: format!("/state/clusters/{name}/Clusterfile").into(),
        image: Ok(IMAGE.into()),
        hosts: 3,
        members: ["192.168.100.201", "192.168.100.202:2222", "192.168.100.203"]
            .iter()
            .zip(["master", "node", "node"])
            .map(|(a, r)| Member {
                address: a.to_string(),
                roles: r.to_string(),
            })
            .collect(),
        phase,
    }
}

/// The wizard over the snapshot store's images and two installed clusters.
pub(super) fn with_clusters() -> App {
    let choices = match &store_wizard().screen {
        Screen::Wizard(w) => w.image.choices.clone(),
        _ => unreachable!(),
    };
    let list = vec![
        installed("default", "installed"),
        installed("edge", "failed"),
    ];
    App::wizard(Wizard::over(choices, list), Theme::default())
}

/// The saved Clusterfile of `default`: one master, one node on port 2222.
fn saved() -> Opened {
    let cf = generate(NewCluster {
        name: "default".into(),
        images: vec![IMAGE.into()],
        masters: vec!["192.168.100.201".parse().unwrap()],
        nodes: vec!["192.168.100.202:2222".parse().unwrap()],
        ssh: Ssh {
            user: Some("admin".into()),
            pk: Some("/home/admin/.ssh/id_ed25519".into()),
            ..Ssh::default()
        },
        env: vec!["registryDomain=hub.example.com".into()],
        ..NewCluster::default()
    })
    .unwrap();
    Opened {
        path: "/state/clusters/default/Clusterfile".into(),
        cf: Box::new(cf),
        opened: Some("default".into()),
    }
}

fn target() -> Target {
    Target {
        cluster: "default".into(),
        image: IMAGE.into(),
        plan: Plan::default(),
        roles: Default::default(),
        kubeconfig: "/state/clusters/default/admin.conf".into(),
        doing: Default::default(),
    }
}

/// The review of a new cluster, the plan answered.
fn at_review(app: &mut App) {
    press(app, KeyCode::Enter);
    press(app, KeyCode::Char('a'));
    typed(app, "192.168.100.201\n");
    press(app, KeyCode::Enter);
    press(app, KeyCode::Enter);
    ctrl(app, 'n');
}

#[test]
fn installed_clusters_come_first_and_a_new_one_takes_a_free_name() {
    let mut app = with_clusters();
    assert_eq!(wizard(&app).step, Step::Clusters);
    snap("clusters", &app);
    press(&mut app, KeyCode::Char('n'));
    let w = wizard(&app);
    assert_eq!(w.step, Step::Image);
    assert_eq!(w.draft().name, "default-2");
    // Back from the image screen is the list again, not leaving.
    assert_eq!(press(&mut app, KeyCode::Esc), []);
    assert_eq!(wizard(&app).step, Step::Clusters);
}

#[test]
fn without_clusters_the_list_is_skipped_and_esc_on_the_image_screen_leaves() {
    let mut app = store_wizard();
    assert_eq!(wizard(&app).step, Step::Image);
    assert_eq!(wizard(&app).draft().name, "default");
    assert_eq!(press(&mut app, KeyCode::Esc), [Effect::Quit]);
}

#[test]
fn opening_an_installed_cluster_fills_the_screens_and_shows_its_hosts() {
    let mut app = with_clusters();
    press(&mut app, KeyCode::Up);
    press(&mut app, KeyCode::Up);
    let effects = press(&mut app, KeyCode::Enter);
    let [Effect::Wizard(Job::Open(path, Some(name)))] = &effects[..] else {
        panic!("{effects:?}");
    };
    assert_eq!(name, "default");
    assert!(path.ends_with("default/Clusterfile"));
    app.update(Action::Wizard(Reply::Opened(Ok(saved()))));
    let w = wizard(&app);
    assert_eq!(w.step, Step::Hosts);
    let d = w.draft();
    assert_eq!(d.name, "default");
    assert_eq!(d.opened.as_deref(), Some("default"));
    assert_eq!(d.name_taken(), None, "the opened cluster keeps its name");
    assert_eq!(d.images, [IMAGE]);
    assert_eq!(d.hosts.len(), 2);
    assert_eq!(d.hosts[1].addr.port, Some(2222));
    assert_eq!(d.ssh.user.as_deref(), Some("admin"));
    assert_eq!(d.env, ["registryDomain=hub.example.com"]);
    snap("opened_hosts", &app);
    // Add a node and plan: the plan job is asked for the opened cluster.
    press(&mut app, KeyCode::Char('n'));
    typed(&mut app, "192.168.100.203\n");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Enter);
    let effects = ctrl(&mut app, 'n');
    let [Effect::Wizard(Job::Plan(cf, ask))] = &effects[..] else {
        panic!("{effects:?}");
    };
    assert_eq!(ask.opened.as_deref(), Some("default"));
    assert_eq!(cf.cluster.machines().unwrap().len(), 3);
}

#[test]
fn a_file_that_cannot_be_opened_is_said_on_the_list() {
    let mut app = with_clusters();
    press(&mut app, KeyCode::Char('o'));
    typed(&mut app, "/tmp/Clusterfile");
    snap("clusters_open_path", &app);
    let effects = press(&mut app, KeyCode::Enter);
    assert!(matches!(&effects[..], [Effect::Wizard(Job::Open(_, None))]));
    app.update(Action::Wizard(Reply::Opened(Err(
        "/tmp/Clusterfile:7: spec.ssh.pkk: unknown field".into(),
    ))));
    assert_eq!(wizard(&app).step, Step::Clusters);
    snap("clusters_open_failed", &app);
}

#[test]
fn a_name_an_installed_cluster_holds_is_refused_before_planning_or_saving() {
    let mut app = with_clusters();
    press(&mut app, KeyCode::Char('n'));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "192.168.100.201\n");
    press(&mut app, KeyCode::Enter);
    // Rename the new cluster to the installed one's name.
    press(&mut app, KeyCode::Up);
    press(&mut app, KeyCode::Up);
    ctrl(&mut app, 'u');
    typed(&mut app, "default");
    snap("ssh_name_taken", &app);
    press(&mut app, KeyCode::Enter);
    let effects = ctrl(&mut app, 'n');
    assert_eq!(effects, [], "no plan job for a taken name");
    assert!(matches!(press(&mut app, KeyCode::Char('s'))[..], [],));
    let note = wizard(&app).review.note.clone().unwrap();
    assert!(
        note.starts_with("not saved: a cluster named default is already installed here"),
        "{note}"
    );
    snap("review_name_taken", &app);
}

#[test]
fn p_on_the_review_plans_again_without_the_preflight_checks() {
    let mut app = store_wizard();
    at_review(&mut app);
    let effects = press(&mut app, KeyCode::Char('p'));
    let [Effect::Wizard(Job::Plan(_, ask))] = &effects[..] else {
        panic!("{effects:?}");
    };
    assert!(ask.skip_checks);
    app.update(Action::Wizard(Reply::Planned(Ok(Planned {
        target: target(),
        lines: vec!["# Plan".into()],
    }))));
    assert!(
        wizard(&app)
            .review
            .note
            .as_ref()
            .unwrap()
            .contains("without preflight checks")
    );
    snap("review_skip_checks", &app);
    let effects = press(&mut app, KeyCode::Char('p'));
    assert!(matches!(&effects[..], [Effect::Wizard(Job::Plan(_, a))] if !a.skip_checks));
}

#[test]
fn an_install_that_did_not_run_goes_back_to_the_hosts_with_e() {
    let mut app = store_wizard();
    at_review(&mut app);
    app.update(Action::Wizard(Reply::Planned(Ok(Planned {
        target: target(),
        lines: vec!["# Plan".into()],
    }))));
    assert_eq!(press(&mut app, KeyCode::Enter), [Effect::StartRun]);
    let why = anyhow::anyhow!("host 192.168.100.201: 192.168.100.201:22: cannot connect");
    app.update(Action::RunDone(RunOutcome::Error(AppError::from(why))));
    snap("done_not_run", &app);
    press(&mut app, KeyCode::Char('e'));
    let w = wizard(&app);
    assert_eq!(w.step, Step::Hosts);
    assert_eq!(w.draft().hosts.len(), 1, "what was entered is kept");
    assert!(app.target.is_none(), "a new plan is made before installing");
    assert_eq!(app.farewell(), None);
}

#[test]
fn leaving_a_ready_cluster_prints_its_kubeconfig() {
    let mut app = store_wizard();
    at_review(&mut app);
    app.update(Action::Wizard(Reply::Planned(Ok(Planned {
        target: target(),
        lines: Vec::new(),
    }))));
    press(&mut app, KeyCode::Enter);
    app.update(Action::RunDone(RunOutcome::Done(Default::default())));
    assert_eq!(press(&mut app, KeyCode::Char('e')), [], "nothing to edit");
    let text = app.farewell().unwrap();
    assert!(
        text.contains("kubeconfig: /state/clusters/default/admin.conf"),
        "{text}"
    );
}

#[test]
fn the_empty_store_points_to_the_demo_too() {
    let app = App::wizard(Wizard::new(Vec::new()), Theme::default());
    snap("image_empty", &app);
    let screen = crate::tui::testkit::draw(&app, 80, 24);
    let flat: String = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "p pulls",
        "B loads a bundle",
        "tug build",
        "tug demo --wizard",
    ] {
        assert!(flat.contains(want), "{want}: {screen}");
    }
}

#[test]
fn an_upgrade_reviews_as_one_runs_under_its_title_and_ends_upgraded() {
    let mut app = store_wizard();
    at_review(&mut app);
    let mut t = target();
    t.doing = Doing::Upgrade("v1.29.4".into());
    app.update(Action::Wizard(Reply::Planned(Ok(Planned {
        target: t,
        lines: vec![
            "# Upgrade: the cluster runs Kubernetes v1.28.9 and the image is v1.29.4".into(),
        ],
    }))));
    let note = wizard(&app).review.note.clone().unwrap();
    assert!(note.starts_with("Enter upgrades; "), "{note}");
    snap("review_upgrade", &app);
    assert_eq!(press(&mut app, KeyCode::Enter), [Effect::StartRun]);
    app.update(Action::RunDone(RunOutcome::Done(Default::default())));
    snap("done_upgraded", &app);
    let text = app.farewell().unwrap();
    assert!(
        text.starts_with("cluster upgraded to v1.29.4; kubeconfig: "),
        "{text}"
    );
}
