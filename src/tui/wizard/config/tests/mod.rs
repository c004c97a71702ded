//! The configuration screen driven through `App::update`, and drawn.

mod env;

use super::Part;
use super::check::tests::inputs;
use super::job::{Preview, Previewed};
use crate::tui::action::{Action, Effect};
use crate::tui::app::App;
use crate::tui::testkit::{ctrl, draw, press, typed, wizard};
use crate::tui::theme::Theme;
use crate::tui::wizard::{Job, Reply, Step, Wizard, image::Choice};
use crossterm::event::KeyCode;

const IMAGE: &str = "docker.io/tug/demo:v1.28.9";

/// The answer a preview job gives for the demo image.
fn previewed(pod: &str) -> Reply {
    let env = [
        ("criData", "/var/lib/containerd"),
        ("registryDomain", "sealos.hub"),
        ("registryPort", "5000"),
        ("registryPassword", "passw0rd"),
    ];
    Reply::Previewed(Previewed {
        image: IMAGE.into(),
        env: Ok(env
            .iter()
            .map(|(k, v)| (k.to_string(), crate::secret::Secret::new(*v)))
            .collect()),
        inputs: Some(Box::new(inputs())),
        preview: Ok(Preview {
            lines: vec![
                "kind: ClusterConfiguration".into(),
                format!("  podSubnet: {pod}"),
            ],
            subnets: [Some(pod.into()), Some("10.96.0.0/22".into())],
        }),
    })
}

/// The app on the configuration screen, its first preview answered.
fn at_config() -> App {
    let choices = vec![Choice {
        name: IMAGE.into(),
        ..Choice::default()
    }];
    let mut app = App::wizard(Wizard::new(choices), Theme::default());
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "10.0.0.2\n");
    press(&mut app, KeyCode::Enter);
    let effects = press(&mut app, KeyCode::Enter);
    assert!(
        matches!(&effects[..], [Effect::Wizard(Job::Preview(_))]),
        "{effects:?}"
    );
    assert_eq!(wizard(&app).step, Step::Config);
    assert!(
        app.update(Action::Wizard(previewed("100.64.0.0/10")))
            .is_empty()
    );
    app
}

#[test]
fn env_overrides_and_override_documents_reach_the_clusterfile() {
    let mut app = at_config();
    let w = wizard(&app);
    assert_eq!(
        w.config.env.rows[0].key, "registryDomain",
        "registry settings first"
    );
    assert_eq!(w.config.subnets.items[0].field.text(), "100.64.0.0/10");
    // registryPort: a new value.
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Backspace);
    typed(&mut app, "2");
    let effects = press(&mut app, KeyCode::Enter);
    assert!(
        matches!(&effects[..], [Effect::Wizard(Job::Preview(cf))]
        if cf.cluster.spec.env == ["registryPort=5002"]),
        "{effects:?}"
    );
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Backspace);
    typed(&mut app, "1");
    let effects = press(&mut app, KeyCode::Enter);
    assert!(effects.is_empty(), "one preview at a time: {effects:?}");
    // The running preview answers; the change asks for the next one.
    let effects = app.update(Action::Wizard(previewed("100.64.0.0/10")));
    assert!(
        matches!(&effects[..], [Effect::Wizard(Job::Preview(cf))]
        if cf.cluster.spec.env == ["registryPort=5001"]),
        "{effects:?}"
    );
    assert!(
        app.update(Action::Wizard(previewed("100.64.0.0/10")))
            .is_empty()
    );
    // A YAML error in the override is named by line and blocks moving on.
    for _ in 0..3 {
        press(&mut app, KeyCode::Tab);
    }
    assert_eq!(wizard(&app).config.focus, Part::Editor);
    typed(
        &mut app,
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: [10.200.0.0/16\n",
    );
    let f = wizard(&app).config.checked.clone().unwrap_err();
    assert!(f.message.starts_with("line 5 column 1"), "{f:?}");
    assert!(ctrl(&mut app, 'n').is_empty());
    let w = wizard(&app);
    assert_eq!(w.step, Step::Config);
    assert!(
        w.config
            .note
            .as_deref()
            .unwrap()
            .contains("kubeadm override: line 5"),
        "{:?}",
        w.config.note
    );
    // Fixed: the preview is asked for with the document.
    press(&mut app, KeyCode::Up);
    press(&mut app, KeyCode::End);
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Backspace);
    typed(&mut app, "16");
    let line = wizard(&app).config.editor.lines()[3].clone();
    press(&mut app, KeyCode::Home);
    for _ in 0.."  podSubnet: ".len() {
        press(&mut app, KeyCode::Right);
    }
    press(&mut app, KeyCode::Delete);
    assert_eq!(line, "  podSubnet: [10.200.0.0/16");
    assert!(
        wizard(&app).config.checked.is_ok(),
        "{:?}",
        wizard(&app).config.checked
    );
    app.update(Action::Wizard(previewed("10.200.0.0/16")));
    let effects = ctrl(&mut app, 'n');
    let [Effect::Wizard(Job::Plan(cf, _))] = &effects[..] else {
        panic!("{effects:?}");
    };
    assert_eq!(wizard(&app).step, Step::Review);
    assert_eq!(cf.cluster.spec.env, ["registryPort=5001"]);
    let doc = cf.kubeadm("ClusterConfiguration").next().unwrap();
    assert_eq!(doc["networking"]["podSubnet"], "10.200.0.0/16");
    // Esc goes back to the configuration, with everything kept.
    press(&mut app, KeyCode::Esc);
    assert_eq!(wizard(&app).step, Step::Config);
    assert_eq!(wizard(&app).config.env.overrides(), ["registryPort=5001"]);
}

#[test]
fn subnet_fields_write_into_the_override_and_a_bad_cidr_blocks() {
    let mut app = at_config();
    press(&mut app, KeyCode::Tab);
    assert_eq!(wizard(&app).config.focus, Part::Subnet(0));
    assert!(wizard(&app).typing(), "q and ? are typed in a field");
    for _ in 0.."100.64.0.0/10".len() {
        press(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "10.300.0.0/16");
    assert!(ctrl(&mut app, 'n').is_empty());
    let note = wizard(&app).config.note.clone().unwrap();
    assert!(
        note.contains("pod subnet: \"10.300.0.0/16\" is not a CIDR"),
        "{note}"
    );
    assert!(
        wizard(&app).config.editor.text().is_empty(),
        "a bad value is not written"
    );
    for _ in 0..13 {
        press(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "10.200.0.0/16");
    press(&mut app, KeyCode::Tab);
    let w = wizard(&app);
    assert_eq!(
        w.config.editor.text(),
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: 10.200.0.0/16"
    );
    assert_eq!(w.config.documents().len(), 1);
}

#[test]
fn help_lists_the_parts_keys_and_the_screen_draws_at_any_size() {
    let mut app = at_config();
    assert!(!wizard(&app).typing(), "the env table takes keys, not text");
    press(&mut app, KeyCode::Char('?'));
    let shown = draw(&app, 120, 40);
    assert!(
        shown.contains("add a KEY=value") && shown.contains("next: review"),
        "{shown}"
    );
    press(&mut app, KeyCode::Char('x'));
    // A typed password never shows.
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Enter);
    typed(&mut app, "Zebra42");
    let shown = draw(&app, 120, 40);
    assert!(
        !shown.contains("Zebra42") && !shown.contains("passw0rd"),
        "{shown}"
    );
    assert!(
        shown.contains("4 configuration") && shown.contains("preview"),
        "{shown}"
    );
    press(&mut app, KeyCode::Enter);
    assert!(!draw(&app, 120, 40).contains("Zebra42"));
    for (w, h) in [(20, 6), (1, 1), (40, 10), (200, 60)] {
        for _ in 0..5 {
            draw(&app, w, h);
            press(&mut app, KeyCode::Tab);
        }
    }
}
