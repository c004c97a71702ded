//! Hostile images, written here as OCI layouts, pushed by skopeo to a real
//! docker-registry, pulled by the real `tug` and installed onto real sshd
//! test hosts. A marker directory under /tmp (which the hosts share) is
//! what each image aims at: nothing may be written or deleted there.

#[path = "trust_images/oci.rs"]
mod oci;
mod support;

use oci::{E, Marker, layout, layout_with_cmd, patch, push, tar_of};
use std::process::Command;
use support::fixture;
use support::hosts::Hosts;
use support::registry::Registry;
use support::sh;
use support::tug::Tug;
use tug::image::Digest;

const DATA: &str = "/var/lib/sealos/data/c1";

#[test]
fn hostile_images_are_refused_at_pull_naming_image_layer_and_entry() {
    let reg = Registry::start();
    let tug = Tug::new();
    let work = tempfile::tempdir().unwrap();
    let marker = Marker::new();
    let m = marker.path();
    let climb = format!("../../../../../../../..{m}");
    let link = |target: &str| tar_of(&[E::Symlink("a", target)]);
    let cases: Vec<(&str, Vec<Vec<u8>>, &str)> = vec![
        (
            "abs-link-then-write",
            vec![link(&m), tar_of(&[E::File("a/x", "pwned", 0o644)])],
            "\"a/x\" would write through the symlink \"a\"",
        ),
        (
            "relative-link-then-write",
            vec![link(&climb), tar_of(&[E::File("a/x", "pwned", 0o644)])],
            "\"a/x\" would write through the symlink \"a\"",
        ),
        (
            "same-layer-link-then-write",
            vec![tar_of(&[
                E::Symlink("a", &m),
                E::File("a/x", "pwned", 0o644),
            ])],
            "an earlier entry of the same layer",
        ),
        (
            "whiteout-through-link",
            vec![link(&m), tar_of(&[E::File("a/.wh.f", "", 0o644)])],
            "\"a/f\" would delete through the symlink \"a\"",
        ),
        (
            "opaque-under-link",
            vec![
                tar_of(&[E::Symlink("a", &m)]),
                tar_of(&[E::File("a/sub/.wh..wh..opq", "", 0o644)]),
            ],
            "would delete through the symlink \"a\"",
        ),
        (
            "hardlink-through-link",
            vec![link(&m), tar_of(&[E::Hardlink("h", "a/f")])],
            "would write through the symlink \"a\"",
        ),
        (
            "device-node",
            vec![tar_of(&[E::Dir("dev"), E::Char("dev/mem")])],
            "\"dev/mem\" is a character device",
        ),
    ];
    for (name, layers, why) in cases {
        let r = push(&reg, work.path(), &format!("evil/{name}"), |d| {
            layout(d, &layers, patch(), &[], None)
        });
        let run = tug.run(&["pull", &r]).fails();
        assert!(
            run.stderr.contains(&format!("image {r} refused"))
                && run.stderr.contains("layer sha256:")
                && run.stderr.contains(why),
            "{name}: {}",
            run.stderr
        );
        let listed = tug.run(&["images"]).ok().stdout;
        assert!(!listed.contains(name), "{name} is still named: {listed}");
    }
    // A layer whose config diff_id lies.
    let layers = vec![tar_of(&[E::File("bin/x", "x", 0o755)])];
    let lie = vec![Digest::of(b"something else").to_string()];
    let r = push(&reg, work.path(), "evil/diff-id", |d| {
        layout(d, &layers, patch(), &[], Some(lie.clone()))
    });
    let run = tug.run(&["pull", &r]).fails();
    assert!(
        run.stderr
            .contains(&format!("the config says its content is {}", lie[0])),
        "{}",
        run.stderr
    );
    marker.untouched();
}

/// `tug run` of the fixture rootfs and `extra` on one host.
fn install(tug: &Tug, hosts: &Hosts, extra: &[&str]) -> support::tug::Run {
    let mut args = vec!["run", fixture::ROOTFS];
    args.extend(extra);
    let (addr, key) = (hosts[0].addr(), hosts.key.display().to_string());
    args.extend([
        "--masters",
        &addr,
        "--pk",
        &key,
        "--cluster",
        "c1",
        "--plain",
    ]);
    tug.run(&args)
}

#[test]
fn a_patch_writing_through_another_patchs_symlink_is_refused_at_install() {
    let reg = Registry::start();
    let hosts = Hosts::start(1);
    let tug = Tug::new();
    fixture::build_images(&tug);
    let work = tempfile::tempdir().unwrap();
    let marker = Marker::new();
    let m = marker.path();
    let links = push(&reg, work.path(), "p/links", |d| {
        let l = tar_of(&[E::Dir("opt"), E::Symlink("opt/ext", &m)]);
        layout(d, &[l], patch(), &[], None)
    });
    let writes = push(&reg, work.path(), "p/writes", |d| {
        let l = tar_of(&[E::File("opt/ext/f", "pwned", 0o644)]);
        layout(d, &[l], patch(), &[], None)
    });
    // Each image alone is harmless, so both are pulled.
    tug.run(&["pull", &links]).ok();
    tug.run(&["pull", &writes]).ok();
    let run = install(&tug, &hosts, &[&links, &writes]).fails();
    assert!(
        run.stderr.contains(&format!("image {writes}"))
            && run
                .stderr
                .contains("\"opt/ext/f\" would write through the symlink \"opt/ext\"")
            && run.stderr.contains(&format!("of {links}")),
        "{}",
        run.stderr
    );
    assert_eq!(
        hosts[0]
            .exec(&format!("ls -A {DATA}/rootfs 2>/dev/null | wc -l"))
            .trim(),
        "0"
    );
    marker.untouched();
}

#[test]
fn application_registry_data_through_a_rootfs_symlink_is_refused_at_install() {
    let reg = Registry::start();
    let hosts = Hosts::start(1);
    let tug = Tug::new();
    fixture::build_images(&tug);
    let work = tempfile::tempdir().unwrap();
    let marker = Marker::new();
    let m = marker.path();
    let links = push(&reg, work.path(), "p/registry-link", |d| {
        let l = tar_of(&[E::Dir("registry"), E::Symlink("registry/docker", &m)]);
        layout(d, &[l], patch(), &[], None)
    });
    let app = push(&reg, work.path(), "apps/data", |d| {
        let l = tar_of(&[E::File("registry/docker/pwned", "x", 0o644)]);
        let labels = serde_json::json!({"sealos.io.type": "application"});
        layout(d, &[l], labels, &[], None)
    });
    tug.run(&["pull", &links]).ok();
    tug.run(&["pull", &app]).ok();
    // The application's registry data is merged into the rootfs's registry/.
    let run = install(&tug, &hosts, &[&links, &app]).fails();
    assert!(
        run.stderr.contains(&format!("image {app}"))
            && run.stderr.contains(
                "\"registry/docker/pwned\" would write through the symlink \"registry/docker\""
            ),
        "{}",
        run.stderr
    );
    marker.untouched();
}

#[test]
fn whiteouts_by_the_thousand_setuid_files_and_planted_links_install_safely() {
    let reg = Registry::start();
    let hosts = Hosts::start(1);
    let tug = Tug::new();
    fixture::build_images(&tug);
    let work = tempfile::tempdir().unwrap();
    let marker = Marker::new();
    let planted = format!("{}/planted", marker.path());
    let names: Vec<String> = (0..30_000).map(|i| format!("many/f{i}")).collect();
    let whiteouts: Vec<String> = (0..30_000).map(|i| format!("many/.wh.f{i}")).collect();
    let r = push(&reg, work.path(), "p/busy", |d| {
        let mut first: Vec<E<'_>> = names.iter().map(|n| E::File(n, "x", 0o644)).collect();
        first.extend([
            E::File("bin/suid", "#!/bin/sh\n", 0o6755),
            E::Symlink("etc/registry_config.yml.tug-tmp", &planted),
            E::File("etc/secret.conf.tmpl", "token: {{ .tokenValue }}\n", 0o644),
        ]);
        let second: Vec<E<'_>> = whiteouts.iter().map(|n| E::File(n, "", 0o644)).collect();
        let layers = [tar_of(&first), tar_of(&second)];
        layout(d, &layers, patch(), &["tokenValue=s3cr3t-t0ken"], None)
    });
    let pulled = tug.run(&["pull", &r]).ok();
    assert!(
        pulled
            .stderr
            .contains("bin/suid: setuid/setgid bits are dropped on the hosts"),
        "{}",
        pulled.stderr
    );
    let run = install(&tug, &hosts, &[&r]).ok();
    assert!(run.stderr.contains("cluster c1 is ready"), "{}", run.stderr);
    let h = &hosts[0];
    assert_eq!(
        h.exec(&format!("ls -A {DATA}/rootfs/many | wc -l")).trim(),
        "0"
    );
    assert_eq!(
        h.exec(&format!("stat -c %a {DATA}/rootfs/bin/suid")).trim(),
        "755"
    );
    assert_eq!(
        h.exec(&format!("stat -c %a {DATA}/rootfs/etc/secret.conf"))
            .trim(),
        "600"
    );
    let config = h.exec(&format!("stat -c %F {DATA}/rootfs/etc/registry_config.yml"));
    assert_eq!(config.trim(), "regular file");
    marker.untouched();
}

#[test]
fn a_symlinked_etc_stops_tugs_own_writes() {
    let reg = Registry::start();
    let hosts = Hosts::start(1);
    let tug = Tug::new();
    fixture::build_images(&tug);
    let work = tempfile::tempdir().unwrap();
    let marker = Marker::new();
    let target = format!("{}/etc", marker.path());
    let r = push(&reg, work.path(), "p/etc-link", |d| {
        let l = tar_of(&[E::File(".wh.etc", "", 0o644), E::Symlink("etc", &target)]);
        layout(d, &[l], patch(), &[], None)
    });
    tug.run(&["pull", &r]).ok();
    let run = install(&tug, &hosts, &[&r]).fails();
    assert!(
        run.stderr
            .contains("is a symbolic link; not writing through it"),
        "{}",
        run.stderr
    );
    marker.untouched();
}

#[test]
fn host_output_cannot_drive_the_terminal() {
    let reg = Registry::start();
    let hosts = Hosts::start(1);
    let tug = Tug::new();
    fixture::build_images(&tug);
    let work = tempfile::tempdir().unwrap();
    let loud = push(&reg, work.path(), "apps/loud2", |d| {
        let l = tar_of(&[E::File("README", "loud\n", 0o644)]);
        let labels = serde_json::json!({"sealos.io.type": "application"});
        layout_with_cmd(
            d,
            &[l],
            labels,
            "printf '\\033]0;pwned\\007\\033[2Jboom\\n' >&2; exit 3",
        );
    });
    tug.run(&["pull", &loud]).ok();
    let run = install(&tug, &hosts, &[&loud]).fails();
    assert!(run.stderr.contains("boom"), "{}", run.stderr);
    for (what, text) in [("stderr", &run.stderr), ("stdout", &run.stdout)] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{what}: {text:?}"
        );
    }
    let logs = sh(Command::new("grep").args(["-rlF", "boom"]).arg(tug.home()));
    assert!(!logs.is_empty(), "the failure is logged");
    for log in logs.lines() {
        let bytes = std::fs::read(log).unwrap();
        assert!(!bytes.contains(&0x1b), "{log} holds an escape");
    }
}

#[test]
fn a_layout_dir_tag_names_a_tag_of_the_layouts_repository() {
    let tug = Tug::new();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("Kube_Layout");
    let l = tar_of(&[E::File("bin/x", "x", 0o755)]);
    layout(&dir, &[l], patch(), &[], None);
    let run = tug.run(&["load", "-i", dir.to_str().unwrap()]).ok();
    assert!(
        run.stdout.contains("loaded localhost/kube-layout:v1"),
        "{}",
        run.stdout
    );
    let listed = tug.run(&["images"]).ok().stdout;
    assert!(!listed.contains("library/v1"), "{listed}");
}
