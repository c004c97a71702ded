//! Install benchmark over real OpenSSH test hosts (`tests/support/hosts.rs`).
//!
//! Distribution: the release `tug run --until distribute` (connect,
//! preflight and distribution: everything tug does to put the image on the
//! hosts, and no hooks; the layers were scanned when the image was built)
//! of a ~1 GiB cluster image (see `content.rs`) onto 4 hosts (1 master, 3 nodes) against OpenSSH
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
//! `TUG_BENCH_ROUNDS` (default 3) repeats the distribution (tug and the
//! baseline take turns going first). The machine's other load shows in
//! in the wall times only: the CPU seconds printed (tug or tar and ssh,
//! plus everything sshd ran on the hosts) are the noise-free comparison.

#[path = "../../tests/support/mod.rs"]
mod support;

mod content;
mod cpu;
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
    let rounds = env_u64("TUG_BENCH_ROUNDS", 3);
    let (mut best_tug, mut best_ssh, mut peak) = (Duration::MAX, Duration::MAX, 0);
    for round in 1..=rounds {
        let r = distribute(&home, &image, round);
        println!(
            "round {round}: tug {:.2} s (peak RSS {} MiB), OpenSSH tar {:.2} s, ratio {:.2}",
            r.tug.as_secs_f64(),
            r.rss_kib >> 10,
            r.ssh.as_secs_f64(),
            r.tug.as_secs_f64() / r.ssh.as_secs_f64()
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

/// One round on 4 fresh hosts: tug and the baseline, in turn (the
/// baseline first in even rounds), each one's copy removed afterwards.
fn distribute(home: &Path, image: &content::Image, round: u64) -> Round {
    let hosts = Hosts::start(4);
    let ips: Vec<String> = hosts.iter().map(|h| h.ip.clone()).collect();
    let wire = Wire::count(&ips, hosts[0].port);
    // Fresh hosts have fresh host keys and no cluster: the image's first
    // install (its layers were scanned once, when `tug build` stored it).
    let _ = fs::remove_dir_all(home.join("state"));
    let _ = fs::remove_file(home.join("config/known_hosts"));
    warm(home, image);
    let (ssh, (tug, usage)) = if round.is_multiple_of(2) {
        let ssh = with_ssh(&hosts, image, wire.as_ref());
        (ssh, with_tug(&hosts, home, image, wire.as_ref()))
    } else {
        let tug = with_tug(&hosts, home, image, wire.as_ref());
        (with_ssh(&hosts, image, wire.as_ref()), tug)
    };
    Round {
        tug,
        rss_kib: usage.rss_kib,
        ssh,
    }
}

/// `tug run --until distribute` of the image to the hosts (1 master, 3
/// nodes), checked.
fn with_tug(
    hosts: &Hosts,
    home: &Path,
    image: &content::Image,
    wire: Option<&Wire>,
) -> (Duration, Usage) {
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
        .args(["--until", "distribute"])
        .stdin(Stdio::null())
        .stdout(File::create(home.join("run.out")).unwrap())
        .stderr(File::create(&log).unwrap());
    if let Some(w) = wire {
        w.reset();
    }
    let (start, before) = (Instant::now(), cpu::hosts(hosts));
    let usage = wait_rusage(tug.spawn().expect("run tug"));
    let tug_time = start.elapsed();
    let on_hosts = cpu::hosts(hosts) - before;
    println!(
        "  tug: {:.2} s; cpu: tug {:.2} s + hosts {on_hosts:.2} s = {:.2} s",
        tug_time.as_secs_f64(),
        usage.cpu.as_secs_f64(),
        usage.cpu.as_secs_f64() + on_hosts
    );
    let out = fs::read_to_string(&log).unwrap_or_default();
    assert!(usage.ok, "tug run failed:\n{out}");
    let tug_wire = wire.map(|w| w.bytes());
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
        let wire = tug_wire.as_ref().map_or("n/a".to_string(), |w| {
            let over = w[i] as f64 / need as f64 - 1.0;
            format!(
                "{} B ({:+.2}% SSH framing and commands)",
                w[i],
                over * 100.0
            )
        });
        println!(
            "  {}: needs {need} B compressed; tug streamed {reported}, wire {wire}; {} MiB unpacked there",
            h.ip,
            on_host >> 20
        );
    }
    for h in hosts.iter() {
        // Room for the baseline's copy: tug's copy and its registry go.
        h.exec(
            "p=/var/lib/tug-fixture-registry.pid; [ -f $p ] && kill $(cat $p) || true; rm -rf /var/lib/sealos",
        );
    }
    (tug_time, usage)
}

/// OpenSSH `tar -c | ssh host 'tar -x'` of the unpacked image to every
/// host at once, checked.
fn with_ssh(hosts: &Hosts, image: &content::Image, wire: Option<&Wire>) -> Duration {
    let key = hosts.key.display().to_string();
    if let Some(w) = wire {
        w.reset();
    }
    let (start, before) = (Instant::now(), cpu::hosts(hosts));
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
    let mut cpu = Duration::ZERO;
    for c in copies {
        let u = wait_rusage(c);
        assert!(u.ok, "tar | ssh failed");
        cpu += u.cpu;
    }
    let ssh_time = start.elapsed();
    let on_hosts = cpu::hosts(hosts) - before;
    println!(
        "  OpenSSH tar: {:.2} s; cpu: tar and ssh {:.2} s + hosts {on_hosts:.2} s = {:.2} s",
        ssh_time.as_secs_f64(),
        cpu.as_secs_f64(),
        cpu.as_secs_f64() + on_hosts
    );
    if let Some(w) = wire {
        let b = w.bytes();
        println!("  OpenSSH tar wire bytes per host: {b:?}");
    }
    for h in hosts.iter() {
        assert_eq!(du_on(h, "/var/lib/bench"), image.unpacked_bytes);
        h.exec("rm -rf /var/lib/bench");
    }
    ssh_time
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

/// How a finished child did.
struct Usage {
    ok: bool,
    /// Peak RSS in KiB (of the largest process waited for).
    rss_kib: u64,
    /// User plus system CPU time, its waited-for children included.
    cpu: Duration,
}

/// Wait for `child` and take its resource usage.
fn wait_rusage(child: std::process::Child) -> Usage {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid, and wait4 writes only into the two locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Usage {
        ok: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        rss_kib: usage.ru_maxrss as u64,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
    }
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
