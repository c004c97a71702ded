//! OCI whiteouts: how a layer hides what the layers below it put in the
//! target (`.wh.name` removes `name`, `.wh..wh..opq` empties a directory
//! of everything this layer did not write), never through a symlink.

use super::Applier;
use crate::image::layer::LayerError;
use std::fs;
use std::path::{Path, PathBuf};

/// The prefix of a whiteout entry's name: `.wh.name` hides `name`.
pub(super) const WHITEOUT: &str = ".wh.";
/// The name of an opaque-directory marker.
pub(super) const OPAQUE: &str = ".wh..wh..opq";

impl Applier<'_> {
    /// `.wh.<hidden>` in `parent`: remove what lower layers put there.
    pub(super) fn whiteout(&mut self, parent: &Path, hidden: &str) -> Result<(), LayerError> {
        if hidden.is_empty() || hidden == "." || hidden == ".." || hidden.contains('/') {
            return Err(self.refuse("malformed whiteout"));
        }
        let rel = parent.join(hidden);
        if self.written.contains(&rel) {
            return Ok(()); // a whiteout never hides its own layer's files
        }
        // Check the parents without creating them: nothing there, nothing to hide.
        let mut cur = PathBuf::new();
        for c in parent.components() {
            cur.push(c);
            match fs::symlink_metadata(self.root.join(&cur)) {
                Ok(m) if m.is_dir() => {}
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(self.refuse(format!("its parent {} is a symlink", cur.display())));
                }
                _ => return Ok(()),
            }
        }
        self.remove(&self.root.join(rel))
    }

    /// Opaque directory: remove everything in `dir` that this layer did not
    /// write, descending into directories this layer wrote.
    pub(super) fn clear_lower(&mut self, dir: &Path) -> Result<(), LayerError> {
        let p = self.root.join(dir);
        for child in fs::read_dir(&p).map_err(self.io("list", &p))? {
            let child = child.map_err(self.io("list", &p))?;
            let rel = dir.join(child.file_name());
            if !self.written.contains(&rel) {
                self.remove(&child.path())?;
            } else if child.file_type().is_ok_and(|t| t.is_dir()) {
                self.clear_lower(&rel)?;
            }
        }
        Ok(())
    }
}
