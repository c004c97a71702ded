//! The SSH layer against real OpenSSH test hosts: auth methods, host key
//! trust and clear errors here; running commands in `ssh/exec.rs`.

#[path = "ssh/exec.rs"]
mod exec;
mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::hosts::{Host, Hosts, SUDO_USER, keygen, random_hex};
use tug::secret::Secret;
use tug::ssh::{Auth, HostKeyPolicy, KnownHosts, Line, Session, SshError, Stream, Target};

fn root(h: &Host) -> Target {
    Target::new(
        &h.ip,
        "root",
        Auth::Key {
            path: h.key.clone(),
            passphrase: None,
        },
    )
    .port(h.port)
}

fn sudo_user(h: &Host, password: &str) -> Target {
    Target::new(&h.ip, SUDO_USER, Auth::Password(Secret::from(password))).port(h.port)
}

fn known(hosts: &Hosts) -> KnownHosts {
    KnownHosts::with_files(known_file(hosts), vec![])
}

fn known_file(hosts: &Hosts) -> PathBuf {
    hosts.dir().join("tug-home/known_hosts")
}

async fn connect(t: Target, hosts: &Hosts) -> Session {
    Session::connect(t, known(hosts), HostKeyPolicy::AcceptNew)
        .await
        .expect("connect")
}

fn texts(lines: &[Line], stream: Stream) -> Vec<&str> {
    lines
        .iter()
        .filter(|l| l.stream == stream)
        .map(|l| l.text.as_str())
        .collect()
}

#[tokio::test]
async fn passphrase_protected_key() {
    let hosts = Hosts::start(1);
    let h = &hosts[0];
    let path = hosts.dir().join("locked_key");
    let pass = random_hex(8);
    keygen(&path, &pass);
    h.authorize(&std::fs::read_to_string(path.with_extension("pub")).unwrap());
    let with = |p: Option<&str>| {
        Target::new(
            &h.ip,
            "root",
            Auth::Key {
                path: path.clone(),
                passphrase: p.map(Secret::from),
            },
        )
        .port(h.port)
    };
    let s = connect(with(Some(&pass)), &hosts).await;
    assert!(s.output("true").await.unwrap().0.success());
    for (p, says) in [(None, "no passphrase"), (Some("wrong"), "wrong passphrase")] {
        let err = Session::connect(with(p), known(&hosts), HostKeyPolicy::AcceptNew)
            .await
            .err()
            .unwrap();
        assert!(matches!(err, SshError::Key { .. }), "{err}");
        assert!(
            err.to_string().contains(says) && err.to_string().contains(&h.addr()),
            "{err}"
        );
        assert!(!err.to_string().contains(&pass));
    }
}

#[tokio::test]
async fn unknown_key_is_recorded_then_trusted() {
    let hosts = Hosts::start(1);
    let h = &hosts[0];
    let first = connect(root(h), &hosts).await;
    let new = first.new_host_key().expect("first use reports the key");
    assert_eq!(new.fingerprint, h.fingerprint());
    assert_eq!(new.addr, h.addr());
    let file = std::fs::read_to_string(known_file(&hosts)).unwrap();
    assert!(file.contains(h.host_public_key().as_str()), "{file}");
    let again = Session::connect(root(h), known(&hosts), HostKeyPolicy::Strict)
        .await
        .unwrap();
    assert_eq!(again.new_host_key(), None);
    assert_eq!(
        std::fs::read_to_string(known_file(&hosts)).unwrap(),
        file,
        "recorded twice"
    );
}

#[tokio::test]
async fn changed_host_key_is_refused_naming_both_fingerprints() {
    let mut hosts = Hosts::start(1);
    drop(connect(root(&hosts[0]), &hosts).await);
    let old = hosts[0].fingerprint();
    hosts[0].regenerate_host_key();
    let new = hosts[0].fingerprint();
    for policy in [HostKeyPolicy::AcceptNew, HostKeyPolicy::Strict] {
        let err = Session::connect(root(&hosts[0]), known(&hosts), policy)
            .await
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(
            matches!(err, SshError::HostKeyChanged { line: 1, .. }),
            "{msg}"
        );
        assert!(
            msg.contains(&old) && msg.contains(&new) && msg.contains(&hosts[0].addr()),
            "{msg}"
        );
    }
}

#[tokio::test]
async fn strict_and_ask_policies_for_unknown_keys() {
    let hosts = Hosts::start(1);
    let h = &hosts[0];
    let err = Session::connect(root(h), known(&hosts), HostKeyPolicy::Strict)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, SshError::HostKeyUnknown { .. }), "{err}");
    assert!(err.to_string().contains(&h.fingerprint()) && err.to_string().contains(&h.addr()));
    assert!(!known_file(&hosts).exists());

    let asked = Arc::new(AtomicUsize::new(0));
    let mut slow = root(h);
    slow.connect_timeout = std::time::Duration::from_secs(1);
    let root = |_: &Host| slow.clone();
    let ask = |answer: bool| {
        let (asked, fp) = (asked.clone(), h.fingerprint());
        HostKeyPolicy::Ask(Arc::new(move |k| {
            assert_eq!(k.fingerprint, fp);
            asked.fetch_add(1, Ordering::SeqCst);
            // A human takes longer than the connect timeout; that must not fail the connect.
            Box::pin(async move {
                tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
                answer
            })
        }))
    };
    assert!(
        Session::connect(root(h), known(&hosts), ask(false))
            .await
            .is_err()
    );
    assert!(!known_file(&hosts).exists());
    Session::connect(root(h), known(&hosts), ask(true))
        .await
        .unwrap();
    Session::connect(root(h), known(&hosts), ask(true))
        .await
        .unwrap();
    assert_eq!(
        asked.load(Ordering::SeqCst),
        2,
        "asked again for a recorded key"
    );
}

#[tokio::test]
async fn unreachable_host_and_wrong_password_name_the_host() {
    let mut hosts = Hosts::start(1);
    let pw = hosts[0].password.clone();
    let err = Session::connect(
        sudo_user(&hosts[0], "not-it"),
        known(&hosts),
        HostKeyPolicy::AcceptNew,
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(err, SshError::Auth { .. }), "{err}");
    assert!(!err.is_connection());
    assert!(
        err.to_string().contains(&hosts[0].addr()) && !err.to_string().contains("not-it"),
        "{err}"
    );
    assert!(!err.to_string().contains(&pw));
    hosts[0].kill();
    let err = Session::connect(root(&hosts[0]), known(&hosts), HostKeyPolicy::AcceptNew)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(err, SshError::Connect { .. }) && err.is_connection(),
        "{err}"
    );
    assert!(err.to_string().contains(&hosts[0].addr()), "{err}");

    // Something that takes the TCP connection but never speaks SSH.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut mute = root(&hosts[0]).port(silent.local_addr().unwrap().port());
    mute.host = "127.0.0.1".into();
    mute.connect_timeout = std::time::Duration::from_secs(1);
    let addr = mute.addr();
    let err = Session::connect(mute, known(&hosts), HostKeyPolicy::AcceptNew)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, SshError::Timeout { secs: 1, .. }), "{err}");
    assert!(err.to_string().contains(&addr), "{err}");
}

#[tokio::test]
async fn agent_keys() {
    let hosts = Hosts::start(1);
    let sock = hosts.dir().join("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .spawn()
        .unwrap();
    let up = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        sock.exists()
    });
    assert!(up, "ssh-agent did not start");
    let agent_auth = Auth::Agent {
        socket: Some(sock.clone()),
    };
    let target = Target::new(&hosts[0].ip, "root", agent_auth).port(hosts[0].port);
    let empty = Session::connect(target.clone(), known(&hosts), HostKeyPolicy::AcceptNew)
        .await
        .err()
        .unwrap();
    assert!(matches!(empty, SshError::Auth { .. }), "{empty}");
    support::sh(
        std::process::Command::new("ssh-add")
            .arg(&hosts.key)
            .env("SSH_AUTH_SOCK", &sock),
    );
    let s = connect(target, &hosts).await;
    assert_eq!(
        texts(&s.output("id -u").await.unwrap().1, Stream::Stdout),
        ["0"]
    );
    agent.kill().unwrap();
    agent.wait().unwrap();
}
