//! A hostile registry (a small HTTP server here) cannot exhaust the jump
//! host: an endless manifest, one claiming 2 GiB, and a config over the
//! limit are refused by the real `tug pull` while it stays under 64 MiB.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use support::tug::Tug;

/// A manifest whose config descriptor claims 17 MiB.
fn big_config_manifest() -> String {
    let d = tug::image::Digest::of(b"config");
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d.to_string(), "size": 17u64 << 20},
        "layers": [],
    })
    .to_string()
}

fn answer(mut s: TcpStream) {
    let mut head = Vec::new();
    let mut r = BufReader::new(s.try_clone().unwrap());
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        head.push(line);
    }
    let path = head
        .first()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("")
        .to_string();
    const TYPE: &str = "Content-Type: application/vnd.oci.image.manifest.v1+json";
    if path.ends_with("/manifests/endless") || path.ends_with("/manifests/claims-2g") {
        let length = if path.ends_with("claims-2g") {
            "Content-Length: 2147483648\r\n"
        } else {
            ""
        };
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\n{TYPE}\r\n{length}Connection: close\r\n\r\n{{\"a\":\""
        );
        let chunk = vec![b'a'; 1 << 16];
        while s.write_all(&chunk).is_ok() {}
    } else if path.ends_with("/manifests/big-config") {
        let body = big_config_manifest();
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\n{TYPE}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    } else {
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
        );
    }
}

/// Start the hostile registry; returns its address.
fn hostile_registry() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || answer(s));
        }
    });
    addr
}

/// Run tug; its stderr, exit code and the peak RSS in KiB of the largest
/// child this test has waited for (tug is the only one).
fn run_measured(tug: &Tug, args: &[&str]) -> (String, i32, i64) {
    let out = tug.cmd().args(args).output().unwrap();
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (err, out.status.code().unwrap_or(-1), usage.ru_maxrss)
}

#[test]
fn hostile_manifests_and_configs_are_refused_within_64_mib() {
    let addr = hostile_registry();
    let tug = Tug::new();
    for tag in ["endless", "claims-2g"] {
        let r = format!("{addr}/evil/app:{tag}");
        let (err, code, rss_kib) = run_measured(&tug, &["pull", &r]);
        assert_ne!(code, 0, "{tag}: {err}");
        assert!(err.contains("over the 16777216-byte limit"), "{tag}: {err}");
        assert!(rss_kib < 64 * 1024, "{tag}: peak RSS {rss_kib} KiB");
    }
    let r = format!("{addr}/evil/app:big-config");
    let (err, code, _) = run_measured(&tug, &["pull", &r]);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("is 17825792 bytes, over the 16777216-byte limit"),
        "{err}"
    );
    let blobs = tug.store().join("blobs/sha256");
    let stored = std::fs::read_dir(&blobs).map_or(0, |d| d.count());
    assert_eq!(stored, 0, "nothing of the refused image is stored");
}
