//! A finding about a Clusterfile, named by file, line and field path, and
//! the lookup that turns a field path into a line of the source text.

use std::fmt;
use std::path::{Path, PathBuf};
use yaml_edit::{Document, YamlFile, YamlNode};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The Clusterfile cannot be used.
    Error,
    /// Usable, but probably not what the user wants.
    Warning,
}

/// One step of a field path: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// `.key`
    Key(String),
    /// `[index]`
    Index(usize),
}

/// A field path such as `spec.hosts[1].ips[0]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    /// Parse `spec.hosts[1].ips[0]` (keys must not contain `.` or `[`).
    pub fn parse(s: &str) -> FieldPath {
        let mut segs = Vec::new();
        for part in s.split('.').filter(|p| !p.is_empty()) {
            let mut rest = part;
            if let Some(i) = rest.find('[') {
                if i > 0 {
                    segs.push(Seg::Key(rest[..i].to_string()));
                }
                rest = &rest[i..];
                while let Some(r) = rest.strip_prefix('[') {
                    let Some((n, after)) = r.split_once(']') else {
                        break;
                    };
                    if let Ok(n) = n.parse() {
                        segs.push(Seg::Index(n));
                    }
                    rest = after;
                }
            } else {
                segs.push(Seg::Key(rest.to_string()));
            }
        }
        FieldPath(segs)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A finding: `FILE:LINE: FIELD: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// The file, when the Clusterfile came from one.
    pub file: Option<PathBuf>,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The offending field, e.g. `spec.hosts[1].ips[0]` (empty if none).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}:", file.display())?;
            if let Some(line) = self.line {
                write!(f, "{line}:")?;
            }
            f.write_str(" ")?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl Problem {
    /// A yaml_serde error as a finding: its line, the field path it names, and
    /// the message without the position suffix.
    pub(crate) fn from_yaml(path: &Path, text: &str, e: &serde_yaml::Error) -> Problem {
        let line = e.location().map(|l| l.line());
        let mut message = e.to_string();
        if let Some(l) = e.location() {
            let pos = format!(" at line {} column {}", l.line(), l.column());
            message = message.replacen(&pos, "", 1);
        }
        // "expected struct Ssh" names a Rust type; the user wrote YAML.
        if let Some(i) = message.find("expected struct ") {
            message.truncate(i);
            message.push_str("expected a mapping");
        }
        let mut field = String::new();
        if let Some((head, rest)) = message.split_once(": ")
            && !head.is_empty()
            && head
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.[]-".contains(c))
        {
            field = head.to_string();
            message = rest.to_string();
        }
        if let Some(n) = line {
            let src = text.lines().nth(n.saturating_sub(1)).unwrap_or("");
            if src.starts_with('\t') || src.trim_start_matches(' ').starts_with('\t') {
                message.push_str(" (YAML does not allow tabs for indentation)");
            }
            if field.is_empty() {
                field = key_on_line(src);
            }
        }
        Problem {
            severity: Severity::Error,
            file: Some(path.to_path_buf()),
            line,
            field,
            message,
        }
    }
}

/// The mapping key written on a source line (`  - name: x` → `name`), if any.
fn key_on_line(line: &str) -> String {
    let t = line.trim().trim_start_matches("- ").trim();
    match t.split_once(':') {
        Some((k, _)) if !k.is_empty() && !k.contains(' ') => k.trim_matches('"').to_string(),
        _ => String::new(),
    }
}

/// Finds the line of a field in a multi-document YAML text.
pub(crate) struct Locator<'a> {
    text: &'a str,
    docs: Vec<Document>,
}

impl<'a> Locator<'a> {
    /// Parse `text` losslessly (syntax errors tolerated).
    pub(crate) fn new(text: &'a str) -> Locator<'a> {
        let (file, _) = YamlFile::from_str_relaxed(text);
        let docs = file.documents().filter(|d| !is_blank(d, text)).collect();
        Locator { text, docs }
    }

    /// The line of the deepest existing node on `path` in the `doc`-th
    /// non-empty document; the document's first line if nothing matches.
    pub(crate) fn line(&self, doc: usize, path: &FieldPath) -> Option<usize> {
        let d = self.docs.get(doc)?;
        let mut line = self.line_at(d.byte_range().start as usize);
        let mut node: Option<YamlNode> = None;
        for seg in &path.0 {
            let (at, next) = match (seg, &node) {
                (Seg::Key(k), None) => {
                    let e = d.as_mapping()?.find_entry_by_key(k.as_str())?;
                    (e.key_node(), e.value_node())
                }
                (Seg::Key(k), Some(n)) => {
                    match n.as_mapping().and_then(|m| m.find_entry_by_key(k.as_str())) {
                        Some(e) => (e.key_node(), e.value_node()),
                        None => break,
                    }
                }
                (Seg::Index(i), Some(n)) => {
                    let item = n.get_item(*i);
                    (item.clone(), item)
                }
                (Seg::Index(_), None) => break,
            };
            match at {
                Some(at) => line = self.line_at(at.byte_range().start as usize),
                None => break,
            }
            match next {
                Some(n) => node = Some(n),
                None => break,
            }
        }
        Some(line)
    }

    /// 1-based line of the first non-blank character at or after `offset`.
    fn line_at(&self, offset: usize) -> usize {
        let start = offset.min(self.text.len());
        let skip = self.text[start..]
            .find(|c: char| !c.is_whitespace() && c != '-')
            .unwrap_or(0);
        self.text[..start + skip].matches('\n').count() + 1
    }
}

/// A document with nothing but comments, markers and whitespace.
fn is_blank(d: &Document, text: &str) -> bool {
    let r = d.byte_range();
    let body = &text[r.start as usize..(r.end as usize).min(text.len())];
    body.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        let p = FieldPath::parse("spec.hosts[1].ips[0]");
        assert_eq!(p.to_string(), "spec.hosts[1].ips[0]");
        assert_eq!(p.0.len(), 5);
    }

    #[test]
    fn lines_of_fields() {
        let text = "# head\n---\nkind: A\n---\n\n---\nkind: Cluster\nspec:\n  hosts:\n  - ips:\n    - 1.2.3.4\n    - 5.6.7.8\n    roles: [master]\n  - ips: [9.9.9.9]\n";
        let l = Locator::new(text);
        let at = |doc, p| l.line(doc, &FieldPath::parse(p));
        assert_eq!(at(0, "kind"), Some(3));
        assert_eq!(at(1, "kind"), Some(7));
        assert_eq!(at(1, "spec.hosts[0].ips[1]"), Some(12));
        assert_eq!(at(1, "spec.hosts[0].roles[0]"), Some(13));
        assert_eq!(at(1, "spec.hosts[1].ips[0]"), Some(14));
        assert_eq!(at(1, "spec.hosts[1].env"), Some(14));
        assert_eq!(at(1, "spec.image"), Some(8));
    }
}
