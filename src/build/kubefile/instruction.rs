//! What a Kubefile says, one instruction at a time: the base, and the
//! steps a build applies in order. [`super::parser`] makes them.

use crate::image::Reference;

/// What the image is built on.
#[derive(Debug, Clone, PartialEq)]
pub enum Base {
    /// `FROM scratch`: nothing below the new layers.
    Scratch,
    /// `FROM image`, reused layer by layer.
    Image {
        /// The normalised reference.
        reference: Reference,
        /// `--platform=` on the FROM line, if any.
        platform: Option<String>,
    },
}

/// A CMD or ENTRYPOINT.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// JSON form: the elements as written.
    Exec(Vec<String>),
    /// Shell form: the whole command line.
    Shell(String),
}

impl Command {
    /// The config's element list. Installers run each element as one shell
    /// command line, so the shell form becomes a single element (not
    /// `/bin/sh -c …`, which sealos would run as two broken commands).
    pub fn elements(&self) -> Vec<String> {
        match self {
            Command::Exec(v) => v.clone(),
            Command::Shell(s) => vec![s.clone()],
        }
    }
}

/// An instruction after FROM, with substitution done.
#[derive(Debug, Clone, PartialEq)]
pub enum Instruction {
    /// Copy context paths (globs allowed) to a path in the rootfs.
    Copy {
        /// Sources, relative to the context.
        sources: Vec<String>,
        /// Destination, relative to the rootfs.
        dest: String,
    },
    /// Environment variables.
    Env(Vec<(String, String)>),
    /// Labels.
    Label(Vec<(String, String)>),
    /// CMD (successive CMDs in one Kubefile append, as in sealer Kubefiles).
    Cmd(Command),
    /// ENTRYPOINT (appends like CMD).
    Entrypoint(Command),
    /// The image author.
    Maintainer(String),
}

/// An instruction and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// 1-based line of its first character.
    pub line: usize,
    /// The instruction's text as written (continuations joined), for history.
    pub text: String,
    /// What it does.
    pub instruction: Instruction,
}
