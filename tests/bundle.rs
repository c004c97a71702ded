//! Air-gapped bundles with real parts: fixture images built by the real
//! `tug build`, bundles written by the real binary, checked by coreutils'
//! `sha256sum -c` and skopeo, loaded under `unshare -n` (no network at all)
//! into a fresh TUG_HOME, and the bundled binary run.

mod support;

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::fixture::{self, APP, ROOTFS};
use support::sh;
use support::tug::{Run, Tug};
use tug::image::Store;

/// A TUG_HOME with both fixture images, and a temp dir for bundles.
fn setup() -> (Tug, tempfile::TempDir) {
    let tug = Tug::new();
    fixture::build_images(&tug);
    let out = tempfile::Builder::new()
        .prefix("tug-bundle-")
        .tempdir()
        .unwrap();
    (tug, out)
}

fn create(tug: &Tug, out: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["bundle", "create", "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    tug.run(&args)
}

/// Run `program args` with TUG_HOME=`home` in a network namespace of its
/// own (no interface but a downed loopback): nothing can be reached.
fn offline(home: &Path, program: &Path, args: &[&str]) -> Run {
    Command::new("unshare")
        .arg("-n")
        .arg(program)
        .args(args)
        .env("TUG_HOME", home)
        .env("HOME", home)
        .stdin(Stdio::null())
        .output()
        .expect("run unshare")
        .into()
}

fn stored_names(tug: &Tug) -> Vec<String> {
    let store = Store::open(&tug.store()).unwrap();
    let mut names: Vec<String> = store
        .names()
        .unwrap()
        .into_iter()
        .map(|(r, _)| r.to_string())
        .collect();
    names.sort();
    names
}

fn full(name: &str) -> String {
    format!("docker.io/{name}")
}

fn flip_byte(path: &Path, at: u64) {
    let mut f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut b = [0u8];
    std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(at)).unwrap();
    f.read_exact(&mut b).unwrap();
    std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(at)).unwrap();
    f.write_all(&[b[0] ^ 0x20]).unwrap();
}

#[test]
fn directory_bundle_checks_out_and_loads_offline() {
    let (tug, tmp) = setup();
    let dir = tmp.path().join("stick");
    let password = "s3cret-Passw0rd";
    let made = create(&tug, &dir, &[ROOTFS, APP, "-p", password]).ok();
    assert!(made.stderr.contains("left out"), "{}", made.stderr);

    let mut files: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "Clusterfile",
            "README.txt",
            "SHA256SUMS",
            "images.oci.tar",
            "tug"
        ]
    );
    let mode = fs::metadata(dir.join("tug")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
    let grep = Command::new("grep")
        .args(["-rlF", password])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(grep.status.code(), Some(1), "the password is in {grep:?}");

    // Coreutils and skopeo read what tug wrote.
    let checked = sh(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&dir));
    for f in ["tug", "images.oci.tar", "Clusterfile", "README.txt"] {
        assert!(checked.contains(&format!("{f}: OK")), "{checked}");
    }
    let archive = dir.join("images.oci.tar");
    for name in [ROOTFS, APP] {
        let inspected = sh(Command::new("skopeo").arg("inspect").arg(format!(
            "oci-archive:{}:{}",
            archive.display(),
            full(name)
        )));
        let doc: serde_json::Value = serde_json::from_str(&inspected).unwrap();
        assert!(doc["Digest"].as_str().unwrap().starts_with("sha256:"));
    }

    // The template: both images, placeholder hosts, no password, and tug reads it.
    let cf = fs::read_to_string(dir.join("Clusterfile")).unwrap();
    assert!(
        cf.contains(&full(ROOTFS)) && cf.contains(&full(APP)),
        "{cf}"
    );
    assert!(
        cf.contains("192.0.2.10:22") && !cf.contains("passwd:"),
        "{cf}"
    );
    let readme = fs::read_to_string(dir.join("README.txt")).unwrap();
    assert!(readme.contains("./tug bundle load"), "{readme}");
    assert!(readme.contains("./tug apply -f Clusterfile"), "{readme}");
    tug::cluster::clusterfile::Clusterfile::load(&dir.join("Clusterfile")).unwrap();

    // The far side: the bundled binary, no network, a fresh TUG_HOME.
    let far = Tug::new();
    let bundled = dir.join("tug");
    let version = offline(far.home(), &bundled, &["--version"]).ok();
    assert!(version.stdout.starts_with("tug "), "{}", version.stdout);
    // No path: the bundle is the directory the binary runs from.
    let verified = offline(far.home(), &bundled, &["bundle", "verify"]).ok();
    assert!(
        verified.stdout.contains("ok      images.oci.tar"),
        "{}",
        verified.stdout
    );
    let loaded = offline(far.home(), &bundled, &["bundle", "load"]).ok();
    assert!(loaded.stdout.contains(&format!("loaded {}", full(ROOTFS))));
    let next = format!("apply -f {}", dir.join("Clusterfile").display());
    assert!(loaded.stdout.contains(&next), "{}", loaded.stdout);
    assert_eq!(stored_names(&far), [full(APP), full(ROOTFS)]);
    let listed = far.run(&["images"]).ok();
    assert!(
        listed.stdout.contains("docker.io/tugtest/kubernetes"),
        "{}",
        listed.stdout
    );
    assert!(
        listed.stdout.contains("docker.io/tugtest/echo-app"),
        "{}",
        listed.stdout
    );

    // The engineer edits the hosts: still verifies, reported as edited.
    fs::write(
        dir.join("Clusterfile"),
        cf.replace("192.0.2.10", "10.1.2.3"),
    )
    .unwrap();
    let edited = tug.run(&["bundle", "verify", dir.to_str().unwrap()]).ok();
    assert!(
        edited.stdout.contains("edited  Clusterfile"),
        "{}",
        edited.stdout
    );
    // Hosts given at create time fill the template instead of placeholders.
    let with_hosts = tmp.path().join("hosts");
    create(
        &tug,
        &with_hosts,
        &[
            ROOTFS,
            "--masters",
            "10.0.0.2,10.0.0.3",
            "--nodes",
            "10.0.0.9",
        ],
    )
    .ok();
    let cf = fs::read_to_string(with_hosts.join("Clusterfile")).unwrap();
    assert!(
        cf.contains("10.0.0.3:22") && cf.contains("10.0.0.9:22") && !cf.contains("192.0.2."),
        "{cf}"
    );
}

#[test]
fn tar_bundle_checks_out_and_loads_offline() {
    let (tug, tmp) = setup();
    let tar = tmp.path().join("site-a.tar");
    create(&tug, &tar, &[ROOTFS]).ok();
    let listing = sh(Command::new("tar").arg("tf").arg(&tar));
    let names: Vec<&str> = listing.lines().collect();
    assert_eq!(
        names,
        [
            "site-a/",
            "site-a/tug",
            "site-a/images.oci.tar",
            "site-a/Clusterfile",
            "site-a/README.txt",
            "site-a/SHA256SUMS"
        ]
    );
    let verified = tug.run(&["bundle", "verify", tar.to_str().unwrap()]).ok();
    assert!(verified.stdout.contains("is intact"), "{}", verified.stdout);

    // Straight from the tar, offline.
    let far = Tug::new();
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_tug"));
    offline(far.home(), &exe, &["bundle", "load", tar.to_str().unwrap()]).ok();
    assert_eq!(stored_names(&far), [full(ROOTFS)]);

    // Unpacked, it is a directory bundle: sha256sum, skopeo and its own tug agree.
    sh(Command::new("tar")
        .arg("xf")
        .arg(&tar)
        .current_dir(tmp.path()));
    let dir = tmp.path().join("site-a");
    fs::remove_file(&tar).unwrap();
    sh(Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(&dir));
    sh(Command::new("skopeo").arg("inspect").arg(format!(
        "oci-archive:{}",
        dir.join("images.oci.tar").display()
    )));
    let other = Tug::new();
    offline(other.home(), &dir.join("tug"), &["bundle", "load"]).ok();
    assert_eq!(stored_names(&other), [full(ROOTFS)]);
}

#[test]
fn damage_is_named_and_nothing_is_loaded() {
    let (tug, tmp) = setup();
    let dir = tmp.path().join("b");
    create(&tug, &dir, &[ROOTFS]).ok();
    let arg = dir.to_str().unwrap();
    let far = Tug::new();

    // One flipped byte in the archive: verify and load name it; the store stays empty.
    let archive = dir.join("images.oci.tar");
    flip_byte(&archive, 2000);
    let bad = tug.run(&["bundle", "verify", arg]).fails();
    let want = format!(
        "error: {}: checksum does not match SHA256SUMS",
        archive.display()
    );
    assert!(bad.stderr.contains(&want), "{}", bad.stderr);
    assert_eq!(bad.stderr.matches("error:").count(), 1, "{}", bad.stderr);
    far.run(&["bundle", "load", arg]).fails();
    assert!(stored_names(&far).is_empty());
    flip_byte(&archive, 2000);
    tug.run(&["bundle", "verify", arg]).ok();

    // The binary damaged, and the README: both named.
    flip_byte(&dir.join("tug"), 100_000);
    let readme = dir.join("README.txt");
    fs::write(&readme, "something else\n").unwrap();
    let bad = tug.run(&["bundle", "verify", arg]).fails();
    assert!(
        bad.stderr.contains("/tug: checksum does not match"),
        "{}",
        bad.stderr
    );
    assert!(
        bad.stderr.contains("also failing: README.txt"),
        "{}",
        bad.stderr
    );
    flip_byte(&dir.join("tug"), 100_000);

    // A Clusterfile that no longer reads as one is damage, not an edit.
    fs::write(dir.join("Clusterfile"), "spec: [unclosed\n").unwrap();
    let bad = tug.run(&["bundle", "verify", arg]).fails();
    assert!(
        bad.stderr.contains("Clusterfile: checksum does not match"),
        "{}",
        bad.stderr
    );

    // A missing file, a malformed SHA256SUMS line, no SHA256SUMS at all.
    fs::remove_file(&readme).unwrap();
    let bad = tug.run(&["bundle", "verify", arg]).fails();
    assert!(
        bad.stderr.contains("README.txt: missing from the bundle"),
        "{}",
        bad.stderr
    );
    let sums = dir.join("SHA256SUMS");
    let text = fs::read_to_string(&sums).unwrap();
    fs::write(&sums, format!("{text}garbage\n")).unwrap();
    let bad = tug.run(&["bundle", "verify", arg]).fails();
    assert!(
        bad.stderr.contains("SHA256SUMS: line 5: expected"),
        "{}",
        bad.stderr
    );
    fs::remove_file(&sums).unwrap();
    let bad = tug.run(&["bundle", "load", arg]).fails();
    assert!(
        bad.stderr.contains("not a tug bundle (no SHA256SUMS"),
        "{}",
        bad.stderr
    );
    assert!(stored_names(&far).is_empty());
}

#[test]
fn damaged_tar_bundles_are_named() {
    let (tug, tmp) = setup();
    let tar = tmp.path().join("b.tar");
    create(&tug, &tar, &[ROOTFS]).ok();
    let arg = tar.to_str().unwrap();
    // Inside the tug entry (its data starts after two 512-byte headers).
    flip_byte(&tar, 5_000);
    let bad = tug.run(&["bundle", "verify", arg]).fails();
    assert!(
        bad.stderr
            .contains(&format!("{arg}/tug: checksum does not match")),
        "{}",
        bad.stderr
    );
    flip_byte(&tar, 5_000);
    tug.run(&["bundle", "verify", arg]).ok();
    // Cut short: SHA256SUMS (the last entry) is gone.
    let len = fs::metadata(&tar).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&tar)
        .unwrap()
        .set_len(len - 4096)
        .unwrap();
    let bad = tug.run(&["bundle", "load", arg]).fails();
    assert!(bad.stderr.contains(arg), "{}", bad.stderr);
    let far = Tug::new();
    far.run(&["bundle", "load", arg]).fails();
    assert!(stored_names(&far).is_empty());
}

#[test]
fn create_errors_name_the_problem() {
    let (tug, tmp) = setup();
    let bad = create(&tug, &tmp.path().join("x"), &[ROOTFS, "tugtest/missing:v9"]).fails();
    assert!(
        bad.stderr
            .contains("image tugtest/missing:v9: pull or build it before bundling"),
        "{}",
        bad.stderr
    );
    let file = tmp.path().join("a-file");
    fs::write(&file, "").unwrap();
    let bad = create(&tug, &file.join("bundle"), &[ROOTFS]).fails();
    assert!(
        bad.stderr.contains(&format!(
            "{}: cannot create the bundle",
            file.join("bundle").display()
        )),
        "{}",
        bad.stderr
    );
    let bad = create(&tug, &file, &[ROOTFS]).fails();
    assert!(bad.stderr.contains("already exists"), "{}", bad.stderr);
    let bad = tug
        .run(&[
            "bundle",
            "verify",
            tmp.path().join("nothing").to_str().unwrap(),
        ])
        .fails();
    assert!(
        bad.stderr.contains("nothing: not a tug bundle"),
        "{}",
        bad.stderr
    );
    // Nothing but the one file was left in the output's directory.
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
}
