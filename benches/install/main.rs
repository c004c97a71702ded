//! Install benchmark over real OpenSSH test hosts (`tests/support/hosts.rs`).
//!
//! Distribution: the release `tug run` of a ~1 GiB cluster image (see
//! `content.rs`) onto 4 hosts (1 master, 3 nodes) against OpenSSH
//! `tar -c | ssh host 'tar -x'` of the same image unpacked, to the same 4
//! hosts in parallel, in the same run. Prints both wall times and their
//! ratio (target <= 1.00), tug's peak RSS (target <= 100 MiB), and per
//! host the bytes tug streamed, the bytes on the wire to sshd (counted by
//! iptables, SSH framing included) and the compressed size of the layers
//! that host needs (target: streamed <= needed).
//!
//! No-op re-apply: the fixture images installed on 5 hosts (3 masters, 2
//! nodes), then `tug apply -f Clusterfile` again, timed (target <= 2 s,
//! nothing sent).
//!
//! `cargo bench --bench install`; `TUG_BENCH_DIR` keeps the built image
//! between runs (default: the system temp dir), `TUG_BENCH_INSTALL_MIB`
//! (default 1024) and `TUG_BENCH_REGISTRY_MIB` (default 192) size it,
//! `TUG_BENCH_ROUNDS` (default 2) repeats the distribution.

#[path = "../../tests/support/mod.rs"]
mod support;

mod content;
mod wire;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::hosts::Hosts;
use wire::Wire;

/// Where the cluster's files land on a host (`--cluster bench`).
const DATA: &str = "/var/lib/sealos/data/bench";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes --bench; test runners do not, and a benchmark is not a test.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let base = std::env::var_os("TUG_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join("tug-bench-install");
    let home = base.join("home");
    let total = env_u64("TUG_BENCH_INSTALL_MIB", 1024);
    let registry = env_u64("TUG_BENCH_REGISTRY_MIB", 192);
    let image = content::image(&base, &home, total, registry);
    println!(
        "image {}: {} MiB unpacked; compressed {} MiB without registry/, {} MiB with it",
        image.name,
        image.unpacked_bytes >> 20,
        image.need_plain_host >> 20,
        image.need_registry_host >> 20
    );
    let rounds = env_u64("TUG_BENCH_ROUNDS", 2);
    let (mut best_tug, mut best_ssh, mut peak) = (Duration::MAX, Duration::MAX, 0);
    for round in 1..=rounds {
        let r = distribute(&home, &image);
        println!(
            "round {round}: tug {:.2} s (peak RSS {} MiB), OpenSSH tar {:.2} s",
            r.tug.as_secs_f64(),
            r.rss_kib >> 10,
            r.ssh.as_secs_f64()
        );
        best_tug = best_tug.min(r.tug);
        best_ssh = best_ssh.min(r.ssh);
        peak = peak.max(r.rss_kib);
    }
    println!(
        "install best of {rounds}: tug {:.2} s, OpenSSH tar {:.2} s",
        best_tug.as_secs_f64(),
        best_ssh.as_secs_f64()
    );
    println!(
        "install ratio tug/ssh = {:.2}",
        best_tug.as_secs_f64() / best_ssh.as_secs_f64()
    );
    println!("install tug peak RSS = {} MiB", peak >> 10);
    no_op();
}

/// One distribution round's figures.
struct Round {
    tug: Duration,
    rss_kib: u64,
    ssh: Duration,
}

fn distribute(home: &Path, image: &content::Image) -> Round {
    let hosts = Hosts::start(4);
    let ips: Vec<String> = hosts.iter().map(|h| h.ip.clone()).collect();
    let wire = Wire::count(&ips, hosts[0].port);
    // Fresh hosts have fresh host keys and no cluster.
    let _ = fs::remove_dir_all(home.join("state"));
    let _ = fs::remove_file(home.join("config/known_hosts"));
    warm(home, image);

    let addrs: Vec<String> = hosts.iter().map(|h| h.addr()).collect();
    let nodes = addrs[1..].join(",");
    let key = hosts.key.display().to_string();
    let log = home.join("run.log");
    let mut tug = Command::new(env!("CARGO_BIN_EXE_tug"));
    tug.env("TUG_HOME", home)
        .args([
            "run",
            &image.name,
            "--masters",
            &addrs[0],
            "--nodes",
            &nodes,
        ])
        .args(["--pk", &key, "--cluster", "bench", "--plain"])
        .stdin(Stdio::null())
        .stdout(File::create(home.join("run.out")).unwrap())
        .stderr(File::create(&log).unwrap());
    if let Some(w) = &wire {
        w.reset();
    }
    let start = Instant::now();
    let (ok, rss_kib) = wait_rusage(tug.spawn().expect("run tug"));
    let tug_time = start.elapsed();
    let out = fs::read_to_string(&log).unwrap_or_default();
    assert!(ok, "tug run failed:\n{out}");
    let tug_wire = wire.as_ref().map(|w| w.bytes());
    let sent: Vec<&str> = out.lines().filter(|l| l.starts_with("sent ")).collect();
    for (i, h) in hosts.iter().enumerate() {
        let need = if i == 0 {
            image.need_registry_host
        } else {
            image.need_plain_host
        };
        let on_host = du_on(h, &format!("{DATA}/rootfs"));
        let has_registry = h.exec_output(&format!("test -d {DATA}/rootfs/registry/docker"));
        assert_eq!(
            has_registry.status.success(),
            i == 0,
            "registry data on master0 only"
        );
        let reported = sent
            .iter()
            .find(|l| {
                l.ends_with(&format!(" to {}", h.ip)) || l.ends_with(&format!(" to {}", h.addr()))
            })
            .map_or("nothing", |l| {
                l.trim_start_matches("sent ").split(" to ").next().unwrap()
            });
        println!(
            "  {}: tug streamed {reported}, wire {}, needs {} compressed ({} MiB unpacked on the host)",
            h.ip,
            tug_wire
                .as_ref()
                .map_or("n/a".into(), |w| format!("{} B", w[i])),
            format!("{need} B"),
            on_host >> 20
        );
    }
    for h in hosts.iter() {
        // Room for the baseline's copy: tug's copy and its registry go.
        h.exec(&format!(
            "p=/var/lib/tug-fixture-registry.pid; [ -f $p ] && kill $(cat $p) || true; rm -rf /var/lib/sealos"
        ));
    }

    if let Some(w) = &wire {
        w.reset();
    }
    let start = Instant::now();
    let copies: Vec<_> = hosts
        .iter()
        .map(|h| {
            let ssh = format!(
                "ssh -i {key} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
                 -o BatchMode=yes -o LogLevel=error root@{} 'mkdir -p /var/lib/bench && tar -x -C /var/lib/bench'",
                h.ip
            );
            Command::new("bash")
                .arg("-c")
                .arg(format!("set -o pipefail; tar -c -C {} . | {ssh}", image.unpacked.display()))
                .spawn()
                .expect("run tar | ssh")
        })
        .collect();
    for mut c in copies {
        assert!(c.wait().unwrap().success(), "tar | ssh failed");
    }
    let ssh_time = start.elapsed();
    if let Some(w) = &wire {
        let b = w.bytes();
        println!("  OpenSSH tar wire bytes per host: {b:?}");
    }
    for h in hosts.iter() {
        assert_eq!(du_on(h, "/var/lib/bench"), image.unpacked_bytes);
        h.exec("rm -rf /var/lib/bench");
    }
    Round {
        tug: tug_time,
        rss_kib,
        ssh: ssh_time,
    }
}

/// Bytes of the regular files under `path` on host `h`.
fn du_on(h: &support::hosts::Host, path: &str) -> u64 {
    let out = h.exec(&format!("{} {path}", content::FILE_BYTES));
    out.trim().parse().expect("file bytes")
}

/// Read what both sides will send once, so neither pays for the disk.
fn warm(home: &Path, image: &content::Image) {
    content::run(Command::new("bash").arg("-c").arg(format!(
        "cat {}/data/images/blobs/sha256/* >/dev/null; tar -c -C {} . >/dev/null",
        home.display(),
        image.unpacked.display()
    )));
}

/// Wait for `child`; whether it succeeded and its peak RSS in KiB.
fn wait_rusage(child: std::process::Child) -> (bool, u64) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid, and wait4 writes only into the two locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    (ok, usage.ru_maxrss as u64)
}

/// The fixture images on 5 hosts, then `tug apply` of its Clusterfile again.
fn no_op() {
    let hosts = Hosts::start(5);
    let tug = support::tug::Tug::new();
    let images = support::fixture::build_images(&tug);
    let addrs: Vec<String> = hosts.iter().map(|h| h.addr()).collect();
    let (masters, nodes) = (addrs[..3].join(","), addrs[3..].join(","));
    let key = hosts.key.display().to_string();
    let mut args: Vec<&str> = vec!["run"];
    args.extend(images.iter().map(String::as_str));
    args.extend(["--masters", &masters, "--nodes", &nodes, "--pk", &key]);
    args.extend(["--cluster", "c1", "--plain"]);
    tug.run(&args).ok();
    let file = tug.home().join("state/clusters/c1/Clusterfile");
    let mut best = Duration::MAX;
    for round in 1..=3 {
        let start = Instant::now();
        let again = tug
            .run(&["apply", "-f", file.to_str().unwrap(), "--plain"])
            .ok();
        let took = start.elapsed();
        assert!(!again.stderr.contains("sent "), "{}", again.stderr);
        println!(
            "no-op re-apply {round} on 5 hosts: {:.2} s",
            took.as_secs_f64()
        );
        best = best.min(took);
    }
    println!(
        "no-op re-apply on 5 hosts = {:.2} s (target <= 2 s)",
        best.as_secs_f64()
    );
}
