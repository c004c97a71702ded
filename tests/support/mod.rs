//! The testbed every integration test uses: the real `tug` binary with its
//! own TUG_HOME, real `docker-registry` processes, and (see `hosts`) real
//! OpenSSH test hosts. Each test file includes this with `mod support;`.
#![allow(dead_code)]

pub mod cluster_image;
pub mod demo;
pub mod fixture;
pub mod hosts;
pub mod registry;
pub mod tmux;
pub mod tug;
pub mod wizard;

/// Whether a program is on PATH.
pub fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}

/// Run a command, panicking with its output when it fails; returns stdout.
pub fn sh(cmd: &mut std::process::Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
