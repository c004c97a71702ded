//! The text of each document of a multi-document YAML file, as written
//! (comments included), so that saving a Clusterfile again — after every
//! stage of an install, or from the wizard's editor — keeps what the user
//! wrote in the documents tug does not change.

use serde_yaml::Value;

/// Each of `values` (the file's documents, as the YAML parser read them)
/// paired with its text: the lines between `---` markers. When the split
/// does not line up with the parser's documents (a marker with content on
/// its line, a `...` end marker, a directive), every entry is `None` and
/// the documents are encoded from their values instead.
pub fn document_texts(text: &str, values: &[Value]) -> Vec<Option<String>> {
    split(text)
        .filter(|pieces| {
            pieces.len() == values.len()
                && pieces
                    .iter()
                    .zip(values)
                    .all(|(p, v)| serde_yaml::from_str::<Value>(p).is_ok_and(|pv| pv == *v))
        })
        .map(|pieces| pieces.into_iter().map(Some).collect())
        .unwrap_or_else(|| vec![None; values.len()])
}

/// The text between `---` lines; `None` when a line tug cannot place
/// (`--- content`, `...`, `%YAML`) is there. Comments before a leading
/// marker are no document: they go with the first one.
fn split(text: &str) -> Option<Vec<String>> {
    let mut pieces = vec![String::new()];
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end();
        if bare == "---" {
            pieces.push(String::new());
            continue;
        }
        if bare.starts_with("---") || bare.starts_with("...") || bare.starts_with('%') {
            return None;
        }
        pieces.last_mut()?.push_str(line);
    }
    let blank = |p: &str| {
        p.lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    };
    if pieces.len() > 1 && blank(&pieces[0]) {
        let head = pieces.remove(0);
        pieces[0].insert_str(0, &head);
    }
    Some(pieces)
}

/// `text` as a saved document: it still reads as `value` (nothing changed
/// it since it was read), ending with a newline.
pub fn still_reads_as(text: &str, value: &Value) -> Option<String> {
    let same = serde_yaml::from_str::<Value>(text).is_ok_and(|v| v == *value);
    same.then(|| {
        if text.ends_with('\n') {
            text.to_string()
        } else {
            format!("{text}\n")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<Value> {
        serde_yaml::Deserializer::from_str(text)
            .map(|de| serde::Deserialize::deserialize(de).unwrap())
            .collect()
    }

    #[test]
    fn each_document_keeps_its_comments() {
        let text = "# top\nkind: Cluster # the cluster\n---\n# pods\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: 10.1.0.0/16 # wide\n";
        let texts = document_texts(text, &values(text));
        assert_eq!(
            texts,
            [
                Some("# top\nkind: Cluster # the cluster\n".to_string()),
                Some(
                    "# pods\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: 10.1.0.0/16 # wide\n"
                        .to_string()
                ),
            ]
        );
    }

    #[test]
    fn a_leading_marker_and_a_trailing_one_line_up() {
        let text = "# head\n---\na: 1\n---\nb: 2\n";
        let texts = document_texts(text, &values(text));
        assert_eq!(
            texts,
            [Some("# head\na: 1\n".into()), Some("b: 2\n".into())]
        );
    }

    #[test]
    fn markers_tug_cannot_place_give_no_texts() {
        for text in [
            "a: 1\n--- {b: 2}\n",
            "a: 1\n...\n---\nb: 2\n",
            "%YAML 1.2\n---\na: 1\n",
        ] {
            let v = values(text);
            assert!(
                document_texts(text, &v).iter().all(Option::is_none),
                "{text}"
            );
        }
    }

    #[test]
    fn a_changed_value_is_not_its_old_text() {
        let v: Value = serde_yaml::from_str("a: 1").unwrap();
        assert_eq!(
            still_reads_as("a: 1 # one", &v).as_deref(),
            Some("a: 1 # one\n")
        );
        let changed: Value = serde_yaml::from_str("a: 2").unwrap();
        assert_eq!(still_reads_as("a: 1 # one", &changed), None);
    }
}
