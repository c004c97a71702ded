//! The wizard's screens driven through `App::update`, as pure transitions.

use super::ssh::Tested;
use super::{Job, Planned, Reply, Step, Wizard};
use crate::engine::plan::Plan;
use crate::tui::action::{Action, Effect};
use crate::tui::app::{App, Screen};
use crate::tui::target::Target;
use crate::tui::testkit::{ctrl, draw, press, typed, wizard};
use crate::tui::theme::Theme;
use crossterm::event::KeyCode;

fn app() -> App {
    let choices = vec![super::image::Choice {
        name: "docker.io/tug/demo:v1.28.9".into(),
        details: vec!["type: rootfs".into()],
        archs: vec!["amd64".into()],
        kind: Some(crate::image::cluster_image::ImageType::Rootfs),
    }];
    App::wizard(Wizard::new(choices), Theme::default())
}

#[test]
fn hosts_take_ranges_refuse_bad_and_duplicate_addresses_and_need_a_master() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    assert_eq!(wizard(&app).step, Step::Hosts);
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        wizard(&app).hosts.error.as_deref(),
        Some("add at least one master (a)")
    );
    press(&mut app, KeyCode::Char('n'));
    typed(&mut app, "10.0.0.9?");
    assert!(wizard(&app).typing(), "? is typed, not help");
    press(&mut app, KeyCode::Enter);
    let e = wizard(&app).hosts.error.clone().unwrap();
    assert!(e.starts_with("10.0.0.9?: "), "{e}");
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "10.0.0.2-10.0.0.4");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "10.0.0.3");
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        wizard(&app).hosts.error.as_deref(),
        Some("10.0.0.3 is already in the list")
    );
    press(&mut app, KeyCode::Esc);
    let (masters, nodes) = wizard(&app).hosts.split();
    assert_eq!((masters.len(), nodes.len()), (3, 1));
    // The node is first in the table; switch it to a master, then remove it.
    press(&mut app, KeyCode::Char('r'));
    assert_eq!(wizard(&app).hosts.split().0.len(), 4);
    press(&mut app, KeyCode::Char('d'));
    assert_eq!(wizard(&app).hosts.hosts.len(), 3);
    press(&mut app, KeyCode::Enter);
    assert_eq!(wizard(&app).step, Step::Ssh);
    let cf = wizard(&app).clusterfile().unwrap();
    let yaml = cf.to_yaml().unwrap();
    assert!(
        yaml.contains("10.0.0.4:22") && yaml.contains("user: root"),
        "{yaml}"
    );
}

#[test]
fn the_ssh_screen_tests_then_trusts_only_the_keys_shown_and_review_installs() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "10.0.0.2");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Enter);
    typed(&mut app, "pw?q");
    assert_eq!(
        wizard(&app).ssh.value(2),
        "pw?q",
        "keys go to the password field"
    );
    assert!(!app.help);
    let effects = ctrl(&mut app, 't');
    assert!(matches!(&effects[..], [Effect::Wizard(Job::Test(_, trust))] if trust.is_empty()));
    assert_eq!(wizard(&app).ssh.tests["10.0.0.2"], Tested::Testing);
    assert!(ctrl(&mut app, 'y').is_empty(), "no new key to trust yet");
    app.update(Action::Wizard(Reply::Tested(
        "10.0.0.2".into(),
        Tested::NewKey {
            key: "ssh-ed25519 SHA256:abc".into(),
            fingerprint: "SHA256:abc".into(),
        },
    )));
    let effects = ctrl(&mut app, 'y');
    assert!(
        matches!(&effects[..], [Effect::Wizard(Job::Test(_, trust))] if trust == &["SHA256:abc".to_string()])
    );
    let effects = press(&mut app, KeyCode::Enter);
    assert!(matches!(&effects[..], [Effect::Wizard(Job::Preview(_))]));
    assert_eq!(wizard(&app).step, Step::Config);
    let effects = ctrl(&mut app, 'n');
    assert!(matches!(&effects[..], [Effect::Wizard(Job::Plan(..))]));
    assert_eq!(wizard(&app).step, Step::Review);
    assert!(
        press(&mut app, KeyCode::Enter).is_empty(),
        "nothing to install before the plan"
    );
    let target = Target {
        cluster: "default".into(),
        image: "docker.io/tug/demo:v1.28.9".into(),
        plan: Plan::default(),
        roles: Default::default(),
        kubeconfig: "/k".into(),
        doing: Default::default(),
    };
    app.update(Action::Wizard(Reply::Planned(Ok(Planned {
        target,
        lines: vec!["# Clusterfile".into()],
    }))));
    assert!(matches!(
        &press(&mut app, KeyCode::Char('s'))[..],
        [Effect::Wizard(Job::Save(..))]
    ));
    app.update(Action::Wizard(Reply::Saved(
        Ok("/state/Clusterfile".into()),
    )));
    assert!(
        wizard(&app)
            .review
            .note
            .as_deref()
            .unwrap()
            .starts_with("saved /state/Clusterfile")
    );
    assert_eq!(press(&mut app, KeyCode::Enter), [Effect::StartRun]);
    assert!(matches!(app.screen, Screen::Install(_)));
}

#[test]
fn esc_goes_back_and_quits_from_the_first_screen() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Esc);
    assert_eq!(wizard(&app).step, Step::Image);
    assert_eq!(press(&mut app, KeyCode::Esc), [Effect::Quit]);
}

/// The words of the hosts table's row for `ip`.
fn cells<'a>(screen: &'a str, ip: &str) -> Vec<&'a str> {
    let row = screen
        .lines()
        .find(|l| l.contains(&format!("│{ip} ")))
        .unwrap_or_else(|| panic!("no row for {ip}: {screen}"));
    row.split(|c: char| c.is_whitespace() || c == '│')
        .filter(|w| !w.is_empty())
        .collect()
}

#[test]
fn the_connection_test_fills_the_arch_column_and_flags_a_host_the_image_cannot_run_on() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "10.0.0.2,10.0.0.3");
    press(&mut app, KeyCode::Enter);
    let shown = draw(&app, 120, 30);
    assert!(shown.contains("ARCH"), "{shown}");
    assert_eq!(
        cells(&shown, "10.0.0.2"),
        ["10.0.0.2", "master", "-"],
        "no arch before a test: {shown}"
    );
    press(&mut app, KeyCode::Enter);
    ctrl(&mut app, 't');
    for (host, arch) in [("10.0.0.2", "arm64"), ("10.0.0.3", "amd64")] {
        app.update(Action::Wizard(Reply::Tested(
            host.into(),
            Tested::Ok {
                key: "key on record".into(),
                arch: Some(arch.into()),
            },
        )));
    }
    let shown = draw(&app, 120, 30);
    assert!(
        shown.contains("10.0.0.2  ok  arm64 host, amd64 image  key on record"),
        "{shown}"
    );
    assert!(
        shown.contains("10.0.0.3  ok  amd64  key on record"),
        "{shown}"
    );
    let hosts = &wizard(&app).hosts.hosts;
    assert_eq!(hosts[0].arch.as_deref(), Some("arm64"));
    assert_eq!(hosts[1].arch.as_deref(), Some("amd64"));
    press(&mut app, KeyCode::Esc);
    assert_eq!(wizard(&app).step, Step::Hosts);
    let shown = draw(&app, 120, 30);
    assert_eq!(
        cells(&shown, "10.0.0.2"),
        ["10.0.0.2", "master", "arm64", "host,", "amd64", "image"],
        "{shown}"
    );
    assert_eq!(
        cells(&shown, "10.0.0.3"),
        ["10.0.0.3", "master", "amd64"],
        "{shown}"
    );
    // Hosts that differ give the Clusterfile no arch role; hosts that agree do.
    let roles = |app: &App| -> Vec<Vec<String>> {
        let cf = wizard(app).clusterfile().unwrap();
        cf.cluster
            .spec
            .hosts
            .iter()
            .map(|h| h.roles.clone())
            .collect()
    };
    assert!(
        roles(&app)
            .iter()
            .flatten()
            .all(|r| r != "arm64" && r != "amd64")
    );
    if let Screen::Wizard(w) = &mut app.screen {
        w.hosts.set_arch("10.0.0.3", "arm64");
    }
    assert!(
        roles(&app).iter().all(|r| r.contains(&"arm64".to_string())),
        "{:?}",
        roles(&app)
    );
}

#[test]
fn an_arch_mismatch_needs_a_known_image_arch_that_differs() {
    use super::hosts::mismatch;
    let both = ["amd64".to_string(), "arm64".to_string()];
    assert_eq!(mismatch("arm64", &both), None);
    assert_eq!(mismatch("arm64", &[]), None);
    assert_eq!(
        mismatch("riscv64", &both).as_deref(),
        Some("riscv64 host, amd64/arm64 image")
    );
}

#[test]
fn no_debug_of_the_wizard_shows_a_password_or_passphrase() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "10.0.0.2\n");
    press(&mut app, KeyCode::Enter);
    typed(&mut app, "ssh-Pa55");
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    typed(&mut app, "key-Phr4se");
    let w = wizard(&app);
    assert_eq!((w.ssh.value(2), w.ssh.value(4)), ("ssh-Pa55", "key-Phr4se"));
    let debug = format!("{app:?} {:?}", w.draft());
    assert!(
        !debug.contains("ssh-Pa55") && !debug.contains("key-Phr4se"),
        "{debug}"
    );
    let cf = w.clusterfile().unwrap();
    let ssh = &cf.cluster.spec.ssh;
    assert_eq!(
        ssh.as_ref()
            .and_then(|s| s.passwd.as_ref())
            .map(|s| s.expose()),
        Some("ssh-Pa55"),
        "the Clusterfile still gets the password"
    );
}

#[test]
fn every_screen_has_keys_and_esc_walks_back_through_the_list() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "10.0.0.2\n");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Enter);
    ctrl(&mut app, 'n');
    assert_eq!(wizard(&app).step, Step::Review);
    for back in [Step::Config, Step::Ssh, Step::Hosts, Step::Image] {
        assert!(!wizard(&app).keys().is_empty());
        press(&mut app, KeyCode::Esc);
        assert_eq!(wizard(&app).step, back);
    }
}

#[test]
fn the_port_field_serves_every_host_without_a_port_and_takes_digits_only() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "10.0.0.2-3,10.0.0.9:2200\n");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::BackTab);
    assert_eq!(wizard(&app).ssh.focus, 6, "Shift-Tab wraps to the bastion");
    press(&mut app, KeyCode::BackTab);
    assert_eq!(wizard(&app).ssh.focus, 5, "then the port");
    ctrl(&mut app, 'u');
    typed(&mut app, "x2y222");
    assert_eq!(wizard(&app).ssh.value(5), "2222");
    let yaml = wizard(&app).clusterfile().unwrap().to_yaml().unwrap();
    assert!(
        yaml.contains("10.0.0.2:2222")
            && yaml.contains("10.0.0.3:2222")
            && yaml.contains("10.0.0.9:2200"),
        "{yaml}"
    );
    ctrl(&mut app, 'u');
    let effects = press(&mut app, KeyCode::Enter);
    assert!(effects.is_empty(), "no port: Enter stays");
    assert_eq!(wizard(&app).step, Step::Ssh);
}

#[test]
fn a_key_found_on_its_own_serves_only_without_a_password_and_settings_are_remembered() {
    use super::prefs::{Found, Prefs, file};
    let config = tempfile::tempdir().unwrap();
    let mut app = app();
    if let Screen::Wizard(w) = &mut app.screen {
        Prefs {
            user: Some("admin".into()),
            port: Some(2022),
            key: None,
            bastion: None,
        }
        .save(&file(config.path()))
        .unwrap();
        w.ssh.remember(config.path());
        w.ssh.found = Some(Found::Key("/home/me/.ssh/id_ed25519".into()));
    }
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "10.0.0.2\n");
    press(&mut app, KeyCode::Enter);
    let shown = draw(&app, 100, 30);
    assert!(shown.contains("/home/me/.ssh/id_ed25519 (found"), "{shown}");
    let ssh = |app: &App| wizard(app).clusterfile().unwrap().cluster.spec.ssh.unwrap();
    assert_eq!(ssh(&app).pk.as_deref(), Some("/home/me/.ssh/id_ed25519"));
    assert_eq!(ssh(&app).user.as_deref(), Some("admin"));
    assert_eq!(ssh(&app).port, Some(2022));
    typed(&mut app, "pw");
    assert_eq!(
        ssh(&app).pk,
        None,
        "a typed password wins over the found key"
    );
    press(&mut app, KeyCode::Tab);
    typed(&mut app, "/k/id");
    press(&mut app, KeyCode::Up);
    press(&mut app, KeyCode::Up);
    ctrl(&mut app, 'w');
    typed(&mut app, "ops");
    press(&mut app, KeyCode::Enter);
    assert_eq!(wizard(&app).step, Step::Config);
    assert_eq!(
        Prefs::load(&file(config.path())),
        Prefs {
            user: Some("ops".into()),
            port: Some(2022),
            key: Some("/k/id".into()),
            bastion: None,
        }
    );
}

#[test]
fn the_bastion_field_goes_to_the_clusterfile_with_the_hosts_key_and_is_remembered() {
    use super::prefs::{Prefs, file};
    let config = tempfile::tempdir().unwrap();
    let mut app = app();
    if let Screen::Wizard(w) = &mut app.screen {
        w.ssh.remember(config.path());
        w.ssh.found = None;
    }
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "10.0.0.2\n");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Tab);
    typed(&mut app, "/k/id");
    for _ in 0..3 {
        press(&mut app, KeyCode::Tab);
    }
    assert_eq!(wizard(&app).ssh.focus, 6);
    typed(&mut app, "ops@jump:99999");
    let shown = draw(&app, 120, 30);
    assert!(shown.contains("the port is not 1-65535"), "{shown}");
    let effects = press(&mut app, KeyCode::Enter);
    assert!(effects.is_empty(), "a bad bastion: Enter stays");
    assert_eq!(wizard(&app).step, Step::Ssh);
    ctrl(&mut app, 'u');
    typed(&mut app, "ops@jump:2222");
    let ssh = wizard(&app)
        .clusterfile()
        .unwrap()
        .cluster
        .spec
        .ssh
        .unwrap();
    assert_eq!(ssh.bastion.as_deref(), Some("ops@jump:2222"));
    assert_eq!(ssh.bastion_pk.as_deref(), Some("/k/id"));
    assert!(ssh.bastion_passwd.is_none());
    press(&mut app, KeyCode::Enter);
    assert_eq!(wizard(&app).step, Step::Config);
    let saved = Prefs::load(&file(config.path()));
    assert_eq!(saved.bastion.as_deref(), Some("ops@jump:2222"));
    let mut again = super::ssh::SshScreen::default();
    again.remember(config.path());
    assert_eq!(again.value(6), "ops@jump:2222");
}

#[test]
fn esc_and_ctrl_c_ask_before_throwing_input_away_and_ctrl_c_leaves_as_interrupted() {
    use crate::tui::app::Exit;
    let mut app = self::app();
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "10.0.0.2\n");
    press(&mut app, KeyCode::Esc);
    assert_eq!(wizard(&app).step, Step::Image);
    assert!(press(&mut app, KeyCode::Esc).is_empty(), "asks first");
    assert!(draw(&app, 80, 24).contains("What you entered is lost"));
    assert!(press(&mut app, KeyCode::Char('n')).is_empty(), "stays");
    assert_eq!(app.asking, None);
    press(&mut app, KeyCode::Esc);
    assert_eq!(press(&mut app, KeyCode::Char('y')), [Effect::Quit]);
    assert_eq!(app.exit(), Exit::Quit, "Esc leaves as a quit");

    let mut app = self::app();
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "10.0.0.2\n");
    assert!(ctrl(&mut app, 'c').is_empty(), "asks first");
    assert_eq!(
        ctrl(&mut app, 'c'),
        [Effect::Quit],
        "a second Ctrl-C leaves"
    );
    assert_eq!(app.exit(), Exit::Cancelled, "exit 130");

    let mut app = self::app();
    assert_eq!(ctrl(&mut app, 'c'), [Effect::Quit], "nothing to lose");
    assert_eq!(app.exit(), Exit::Cancelled);
}
