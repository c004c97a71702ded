//! sprig's `semverCompare`: Masterminds/semver v3 constraints (`^1.27.0`,
//! `>=1.26`, `<1.24.0`, `~1.25`, `1.2.x`, `a - b`, `,`/space for AND, `||`
//! for OR) checked against a loosely parsed version (`v1.28.9`, `1.28`).

use std::cmp::Ordering;

/// `semverCompare CONSTRAINT VERSION`.
pub(crate) fn semver_compare(constraint: &str, version: &str) -> Result<bool, String> {
    let groups = parse_constraints(constraint)?;
    let v = parse_version(version).ok_or_else(|| "Invalid Semantic Version".to_string())?;
    Ok(groups.iter().any(|group| {
        let include_pre = group.iter().any(|c| !c.con.pre.is_empty());
        group.iter().all(|c| c.check(&v, include_pre))
    }))
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
}

impl Version {
    fn cmp(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| compare_pre(&self.pre, &other.pre))
    }
}

/// Semver precedence of pre-release strings; no pre-release sorts last.
fn compare_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let mut xs = a.split('.');
    let mut ys = b.split('.');
    loop {
        match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(p), Ok(q)) => p.cmp(&q),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

fn is_ident_part(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Splits `[v]core[-pre][+meta]`; checks pre and meta are dot-separated
/// identifiers.
fn split_version(s: &str) -> Option<(&str, &str)> {
    let s = s.strip_prefix('v').unwrap_or(s);
    let (s, meta) = match s.split_once('+') {
        Some((s, m)) => (s, Some(m)),
        None => (s, None),
    };
    if let Some(m) = meta
        && !m.split('.').all(is_ident_part)
    {
        return None;
    }
    let (core, pre) = s.split_once('-').unwrap_or((s, ""));
    if !pre.is_empty() && !pre.split('.').all(is_ident_part) || s.ends_with('-') {
        return None;
    }
    Some((core, pre))
}

/// Masterminds `NewVersion`: `v` prefix, missing minor/patch are 0.
fn parse_version(s: &str) -> Option<Version> {
    let (core, pre) = split_version(s)?;
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let num = |i: usize| parts.get(i).map_or(Some(0), |p| p.parse().ok());
    Some(Version {
        major: num(0)?,
        minor: num(1)?,
        patch: num(2)?,
        pre: pre.to_string(),
    })
}

#[derive(Debug)]
struct Constraint {
    op: &'static str,
    con: Version,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

const OPS: &[&str] = &["!=", ">=", "=>", "<=", "=<", "~>", "~", "^", ">", "<", "="];

fn parse_constraints(text: &str) -> Result<Vec<Vec<Constraint>>, String> {
    let improper = |s: &str| format!("improper constraint: {s:?}");
    let text = rewrite_ranges(text);
    let mut groups = Vec::new();
    for group in text.split("||") {
        let mut constraints = Vec::new();
        let mut rest = group.trim_start();
        while !rest.is_empty() {
            let op = OPS
                .iter()
                .find(|op| rest.starts_with(**op))
                .copied()
                .unwrap_or("");
            rest = rest[op.len()..].trim_start();
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '*')))
                .unwrap_or(rest.len());
            let c = parse_one(op, &rest[..len]).ok_or_else(|| improper(group))?;
            constraints.push(c);
            rest = rest[len..].trim_start();
            if let Some(r) = rest.strip_prefix(',') {
                rest = r.trim_start();
            }
        }
        if constraints.is_empty() {
            return Err(improper(group));
        }
        groups.push(constraints);
    }
    Ok(groups)
}

/// `A - B` → `>= A, <= B`.
fn rewrite_ranges(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if i + 2 < words.len() && words[i + 1] == "-" {
            out.push(format!(">= {}, <= {}", words[i], words[i + 2]));
            i += 3;
        } else {
            out.push(words[i].to_string());
            i += 1;
        }
    }
    out.join(" ")
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

fn parse_one(op: &'static str, text: &str) -> Option<Constraint> {
    let (core, pre) = split_version(text)?;
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| !is_x(p) && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())))
    {
        return None;
    }
    let part = |i: usize| parts.get(i).copied().filter(|p| !is_x(p));
    let num = |p: &str| p.parse::<u64>().ok();
    let mut c = Constraint {
        op,
        con: Version {
            major: 0,
            minor: 0,
            patch: 0,
            pre: pre.to_string(),
        },
        dirty: false,
        minor_dirty: false,
        patch_dirty: false,
    };
    match (part(0), part(1), part(2)) {
        (None, _, _) => c.dirty = true,
        (Some(major), None, _) => {
            c.con.major = num(major)?;
            (c.dirty, c.minor_dirty) = (true, true);
        }
        (Some(major), Some(minor), None) => {
            (c.con.major, c.con.minor) = (num(major)?, num(minor)?);
            (c.dirty, c.patch_dirty) = (true, true);
        }
        (Some(major), Some(minor), Some(patch)) => {
            (c.con.major, c.con.minor, c.con.patch) = (num(major)?, num(minor)?, num(patch)?);
        }
    }
    Some(c)
}

impl Constraint {
    fn check(&self, v: &Version, include_pre: bool) -> bool {
        if !v.pre.is_empty() && !include_pre {
            return false;
        }
        let c = &self.con;
        match self.op {
            "" | "=" if self.dirty => self.tilde(v),
            "" | "=" => v.cmp(c) == Ordering::Equal,
            "!=" => self.not_equal(v),
            ">" => self.greater(v),
            "<" => v.cmp(c) == Ordering::Less,
            ">=" | "=>" => v.cmp(c) != Ordering::Less,
            "<=" | "=<" => self.less_equal(v),
            "~" | "~>" => self.tilde(v),
            _ => self.caret(v),
        }
    }

    fn not_equal(&self, v: &Version) -> bool {
        let c = &self.con;
        if self.dirty {
            if c.major != v.major {
                return true;
            }
            if self.minor_dirty {
                return false;
            }
            if c.minor != v.minor {
                return true;
            }
            if self.patch_dirty {
                return compare_pre(&v.pre, &c.pre) != Ordering::Equal;
            }
        }
        v.cmp(c) != Ordering::Equal
    }

    fn greater(&self, v: &Version) -> bool {
        let c = &self.con;
        if !self.dirty {
            return v.cmp(c) == Ordering::Greater;
        }
        if v.major != c.major {
            return v.major > c.major;
        }
        if self.minor_dirty {
            return false;
        }
        if self.patch_dirty {
            return v.minor > c.minor;
        }
        v.cmp(c) == Ordering::Greater
    }

    fn less_equal(&self, v: &Version) -> bool {
        let c = &self.con;
        if !self.dirty {
            return v.cmp(c) != Ordering::Greater;
        }
        !(v.major > c.major || v.major == c.major && v.minor > c.minor && !self.minor_dirty)
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.cmp(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        v.major == c.major && (self.minor_dirty || v.minor == c.minor)
    }

    fn caret(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.cmp(c) == Ordering::Less {
            return false;
        }
        if c.major > 0 || self.minor_dirty {
            return v.major == c.major;
        }
        if v.major > 0 {
            return false;
        }
        if c.minor > 0 || self.patch_dirty {
            return v.minor == c.minor;
        }
        v.minor == 0 && v.patch == c.patch
    }
}

#[cfg(test)]
mod tests {
    use super::semver_compare;

    #[test]
    fn constraint_forms_used_by_images() {
        let cases = [
            ("^1.27.0", "v1.28.9", true),
            ("^1.27.0", "v1.27.0", true),
            ("^1.27.0", "v1.26.15", false),
            ("^1.27.0", "2.0.0", false),
            (">=1.26", "v1.26.0", true),
            (">=1.26", "1.25.9", false),
            ("<1.24.0", "v1.23.17", true),
            ("<1.24.0", "v1.24.0", false),
            ("~1.25", "v1.25.16", true),
            ("~1.25", "v1.26.0", false),
            ("~1", "1.30.0", true),
            ("1.2.x", "1.2.9", true),
            ("1.2.x", "1.3.0", false),
            (">=1.19-0", "v1.25.0", true),
            (">=1.19-0", "v1.25.0-rc.1", true),
            (">=1.19", "v1.25.0-rc.1", false),
            (">= 1.20, < 1.30", "1.25.3", true),
            (">=1.20 <1.22 || >=1.28", "1.29.0", true),
            (">=1.20 <1.22 || >=1.28", "1.25.0", false),
            ("1.20 - 1.22", "1.22.0", true),
            ("1.20 - 1.22", "1.23.0", false),
            ("!=1.25.0", "1.25.0", false),
            ("^0.2.3", "0.2.9", true),
            ("^0.2.3", "0.3.0", false),
            ("*", "5.0.0", true),
        ];
        for (c, v, want) in cases {
            assert_eq!(semver_compare(c, v), Ok(want), "{c} vs {v}");
        }
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(semver_compare("^1.27.0", "").is_err());
        assert!(semver_compare("^1.27.0", "latest").is_err());
        assert!(semver_compare("^^1", "1.0.0").is_err());
        assert!(semver_compare("", "1.0.0").is_err());
    }
}
