//! Running the real `tug` binary with a private TUG_HOME.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A tug installation of its own: a temp TUG_HOME, removed on drop.
pub struct Tug {
    home: tempfile::TempDir,
}

/// What a tug run printed, and how it ended.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Panic with the whole output unless the run succeeded.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "tug failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Panic unless the run failed; returns it for checking the message.
    #[track_caller]
    pub fn fails(self) -> Run {
        assert_ne!(
            self.code, 0,
            "tug unexpectedly succeeded:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Tug {
    /// A fresh TUG_HOME.
    pub fn new() -> Tug {
        Tug {
            home: tempfile::Builder::new()
                .prefix("tug-home-")
                .tempdir()
                .expect("temp TUG_HOME"),
        }
    }

    /// The TUG_HOME directory.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The image store (an OCI layout) inside this TUG_HOME.
    pub fn store(&self) -> PathBuf {
        self.home.path().join("data").join("images")
    }

    /// A `tug` command with TUG_HOME set and no terminal.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tug"));
        c.env("TUG_HOME", self.home.path())
            .env_remove("REGISTRY_AUTH_FILE")
            .env("HOME", self.home.path())
            .stdin(std::process::Stdio::null());
        c
    }

    /// Start tug with these arguments, its output piped, without waiting.
    pub fn spawn(&self, args: &[String]) -> std::process::Child {
        self.cmd()
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start tug")
    }

    /// Run tug with these arguments.
    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd().args(args).output().expect("run tug").into()
    }
}
