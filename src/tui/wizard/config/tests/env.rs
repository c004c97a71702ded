//! The env table: order, overrides, reverts, added keys and masking.

use crate::tui::theme::Theme;
use crate::tui::wizard::config::env::{EnvTable, MASK};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn table() -> EnvTable {
    let mut t = EnvTable::default();
    let env: Vec<(String, crate::secret::Secret)> = [
        ("criData", "/var/lib/containerd"),
        ("registryPassword", "passw0rd"),
        ("SEALOS_SYS_CRI_ENDPOINT", "/run/c.sock"),
        ("registryPort", "5000"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), crate::secret::Secret::new(*v)))
    .collect();
    t.load(&env);
    t
}

fn press(t: &mut EnvTable, code: KeyCode) -> bool {
    t.handle_key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn typed(t: &mut EnvTable, text: &str) {
    for c in text.chars() {
        press(t, KeyCode::Char(c));
    }
}

fn row<'a>(screen: &'a str, key: &str) -> &'a str {
    screen.lines().find(|l| l.contains(key)).unwrap_or_default()
}

fn shown(t: &EnvTable) -> String {
    let lines = t.lines(20, true, &Theme::default());
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn registry_settings_come_first_and_only_changed_values_are_overrides() {
    let mut t = table();
    let keys: Vec<&str> = t.rows.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "registryPort",
            "registryPassword",
            "criData",
            "SEALOS_SYS_CRI_ENDPOINT"
        ]
    );
    press(&mut t, KeyCode::Enter);
    assert!(t.typing());
    press(&mut t, KeyCode::Backspace);
    typed(&mut t, "1");
    assert!(press(&mut t, KeyCode::Enter));
    assert_eq!(t.overrides(), ["registryPort=5001"]);
    // Typing the image's value back is no override.
    press(&mut t, KeyCode::Enter);
    press(&mut t, KeyCode::Backspace);
    typed(&mut t, "0");
    assert!(press(&mut t, KeyCode::Enter));
    assert!(t.overrides().is_empty());
    press(&mut t, KeyCode::Enter);
    typed(&mut t, "9");
    press(&mut t, KeyCode::Esc);
    assert!(
        !t.typing() && t.overrides().is_empty(),
        "Esc drops the input"
    );
}

#[test]
fn revert_restores_the_image_value_and_removes_added_keys() {
    let mut t = table();
    press(&mut t, KeyCode::Enter);
    typed(&mut t, "0");
    press(&mut t, KeyCode::Enter);
    assert_eq!(t.overrides(), ["registryPort=50000"]);
    assert!(press(&mut t, KeyCode::Char('d')));
    assert!(t.overrides().is_empty());
    assert_eq!(t.rows[0].effective(), "5000");
    press(&mut t, KeyCode::Char('a'));
    typed(&mut t, "1bad=x");
    press(&mut t, KeyCode::Enter);
    assert!(
        t.error
            .as_deref()
            .unwrap()
            .contains("\"1bad\" is not a variable name")
    );
    assert!(t.typing(), "a refused input stays open");
    press(&mut t, KeyCode::Esc);
    press(&mut t, KeyCode::Char('a'));
    typed(&mut t, "SEALOS_SYS_X=1");
    press(&mut t, KeyCode::Enter);
    assert!(t.error.as_deref().unwrap().contains("set by tug"));
    press(&mut t, KeyCode::Esc);
    press(&mut t, KeyCode::Char('a'));
    typed(&mut t, "podCIDR=10.1.0.0/16");
    assert!(press(&mut t, KeyCode::Enter));
    assert_eq!(t.overrides(), ["podCIDR=10.1.0.0/16"]);
    assert_eq!(t.rows[t.selected].key, "podCIDR");
    // A new image keeps the user's keys.
    t.load(&[("registryPort".into(), "5000".into())]);
    assert_eq!(t.overrides(), ["podCIDR=10.1.0.0/16"]);
    t.selected = 1;
    assert!(press(&mut t, KeyCode::Delete));
    assert_eq!(t.rows.len(), 1);
    assert!(t.overrides().is_empty());
}

#[test]
fn passwords_are_masked_shown_and_typed() {
    let mut t = table();
    assert!(
        row(&shown(&t), "registryPassword").ends_with("= <masked>"),
        "{}",
        shown(&t)
    );
    press(&mut t, KeyCode::Down);
    press(&mut t, KeyCode::Enter);
    typed(&mut t, "Sekret");
    let screen = shown(&t);
    assert!(
        !screen.contains("Sekret") && !screen.contains("passw0rd"),
        "{screen}"
    );
    // Typing replaces the masked value (it is not appended to the old one).
    assert!(
        screen.contains("value: ••••••▏") && !screen.contains("•••••••"),
        "{screen}"
    );
    press(&mut t, KeyCode::Enter);
    assert_eq!(t.overrides(), ["registryPassword=Sekret"]);
    let screen = shown(&t);
    assert!(
        row(&screen, "registryPassword").ends_with(&format!("= {MASK}")),
        "{screen}"
    );
    assert!(!screen.contains("Sekret"), "{screen}");
    press(&mut t, KeyCode::Char('a'));
    typed(&mut t, "mirrorPassword=hunter2");
    let screen = shown(&t);
    assert!(screen.contains("mirrorPassword=•••••••") && !screen.contains("hunter2"));
    press(&mut t, KeyCode::Enter);
    assert!(!shown(&t).contains("hunter2"));
    assert!(
        t.overrides()
            .contains(&"mirrorPassword=hunter2".to_string())
    );
    let debug = format!("{t:?}");
    assert!(
        !debug.contains("hunter2") && !debug.contains("Sekret") && !debug.contains("passw0rd"),
        "{debug}"
    );
}

#[test]
fn enter_on_a_masked_value_keeps_it_and_backspace_clears_it() {
    let mut t = table();
    press(&mut t, KeyCode::Down);
    press(&mut t, KeyCode::Enter);
    press(&mut t, KeyCode::Enter);
    assert!(t.overrides().is_empty(), "nothing typed: the value stays");
    press(&mut t, KeyCode::Enter);
    press(&mut t, KeyCode::Backspace);
    press(&mut t, KeyCode::Enter);
    assert_eq!(t.overrides(), ["registryPassword="]);
}

#[test]
fn reserved_keys_are_not_editable() {
    let mut t = table();
    t.selected = 3;
    press(&mut t, KeyCode::Enter);
    assert!(!t.typing());
    assert!(
        t.error
            .as_deref()
            .unwrap()
            .contains("SEALOS_SYS_CRI_ENDPOINT is set by tug")
    );
}
