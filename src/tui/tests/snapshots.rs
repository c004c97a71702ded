//! Every screen drawn at 80×24 and 160×48 into ratatui's `TestBackend`,
//! compared with the snapshots beside this file (`insta`): a change to
//! what a screen shows is a reviewed change of a `.snap` file.

use super::{A, B, app as installing, at, ev, started};
use crate::engine::event::{EventKind, FailCause, StepError};
use crate::engine::plan::{HostId, Phase, Plan};
use crate::engine::runner::StepFailure;
use crate::secret::Secret;
use crate::tui::action::{Action, RunOutcome};
use crate::tui::app::App;
use crate::tui::target::Target;
use crate::tui::testkit::{ctrl, draw, press, typed};
use crate::tui::theme::Theme;
use crate::tui::wizard::config::job::{Preview, Previewed};
use crate::tui::wizard::image::Choice;
use crate::tui::wizard::ssh::Tested;
use crate::tui::wizard::{Planned, Reply, Wizard};
use crossterm::event::KeyCode;

/// Snapshot `app` at both sizes.
pub(super) fn snap(name: &str, app: &App) {
    for (w, h) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), draw(app, w, h));
    }
}

pub(super) const IMAGE: &str = "registry.example.com/tug/kubernetes:v1.28.9";

pub(super) fn wizard() -> App {
    let choices = vec![
        Choice {
            name: IMAGE.into(),
            details: vec![
                "type: rootfs".into(),
                "platforms: linux/amd64, linux/arm64".into(),
                "size: 612.4 MiB".into(),
            ],
            archs: vec!["amd64".into(), "arm64".into()],
            kind: Some(crate::image::cluster_image::ImageType::Rootfs),
        },
        Choice {
            name: "registry.example.com/tug/calico-with-a-long-name:v3.26.1".into(),
            details: vec!["type: application".into()],
            archs: vec!["amd64".into()],
            kind: Some(crate::image::cluster_image::ImageType::Application),
        },
    ];
    App::wizard(Wizard::new(choices), Theme::default())
}

/// The wizard on its hosts screen with a master and two nodes.
fn at_hosts() -> App {
    let mut app = wizard();
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "192.168.100.201\n");
    press(&mut app, KeyCode::Char('n'));
    typed(&mut app, "192.168.100.202:2222,fd00:1234:5678:9abc::202\n");
    app
}

/// On the SSH screen, with one host of each test outcome.
fn at_ssh() -> App {
    let mut app = at_hosts();
    press(&mut app, KeyCode::Enter);
    typed(&mut app, "secret");
    ctrl(&mut app, 't');
    let replies = [
        (
            "192.168.100.201",
            Tested::Ok {
                key: "ssh-ed25519 SHA256:Nq2m8J3gk7Yt1vXc0wQz5bR9pLs4HdF6aEiUoK2jM8w".into(),
                arch: Some("amd64".into()),
            },
        ),
        (
            "192.168.100.202",
            Tested::NewKey {
                key: "ecdsa-sha2-nistp256 SHA256:x7Ty2Wq9Pz4Lm1Kb8Vn3Cd6Fg0Hj5Rs2Ue7Io4Ap9Bw".into(),
                fingerprint: "SHA256:x7Ty2Wq9Pz4Lm1Kb8Vn3Cd6Fg0Hj5Rs2Ue7Io4Ap9Bw".into(),
            },
        ),
        (
            "fd00:1234:5678:9abc::202",
            Tested::Failed(
                "connect fd00:1234:5678:9abc::202:22: connection refused (is sshd running and the port right?)".into(),
            ),
        ),
    ];
    for (host, t) in replies {
        app.update(Action::Wizard(Reply::Tested(host.into(), t)));
    }
    app
}

fn previewed() -> Reply {
    let env = [
        ("registryDomain", "sealos.hub"),
        ("registryPort", "5000"),
        ("registryPassword", "passw0rd"),
        ("criData", "/var/lib/containerd"),
    ];
    Reply::Previewed(Previewed {
        image: IMAGE.into(),
        env: Ok(env
            .iter()
            .map(|(k, v)| (k.to_string(), Secret::new(*v)))
            .collect()),
        inputs: None,
        preview: Ok(Preview {
            lines: vec![
                "apiVersion: kubeadm.k8s.io/v1beta3".into(),
                "kind: ClusterConfiguration".into(),
                "networking:".into(),
                "  podSubnet: 100.64.0.0/10".into(),
                "  serviceSubnet: 10.96.0.0/22".into(),
            ],
            subnets: [Some("100.64.0.0/10".into()), Some("10.96.0.0/22".into())],
        }),
    })
}

fn at_config() -> App {
    let mut app = at_ssh();
    press(&mut app, KeyCode::Enter);
    app.update(Action::Wizard(previewed()));
    app
}

#[test]
fn the_image_screen() {
    snap("image", &wizard());
}

#[test]
fn the_hosts_screen() {
    snap("hosts", &at_hosts());
}

#[test]
fn the_hosts_screen_with_a_bad_address() {
    let mut app = at_hosts();
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "10.0.0.300\n");
    snap("hosts_error", &app);
}

#[test]
fn the_ssh_screen_with_each_test_outcome() {
    snap("ssh", &at_ssh());
}

#[test]
fn the_configuration_screen() {
    snap("config", &at_config());
}

#[test]
fn the_configuration_screen_naming_a_misspelled_kubeadm_field() {
    let mut app = at_config();
    for _ in 0..3 {
        press(&mut app, KeyCode::Tab);
    }
    typed(
        &mut app,
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n  dnsDomian: x.local",
    );
    let screen = crate::tui::testkit::draw(&app, 160, 48);
    assert!(screen.contains("did you mean dnsDomain?"), "{screen}");
    snap("config_typo", &app);
}

#[test]
fn the_review_screen() {
    let mut app = at_config();
    ctrl(&mut app, 'n');
    let target = Target {
        cluster: "default".into(),
        image: IMAGE.into(),
        plan: Plan::default(),
        roles: Default::default(),
        kubeconfig: "/k".into(),
        doing: Default::default(),
    };
    let lines = (0..40).map(|i| format!("line {i} of the plan")).collect();
    app.update(Action::Wizard(Reply::Planned(Ok(Planned {
        target,
        lines,
    }))));
    snap("review", &app);
}

#[test]
fn the_help_overlay() {
    let mut app = at_hosts();
    press(&mut app, KeyCode::Char('?'));
    snap("help", &app);
}

#[test]
fn the_dashboard_while_sending_and_initialising() {
    let mut app = installing();
    let progress = |app: &App, ms, done| {
        ev(
            app,
            A,
            Phase::Distribute,
            "send",
            ms,
            EventKind::Progress {
                done,
                total: Some(4_000_000),
            },
        )
    };
    let actions = vec![
        started(&app, A, Phase::Distribute, "send", 0),
        progress(&app, 0, 0),
        progress(&app, 1000, 1_500_000),
        started(&app, B, Phase::Distribute, "send", 0),
        ev(&app, B, Phase::Distribute, "send", 500, EventKind::Finished),
        started(&app, B, Phase::Init, "init", 600),
        Action::Tick(at(2000)),
    ];
    for a in actions {
        app.update(a);
    }
    snap("dashboard", &app);
}

#[test]
fn the_done_screen_after_a_failure() {
    let mut app = installing();
    let step = app
        .target
        .as_ref()
        .unwrap()
        .plan
        .steps()
        .next()
        .unwrap()
        .id
        .clone();
    let failure = |host: &str, code| StepFailure {
        host: HostId::new(host),
        phase: Phase::Init,
        step: step.clone(),
        error: StepError {
            command: "bash init.sh".into(),
            cause: FailCause::Exit(code),
            last_lines: vec![format!(
                "{host} broke: kubeadm init timed out waiting for the API server"
            )],
        },
        log: format!("/state/logs/{host}.log").into(),
    };
    let failures = vec![failure(A, 3), failure(B, 4)];
    app.update(Action::RunDone(RunOutcome::Failed(failures)));
    snap("done_failed", &app);
}

#[test]
fn the_done_screen_when_ready() {
    let mut app = installing();
    app.update(Action::RunDone(RunOutcome::Done(Default::default())));
    snap("done_ready", &app);
}

/// Every screen the snapshots show, as the apps that show them.
fn every_screen() -> Vec<App> {
    let mut help = at_hosts();
    press(&mut help, KeyCode::Char('?'));
    vec![
        wizard(),
        at_hosts(),
        at_ssh(),
        at_config(),
        help,
        installing(),
    ]
}

#[test]
fn every_screen_draws_down_to_60x15_keeping_the_footer_help() {
    for app in every_screen() {
        for (w, h) in [(60, 15), (80, 24), (61, 17)] {
            let screen = draw(&app, w, h);
            let footer = screen.lines().last().unwrap();
            assert!(footer.trim_end().ends_with("? help"), "{w}x{h}: {screen}");
        }
    }
}

#[test]
fn at_80x24_names_fingerprints_errors_and_the_trust_hint_are_whole() {
    let image = draw(&wizard(), 80, 24);
    assert!(
        image.contains("registry.example.com/tug/calico-with-a-long-name:v3.26.1"),
        "{image}"
    );
    let ssh = draw(&at_ssh(), 80, 24);
    for whole in [
        "SHA256:Nq2m8J3gk7Yt1vXc0wQz5bR9pLs4HdF6aEiUoK2jM8w",
        "SHA256:x7Ty2Wq9Pz4Lm1Kb8Vn3Cd6Fg0Hj5Rs2Ue7Io4Ap9Bw",
        "Ctrl-Y trusts the new host keys shown",
        "(is sshd running and the port right?)",
    ] {
        assert!(ssh.contains(whole), "{whole}: {ssh}");
    }
}

/// An install of hosts whose addresses differ only at their ends.
fn installing_long_hosts() -> App {
    let roles = [
        "fd00:1234:5678:9abc:def0::11",
        "fd00:1234:5678:9abc:def0::12",
    ]
    .into_iter()
    .map(|h| (HostId::new(h), "master".to_string()))
    .collect();
    let target = Target {
        cluster: "long".into(),
        image: IMAGE.into(),
        plan: Plan::default(),
        roles,
        kubeconfig: "/k".into(),
        doing: Default::default(),
    };
    App::installing(target, false, Theme::default()).0
}

#[test]
fn host_rows_stay_apart_and_bars_fit_at_every_width() {
    let app = installing_long_hosts();
    for w in [60, 80, 100, 160] {
        let screen = draw(&app, w, 24);
        for end in ["::11 ", "::12 "] {
            assert!(screen.contains(end), "{w}: {screen}");
        }
        let row = screen.lines().find(|l| l.contains("::11 ")).unwrap();
        assert!(row.contains("0%"), "the percentage fits at {w}: {row}");
    }
}

#[test]
fn the_question_before_leaving_with_input() {
    let mut app = at_hosts();
    ctrl(&mut app, 'c');
    snap("leave", &app);
}

#[test]
fn the_ssh_test_results_scroll_with_pgdn_and_pgup() {
    let mut app = at_ssh();
    assert!(draw(&app, 80, 24).contains("192.168.100.201  ok"));
    press(&mut app, KeyCode::PageDown);
    let screen = draw(&app, 80, 24);
    assert!(
        !screen.contains("192.168.100.201  ok") && screen.contains("connection refused"),
        "{screen}"
    );
    press(&mut app, KeyCode::PageUp);
    assert!(draw(&app, 80, 24).contains("192.168.100.201  ok"));
}
