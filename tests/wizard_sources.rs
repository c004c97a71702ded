//! The wizard's image sources and the hosts' arch, with the real binary in
//! tmux: an image pulled by reference from a real registry behind htpasswd
//! (refused until `tug login`, then pulled with those credentials; a
//! missing one named), a bundle found next to the bundled `tug` and loaded
//! (a damaged one named, another loaded from a typed path), and the arch a
//! connection test finds on a real sshd host shown in the hosts table.

mod support;

use std::path::Path;
use support::hosts::Hosts;
use support::registry::Registry;
use support::tmux::{Tmux, row};
use support::tug::Tug;
use support::wizard;

const DEMO: &str = "tug/demo:v1.28.9";

fn pause() {
    // An Escape followed at once by a key reads as Alt-key to a terminal.
    std::thread::sleep(std::time::Duration::from_millis(300));
}

/// A TUG_HOME holding the demo image, built by the real `tug build`.
fn with_demo() -> Tug {
    let home = Tug::new();
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo");
    home.run(&["build", "-t", DEMO, demo]).ok();
    home
}

/// Layer scans the installer will find in `home` (the wizard scans what
/// it brings into the store, as the CLI does).
fn scans(home: &Tug) -> usize {
    std::fs::read_dir(home.home().join("data/layer-scans"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Start `program` (the wizard) in a terminal with TUG_HOME = `home`.
fn wizard(home: &Tug, program: &Path) -> Tmux {
    let term = Tmux::start(home.home());
    term.type_line(&format!("{}; echo TUG-EXIT=$?", program.display()));
    term
}

fn quit(term: &Tmux) {
    term.keys(&["q"]);
    term.wait_for("the shell", |s| s.contains("TUG-EXIT=0"));
    assert!(!term.alternate());
}

#[test]
fn p_pulls_a_reference_with_the_saved_login_and_names_one_that_fails() {
    let reg = Registry::start_with_auth("alice", "wonder land");
    let remote = reg.reference(DEMO);
    let login = ["login", &reg.addr, "-u", "alice", "-p", "wonder land"];
    let builder = with_demo();
    builder.run(&login).ok();
    builder.run(&["push", DEMO, &remote]).ok();

    let home = Tug::new();
    let term = wizard(&home, Path::new(env!("CARGO_BIN_EXE_tug")));
    term.wait_for("the empty store", |s| s.contains("has no images"));

    // Not logged in yet: the registry refuses, and the line says so.
    term.keys(&["p"]);
    term.type_line(&remote);
    let screen = term.wait_for("the refusal", |s| {
        s.contains(&format!("cannot pull {remote}: "))
    });
    assert!(
        wizard::flat(&screen).contains(&format!("cannot pull {remote}: unauthorized")),
        "{screen}"
    );
    assert!(screen.contains("has no images"), "{screen}");

    // `tug login` saves the credentials; the wizard's next pull uses them.
    home.run(&login).ok();
    term.keys(&["p"]);
    term.type_line(&remote);
    let screen = term.wait_for("the pulled image's details", |s| {
        s.contains("type: rootfs") && s.contains("kubernetes: v1.28.9")
    });
    assert!(
        screen.contains(&format!("pulled {remote} sha256:")),
        "{screen}"
    );
    // The list holds it, selected, beside its details.
    assert!(row(&screen, &remote).contains("type: rootfs"), "{screen}");
    assert!(scans(&home) > 0, "the pulled layers are scanned");

    // A reference the registry does not have: named, the list kept.
    let missing = reg.reference("tug/nope:v1");
    term.keys(&["p"]);
    term.type_line(&missing);
    let screen = term.wait_for("the missing image named", |s| {
        s.contains(&format!("cannot pull {missing}: "))
    });
    assert!(screen.contains("not found"), "{screen}");
    assert!(screen.contains("kubernetes: v1.28.9"), "{screen}");

    // Esc closes the input without leaving; the list is still there.
    term.keys(&["p"]);
    term.wait_for("the input", |s| s.contains("Esc cancels"));
    pause();
    term.keys(&["Escape"]);
    pause();
    term.wait_for("the input closed", |s| !s.contains("Esc cancels"));
    assert!(term.alternate());
    quit(&term);
}

#[test]
fn b_loads_the_bundle_next_to_the_bundled_tug_and_a_damaged_one_is_named() {
    let builder = with_demo();
    let tmp = tempfile::Builder::new()
        .prefix("tug-wizard-bundle-")
        .tempdir()
        .unwrap();
    let stick = tmp.path().join("stick");
    builder
        .run(&["bundle", "create", "-o", stick.to_str().unwrap(), DEMO])
        .ok();
    let damaged = tmp.path().join("damaged");
    support::sh(
        std::process::Command::new("cp")
            .arg("-a")
            .arg(&stick)
            .arg(&damaged),
    );
    flip_byte(&damaged.join("images.oci.tar"), 2000);

    // The wizard run from the stick finds its bundle and loads it.
    let far = Tug::new();
    let term = wizard(&far, &stick.join("tug"));
    let banner = format!(
        "bundle found: {} — b verifies and loads it",
        stick.display()
    );
    let screen = term.wait_for("the bundle banner", |s| s.contains("has no images"));
    assert!(screen.contains(&banner), "{screen}");
    term.keys(&["b"]);
    let screen = term.wait_for("the bundle's image", |s| {
        s.contains("type: rootfs") && s.contains("kubernetes: v1.28.9")
    });
    assert!(
        wizard::flat(&screen).contains(&format!(
            "loaded 1 image(s) from bundle {}",
            stick.display()
        )),
        "{screen}"
    );
    assert!(
        row(&screen, "docker.io/tug/demo:v1.28.9").contains("type: rootfs"),
        "{screen}"
    );
    assert!(scans(&far) > 0, "the loaded layers are scanned");
    quit(&term);

    // The damaged copy: the archive is named and nothing is loaded; B then
    // loads the good bundle from its path.
    let other = Tug::new();
    let term = wizard(&other, &damaged.join("tug"));
    term.wait_for("the damaged bundle found", |s| {
        s.contains(&format!("bundle found: {}", damaged.display()))
    });
    term.keys(&["b"]);
    let archive = damaged.join("images.oci.tar");
    let screen = term.wait_for("the damage named", |s| s.contains("bundle not loaded: "));
    assert!(
        wizard::flat(&screen).contains(&format!(
            "{}: checksum does not match SHA256SUMS",
            archive.display()
        )),
        "{screen}"
    );
    assert!(screen.contains("has no images"), "{screen}");
    term.keys(&["B"]);
    term.type_line(stick.to_str().unwrap());
    term.wait_for("the good bundle's image", |s| {
        s.contains("type: rootfs") && s.contains("kubernetes: v1.28.9")
    });
    quit(&term);
}

fn flip_byte(path: &Path, at: u64) {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut b = [0u8];
    f.seek(SeekFrom::Start(at)).unwrap();
    f.read_exact(&mut b).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(&[b[0] ^ 0x20]).unwrap();
}

#[test]
fn the_connection_test_shows_each_hosts_arch_in_the_hosts_table() {
    let home = with_demo();
    let hosts = Hosts::start(1);
    let h = &hosts[0];
    let machine = support::sh(std::process::Command::new("uname").arg("-m"));
    let arch = match machine.trim() {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let term = wizard(&home, Path::new(env!("CARGO_BIN_EXE_tug")));
    term.wait_for("the image screen", |s| s.contains("kubernetes: v1.28.9"));
    term.keys(&["Enter"]);
    term.wait_for("the hosts screen", |s| s.contains("2 hosts"));
    term.keys(&["a"]);
    term.type_line(&h.ip);
    let screen = term.wait_for("the host", |s| row(s, &h.ip).contains("master"));
    assert!(screen.contains("ARCH"), "{screen}");
    assert_eq!(last_cell(row(&screen, &h.ip)), "-", "{screen}");

    term.keys(&["Enter"]);
    term.wait_for("the SSH screen", |s| s.contains("3 ssh"));
    term.keys(&["Tab"]);
    term.text(&hosts.key.display().to_string());
    term.keys(&["C-t"]);
    term.wait_for("the new key", |s| s.contains("  new host key ssh-"));
    term.keys(&["C-y"]);
    let screen = term.wait_for("the host trusted", |s| s.contains("(trusted now)"));
    assert!(
        screen.contains(&format!("{}  ok  {arch}  ssh-", h.ip)),
        "{screen}"
    );

    pause();
    term.keys(&["Escape"]);
    pause();
    let screen = term.wait_for("the hosts screen again", |s| s.contains("2 hosts"));
    assert_eq!(
        last_cell(row(&screen, &h.ip)),
        arch,
        "the image is built here, for this arch: {screen}"
    );
    quit(&term);
}

/// The last word of a table row (its ARCH cell when that is one word).
fn last_cell(row: &str) -> &str {
    row.split(|c: char| c.is_whitespace() || c == '│')
        .rfind(|w| !w.is_empty())
        .unwrap_or("")
}
