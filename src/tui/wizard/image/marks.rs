//! Marking images for one install, as `sealos run ROOTFS APP...` names
//! them: Space marks or unmarks the highlighted image, and the marked
//! images are installed in the order they were marked, the one rootfs image
//! first (it makes the cluster that patches and applications go on). With
//! nothing marked the highlighted image alone is installed, as before.

use super::{ImageScreen, Note};
use crate::image::cluster_image::ImageType;

#[cfg(test)]
mod tests;

impl ImageScreen {
    /// Space: mark the highlighted image for the install, or unmark it. A
    /// rootfs goes before the images marked already; an image that cannot
    /// be read, or a second rootfs, is refused with why.
    pub(super) fn toggle(&mut self) {
        let Some(choice) = self.choices.get(self.selected) else {
            return;
        };
        let name = choice.name.clone();
        if let Some(i) = self.marked.iter().position(|m| *m == name) {
            self.marked.remove(i);
            self.clear_refusal();
            return;
        }
        match choice.kind {
            None => self.refuse(format!("{name} cannot be read, so it cannot be installed")),
            Some(ImageType::Rootfs) => match self.marked_rootfs() {
                Some(other) => self.refuse(format!(
                    "{name} is a second rootfs image: a cluster has one ({other} is marked; \
                     Space on it unmarks it)"
                )),
                None if self.marked.is_empty() => {
                    self.marked.push(name);
                    self.clear_refusal();
                }
                None => {
                    self.note = Some(Note::Done(format!(
                        "{name} goes first: the rootfs image makes the cluster the others go on"
                    )));
                    self.marked.insert(0, name);
                }
            },
            Some(ImageType::Application | ImageType::Patch) => {
                self.marked.push(name);
                self.clear_refusal();
            }
        }
    }

    /// Whether the picked images make an install: exactly one rootfs, and
    /// it first. With nothing marked, the highlighted image alone, unless
    /// it is known to need a rootfs under it.
    pub(super) fn check(&self) -> Result<(), String> {
        let picked = self.picked();
        if self.marked.is_empty() {
            return match picked.first().map(|n| (n, self.kind_of(n))) {
                Some((name, Some(kind @ (ImageType::Application | ImageType::Patch)))) => {
                    Err(format!(
                        "{name} is not a rootfs image ({kind}): it goes on a cluster, so \
                         mark a rootfs image and then it with Space"
                    ))
                }
                _ => Ok(()),
            };
        }
        let rootfs: Vec<&str> = picked
            .iter()
            .copied()
            .filter(|n| self.kind_of(n) == Some(ImageType::Rootfs))
            .collect();
        match rootfs[..] {
            [] => {
                Err("mark a rootfs image too: the marked images go on the cluster it makes".into())
            }
            [one] if picked.first() == Some(&one) => Ok(()),
            [one] => Err(format!(
                "{one} is the rootfs image: unmark the others and mark it first"
            )),
            _ => Err(format!(
                "{} are all rootfs images: a cluster has one, unmark the others",
                rootfs.join(", ")
            )),
        }
    }

    /// The images to install, in order: the marked ones, or else the
    /// highlighted one.
    pub fn picked(&self) -> Vec<&str> {
        if self.marked.is_empty() {
            return self
                .choices
                .get(self.selected)
                .map(|c| c.name.as_str())
                .into_iter()
                .collect();
        }
        self.marked.iter().map(String::as_str).collect()
    }

    /// The install's first image, the rootfs: its env is the cluster's
    /// and its architectures are the ones the hosts need.
    pub fn rootfs(&self) -> Option<&str> {
        self.picked().first().copied()
    }

    /// The architectures of the rootfs image (none when nothing is picked).
    pub fn archs(&self) -> &[String] {
        let first = self.rootfs();
        self.choices
            .iter()
            .find(|c| Some(c.name.as_str()) == first)
            .map_or(&[], |c| c.archs.as_slice())
    }

    /// Where `name` is in the install's order (1 for the first), when it
    /// is marked.
    pub fn mark_of(&self, name: &str) -> Option<usize> {
        self.marked.iter().position(|m| m == name).map(|i| i + 1)
    }

    /// The store was read again: keep the marks of images still there and
    /// readable.
    pub(super) fn keep_marks(&mut self) {
        let choices = &self.choices;
        self.marked
            .retain(|m| choices.iter().any(|c| c.name == *m && c.kind.is_some()));
    }

    fn kind_of(&self, name: &str) -> Option<ImageType> {
        self.choices.iter().find(|c| c.name == name)?.kind
    }

    fn marked_rootfs(&self) -> Option<&str> {
        self.marked
            .iter()
            .map(String::as_str)
            .find(|m| self.kind_of(m) == Some(ImageType::Rootfs))
    }

    fn refuse(&mut self, why: String) {
        self.note = Some(Note::Failed(why));
    }

    /// A mark that worked takes away the failure on show; a success note stays.
    fn clear_refusal(&mut self) {
        if matches!(self.note, Some(Note::Failed(_))) {
            self.note = None;
        }
    }
}
