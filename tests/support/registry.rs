//! A real `docker-registry` (Debian's docker distribution) on 127.0.0.1 with
//! a free port and its own storage dir, optionally behind htpasswd auth.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running registry; killed on drop.
pub struct Registry {
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// Storage root (holds `docker/registry/v2`).
    pub storage: PathBuf,
    /// User and password when auth is on.
    pub auth: Option<(String, String)>,
    config: PathBuf,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Registry {
    /// A registry with empty storage and no auth.
    pub fn start() -> Registry {
        Self::launch(None, None)
    }

    /// A registry that requires this user and password (htpasswd, bcrypt).
    pub fn start_with_auth(user: &str, pass: &str) -> Registry {
        Self::launch(None, Some((user.to_string(), pass.to_string())))
    }

    /// A registry serving an existing storage root (a dir holding
    /// `docker/registry/v2`), e.g. a cluster image's `registry/` dir.
    pub fn serve(storage: &Path) -> Registry {
        Self::launch(Some(storage.to_path_buf()), None)
    }

    fn launch(storage: Option<PathBuf>, auth: Option<(String, String)>) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("tug-registry-")
            .tempdir()
            .unwrap();
        let storage = storage.unwrap_or_else(|| dir.path().join("storage"));
        std::fs::create_dir_all(&storage).unwrap();
        let addr = format!("127.0.0.1:{}", free_port());
        let mut cfg = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            storage.display()
        );
        if let Some((u, p)) = &auth {
            let htpasswd = dir.path().join("htpasswd");
            super::sh(
                Command::new("htpasswd")
                    .args(["-Bbc"])
                    .arg(&htpasswd)
                    .args([u, p]),
            );
            cfg.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: tug-test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        let config = dir.path().join("config.yml");
        std::fs::write(&config, cfg).unwrap();
        let mut r = Registry {
            addr,
            storage,
            auth,
            config,
            child: None,
            _dir: dir,
        };
        r.restart();
        r
    }

    /// `127.0.0.1:<port>/<path>`: a reference into this registry.
    pub fn reference(&self, path: &str) -> String {
        format!("{}/{}", self.addr, path)
    }

    /// Stop the registry process (storage is kept).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Start it again on the same address and storage; waits until it answers.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry (apt-get install docker-registry)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.v2_status() {
                assert!(status == 200 || status == 401, "registry answered {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("docker-registry on {} did not come up", self.addr);
    }

    /// HTTP status of `GET /v2/`, or None when nothing answers.
    pub fn v2_status(&self) -> Option<u16> {
        let mut s = TcpStream::connect(&self.addr).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        write!(s, "GET /v2/ HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr).ok()?;
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).ok()?;
        let head = String::from_utf8_lossy(&buf[..n]);
        head.split_whitespace().nth(1)?.parse().ok()
    }

    /// `--creds user:pass` / `--tls-verify=false` style args for skopeo.
    pub fn skopeo_args(&self) -> Vec<String> {
        let mut a = vec!["--tls-verify=false".to_string()];
        if let Some((u, p)) = &self.auth {
            a.push(format!("--creds={u}:{p}"));
        }
        a
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.kill();
    }
}
