//! The first wizard screen: pick a cluster image, with its details. The
//! list is the local store's; `p` pulls a reference into the store and
//! `b` / `B` verify and load a bundle (the one next to the running tug, or
//! one at a typed path). Both run as a job ([`fetch`]) whose progress the
//! screen shows; then the list is read again with the new image selected
//! (and a bundle's Clusterfile hosts are handed to the wizard). Space marks
//! several images for one install, a rootfs then applications ([`marks`]).

mod choices;
pub mod fetch;
mod marks;
#[cfg(test)]
mod tests;
mod view;

use super::field::Field;
use super::{Draft, Flow, Job, Keys, Page, Replied, Reply};
use crate::cluster::hosts::Address;
use crate::image::Reference;
use crate::image::oci::Platform;
use crate::tui::theme::Theme;
use bytesize::ByteSize;
pub use choices::{Choice, choices};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use std::path::PathBuf;

/// Where images come from besides the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Pull a reference, for these platforms (this machine's when none),
    /// as `tug pull --platform` does.
    Pull {
        /// The image.
        reference: Reference,
        /// The platforms of a multi-arch image to pull.
        platforms: Vec<Platform>,
    },
    /// Verify, then load, the bundle (directory or tar) at this path.
    Bundle(PathBuf),
}

impl Source {
    /// What fetching it is called on screen.
    pub fn describe(&self) -> String {
        match self {
            Source::Pull { reference, .. } => format!("pulling {reference}"),
            Source::Bundle(path) => format!("loading bundle {}", path.display()),
        }
    }
}

/// How far a fetch has come.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// What is being done (`pulling REF`, `bundle: checking tug`…).
    pub phase: String,
    /// Bytes done.
    pub done: u64,
    /// Bytes expected so far (a pull learns its blobs as they start).
    pub total: u64,
    /// Blobs finished of those started (pulls only).
    pub blobs: Option<(usize, usize)>,
}

impl Progress {
    /// The progress as one line.
    pub fn label(&self) -> String {
        let blobs = self
            .blobs
            .map(|(done, started)| format!("{done}/{started} blobs, "))
            .unwrap_or_default();
        format!(
            "{}: {blobs}{} of {}",
            self.phase,
            ByteSize::b(self.done).display().iec(),
            ByteSize::b(self.total).display().iec()
        )
    }

    /// Done of total, for a gauge.
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            (self.done as f64 / self.total as f64).min(1.0)
        }
    }
}

/// A fetch that ended well: the store's images read again, which to select.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    /// The store's images now.
    pub choices: Vec<Choice>,
    /// The name to select (the image pulled, the bundle's first image).
    pub select: String,
    /// What was done, in one line.
    pub note: String,
    /// The cluster a loaded bundle's Clusterfile describes, when it names
    /// real hosts.
    pub hosts: Option<FromBundle>,
}

/// The hosts and SSH settings of a loaded bundle's Clusterfile template,
/// for the hosts and SSH screens (a template never holds a password).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FromBundle {
    /// Its masters, master0 first; a port only when it is not 22.
    pub masters: Vec<Address>,
    /// Its nodes.
    pub nodes: Vec<Address>,
    /// `spec.ssh.user`.
    pub user: Option<String>,
    /// `spec.ssh.pk`: the private key's path.
    pub pk: Option<String>,
    /// `metadata.name`.
    pub name: Option<String>,
}

/// Which input is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prompt {
    /// An image reference to pull.
    Reference,
    /// A bundle's path.
    BundlePath,
}

/// The outcome of the last fetch (or a refused input), in one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// It worked.
    Done(String),
    /// It did not, and why.
    Failed(String),
}

/// The image screen.
#[derive(Clone, Debug, Default)]
pub struct ImageScreen {
    /// The store's images.
    pub choices: Vec<Choice>,
    /// The one under the cursor.
    pub selected: usize,
    /// The bundle next to the running tug, when there is one.
    pub bundle: Option<PathBuf>,
    /// The open input.
    pub input: Option<(Prompt, Field)>,
    /// The fetch under way.
    pub fetching: Option<Progress>,
    /// The last fetch's outcome, or why a key was refused.
    pub note: Option<Note>,
    /// The images marked for the install, in install order (the rootfs
    /// first).
    pub marked: Vec<String>,
}

impl ImageScreen {
    /// The screen over these images.
    pub fn new(choices: Vec<Choice>) -> Self {
        ImageScreen {
            choices,
            ..ImageScreen::default()
        }
    }

    /// React to a key while the input is open.
    fn input_key(&mut self, key: KeyEvent) -> Flow {
        let Some((prompt, field)) = &mut self.input else {
            return Flow::Stay;
        };
        match key.code {
            KeyCode::Esc => {
                self.input = None;
                self.note = None;
            }
            KeyCode::Enter => match source(*prompt, field.text().trim()) {
                Ok(s) => {
                    self.input = None;
                    return self.start(s);
                }
                Err(e) => self.note = Some(Note::Failed(e)),
            },
            _ => {
                field.input(key);
            }
        }
        Flow::Stay
    }

    fn open(&mut self, prompt: Prompt) {
        let label = match prompt {
            Prompt::Reference => "pull",
            Prompt::BundlePath => "bundle path",
        };
        self.input = Some((prompt, Field::new(label, "", false)));
        self.note = None;
    }

    /// Start fetching from `source`, one fetch at a time.
    fn start(&mut self, source: Source) -> Flow {
        if let Some(p) = &self.fetching {
            self.note = Some(Note::Failed(format!(
                "{} is still under way: wait for it to end",
                p.phase
            )));
            return Flow::Stay;
        }
        self.fetching = Some(Progress {
            phase: source.describe(),
            ..Progress::default()
        });
        self.note = None;
        Flow::Job(Job::Fetch(source))
    }

    /// A fetch's progress arrived.
    pub fn progress(&mut self, p: Progress) {
        if self.fetching.is_some() {
            self.fetching = Some(p);
        }
    }

    /// A fetch ended: show the store again with its image selected, or why not.
    pub fn fetched(&mut self, result: Result<Fetched, String>) {
        self.fetching = None;
        match result {
            Ok(f) => {
                self.selected = f
                    .choices
                    .iter()
                    .position(|c| c.name == f.select)
                    .unwrap_or(0);
                self.choices = f.choices;
                self.keep_marks();
                self.note = Some(Note::Done(f.note));
            }
            Err(e) => self.note = Some(Note::Failed(e)),
        }
    }
}

impl Page for ImageScreen {
    fn keys(&self) -> Keys {
        &[
            ("↑/↓", "select an image"),
            ("Space", "mark for the install (in order, the rootfs first)"),
            ("Enter", "next: hosts"),
            ("p", "pull: REGISTRY/REPO:TAG [OS/ARCH] into the store"),
            ("b", "bundle: verify and load the one next to tug"),
            ("B", "bundle path: verify and load a bundle from a path"),
            ("q Esc", "quit"),
        ]
    }

    fn typing(&self) -> bool {
        self.input.is_some()
    }

    fn has_input(&self) -> bool {
        self.input
            .as_ref()
            .is_some_and(|(_, f)| !f.text().trim().is_empty())
    }

    fn handle_key(&mut self, key: KeyEvent, _draft: &Draft) -> Flow {
        if self.input.is_some() {
            return self.input_key(key);
        }
        match key.code {
            KeyCode::Esc => return Flow::Back,
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(self.choices.len().saturating_sub(1));
            }
            // The list changes when the fetch ends: pick once it has.
            KeyCode::Enter if self.fetching.is_none() && !self.choices.is_empty() => {
                match self.check() {
                    Ok(()) => return Flow::Next,
                    Err(e) => self.note = Some(Note::Failed(e)),
                }
            }
            KeyCode::Char(' ') => self.toggle(),
            KeyCode::Char('p') => self.open(Prompt::Reference),
            KeyCode::Char('B') => self.open(Prompt::BundlePath),
            KeyCode::Char('b') => match self.bundle.clone() {
                Some(path) => return self.start(Source::Bundle(path)),
                None => {
                    self.note = Some(Note::Failed(
                        "no bundle next to this tug: B loads one from a path".into(),
                    ));
                }
            },
            _ => {}
        }
        Flow::Stay
    }

    fn reply(&mut self, reply: &Reply, _draft: &Draft, _out: &mut Replied) {
        match reply {
            Reply::Fetching(p) => self.progress(p.clone()),
            Reply::Fetched(r) => self.fetched(r.clone()),
            _ => {}
        }
    }

    /// What the other screens took from a loaded bundle joins the note.
    fn told(&mut self, said: &[String]) {
        if let Some(Note::Done(note)) = &mut self.note {
            for s in said {
                note.push_str("; ");
                note.push_str(s);
            }
        }
    }

    fn describe(&self, draft: &mut Draft) {
        draft.images = self.picked().iter().map(|i| i.to_string()).collect();
        draft.archs = self.archs().to_vec();
    }

    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme, _draft: &Draft) {
        view::render(self, f, area, theme);
    }
}

/// What an input's text asks for: `REF [OS/ARCH[,OS/ARCH]]` or a path.
fn source(prompt: Prompt, text: &str) -> Result<Source, String> {
    match prompt {
        Prompt::Reference => {
            let mut words = text.split_whitespace();
            let Some(first) = words.next() else {
                return Err("type a reference, e.g. registry.example.com/repo:tag".into());
            };
            let reference = first.parse::<Reference>().map_err(|e| e.to_string())?;
            let platforms = words
                .flat_map(|w| w.split(','))
                .filter(|p| !p.is_empty())
                .map(|p| {
                    Platform::parse(p)
                        .ok_or_else(|| format!("{p}: not a platform (expected os/arch[/variant])"))
                })
                .collect::<Result<_, _>>()?;
            Ok(Source::Pull {
                reference,
                platforms,
            })
        }
        Prompt::BundlePath if text.is_empty() => {
            Err("type the path of a bundle directory or tar".into())
        }
        Prompt::BundlePath => Ok(Source::Bundle(PathBuf::from(text))),
    }
}
