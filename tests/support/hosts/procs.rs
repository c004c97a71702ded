//! Process plumbing for the test hosts: spawning processes tied to the test
//! process's life, killing everything in a namespace, waiting for readiness.

use std::fs;
use std::io::Read;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The process's command name, once it exists.
pub fn comm(pid: u32) -> Option<String> {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_string())
}

/// Whether something on `addr` speaks SSH.
pub fn banner(addr: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return false;
    };
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 8];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"SSH-2.0")
}

/// Poll `ok` until it holds or `limit` passes; whether it held.
pub fn try_wait_for(mut ok: impl FnMut() -> bool, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Poll `ok` for up to 10 s, panicking with `what` when it never holds.
pub fn wait_for(ok: impl FnMut() -> bool, what: &str) {
    assert!(
        try_wait_for(ok, Duration::from_secs(10)),
        "timed out waiting for {what}"
    );
}

/// SIGKILL every live process in `holder`'s mount namespace except `keep`,
/// sshd processes first: their connections drop without a word, as when a
/// host dies, instead of reporting the exit of a command killed before them.
/// (Orphans left as zombies are reaped by init.)
pub fn kill_namespace(holder: u32, keep: &[u32]) {
    let Ok(ns) = fs::read_link(format!("/proc/{holder}/ns/mnt")) else {
        return;
    };
    for _ in 0..1000 {
        let mut pids: Vec<u32> = fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .filter(|pid| {
                !keep.contains(pid)
                    && fs::read_link(format!("/proc/{pid}/ns/mnt")).is_ok_and(|l| l == ns)
            })
            .collect();
        if pids.is_empty() {
            return;
        }
        pids.sort_by_key(|&pid| comm(pid).as_deref() != Some("sshd"));
        for pid in pids {
            // SAFETY: kill(2) has no memory effects; a stale pid only fails.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Spawn a long-lived process that gets SIGKILL when this test process dies.
/// PR_SET_PDEATHSIG fires when the *thread* that forked exits, so all such
/// processes are forked by one thread that lives as long as the process.
pub fn spawn_tied(cmd: Command) -> Child {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    let tx = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::spawn(move || {
            for (mut cmd, reply) in rx {
                // SAFETY: prctl is async-signal-safe and touches no memory of ours.
                unsafe {
                    cmd.pre_exec(|| {
                        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                        Ok(())
                    });
                }
                let _ = reply.send(cmd.spawn());
            }
        });
        Mutex::new(tx)
    });
    let (reply, answer) = mpsc::channel();
    let shown = format!("{cmd:?}");
    tx.lock().unwrap().send((cmd, reply)).unwrap();
    answer
        .recv()
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"))
}
