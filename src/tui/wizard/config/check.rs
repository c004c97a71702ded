//! Checking the kubeadm override as it is typed: the editor's text is split
//! at `---` lines into documents, each parsed on its own so a syntax error
//! names the editor's line and column; then the documents go through the
//! same checks `tug apply` makes (the Clusterfile's kubeadm kinds, then
//! the kubeadm module's merge and computed fields), with the first finding
//! named by line. A field unknown to its kind and near a known one
//! (`dnsDomian:`) is refused with the name it probably means.

use crate::cluster::clusterfile::{Document, KUBEADM_KINDS};
use crate::cluster::problem::{FieldPath, Locator, Problem};
use crate::kubeadm::{self, CLUSTERFILE_SOURCE};
use serde_yaml::Value;
use std::path::Path;

/// Why the override would be refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The editor line it is about (from 0), when known.
    pub line: Option<usize>,
    /// One line, starting with `line N` when the line is known.
    pub message: String,
}

impl Finding {
    fn at(line: usize, message: impl std::fmt::Display) -> Finding {
        Finding {
            line: Some(line),
            message: format!("line {}: {message}", line + 1),
        }
    }
}

/// The editor's documents: each one's lines `[start, end)` (separators
/// excluded).
pub fn chunks(lines: &[String]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, l) in lines.iter().enumerate() {
        if l.trim_end() == "---" {
            out.push((start, i));
            start = i + 1;
        }
    }
    out.push((start, lines.len()));
    out
}

/// One parsed document and where it starts.
struct Parsed {
    start: usize,
    text: String,
    value: Value,
}

/// The documents (empty ones skipped) or the first syntax or kind error.
fn parse(lines: &[String]) -> Result<Vec<Parsed>, Finding> {
    let mut out = Vec::new();
    for (start, end) in chunks(lines) {
        let text = lines[start..end].join("\n");
        let value: Value = serde_yaml::from_str(&text)
            .map_err(|e| syntax_error(lines, (start, end), &text, &e))?;
        if value.is_null() {
            continue;
        }
        let first = lines[start..end]
            .iter()
            .position(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map_or(start, |i| start + i);
        if !value.is_mapping() {
            return Err(Finding::at(first, "a kubeadm document must be a mapping"));
        }
        let kind_line = lines[start..end]
            .iter()
            .position(|l| l.starts_with("kind:"))
            .map_or(first, |i| start + i);
        match value.get("kind").and_then(Value::as_str) {
            None => return Err(Finding::at(first, "the document has no kind")),
            Some(k) if !KUBEADM_KINDS.contains(&k) => {
                let msg = format!("unknown kind {k:?} (want {})", KUBEADM_KINDS.join(", "));
                return Err(Finding::at(kind_line, msg));
            }
            Some(k) => {
                if let Some(t) = kubeadm::known::typos(k, &value).first() {
                    let at = Locator::new(&text).line(0, &FieldPath::parse(&t.path));
                    let line = at.map_or(kind_line, |l| start + l - 1);
                    // Short enough for the editor's two rows at 80 columns.
                    let key = t.path.rsplit('.').next().unwrap_or(&t.path);
                    let msg = format!("unknown field {key}; did you mean {}?", t.nearest);
                    return Err(Finding::at(line, msg));
                }
            }
        }
        out.push(Parsed { start, text, value });
    }
    Ok(out)
}

/// A parser error in the document at `range`, named at the editor's line.
fn syntax_error(
    lines: &[String],
    (start, end): (usize, usize),
    text: &str,
    e: &serde_yaml::Error,
) -> Finding {
    let mut p = Problem::from_yaml(Path::new(""), text, e);
    let mut line = start + p.line.unwrap_or(1).saturating_sub(1);
    let mut column = e.location().map(|l| l.column());
    // The parser names the mapping of a duplicate key: find the key.
    if let Some(dup) = duplicate_key(&p.message)
        && let Some(i) = (start..end)
            .rev()
            .find(|&i| lines[i].trim_start().starts_with(&format!("{dup}:")))
    {
        line = i;
        column = Some(lines[i].len() - lines[i].trim_start().len() + 1);
        p.field.clear();
    }
    let column = column.map_or(String::new(), |c| format!(" column {c}"));
    let field = if p.field.is_empty() {
        String::new()
    } else {
        format!("{}: ", p.field)
    };
    Finding {
        line: Some(line),
        message: format!(
            "line {}{column}: {field}{}",
            line + 1,
            shift_lines(&p.message, start)
        ),
    }
}

/// The key a "duplicate entry with key" message names.
fn duplicate_key(message: &str) -> Option<&str> {
    let rest = message.split_once("duplicate entry with key \"")?.1;
    rest.split_once('"').map(|(k, _)| k)
}

/// `text` with every `line N` moved down by `by` lines (a chunk's line
/// numbers made the editor's).
fn shift_lines(text: &str, by: usize) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("line ") {
        let (head, tail) = rest.split_at(i + "line ".len());
        out.push_str(head);
        let digits = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        match tail[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&tail[..digits]),
        }
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// Check the editor's text; with `inputs` (the cluster's kubeadm inputs
/// as last resolved) the documents are also merged and computed the way
/// the install will. The documents for the Clusterfile, or the first finding.
pub fn check(lines: &[String], inputs: Option<&kubeadm::Inputs>) -> Result<Vec<Document>, Finding> {
    let parsed = parse(lines)?;
    if let Some(inputs) = inputs {
        let mut inputs = inputs.clone();
        inputs.clusterfile_docs = parsed.iter().map(|p| p.value.clone()).collect();
        if let Err(e) = kubeadm::effective(&inputs) {
            return Err(locate(&parsed, &e));
        }
    }
    Ok(parsed
        .into_iter()
        .map(|p| Document {
            kind: p.value["kind"].as_str().unwrap_or_default().to_string(),
            value: p.value,
            text: Some(p.text),
        })
        .collect())
}

/// The kubeadm module's error named at the editor line it is about.
fn locate(parsed: &[Parsed], e: &kubeadm::Error) -> Finding {
    let shown = e.to_string();
    let message = shown
        .strip_prefix(&format!("{CLUSTERFILE_SOURCE}: "))
        .unwrap_or(&shown);
    let line = match e {
        kubeadm::Error::Document { number, .. } | kubeadm::Error::UnknownKind { number, .. } => {
            parsed.get(number - 1).map(|p| p.start)
        }
        kubeadm::Error::Field { file, path, .. } if file == CLUSTERFILE_SOURCE => {
            let (kind, rest) = path.split_once('.').unwrap_or((path, ""));
            parsed
                .iter()
                .filter(|p| p.value.get("kind").and_then(Value::as_str) == Some(kind))
                .filter_map(|p| {
                    let at = Locator::new(&p.text).line(0, &FieldPath::parse(rest))?;
                    Some(p.start + at - 1)
                })
                .max()
        }
        _ => None,
    };
    match line {
        Some(l) => Finding::at(l, message),
        None => Finding {
            line: None,
            message: message.to_string(),
        },
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::net::IpAddr;

    fn lines(text: &str) -> Vec<String> {
        text.split('\n').map(str::to_string).collect()
    }

    /// Inputs of a one-master cluster of the demo image's version, for the
    /// configuration screen's tests.
    pub(in crate::tui::wizard::config) fn inputs() -> kubeadm::Inputs {
        kubeadm::Inputs {
            kube_version: "v1.28.9".into(),
            image_kubeadm_yaml: None,
            clusterfile_docs: Vec::new(),
            masters: vec!["10.0.0.2".parse::<IpAddr>().unwrap()],
            nodes: Vec::new(),
            vip: kubeadm::DEFAULT_VIP.parse().unwrap(),
            registry_domain: "sealos.hub".into(),
            registry_port: 5000,
            has_image_cri_shim: false,
            cri_socket: None,
            cgroup_driver: None,
            env: Default::default(),
        }
    }

    const HEAD: &str = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n";

    #[test]
    fn documents_are_split_at_separator_lines_and_empty_ones_skipped() {
        let text = format!(
            "---\n# only a comment\n---\n{HEAD}networking:\n  podSubnet: 10.200.0.0/16\n---\n"
        );
        let docs = check(&lines(&text), Some(&inputs())).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].kind, "ClusterConfiguration");
        assert_eq!(docs[0].value["networking"]["podSubnet"], "10.200.0.0/16");
        assert_eq!(check(&lines(""), None).unwrap(), []);
    }

    #[test]
    fn a_misspelled_field_names_its_line_and_the_field_of_its_kind() {
        let text = format!("{HEAD}networking:\n  podSubnet: 10.200.0.0/16\n  dnsDomian: x.local\n");
        let f = check(&lines(&text), Some(&inputs())).unwrap_err();
        assert_eq!(f.line, Some(4), "{f:?}");
        assert_eq!(
            f.message,
            "line 5: unknown field dnsDomian; did you mean dnsDomain?"
        );
        let fixed = text.replace("dnsDomian", "dnsDomain");
        assert!(check(&lines(&fixed), Some(&inputs())).is_ok());
    }

    #[test]
    fn syntax_errors_name_the_editor_line_and_column() {
        let text = format!("{HEAD}---\n{HEAD}networking:\n  podSubnet: [10.200.0.0/16\n");
        let f = check(&lines(&text), None).unwrap_err();
        assert_eq!(f.line, Some(7), "where the parser noticed: {f:?}");
        assert!(f.message.starts_with("line 8 column 1: "), "{f:?}");
        assert!(
            f.message.ends_with("flow sequence at line 7 column 14"),
            "{f:?}"
        );
        let f = check(&lines("kind: ClusterConfiguration\n\tbad: 1"), None).unwrap_err();
        assert!(f.message.starts_with("line 2 column 1: "), "{f:?}");
        assert!(f.message.contains("tabs"), "{f:?}");
    }

    #[test]
    fn a_duplicate_key_is_named_where_it_comes_again() {
        let text = "kind: ClusterConfiguration\nnetworking:\n  podSubnet: a\nkind: Foo\n";
        let f = check(&lines(text), None).unwrap_err();
        assert_eq!(f.line, Some(3), "{f:?}");
        assert!(
            f.message
                .starts_with("line 4 column 1: duplicate entry with key \"kind\""),
            "{f:?}"
        );
    }

    #[test]
    fn kinds_tug_refuses_are_named_at_their_line() {
        let f = check(&lines("apiVersion: v1\n\nkind: Pod\n"), None).unwrap_err();
        assert_eq!(f.line, Some(2));
        assert!(
            f.message.starts_with("line 3: unknown kind \"Pod\""),
            "{f:?}"
        );
        let f = check(&lines("- a\n"), None).unwrap_err();
        assert_eq!(f.message, "line 1: a kubeadm document must be a mapping");
        let f = check(&lines("# x\napiVersion: v1\n"), None).unwrap_err();
        assert_eq!(f.message, "line 2: the document has no kind");
    }

    #[test]
    fn merge_errors_name_the_field_and_its_line() {
        let text = format!("{HEAD}clusterName: x\nnetworking: [10.1.0.0/16]\n");
        assert!(
            check(&lines(&text), None).is_ok(),
            "no merge without inputs"
        );
        let f = check(&lines(&text), Some(&inputs())).unwrap_err();
        assert_eq!(
            f.message,
            "line 4: ClusterConfiguration.networking: expected a map, found a list"
        );
        let text = "apiVersion: kubeadm.k8s.io/v1alpha9\nkind: InitConfiguration\n";
        let f = check(&lines(text), Some(&inputs())).unwrap_err();
        assert!(
            f.message
                .starts_with("line 1: document 1 InitConfiguration: apiVersion"),
            "{f:?}"
        );
    }
}
