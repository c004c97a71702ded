//! Real OpenSSH test hosts on this machine.
//!
//! Each host is an `sshd` on its own loopback address (127.0.10.k, port 22, or
//! `TUG_TEST_SSH_PORT`) inside its own mount and UTS namespace (`unshare -m -u`),
//! so N hosts on one machine do not see each other's files:
//! - `/etc` is a private tmpfs copy of the machine's `/etc` (so `/etc/hosts`,
//!   `/etc/passwd`, `/etc/sudoers.d`, `/etc/systemd`… are per host), with empty
//!   tmpfs over `/etc/kubernetes` and `/etc/registry`;
//! - `/var/lib`, `/opt`, `/usr/local/bin`, `/usr/local/sbin`, `/var/tmp`,
//!   `/root`, `/home` are empty private tmpfs (both `/usr/local` dirs are on
//!   root's PATH: what a test puts there stays on its host);
//! - `/tmp` stays shared (the host's sshd config, keys and log live there);
//! - the hostname is `node<k>` (k = 1-based index in the set).
//!
//! A `sleep` process holds the namespaces, so sshd can be killed and restarted
//! inside them with the files intact. Every host has its own `tugtest` user
//! (created in its private `/etc`, nothing on the machine changes) whose
//! password is random per run and whose sudo always asks for it.
//!
//! Addresses are taken with a lock file per address under /tmp, so sets in
//! parallel threads and processes never collide. Long-lived processes die with
//! the test process (`PR_SET_PDEATHSIG`), and everything is killed on drop.

mod bastion;
mod procs;

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::ops::{Deref, DerefMut};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use procs::{banner, comm, kill_namespace, spawn_tied, try_wait_for, wait_for};

/// The non-root user every host has, with password-protected sudo.
pub const SUDO_USER: &str = "tugtest";

const LOCK_DIR: &str = "/tmp/tug-testhosts";

/// Private tmpfs mounts (path, mode) over which nothing of the machine shows.
const PRIVATE_DIRS: &[(&str, &str)] = &[
    ("/etc/kubernetes", "0755"),
    ("/etc/registry", "0755"),
    ("/var/lib", "0755"),
    ("/opt", "0755"),
    ("/usr/local/bin", "0755"),
    ("/usr/local/sbin", "0755"),
    ("/var/tmp", "1777"),
    ("/root", "0700"),
    ("/home", "0755"),
];

/// A set of running test hosts; derefs to the hosts, killed on drop.
pub struct Hosts {
    hosts: Vec<Host>,
    /// The client ed25519 key (no passphrase) authorized for root and `tugtest`.
    pub key: PathBuf,
    /// `tugtest`'s password on every host of this set (random per run).
    pub password: String,
    dir: tempfile::TempDir,
}

/// One test host: an sshd in its own namespaces.
pub struct Host {
    /// 1-based index in its set (the hostname is `node<index>`).
    pub index: usize,
    /// Loopback address, e.g. `127.0.10.1`.
    pub ip: String,
    /// sshd port.
    pub port: u16,
    /// `node<index>`.
    pub hostname: String,
    /// The client key authorized for root and `tugtest`.
    pub key: PathBuf,
    /// `tugtest`'s password.
    pub password: String,
    /// This host's files on the machine: sshd_config, host key, log.
    pub dir: PathBuf,
    holder: Child,
    sshd: Option<Child>,
    _lock: File,
}

impl Hosts {
    /// Start `n` hosts and wait until each sshd answers.
    pub fn start(n: usize) -> Hosts {
        assert!(
            super::have("sshd") || Path::new("/usr/sbin/sshd").exists(),
            "needs openssh-server"
        );
        fs::create_dir_all("/run/sshd").unwrap();
        let dir = tempfile::Builder::new()
            .prefix("tug-hosts-")
            .tempdir_in("/tmp")
            .unwrap();
        // sshd reads authorized_keys as the logging-in user, so `tugtest` must get in.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let key = dir.path().join("id_ed25519");
        keygen(&key, "");
        let password = random_hex(12);
        let port = std::env::var("TUG_TEST_SSH_PORT")
            .ok()
            .map_or(22, |p| p.parse().expect("TUG_TEST_SSH_PORT"));
        let slots = reserve(n, port);
        let hosts = slots
            .into_iter()
            .enumerate()
            .map(|(i, (ip, lock))| Host::boot(i + 1, ip, port, dir.path(), &key, &password, lock))
            .collect();
        Hosts {
            hosts,
            key,
            password,
            dir,
        }
    }

    /// known_hosts lines for every host of the set.
    pub fn known_hosts(&self) -> String {
        self.hosts
            .iter()
            .map(|h| h.known_hosts_line() + "\n")
            .collect()
    }

    /// The set's scratch dir on the machine (under /tmp, removed on drop).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Deref for Hosts {
    type Target = [Host];
    fn deref(&self) -> &[Host] {
        &self.hosts
    }
}

impl DerefMut for Hosts {
    fn deref_mut(&mut self) -> &mut [Host] {
        &mut self.hosts
    }
}

impl Host {
    fn boot(
        index: usize,
        ip: String,
        port: u16,
        set: &Path,
        key: &Path,
        password: &str,
        lock: File,
    ) -> Host {
        let dir = set.join(format!("host{index}"));
        fs::create_dir_all(&dir).unwrap();
        bastion::clear_stale(&ip, port);
        keygen(&dir.join("ssh_host_ed25519_key"), "");
        fs::copy(key.with_extension("pub"), dir.join("authorized_keys")).unwrap();
        fs::write(dir.join("sshd_config"), sshd_config(&ip, port, &dir)).unwrap();
        let mut holder = Command::new("unshare");
        holder.args([
            "-m",
            "-u",
            "--propagation",
            "private",
            "--",
            "sleep",
            "infinity",
        ]);
        let holder = spawn_tied(holder);
        wait_for(
            || comm(holder.id()).as_deref() == Some("sleep"),
            "namespace holder to start",
        );
        let mut host = Host {
            index,
            hostname: format!("node{index}"),
            ip,
            port,
            key: key.to_path_buf(),
            password: password.to_string(),
            dir,
            holder,
            sshd: None,
            _lock: lock,
        };
        host.exec(&setup_script(&host));
        let mut chpasswd = host.nsenter(&["chpasswd"]);
        feed(&mut chpasswd, &format!("{SUDO_USER}:{password}\n"));
        host.restart();
        host
    }

    /// `ip:port`.
    pub fn addr(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }

    /// The host's public key line (`ssh-ed25519 AAAA… comment`).
    pub fn host_public_key(&self) -> String {
        let pubkey = fs::read_to_string(self.dir.join("ssh_host_ed25519_key.pub")).unwrap();
        pubkey
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// This host's known_hosts line (`[ip]:port` form unless the port is 22).
    pub fn known_hosts_line(&self) -> String {
        let name = if self.port == 22 {
            self.ip.clone()
        } else {
            format!("[{}]:{}", self.ip, self.port)
        };
        format!("{name} {}", self.host_public_key())
    }

    /// `SHA256:…` fingerprint of the current host key, as OpenSSH prints it.
    pub fn fingerprint(&self) -> String {
        let out = super::sh(
            Command::new("ssh-keygen")
                .arg("-lf")
                .arg(self.dir.join("ssh_host_ed25519_key.pub")),
        );
        out.split_whitespace()
            .nth(1)
            .expect("ssh-keygen -l output")
            .to_string()
    }

    /// Append a public key line to the keys sshd accepts (for root and `tugtest`).
    pub fn authorize(&self, pubkey: &str) {
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(self.dir.join("authorized_keys"))
            .unwrap();
        writeln!(f, "{}", pubkey.trim()).unwrap();
    }

    /// Run `sh -c cmd` inside this host's namespaces; panics unless it succeeds; returns stdout.
    pub fn exec(&self, cmd: &str) -> String {
        super::sh(&mut self.nsenter(&["sh", "-c", cmd]))
    }

    /// Run `sh -c cmd` inside this host's namespaces and return whatever happened.
    pub fn exec_output(&self, cmd: &str) -> Output {
        self.nsenter(&["sh", "-c", cmd]).output().unwrap()
    }

    /// Mount an empty tmpfs of `size` (e.g. `"1M"`) at `path` on this host, for
    /// full-disk tests.
    pub fn mount_tmpfs(&self, path: &str, size: &str) {
        self.exec(&format!(
            "mkdir -p '{path}' && mount -t tmpfs -o size={size} tug-small '{path}'"
        ));
    }

    /// The real OpenSSH client set up for this host as `user` with the set's key
    /// and the given known_hosts file (strict checking); append the remote command.
    pub fn ssh(&self, user: &str, known_hosts: &Path) -> Command {
        let mut c = Command::new("ssh");
        c.args([
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
        ])
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10"])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .arg("-i")
        .arg(&self.key)
        .arg("-p")
        .arg(self.port.to_string())
        .arg(format!("{user}@{}", self.ip));
        c
    }

    /// Stop sshd and every process on this host (like the host going down);
    /// its files stay.
    pub fn kill(&mut self) {
        let holder = self.holder.id();
        if let Some(mut c) = self.sshd.take() {
            kill_namespace(holder, &[holder, c.id()]);
            let _ = c.kill();
            let _ = c.wait();
        }
        kill_namespace(holder, &[holder]);
    }

    /// Start sshd again in the same namespaces, with the same (or a
    /// regenerated) host key; waits until it answers.
    pub fn restart(&mut self) {
        self.kill();
        let cfg = self.dir.join("sshd_config");
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("sshd.log"))
            .unwrap();
        let mut c = self.nsenter(&["/usr/sbin/sshd", "-D", "-e", "-f"]);
        c.arg(cfg)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        self.sshd = Some(spawn_tied(c));
        let addr = self.addr();
        let answered = try_wait_for(|| banner(&addr), Duration::from_secs(15));
        if !answered {
            let log = fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default();
            panic!("sshd on {addr} did not answer; its log:\n{log}");
        }
    }

    /// Give the host a new host key and restart sshd with it.
    pub fn regenerate_host_key(&mut self) {
        let key = self.dir.join("ssh_host_ed25519_key");
        let _ = fs::remove_file(&key);
        let _ = fs::remove_file(key.with_extension("pub"));
        keygen(&key, "");
        self.restart();
    }

    fn nsenter(&self, args: &[&str]) -> Command {
        let mut c = Command::new("nsenter");
        c.arg("-t")
            .arg(self.holder.id().to_string())
            .args(["-m", "-u", "--"])
            .args(args);
        c
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.kill();
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

fn sshd_config(ip: &str, port: u16, dir: &Path) -> String {
    let d = dir.display();
    format!(
        "Port {port}\nListenAddress {ip}\nHostKey {d}/ssh_host_ed25519_key\n\
         AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin yes\nPasswordAuthentication yes\n\
         KbdInteractiveAuthentication no\nPidFile none\nStrictModes no\nUsePAM no\n\
         MaxStartups 64:30:128\nSubsystem sftp /usr/lib/openssh/sftp-server\n"
    )
}

/// Namespace setup run inside the host: private /etc copy, tmpfs dirs,
/// hostname, the sudo user.
fn setup_script(h: &Host) -> String {
    let stage = h.dir.join("etc");
    let stage = stage.display();
    let mut s = format!(
        "set -e\nhostname {name}\nmkdir -p {stage}\nmount -t tmpfs -o mode=0755 tug-etc {stage}\n\
         cp -a /etc/. {stage}/\nmount --move {stage} /etc\n",
        name = h.hostname
    );
    for (d, mode) in PRIVATE_DIRS {
        s += &format!("mkdir -p {d}\nmount -t tmpfs -o mode={mode} tug-private {d}\n");
    }
    s += &format!(
        "printf '%s %s\\n' {ip} {name} >> /etc/hosts\n\
         useradd -m -s /bin/bash {SUDO_USER}\n\
         printf '%s\\n' '{SUDO_USER} ALL=(ALL:ALL) ALL' 'Defaults:{SUDO_USER} timestamp_timeout=0' > /etc/sudoers.d/{SUDO_USER}\n\
         chmod 0440 /etc/sudoers.d/{SUDO_USER}\n",
        ip = h.ip,
        name = h.hostname
    );
    s
}

/// The ports tug's preflight finds in use on a host (registry, API
/// server, etcd, kubelet): a service of this machine listening on one of
/// them for every address (Debian's docker-registry on :5000) would fail
/// every install test, so addresses where they are taken are not used.
const PREFLIGHT_PORTS: [u16; 4] = [5000, 6443, 2379, 10250];

/// Take `n` consecutive addresses 127.0.10.k whose lock we get and whose
/// `port` and preflight ports are free.
fn reserve(n: usize, port: u16) -> Vec<(String, File)> {
    fs::create_dir_all(LOCK_DIR).unwrap();
    let free = |ip: &str| {
        std::iter::once(port)
            .chain(PREFLIGHT_PORTS)
            .all(|p| TcpListener::bind((ip, p)).is_ok())
    };
    'start: for first in 1..=(255 - n) {
        let mut got = Vec::new();
        for k in first..first + n {
            let ip = format!("127.0.10.{k}");
            let lock = File::create(format!("{LOCK_DIR}/{ip}.lock")).unwrap();
            if lock.try_lock().is_err() || !free(&ip) {
                continue 'start;
            }
            got.push((ip, lock));
        }
        return got;
    }
    panic!(
        "no {n} free consecutive addresses 127.0.10.x with ports {port} and {PREFLIGHT_PORTS:?} \
         free (is a service such as docker-registry listening on all addresses? \
         scripts/test.sh stops it)"
    );
}

/// A new ed25519 key pair at `path` (+ `.pub`) with this passphrase (`""`: none).
pub fn keygen(path: &Path, passphrase: &str) {
    super::sh(
        Command::new("ssh-keygen")
            .args([
                "-q", "-t", "ed25519", "-C", "tug-test", "-N", passphrase, "-f",
            ])
            .arg(path),
    );
}

/// Random lowercase hex of `bytes` bytes from the kernel.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut buf)
        .unwrap();
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn feed(cmd: &mut Command, input: &str) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
