//! What the COPY instructions put into the rootfs: a sorted map from rootfs
//! path to its source in the context (paths only; nothing is read or
//! copied here). Later COPYs win, as in a Dockerfile. The layer writer tars
//! this map; discovery looks at the files it names.

use super::glob;
use super::kubefile::{Instruction, Step};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Top-level rootfs directories of the sealos/sealer layout. `COPY file etc`
/// puts the file *into* `etc/` (as sealer Kubefiles expect) even when the
/// base image, not this build, made `etc/`.
pub const LAYOUT_DIRS: [&str; 12] = [
    "bin",
    "cri",
    "etc",
    "images",
    "manifests",
    "charts",
    "opt",
    "registry",
    "scripts",
    "statics",
    "plugins",
    "applications",
];

/// One path in the new layer.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A directory with this mode.
    Dir {
        /// Permission bits.
        mode: u32,
    },
    /// A regular file copied from `source`.
    File {
        /// Where its bytes are.
        source: PathBuf,
        /// Permission bits.
        mode: u32,
    },
    /// A symbolic link, kept as a link.
    Symlink {
        /// What it points at, as written.
        target: PathBuf,
    },
}

/// Why the COPY instructions cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A COPY is wrong; names the Kubefile line.
    #[error("{}:{line}: {message}", kubefile.display())]
    Copy {
        /// The Kubefile.
        kubefile: PathBuf,
        /// Its line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Reading the context failed.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The rootfs paths COPY adds, sorted.
#[derive(Debug, Clone, Default)]
pub struct CopyPlan {
    entries: BTreeMap<String, Entry>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PlanError + '_ {
    move |source| PlanError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Normalise a slash path (`./a//b/../c` -> `a/c`); `None` when `..`
/// climbs above the root.
pub fn normalise(p: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            c => out.push(c.to_string()),
        }
    }
    Some(out)
}

impl CopyPlan {
    /// Plan every COPY of a Kubefile against `context`.
    pub fn from_steps(context: &Path, kubefile: &Path, steps: &[Step]) -> Result<Self, PlanError> {
        let root = fs::canonicalize(context).map_err(io(context))?;
        let mut plan = CopyPlan::default();
        for step in steps {
            if let Instruction::Copy { sources, dest } = &step.instruction {
                let fail = |message: String| PlanError::Copy {
                    kubefile: kubefile.to_path_buf(),
                    line: step.line,
                    message,
                };
                plan.copy(&root, sources, dest, &fail)?;
            }
        }
        Ok(plan)
    }

    fn copy(
        &mut self,
        root: &Path,
        sources: &[String],
        dest: &str,
        fail: &dyn Fn(String) -> PlanError,
    ) -> Result<(), PlanError> {
        let dest_parts = normalise(dest).ok_or_else(|| {
            fail(format!(
                "destination {dest:?} climbs out of the rootfs with .."
            ))
        })?;
        let dest_path = dest_parts.join("/");
        let globbed = sources.iter().any(|s| glob::is_pattern(s));
        let into_dir = dest.ends_with('/')
            || dest_path.is_empty()
            || sources.len() > 1
            || globbed
            || matches!(self.entries.get(&dest_path), Some(Entry::Dir { .. }))
            || (dest_parts.len() == 1 && LAYOUT_DIRS.contains(&dest_path.as_str()));
        for src in sources {
            let parts = normalise(src)
                .ok_or_else(|| fail(format!("source {src:?} points outside the build context")))?;
            let matches =
                glob::expand(root, &parts).map_err(|e| fail(format!("source {src:?}: {e}")))?;
            if matches.is_empty() {
                return Err(fail(format!(
                    "source {src:?} matches nothing in the build context {}",
                    root.display()
                )));
            }
            for rel in matches {
                let path = if rel.as_os_str().is_empty() {
                    root.to_path_buf()
                } else {
                    root.join(&rel)
                };
                let parent = if path == root {
                    root
                } else {
                    path.parent().unwrap_or(root)
                };
                let real_parent = fs::canonicalize(parent).map_err(io(parent))?;
                if !real_parent.starts_with(root) {
                    return Err(fail(format!(
                        "source {src:?} leads outside the build context through a symlink"
                    )));
                }
                let meta = fs::symlink_metadata(&path).map_err(io(&path))?;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                let target = if meta.is_dir() || !into_dir {
                    dest_path.clone()
                } else {
                    join(&dest_path, name.as_deref().unwrap_or(""))
                };
                if meta.is_dir() {
                    self.add_dir_contents(&path, &target)?;
                } else {
                    self.add_one(&path, &target, &meta)?;
                }
            }
        }
        Ok(())
    }

    /// Add a directory's contents (recursively, sorted) under `dest`.
    pub fn add_dir_contents(&mut self, dir: &Path, dest: &str) -> Result<(), PlanError> {
        if !dest.is_empty() {
            let meta = fs::metadata(dir).map_err(io(dir))?;
            self.insert(
                dest,
                Entry::Dir {
                    mode: meta.permissions().mode() & 0o7777,
                },
            );
        }
        let mut children: Vec<_> = fs::read_dir(dir)
            .map_err(io(dir))?
            .collect::<Result<_, _>>()
            .map_err(io(dir))?;
        children.sort_by_key(|e| e.file_name());
        for child in children {
            let path = child.path();
            let target = join(dest, &child.file_name().to_string_lossy());
            let meta = fs::symlink_metadata(&path).map_err(io(&path))?;
            if meta.is_dir() {
                self.add_dir_contents(&path, &target)?;
            } else {
                self.add_one(&path, &target, &meta)?;
            }
        }
        Ok(())
    }

    fn add_one(&mut self, path: &Path, dest: &str, meta: &fs::Metadata) -> Result<(), PlanError> {
        let entry = if meta.file_type().is_symlink() {
            Entry::Symlink {
                target: fs::read_link(path).map_err(io(path))?,
            }
        } else if meta.is_file() {
            Entry::File {
                source: path.to_path_buf(),
                mode: meta.permissions().mode() & 0o7777,
            }
        } else {
            return Err(PlanError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other(
                    "not a file, directory or symlink (sockets and devices cannot be copied)",
                ),
            });
        };
        self.insert(dest, entry);
        Ok(())
    }

    /// Put an entry at `path`, creating parent dirs (0755) and replacing
    /// whatever was there (a replaced directory loses its contents).
    pub fn insert(&mut self, path: &str, entry: Entry) {
        let mut parent = String::new();
        for part in path
            .split('/')
            .collect::<Vec<_>>()
            .split_last()
            .map_or(&[][..], |(_, p)| p)
        {
            parent = join(&parent, part);
            if !matches!(self.entries.get(&parent), Some(Entry::Dir { .. })) {
                self.entries
                    .insert(parent.clone(), Entry::Dir { mode: 0o755 });
            }
        }
        let keep_children = matches!(entry, Entry::Dir { .. });
        if !keep_children {
            let prefix = format!("{path}/");
            self.entries.retain(|k, _| !k.starts_with(&prefix));
        }
        self.entries.insert(path.to_string(), entry);
    }

    /// Every entry, sorted by path.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The entry at a rootfs path.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// Whether nothing is planned.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Give every directory and file these modes (for trees tug wrote
    /// itself, whose modes would otherwise depend on the umask).
    pub fn set_modes(&mut self, dir_mode: u32, file_mode: u32) {
        for e in self.entries.values_mut() {
            match e {
                Entry::Dir { mode } => *mode = dir_mode,
                Entry::File { mode, .. } => *mode = file_mode,
                Entry::Symlink { .. } => {}
            }
        }
    }

    /// Move the subtree under top-level `dir` (and `dir` itself) into its
    /// own plan, e.g. `registry/`, which goes into a layer of its own.
    pub fn split_off(&mut self, dir: &str) -> CopyPlan {
        let prefix = format!("{dir}/");
        let (inside, outside) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(|(k, _)| k == dir || k.starts_with(&prefix));
        self.entries = outside;
        CopyPlan { entries: inside }
    }
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}/{b}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::kubefile::parse;

    fn plan(ctx: &Path, kubefile: &str) -> Result<CopyPlan, PlanError> {
        let k = parse(kubefile, Path::new("Kubefile"), &Default::default()).unwrap();
        CopyPlan::from_steps(ctx, Path::new("Kubefile"), &k.steps)
    }

    fn paths(p: &CopyPlan) -> Vec<&str> {
        p.entries().map(|(k, _)| k).collect()
    }

    #[test]
    fn copy_follows_dockerfile_rules_with_the_sealer_layout_dirs() {
        let tmp = tempfile::tempdir().unwrap();
        let ctx = tmp.path();
        for f in [
            "imageList",
            "kubeadm.yml",
            "charts/a/Chart.yaml",
            "m/x.yaml",
            "m/y.yml",
            "helm",
        ] {
            let p = ctx.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, f).unwrap();
        }
        let p = plan(
            ctx,
            "FROM scratch\nCOPY imageList manifests\nCOPY kubeadm.yml etc\nCOPY charts charts\nCOPY m/*.y*ml deploy\nCOPY helm /opt/helm-bin\nCOPY helm tools/\n",
        )
        .unwrap();
        assert_eq!(
            paths(&p),
            [
                "charts",
                "charts/a",
                "charts/a/Chart.yaml",
                "deploy",
                "deploy/x.yaml",
                "deploy/y.yml",
                "etc",
                "etc/kubeadm.yml",
                "manifests",
                "manifests/imageList",
                "opt",
                "opt/helm-bin",
                "tools",
                "tools/helm",
            ]
        );
        let all = plan(ctx, "FROM scratch\nCOPY . .\nCOPY helm charts\n").unwrap();
        assert!(matches!(all.get("charts/helm"), Some(Entry::File { .. })));
        assert!(all.get("imageList").is_some());
        let replaced = plan(ctx, "FROM scratch\nCOPY charts x\nCOPY helm x\n").unwrap();
        assert_eq!(
            paths(&replaced),
            ["x", "x/a", "x/a/Chart.yaml", "x/helm"],
            "x is a dir after the first COPY"
        );
    }

    #[test]
    fn sources_outside_the_context_or_missing_are_refused_with_the_line() {
        let tmp = tempfile::tempdir().unwrap();
        let ctx = tmp.path().join("ctx");
        fs::create_dir_all(&ctx).unwrap();
        std::os::unix::fs::symlink(tmp.path(), ctx.join("up")).unwrap();
        fs::write(tmp.path().join("secret"), "s").unwrap();
        for (src, needle) in [
            ("../secret x", "points outside the build context"),
            ("up/secret x", "outside the build context through a symlink"),
            ("nothing/* x", "matches nothing"),
            ("up x/../../..", "climbs out of the rootfs"),
        ] {
            let e = plan(&ctx, &format!("FROM scratch\n\nCOPY {src}\n"))
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("Kubefile:3: ") && e.contains(needle),
                "{src}: {e}"
            );
        }
    }
}
