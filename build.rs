//! Records the git commit and the build date for `tug version`. Runs again
//! only when the checked-out commit changes.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=TUG_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=TUG_BUILD_DATE={date}");
    println!("cargo:rerun-if-changed=build.rs");
    // HEAD lives in the git dir, branch refs in the common dir: they differ
    // in a worktree, where `.git` is a file naming them.
    let git = |arg: &str| {
        Command::new("git")
            .args(["rev-parse", arg])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
    };
    let (Some(dir), Some(common)) = (git("--git-dir"), git("--git-common-dir")) else {
        return;
    };
    let head = dir.join("HEAD");
    println!("cargo:rerun-if-changed={}", head.display());
    if let Ok(text) = std::fs::read_to_string(&head)
        && let Some(reference) = text.trim().strip_prefix("ref: ")
    {
        println!(
            "cargo:rerun-if-changed={}",
            common.join(reference).display()
        );
    }
}
