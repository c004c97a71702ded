//! The wizard's configuration screen, the real binary in tmux over the demo
//! image: an env override and a masked registry password, a kubeadm
//! override whose YAML error is named by line and refuses moving on, its
//! fix merged into the preview, and the saved Clusterfile carrying both —
//! which `tug plan --kubeadm-config` then uses.

mod support;

use support::tmux::{Tmux, row};
use support::tug::Tug;

/// The registry password typed; it must never be drawn.
const SECRET: &str = "Zebra-s3cret";

/// A loopback address nothing listens on: nothing here connects.
const MASTER: &str = "127.0.10.250";

/// The lines of the preview pane (below its title, right of the left column).
fn preview(screen: &str) -> Vec<&str> {
    let lines: Vec<&str> = screen.lines().collect();
    let Some(top) = lines.iter().position(|l| l.contains(" preview: ")) else {
        return Vec::new();
    };
    let col = lines[top].find(" preview: ").unwrap_or(0);
    lines[top + 1..]
        .iter()
        .map(|l| l.get(col..).unwrap_or(""))
        .collect()
}

fn never_shown(term: &Tmux) {
    let screen = term.screen();
    assert!(!screen.contains(SECRET), "{screen}");
    assert!(!screen.contains("passw0rd"), "{screen}");
}

#[test]
fn the_configuration_screen_overrides_env_and_kubeadm_and_the_clusterfile_keeps_them() {
    let home = Tug::new();
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo");
    let built = home
        .cmd()
        .args(["build", "-t", "tug/demo:v1.28.9", demo])
        .output()
        .unwrap();
    assert!(built.status.success(), "{built:?}");
    let term = Tmux::start(home.home());
    term.type_line(&format!("{}; echo TUG-EXIT=$?", env!("CARGO_BIN_EXE_tug")));

    term.wait_for("the image screen", |s| s.contains("1 image"));
    term.keys(&["Enter"]);
    term.wait_for("the hosts screen", |s| s.contains("2 hosts"));
    term.keys(&["a"]);
    term.type_line(MASTER);
    term.wait_for("the master", |s| row(s, MASTER).contains("master"));
    term.keys(&["Enter"]);
    term.wait_for("the SSH screen", |s| s.contains("3 ssh"));
    term.keys(&["Enter"]);

    // The image's env and the merged subnets (the image's kubeadm.yml).
    let screen = term.wait_for("the image's env and the merged subnets", |s| {
        s.contains("4 configuration")
            && row(s, "registryPort").contains("= 5000")
            && s.contains("pod subnet: 100.64.0.0/10")
    });
    let order: Vec<usize> = ["registryDomain", "registryPort", "registryUsername"]
        .iter()
        .map(|k| screen.find(k).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{screen}");
    assert!(
        row(&screen, "registryPassword").contains("<masked>"),
        "{screen}"
    );
    never_shown(&term);

    // Tiny terminals do not break it.
    term.resize(20, 6);
    std::thread::sleep(std::time::Duration::from_millis(300));
    term.resize(120, 40);
    term.wait_for("the screen again", |s| {
        s.contains("4 configuration") && s.contains("pod subnet: 100.64.0.0/10")
    });

    // registryPort: a new value.
    term.keys(&["Down", "Enter"]);
    for _ in 0.."5000".len() {
        term.keys(&["BSpace"]);
    }
    term.type_line("5443");
    term.wait_for("the override", |s| {
        let r = row(s, "registryPort");
        r.contains("*registryPort") && r.contains("= 5443")
    });

    // registryPassword: typed masked, shown masked.
    term.keys(&["Down", "Down", "Enter"]);
    for _ in 0.."passw0rd".len() {
        term.keys(&["BSpace"]);
    }
    term.text(SECRET);
    term.wait_for("the masked input", |s| {
        s.contains(&format!("value: {}", "•".repeat(SECRET.len())))
    });
    never_shown(&term);
    term.keys(&["Enter"]);
    term.wait_for("the masked override", |s| {
        row(s, "registryPassword").contains("*registryPassword")
    });
    never_shown(&term);

    // The override editor: a YAML error is named with its line.
    term.keys(&["Tab", "Tab", "Tab"]);
    term.wait_for("the editor's keys", |s| s.contains("arrows move"));
    for line in [
        "# lab: wider pods",
        "apiVersion: kubeadm.k8s.io/v1beta3",
        "kind: ClusterConfiguration",
        "networking:",
        "  podSubnet: [10.200.0.0/16",
    ] {
        term.type_line(line);
    }
    term.wait_for("the YAML error", |s| {
        s.contains("line 6 column 1: did not find expected ',' or ']'")
    });
    term.keys(&["C-n"]);
    let screen = term.wait_for("moving on refused", |s| {
        s.contains("not yet: kubeadm override: line 6")
    });
    assert!(screen.contains("4 configuration"), "{screen}");

    // Fixed: the preview merges it.
    term.keys(&["Up", "End"]);
    for _ in 0.."  podSubnet: [10.200.0.0/16".len() {
        term.keys(&["BSpace"]);
    }
    term.text("  podSubnet: 10.200.0.0/16");
    let screen = term.wait_for("the merged podSubnet in the preview", |s| {
        s.contains("ok: 1 document(s)")
            && preview(s)
                .iter()
                .any(|l| l.contains("podSubnet: 10.200.0.0/16"))
    });
    assert!(screen.contains("pod subnet: 10.200.0.0/16"), "{screen}");
    assert!(
        preview(&screen)
            .iter()
            .any(|l| l.contains("ClusterConfiguration") || l.contains("networking:")),
        "{screen}"
    );
    never_shown(&term);

    // The review shows the overrides; s saves them.
    term.keys(&["C-n"]);
    let screen = term.wait_for("the plan", |s| {
        s.contains("5 review") && s.contains("Enter installs")
    });
    assert!(screen.contains("- registryPort=5443"), "{screen}");
    assert!(screen.contains("- registryPassword=******"), "{screen}");
    assert!(screen.contains("podSubnet: 10.200.0.0/16"), "{screen}");
    never_shown(&term);
    term.keys(&["s"]);
    term.wait_for("saved", |s| s.contains("saved "));
    let path = home.home().join("state/clusters/default/Clusterfile");
    let cf = std::fs::read_to_string(&path).unwrap();
    assert!(cf.contains("- registryPort=5443"), "{cf}");
    assert!(cf.contains(&format!("- registryPassword={SECRET}")), "{cf}");
    assert!(
        cf.contains("kind: ClusterConfiguration") && cf.contains("podSubnet: 10.200.0.0/16"),
        "{cf}"
    );
    // The editor's text is saved as typed, its comment included.
    assert!(
        cf.contains("# lab: wider pods\napiVersion: kubeadm.k8s.io/v1beta3\n"),
        "{cf}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "it holds a password");

    // The plan uses them.
    let out = home
        .cmd()
        .args(["plan", "-f"])
        .arg(&path)
        .args(["--kubeadm-config", "init"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(text.contains("podSubnet: 10.200.0.0/16"), "{text}");
    assert!(
        text.contains("sealos.hub:5443"),
        "the registry port: {text}"
    );

    term.keys(&["q"]);
    term.wait_for("the shell", |s| s.contains("TUG-EXIT=0"));
}
