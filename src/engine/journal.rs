//! Which steps finished, and when, so a second run skips them. Only
//! successes are recorded: a failed step is simply not there, so a failed
//! status never blocks a re-run. Because a [`StepId`] hashes the step's
//! inputs, a changed input is a new id and runs again; a step whose work
//! goes stale (a join token) counts as done only for a while. The file is
//! small JSON, written 0600 to a temp file and renamed after every step,
//! so a crash leaves either the old or the new journal, never half of one.

use super::plan::StepId;
use crate::fsutil::write_private;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The journal file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Reading or writing failed.
    #[error("{action} journal {path}: {source}")]
    Io {
        /// What tug was doing.
        action: &'static str,
        /// The journal file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file is not a journal (delete it to redo every step).
    #[error("journal {path} is not valid (line {line}): {message}; delete it to start over")]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// Where the parser stopped.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// The file: every finished step with when it finished (unix seconds).
/// Version 1 listed the steps without times; they load as finished at 0,
/// so only steps that expire run again.
#[derive(Serialize, Deserialize, Default)]
struct File {
    version: u32,
    done: Done,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Done {
    At(BTreeMap<StepId, u64>),
    Listed(BTreeSet<StepId>),
}

impl Default for Done {
    fn default() -> Self {
        Done::At(BTreeMap::new())
    }
}

/// The finished steps of one lifecycle (install, reset, …) of one cluster.
#[derive(Debug)]
pub struct Journal {
    path: Option<PathBuf>,
    done: BTreeMap<StepId, u64>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Journal {
    /// Load from `path`; a missing file is an empty journal.
    pub fn load(path: impl Into<PathBuf>) -> Result<Self, JournalError> {
        let path = path.into();
        let done = match fs::read(&path) {
            Ok(bytes) => {
                let file: File =
                    serde_json::from_slice(&bytes).map_err(|e| JournalError::Corrupt {
                        path: path.clone(),
                        line: e.line(),
                        message: e.to_string(),
                    })?;
                match file.done {
                    Done::At(at) => at,
                    Done::Listed(ids) => ids.into_iter().map(|id| (id, 0)).collect(),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => {
                return Err(JournalError::Io {
                    action: "reading",
                    path,
                    source,
                });
            }
        };
        Ok(Journal {
            path: Some(path),
            done,
        })
    }

    /// A journal that is never written (dry runs, one-off plans).
    pub fn in_memory() -> Self {
        Journal {
            path: None,
            done: BTreeMap::new(),
        }
    }

    /// Whether the step finished before with the same inputs.
    pub fn is_done(&self, id: &StepId) -> bool {
        self.done.contains_key(id)
    }

    /// Whether the step finished with the same inputs less than `max_age` ago.
    pub fn is_fresh(&self, id: &StepId, max_age: Duration) -> bool {
        self.done
            .get(id)
            .is_some_and(|at| now().saturating_sub(*at) < max_age.as_secs())
    }

    /// Every finished step.
    pub fn done(&self) -> impl Iterator<Item = &StepId> {
        self.done.keys()
    }

    /// Record a finished step, now (call [`Journal::save`] to persist it).
    pub fn mark_done(&mut self, id: StepId) {
        self.done.insert(id, now());
    }

    /// Forget steps the current plan does not have: a value changed and
    /// changed back must run again, since the host holds the newer one.
    pub fn retain(&mut self, keep: impl Fn(&StepId) -> bool) {
        self.done.retain(|id, _| keep(id));
    }

    /// Write the journal atomically (temp file, fsync, rename), mode 0600.
    pub fn save(&self) -> Result<(), JournalError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let io = |action, source| JournalError::Io {
            action,
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| io("creating the dir of", e))?;
        }
        let body = serde_json::to_vec_pretty(&File {
            version: 2,
            done: Done::At(self.done.clone()),
        })
        .map_err(|e| io("encoding", e.into()))?;
        write_private(path, &body).map_err(|e| io("writing", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::plan::{Action, HostId, Phase, Step};
    use std::os::unix::fs::PermissionsExt;

    fn id(key: &str) -> StepId {
        let action = Action::Fetch {
            path: "/etc/x".into(),
            to_local: "/tmp/x".into(),
        };
        Step::new(Phase::Finish, HostId::new("h"), key, action)
            .unwrap()
            .id
    }

    #[test]
    fn saves_and_loads_finished_steps_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/journal.json");
        let mut j = Journal::load(&path).unwrap();
        assert!(!j.is_done(&id("a")));
        j.mark_done(id("a"));
        j.save().unwrap();
        let again = Journal::load(&path).unwrap();
        assert!(again.is_done(&id("a")));
        assert!(!again.is_done(&id("b")));
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_step_is_fresh_only_for_its_age_and_old_journals_load_as_stale() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.json");
        let mut j = Journal::load(&path).unwrap();
        j.mark_done(id("a"));
        assert!(j.is_fresh(&id("a"), Duration::from_secs(3600)));
        assert!(!j.is_fresh(&id("a"), Duration::ZERO));
        assert!(!j.is_fresh(&id("b"), Duration::from_secs(3600)));
        let old = format!("{{\"version\": 1, \"done\": [\"{}\"]}}", id("a"));
        fs::write(&path, old).unwrap();
        let v1 = Journal::load(&path).unwrap();
        assert!(v1.is_done(&id("a")));
        assert!(!v1.is_fresh(&id("a"), Duration::from_secs(3600)));
    }

    #[test]
    fn a_corrupt_journal_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.json");
        fs::write(&path, "{\n\"done\": [1,").unwrap();
        let e = Journal::load(&path).unwrap_err().to_string();
        assert!(e.contains("j.json") && e.contains("line 2"), "{e}");
    }
}
