//! Hostile images, written here as OCI layouts, pushed by skopeo to a real
//! docker-registry, pulled by the real `tug` and installed onto real sshd
//! test hosts. A marker directory under /tmp (which the hosts share) is
//! what each image aims at: nothing may be written or deleted there.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use support::fixture;
use support::hosts::Hosts;
use support::registry::Registry;
use support::sh;
use support::tug::Tug;
use tar::{EntryType, Header};
use tug::image::Digest;

const DATA: &str = "/var/lib/sealos/data/c1";

/// One tar entry to write.
enum E<'a> {
    File(&'a str, &'a str, u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    Char(&'a str),
}

fn tar_of(entries: &[E<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(0);
        let (path, kind, link, data): (&str, _, Option<&str>, &[u8]) = match e {
            E::File(p, d, mode) => {
                h.set_mode(*mode);
                h.set_size(d.len() as u64);
                (p, EntryType::Regular, None, d.as_bytes())
            }
            E::Dir(p) => {
                h.set_mode(0o755);
                (p, EntryType::Directory, None, b"")
            }
            E::Symlink(p, t) => (p, EntryType::Symlink, Some(t), b""),
            E::Hardlink(p, t) => (p, EntryType::Link, Some(t), b""),
            E::Char(p) => {
                h.set_mode(0o666);
                h.set_device_major(1).unwrap();
                h.set_device_minor(1).unwrap();
                (p, EntryType::Char, None, b"")
            }
        };
        h.set_entry_type(kind);
        if let Some(t) = link {
            h.set_link_name(t).unwrap();
        }
        h.set_path(path).unwrap();
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, bytes).unwrap();
    gz.finish().unwrap()
}

fn put_blob(layout: &Path, bytes: &[u8]) -> (String, usize) {
    let d = Digest::of(bytes);
    let dir = layout.join("blobs/sha256");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(d.hex()), bytes).unwrap();
    (d.to_string(), bytes.len())
}

/// An OCI layout at `layout` holding one image tagged `v1`: these layers
/// (uncompressed tars, gzipped here), a config with `labels` and `env`,
/// and the honest diff_ids unless `diff_ids` says otherwise.
fn layout(
    layout: &Path,
    layers: &[Vec<u8>],
    labels: serde_json::Value,
    env: &[&str],
    diff_ids: Option<Vec<String>>,
) {
    let honest: Vec<String> = layers.iter().map(|l| Digest::of(l).to_string()).collect();
    let descs: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            let (d, n) = put_blob(layout, &gz(l));
            serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": n})
        })
        .collect();
    let config = serde_json::json!({
        "architecture": std::env::consts::ARCH.replace("x86_64", "amd64").replace("aarch64", "arm64"),
        "os": "linux",
        "config": {"Labels": labels, "Env": env},
        "rootfs": {"type": "layers", "diff_ids": diff_ids.unwrap_or(honest)},
    });
    let (cd, cn) = put_blob(layout, &serde_json::to_vec(&config).unwrap());
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
        "layers": descs,
    }))
    .unwrap();
    let (md, mn) = put_blob(layout, &manifest);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mn,
            "annotations": {"org.opencontainers.image.ref.name": "v1"},
        }],
    });
    std::fs::write(layout.join("index.json"), index.to_string()).unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
}

/// Write the image, push it with skopeo, return its reference.
fn push(reg: &Registry, work: &Path, name: &str, build: impl FnOnce(&Path)) -> String {
    let dir = work.join(name.replace('/', "_"));
    build(&dir);
    let dest = reg.reference(&format!("{name}:v1"));
    sh(Command::new("skopeo")
        .args(["copy", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:v1", dir.display()))
        .arg(format!("docker://{dest}")));
    dest
}

fn patch() -> serde_json::Value {
    serde_json::json!({"sealos.io.type": "patch"})
}

/// A marker dir under /tmp holding one file; `untouched` checks it.
struct Marker(tempfile::TempDir);

impl Marker {
    fn new() -> Marker {
        let dir = tempfile::Builder::new()
            .prefix("tug-trust-")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::write(dir.path().join("f"), "keep").unwrap();
        Marker(dir)
    }

    fn path(&self) -> String {
        self.0.path().display().to_string()
    }

    #[track_caller]
    fn untouched(&self) {
        let names: Vec<_> = std::fs::read_dir(self.0.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["f"], "the marker dir was written");
        let kept = std::fs::read_to_string(self.0.path().join("f")).unwrap();
        assert_eq!(kept, "keep");
    }
}

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

/// [`layout`] with a CMD (run by `sh -c` on master0).
fn layout_with_cmd(d: &Path, layers: &[Vec<u8>], labels: serde_json::Value, cmd: &str) {
    layout(d, layers, labels, &[], None);
    // Rewrite the config with the CMD and re-point the manifest and index.
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("index.json")).unwrap()).unwrap();
    let blob = |digest: &str| {
        d.join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    };
    let md = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blob(&md)).unwrap()).unwrap();
    let cd = manifest["config"]["digest"].as_str().unwrap().to_string();
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blob(&cd)).unwrap()).unwrap();
    config["config"]["Cmd"] = serde_json::json!(["/bin/sh", "-c", cmd]);
    let (cd, cn) = put_blob(d, &serde_json::to_vec(&config).unwrap());
    manifest["config"]["digest"] = cd.into();
    manifest["config"]["size"] = cn.into();
    let (md, mn) = put_blob(d, &serde_json::to_vec(&manifest).unwrap());
    let mut index = index;
    index["manifests"][0]["digest"] = md.into();
    index["manifests"][0]["size"] = mn.into();
    std::fs::write(d.join("index.json"), index.to_string()).unwrap();
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
