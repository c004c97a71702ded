//! CPU time spent on the test hosts: each host's sshd daemon with the
//! session processes it has reaped (and what those reaped: the shells, tar,
//! the inflater). Unlike wall time, this does not depend on what else the
//! machine is running.

use std::fs;
use std::time::{Duration, Instant};
use support::hosts::Host;

use crate::support;

/// The pid of `h`'s sshd daemon: the process whose command line (rewritten
/// by sshd into one string, "sshd: … -f CONFIG [listener] …") names its config.
fn daemon(h: &Host) -> Option<u32> {
    let config = h.dir.join("sshd_config").display().to_string();
    fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmd = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let cmd = String::from_utf8_lossy(&cmd);
        (cmd.contains("sshd") && cmd.contains(&config)).then_some(pid)
    })
}

/// utime + stime + cutime + cstime of `pid`, in seconds.
fn used(pid: u32) -> f64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command (which may hold spaces) end with ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    // The state letter does not parse: ppid is f[0], utime..cstime f[10..14].
    let ticks: f64 = f.get(10..14).map_or(0.0, |t| t.iter().sum());
    // SAFETY: sysconf has no preconditions.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// Whether `pid` has live children (sessions not reaped yet).
fn busy(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .is_ok_and(|c| !c.trim().is_empty())
}

/// CPU seconds the hosts' sshd daemons and everything they reaped have
/// used so far; waits (up to 5 s) for finished sessions to be reaped.
pub fn hosts(hosts: &[Host]) -> f64 {
    let pids: Vec<u32> = hosts.iter().filter_map(daemon).collect();
    let start = Instant::now();
    while pids.iter().any(|p| busy(*p)) && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    pids.into_iter().map(used).sum()
}
