//! Images come to an install by themselves, as `sealos run` brings them:
//! pulled from a real registry with the saved login, taken from the bundle
//! next to the running `tug` with no registry at all, or loaded from an
//! image archive named in their place; then installed onto real sshd hosts.

mod support;

use std::process::Command;
use support::fixture::{self, APP, ROOTFS, calls, calls_of};
use support::hosts::{Host, Hosts};
use support::registry::Registry;
use support::tug::{Run, Tug};

/// Whether `kubeadm init` ran on this host.
fn initialised(host: &Host) -> bool {
    let journal = host.exec(&format!("cat {} 2>/dev/null || true", fixture::JOURNAL));
    !calls_of(&calls(&journal), "kubeadm", "init --config").is_empty()
}

/// `PROGRAM run IMAGES --masters host0 --pk KEY --plain` with `tug`'s home.
fn run_on(tug: &Tug, program: Option<&std::path::Path>, images: &[&str], hosts: &Hosts) -> Run {
    let mut cmd = match program {
        Some(p) => {
            let mut c = Command::new(p);
            c.env("TUG_HOME", tug.home())
                .env("HOME", tug.home())
                .stdin(std::process::Stdio::null());
            c
        }
        None => tug.cmd(),
    };
    cmd.arg("run")
        .args(images)
        .args(["--masters", &hosts[0].addr(), "--pk"])
        .arg(&hosts.key)
        .arg("--plain");
    cmd.output().unwrap().into()
}

/// The fixture images, pushed to `reg` under its address (after `login`,
/// when it asks for one); their names there.
fn pushed(reg: &Registry, login: Option<&[&str]>) -> Vec<String> {
    let builder = Tug::new();
    fixture::build_images(&builder);
    if let Some(login) = login {
        builder.run(login).ok();
    }
    [ROOTFS, APP]
        .iter()
        .map(|local| {
            let remote = reg.reference(local);
            builder.run(&["push", local, &remote]).ok();
            remote
        })
        .collect()
}

#[test]
fn run_pulls_images_the_store_lacks_with_the_saved_login() {
    let reg = Registry::start_with_auth("alice", "wonder land");
    let login = ["login", &reg.addr, "-u", "alice", "-p", "wonder land"];
    let remote = pushed(&reg, Some(&login));
    let hosts = Hosts::start(1);
    let tug = Tug::new();
    let images: Vec<&str> = remote.iter().map(String::as_str).collect();

    let refused = run_on(&tug, None, &images, &hosts);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains(&format!(
            "{} is not in the store and cannot be pulled",
            remote[0]
        )),
        "{}",
        refused.stderr
    );
    assert!(!initialised(&hosts[0]), "nothing ran without the images");

    tug.run(&login).ok();
    let out = run_on(&tug, None, &images, &hosts).ok();
    for r in &remote {
        assert!(
            out.stderr.contains(&format!("pulled {r} ")),
            "{}",
            out.stderr
        );
    }
    assert!(initialised(&hosts[0]));
}

#[test]
fn the_tug_of_a_bundle_installs_its_images_with_no_registry() {
    let mut reg = Registry::start();
    let remote = pushed(&reg, None);
    let builder = Tug::new();
    for r in &remote {
        builder.run(&["pull", r]).ok();
    }
    let tmp = tempfile::Builder::new()
        .prefix("tug-run-bundle-")
        .tempdir()
        .unwrap();
    let stick = tmp.path().join("stick");
    let mut args = vec!["bundle", "create", "-o", stick.to_str().unwrap()];
    args.extend(remote.iter().map(String::as_str));
    builder.run(&args).ok();
    reg.kill();

    let hosts = Hosts::start(1);
    let far = Tug::new();
    let images: Vec<&str> = remote.iter().map(String::as_str).collect();
    let out = run_on(&far, Some(&stick.join("tug")), &images, &hosts).ok();
    assert!(
        out.stderr.contains(&format!(
            "from the bundle at {} (verified)",
            stick.display()
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("pulled "), "{}", out.stderr);
    assert!(initialised(&hosts[0]));
}

#[test]
fn run_takes_an_image_archive_in_place_of_an_image() {
    let builder = Tug::new();
    fixture::build_images(&builder);
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("k8s.tar");
    builder
        .run(&["save", "-o", archive.to_str().unwrap(), ROOTFS, APP])
        .ok();

    let hosts = Hosts::start(1);
    let tug = Tug::new();
    let out = run_on(&tug, None, &[archive.to_str().unwrap()], &hosts).ok();
    assert!(
        out.stderr
            .contains(&format!("from the archive {}", archive.display())),
        "{}",
        out.stderr
    );
    assert!(initialised(&hosts[0]));
    let saved =
        std::fs::read_to_string(tug.home().join("state/clusters/default/Clusterfile")).unwrap();
    assert!(
        saved.contains(ROOTFS) && !saved.contains("k8s.tar"),
        "the Clusterfile names the images, not the archive:\n{saved}"
    );
}
