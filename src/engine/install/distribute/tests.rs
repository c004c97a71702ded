//! The host side of distribution, run locally: the unpack script with and
//! without Python, whiteouts, registry parts; and which trees a layer changes.

use super::*;
use std::path::Path;
use std::process::Stdio;

fn tar_of(entries: &[&str]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, e, &b"x"[..]).unwrap();
    }
    b.into_inner().unwrap()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, bytes).unwrap();
    gz.finish().unwrap()
}

fn layer(dir: &Path, name: &str, entries: &[&str]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, gz(&tar_of(entries))).unwrap();
    path
}

/// The unpack script on `blob` into `target`, with PATH set to `path`
/// when given: its output, and whether it left its marker.
fn run(
    blob: &Path,
    target: &Path,
    (part, extra): (&str, &[&str]),
    path: Option<&Path>,
) -> (std::process::Output, bool) {
    let marker = target.join(".m").join(part);
    let list = if extra.is_empty() {
        String::new()
    } else {
        let list = target.with_extension("list");
        let records: String = extra.iter().map(|r| format!("{r}\0")).collect();
        std::fs::write(&list, records).unwrap();
        list.display().to_string()
    };
    let args = vec![
        target.display().to_string(),
        marker.display().to_string(),
        part.to_string(),
        list,
        "gzip".to_string(),
    ];
    let line = script(UNPACK, args).render().unwrap();
    let mut cmd = std::process::Command::new("/bin/bash");
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    let out = cmd
        .arg("-c")
        .arg(line)
        .stdin(Stdio::from(std::fs::File::open(blob).unwrap()))
        .output()
        .unwrap();
    (out, marker.exists())
}

fn unpack(blob: &Path, target: &Path, part: &str, extra: &[&str]) {
    let (out, marked) = run(blob, target, (part, extra), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && marked, "{err}");
}

/// A PATH with what the script needs but no python3: the gzip fallback.
fn without_python(dir: &Path) -> std::path::PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    for tool in [
        "bash", "mkdir", "dirname", "rm", "find", "gzip", "tar", "cp", "touch", "xargs", "sh",
        "chmod",
    ] {
        let found = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists())
            .unwrap();
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    bin
}

#[test]
fn gzip_members_are_inflated_in_turn_and_a_cut_stream_fails_with_and_without_python() {
    let dir = tempfile::tempdir().unwrap();
    let tar = tar_of(&["bin/a", "bin/b", "etc/c"]);
    let (head, tail) = tar.split_at(tar.len() / 2);
    let two = dir.path().join("two-members");
    std::fs::write(&two, [gz(head), gz(tail)].concat()).unwrap();
    // Everything but the gzip trailer: the tar inside is whole.
    let whole = gz(&tar);
    let cut = dir.path().join("cut");
    std::fs::write(&cut, &whole[..whole.len() - 4]).unwrap();
    let no_python = without_python(dir.path());
    for (i, path) in [None, Some(no_python.as_path())].into_iter().enumerate() {
        let t = dir.path().join(format!("ok{i}"));
        let (out, marked) = run(&two, &t, ("full", &[]), path);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && marked, "{i}: {err}");
        assert!(t.join("bin/a").exists() && t.join("etc/c").exists(), "{i}");
        let t = dir.path().join(format!("cut{i}"));
        let (out, marked) = run(&cut, &t, ("full", &[]), path);
        assert!(!out.status.success() && !marked, "{i}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("unexpected end of file"), "{i}: {err}");
    }
}

#[test]
fn the_host_side_applies_whiteouts_and_leaves_registry_data_out() {
    let dir = tempfile::tempdir().unwrap();
    let l1 = layer(
        dir.path(),
        "l1",
        &[
            "bin/old",
            "bin/keep",
            "opt/x/a",
            "registry/docker/r",
            "etc/registry/conf",
        ],
    );
    let l2 = layer(
        dir.path(),
        "l2",
        &["bin/.wh.old", "opt/x/.wh..wh..opq", "opt/x/b"],
    );
    let t = dir.path().join("rootfs");
    unpack(&l1, &t, "no-registry", &[]);
    unpack(&l2, &t, "full", &["w:bin/old", "o:opt/x"]);
    assert!(t.join("bin/keep").exists() && t.join("opt/x/b").exists());
    assert!(!t.join("bin/old").exists() && !t.join("opt/x/a").exists());
    assert!(!t.join("bin/.wh.old").exists() && !t.join("opt/x/.wh..wh..opq").exists());
    assert!(!t.join("registry").exists());
    assert!(t.join("etc/registry/conf").exists());
    let r = dir.path().join("registry-host");
    unpack(&l1, &r, "only-registry", &[]);
    assert!(r.join("registry/docker/r").exists());
    assert!(!r.join("bin").exists() && !r.join(".tug-unpack").exists());
}

#[test]
fn thirty_thousand_whiteouts_and_setuid_files_go_through_the_list_file() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..30_000).map(|i| format!("d/f{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let l1 = layer(dir.path(), "l1", &refs);
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    h.set_mode(0o6755);
    h.set_cksum();
    b.append_data(&mut h, "bin/su", &b"x"[..]).unwrap();
    let l2 = dir.path().join("l2");
    std::fs::write(&l2, gz(&b.into_inner().unwrap())).unwrap();
    let t = dir.path().join("rootfs");
    unpack(&l1, &t, "full", &[]);
    assert!(t.join("d/f29999").exists());
    let mut records: Vec<String> = names.iter().map(|n| format!("w:{n}")).collect();
    records.push("s:bin/su".into());
    let records: Vec<&str> = records.iter().map(String::as_str).collect();
    unpack(&l2, &t, "full", &records);
    assert_eq!(std::fs::read_dir(t.join("d")).unwrap().count(), 0);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(t.join("bin/su")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o7777, 0o755);
    assert!(
        !t.with_extension("list").exists(),
        "the list file is removed"
    );
}
