//! The Go-template subset cluster images use in their `*.tmpl` files.
//!
//! sealos renders image templates with Go's `text/template`
//! (`missingkey=default`) and the sprig functions; official images only use
//! field access, `if`/`else`, the boolean and comparison builtins, pipes and a
//! handful of sprig functions. This module implements that subset with Go's
//! semantics (a missing key prints `<no value>`, `and`/`or` short-circuit and
//! return the deciding value, `{{-`/`-}}` trim whitespace) and refuses
//! everything else with an error naming the file, line and construct, so a
//! template tug cannot render faithfully is never rendered wrongly.
//!
//! Supported: `{{ .key }}` (also `.Env.key`, as `sealctl render` offers),
//! `{{ if }}`/`{{ else if }}`/`{{ else }}`/`{{ end }}`, `{{- -}}`, comments,
//! parentheses, pipes, string (interpreted and raw), number, character,
//! boolean and `nil` literals; the builtins `and or not eq ne lt le gt ge
//! len print println printf` (`%s %d %v %q %t %%`, width, `-`, `0`); and the
//! sprig functions `default empty coalesce ternary quote squote cat toString
//! contains hasPrefix hasSuffix trim trimPrefix trimSuffix upper lower replace
//! trunc indent nindent b64enc semverCompare`. Refused: `range`, `with`,
//! `define`, `template`, `block`, `break`, `continue`, variables, `.` as a
//! value, and every other function.

mod environ;
mod eval;
mod funcs;
mod lexer;
mod literal;
mod parser;
mod printf;
pub mod render_dir;
mod semver;
mod value;

use std::collections::BTreeMap;

pub use render_dir::{RenderDirError, RenderOptions, Rendered, render_rootfs};

/// A template error: where it happened and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct TemplateError {
    /// The template's name (a path relative to the rendered root for files).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What went wrong, naming the construct.
    pub message: String,
}

/// A parsed template, ready to render any number of times.
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    source: String,
    nodes: Vec<parser::Node>,
}

impl Template {
    /// Parses `source`; `name` is used in error messages (e.g. the file's path).
    pub fn parse(name: &str, source: &str) -> Result<Template, TemplateError> {
        let fail = |e: Positioned| error_at(name, source, e);
        let tokens = lexer::lex(source).map_err(fail)?;
        let nodes = parser::parse(tokens).map_err(fail)?;
        Ok(Template {
            name: name.to_string(),
            source: source.to_string(),
            nodes,
        })
    }

    /// Renders with `data` as the flat map of string values behind `.key`.
    pub fn render(&self, data: &BTreeMap<String, String>) -> Result<String, TemplateError> {
        eval::execute(&self.nodes, data).map_err(|e| error_at(&self.name, &self.source, e))
    }
}

/// Parses and renders in one step.
pub fn render_str(
    name: &str,
    source: &str,
    data: &BTreeMap<String, String>,
) -> Result<String, TemplateError> {
    Template::parse(name, source)?.render(data)
}

/// An error message at a byte offset of the source, before it is turned into
/// a line and column.
#[derive(Debug)]
pub(crate) struct Positioned {
    pub(crate) pos: usize,
    pub(crate) message: String,
}

impl Positioned {
    pub(crate) fn new(pos: usize, message: impl Into<String>) -> Positioned {
        Positioned {
            pos,
            message: message.into(),
        }
    }
}

fn error_at(name: &str, source: &str, e: Positioned) -> TemplateError {
    let pos = e.pos.min(source.len());
    let before = &source[..pos];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = source[line_start..pos].chars().count() + 1;
    TemplateError {
        file: name.to_string(),
        line,
        column,
        message: e.message,
    }
}
