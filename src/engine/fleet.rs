//! Day-2 work on a cluster's hosts, planned like an install so it runs
//! with the same runner (parallel, logged per host, secrets masked, every
//! host tried): a command run on each (`tug exec`), a local file or
//! directory copied to each (`tug scp`).

use super::command::{Command, CommandError};
use super::plan::{
    Action, Compression, LocalFile, OnFailure, Order, Phase, Plan, Source, Stage, Step,
};
use super::spec::HostSpec;
use std::path::Path;

/// How many hosts work at once.
const PARALLEL: usize = 16;

/// Puts the bytes on stdin at `$1` (or `$1/$2` when `$1` is a directory
/// or ends in `/`), through a temp file renamed into place.
const WRITE_FILE: &str = r#"set -e
dest=$1 name=$2
case $dest in */) dest=$dest$name ;; esac
if [ -d "$dest" ]; then dest=$dest/$name; fi
mkdir -p -- "$(dirname -- "$dest")"
cat > "$dest.tug-tmp"
mv -f -- "$dest.tug-tmp" "$dest""#;

/// Unpacks the gzipped tar on stdin into `$1`, created when missing.
const WRITE_DIR: &str = r#"set -e
mkdir -p -- "$1"
tar -xz -f - -C "$1""#;

/// Run the shell command `line` on every host of `hosts`.
pub fn plan_exec(hosts: &[HostSpec], line: &str) -> Result<Plan, CommandError> {
    let steps = hosts
        .iter()
        .map(|h| {
            let action = Action::Run {
                cmd: Command::shell(line),
                timeout: None,
            };
            Step::new(Phase::Exec, h.id.clone(), "exec", action)
        })
        .collect::<Result<_, _>>()?;
    Ok(one_stage(Phase::Exec, steps))
}

/// Copy the local file or directory `local` to `remote` on every host of
/// `hosts`: a file becomes `remote` (or goes into it, when it is a
/// directory), a directory's contents go into `remote`.
pub fn plan_copy(hosts: &[HostSpec], local: &Path, remote: &str) -> std::io::Result<Plan> {
    let meta = std::fs::metadata(local)?;
    let name = local
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (source, to) = if meta.is_dir() {
        let source = Source::Tar {
            dir: local.to_path_buf(),
            paths: Vec::new(),
            compress: Compression::Gzip,
            identity: local.display().to_string(),
        };
        let to = Command::new("bash").args(["-c", WRITE_DIR, "tug", remote]);
        (source, to)
    } else {
        let file = LocalFile {
            path: local.to_path_buf(),
            size: meta.len(),
            identity: local.display().to_string(),
        };
        let to = Command::new("bash").args(["-c", WRITE_FILE, "tug", remote, name.as_str()]);
        (Source::Files(vec![file]), to)
    };
    let steps = hosts
        .iter()
        .map(|h| {
            let action = Action::Send {
                source: source.clone(),
                to: to.clone(),
            };
            Step::new(Phase::Copy, h.id.clone(), "copy", action)
        })
        .collect::<Result<_, _>>()
        .map_err(std::io::Error::other)?;
    Ok(one_stage(Phase::Copy, steps))
}

fn one_stage(phase: Phase, steps: Vec<Step>) -> Plan {
    Plan {
        stages: vec![Stage {
            phase,
            steps,
            order: Order::Parallel(PARALLEL),
            on_failure: OnFailure::KeepGoing,
        }],
    }
}
