//! COPY source patterns: `*`, `?` and `[abc]`/`[a-z]`/`[!x]` within one
//! path component, matched against the build context in sorted order.

use std::path::{Path, PathBuf};

/// Whether a source uses pattern characters.
pub fn is_pattern(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Whether `name` matches the single-component `pattern`.
pub fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|i| match_from(&p[1..], &n[i..])),
        Some('?') => !n.is_empty() && match_from(&p[1..], &n[1..]),
        Some('[') => match (class(&p[1..], n.first().copied()), n.is_empty()) {
            (Some((true, used)), false) => match_from(&p[1 + used..], &n[1..]),
            (None, false) => n[0] == '[' && match_from(&p[1..], &n[1..]),
            _ => false,
        },
        Some('\\') if p.len() > 1 => n.first() == Some(&p[1]) && match_from(&p[2..], &n[1..]),
        Some(c) => n.first() == Some(c) && match_from(&p[1..], &n[1..]),
    }
}

/// Match a `[...]` class body against `c`; returns (matched, chars used
/// including the closing `]`), or None when the class is not closed.
fn class(p: &[char], c: Option<char>) -> Option<(bool, usize)> {
    let c = c?;
    let (negate, mut i) = match p.first() {
        Some('!') | Some('^') => (true, 1),
        _ => (false, 0),
    };
    let mut hit = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            hit |= p[i] <= c && c <= p[i + 2];
            i += 3;
        } else {
            hit |= p[i] == c;
            i += 1;
        }
    }
    None
}

/// Expand normalised source components against `root`: literal components
/// are taken as they are (when present), pattern components list the dir.
/// Returns paths relative to `root`, sorted; `[]` (the context itself)
/// yields one empty path.
pub fn expand(root: &Path, parts: &[String]) -> std::io::Result<Vec<PathBuf>> {
    let mut found = vec![PathBuf::new()];
    for part in parts {
        let mut next = Vec::new();
        for base in &found {
            let dir = root.join(base);
            if !is_pattern(part) {
                if std::fs::symlink_metadata(dir.join(part)).is_ok() {
                    next.push(base.join(part));
                }
                continue;
            }
            if !dir.is_dir() {
                continue;
            }
            let mut names: Vec<String> = std::fs::read_dir(&dir)?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| matches(part, n))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|n| base.join(n)));
        }
        found = next;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_match_like_filepath_match() {
        assert!(matches("*.yaml", "a.yaml"));
        assert!(!matches("*.yaml", "a.yml"));
        assert!(matches("v?.[0-9]", "v1.5"));
        assert!(matches("[!a]*", "b"));
        assert!(!matches("[!a]*", "a"));
        assert!(matches("a\\*", "a*"));
        assert!(matches("*", ""));
    }
}
