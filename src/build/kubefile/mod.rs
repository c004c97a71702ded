//! Kubefile parsing: the Dockerfile subset a lite build understands (FROM,
//! COPY, ENV, LABEL, ARG, CMD, ENTRYPOINT, MAINTAINER), with ARG/ENV
//! substitution done here so the builder gets final values. Every error
//! names the file, line and column and says what was expected.

mod instruction;
mod lines;
mod parser;
mod words;

pub use instruction::{Base, Command, Instruction, Step};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// File names looked for in a build context, in this order.
pub const DEFAULT_NAMES: [&str; 3] = ["Kubefile", "Sealfile", "Dockerfile"];

/// A Kubefile error, pointing at the offending character.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", file.display())]
pub struct ParseError {
    /// The Kubefile.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Reading a Kubefile failed before parsing.
#[derive(Debug, thiserror::Error)]
pub enum KubefileError {
    /// The file is not valid.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// No Kubefile in the context and none named.
    #[error("no Kubefile, Sealfile or Dockerfile in {} (name one with -f)", .0.display())]
    NotFound(PathBuf),
}

/// A parsed Kubefile: the base, then the steps in order.
#[derive(Debug, Clone)]
pub struct Kubefile {
    /// Where it was read from (for messages).
    pub path: PathBuf,
    /// The FROM line.
    pub base: Base,
    /// Everything after FROM.
    pub steps: Vec<Step>,
    /// Things worth telling the user that do not stop the build.
    pub warnings: Vec<String>,
}

/// Find the Kubefile: `explicit` when given, else the first of
/// [`DEFAULT_NAMES`] present in `context`.
pub fn locate(context: &Path, explicit: Option<&Path>) -> Result<PathBuf, KubefileError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    DEFAULT_NAMES
        .iter()
        .map(|n| context.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| KubefileError::NotFound(context.to_path_buf()))
}

/// Read and parse a Kubefile with `--build-arg` overrides.
pub fn load(path: &Path, build_args: &BTreeMap<String, String>) -> Result<Kubefile, KubefileError> {
    let src = std::fs::read_to_string(path).map_err(|source| KubefileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(parse(&src, path, build_args)?)
}

/// Parse Kubefile text. `path` is only used in messages.
pub fn parse(
    src: &str,
    path: &Path,
    build_args: &BTreeMap<String, String>,
) -> Result<Kubefile, ParseError> {
    let mut p = parser::Parser::new(path, build_args);
    for logical in lines::logical_lines(src) {
        p.instruction(&logical)?;
    }
    p.finish()
}
