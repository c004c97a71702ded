//! Shell-like word processing for Kubefile arguments: quotes, backslash
//! escapes and `$VAR` / `${VAR}` / `${VAR:-default}` / `${VAR:+alt}`
//! substitution, the way Dockerfile parsers treat FROM, COPY, ENV and LABEL.
//! `\$` keeps a literal `$`, which sealos images rely on for hook labels.

use std::collections::BTreeMap;

/// A processed word and the index of its first character in the logical line.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    /// The text after quotes, escapes and substitution.
    pub text: String,
    /// Where the word starts (index into the logical line's characters).
    pub start: usize,
}

/// A lexing failure at a character index, with what was expected.
#[derive(Debug)]
pub struct LexError {
    /// Index of the offending character.
    pub at: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Variables visible to substitution, and what substitution noticed.
pub struct Vars<'a> {
    /// ARG and ENV values in effect.
    pub values: &'a BTreeMap<String, String>,
    /// Names that were referenced but not defined: (index, name).
    pub undefined: Vec<(usize, String)>,
}

/// Split `chars[from..]` into words on unquoted whitespace (`split`), or
/// process it as one word keeping inner whitespace (`!split`).
pub fn words(
    chars: &[char],
    from: usize,
    vars: &mut Vars<'_>,
    split: bool,
) -> Result<Vec<Word>, LexError> {
    let mut out = Vec::new();
    let mut i = from;
    let end = trim_end(chars, from);
    while i < end {
        if chars[i].is_whitespace() && (split || out.is_empty()) {
            i += 1;
            continue;
        }
        let start = i;
        let mut text = String::new();
        while i < end && !(split && chars[i].is_whitespace()) {
            i = step(chars, i, end, vars, &mut text)?;
        }
        out.push(Word { text, start });
    }
    Ok(out)
}

fn trim_end(chars: &[char], from: usize) -> usize {
    let mut end = chars.len();
    while end > from && chars[end - 1].is_whitespace() {
        end -= 1;
    }
    end
}

/// Consume one unit (a quoted run, an escape, a substitution or a plain
/// character) at `i`, appending its value; returns the next index.
fn step(
    chars: &[char],
    i: usize,
    end: usize,
    vars: &mut Vars<'_>,
    text: &mut String,
) -> Result<usize, LexError> {
    match chars[i] {
        '\\' if i + 1 < end => {
            text.push(chars[i + 1]);
            Ok(i + 2)
        }
        '\'' => {
            let close = (i + 1..end).find(|&j| chars[j] == '\'').ok_or(LexError {
                at: i,
                message: "unterminated ' quote; expected a closing '".into(),
            })?;
            text.extend(&chars[i + 1..close]);
            Ok(close + 1)
        }
        '"' => {
            let mut j = i + 1;
            loop {
                if j >= end {
                    return Err(LexError {
                        at: i,
                        message: "unterminated \" quote; expected a closing \"".into(),
                    });
                }
                match chars[j] {
                    '"' => return Ok(j + 1),
                    '\\' if j + 1 < end && matches!(chars[j + 1], '"' | '\\' | '$') => {
                        text.push(chars[j + 1]);
                        j += 2;
                    }
                    '$' => j = substitute(chars, j, end, vars, text)?,
                    c => {
                        text.push(c);
                        j += 1;
                    }
                }
            }
        }
        '$' => substitute(chars, i, end, vars, text),
        c => {
            text.push(c);
            Ok(i + 1)
        }
    }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expand the `$…` at `i`. A `$` not followed by a name or `{` is literal.
fn substitute(
    chars: &[char],
    i: usize,
    end: usize,
    vars: &mut Vars<'_>,
    text: &mut String,
) -> Result<usize, LexError> {
    let next = chars.get(i + 1).copied().filter(|_| i + 1 < end);
    match next {
        Some(c) if is_name_start(c) => {
            let mut j = i + 1;
            while j < end && is_name(chars[j]) {
                j += 1;
            }
            let name: String = chars[i + 1..j].iter().collect();
            text.push_str(&lookup(vars, i, &name));
            Ok(j)
        }
        Some('{') => braced(chars, i, end, vars, text),
        _ => {
            text.push('$');
            Ok(i + 1)
        }
    }
}

fn lookup(vars: &mut Vars<'_>, at: usize, name: &str) -> String {
    match vars.values.get(name) {
        Some(v) => v.clone(),
        None => {
            vars.undefined.push((at, name.to_string()));
            String::new()
        }
    }
}

/// `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`, `${NAME+word}`.
fn braced(
    chars: &[char],
    i: usize,
    end: usize,
    vars: &mut Vars<'_>,
    text: &mut String,
) -> Result<usize, LexError> {
    let mut depth = 0usize;
    let close = (i + 2..end)
        .find(|&j| match chars[j] {
            '{' => {
                depth += 1;
                false
            }
            '}' if depth == 0 => true,
            '}' => {
                depth -= 1;
                false
            }
            _ => false,
        })
        .ok_or(LexError {
            at: i,
            message: "unterminated ${…}; expected a closing }".into(),
        })?;
    let mut j = i + 2;
    if j >= close || !is_name_start(chars[j]) {
        return Err(LexError {
            at: j,
            message: "expected a variable name after ${ (letters, digits and _)".into(),
        });
    }
    while j < close && is_name(chars[j]) {
        j += 1;
    }
    let name: String = chars[i + 2..j].iter().collect();
    let rest: String = chars[j..close].iter().collect();
    let (op, word_at) = if rest.starts_with(":-") || rest.starts_with(":+") {
        (&rest[..2], j + 2)
    } else if rest.starts_with('-') || rest.starts_with('+') {
        (&rest[..1], j + 1)
    } else if rest.is_empty() {
        ("", close)
    } else {
        return Err(LexError {
            at: j,
            message: format!(
                "unsupported modifier in ${{{name}{rest}}}; expected }}, :-default or :+alternative"
            ),
        });
    };
    let value = vars.values.get(&name).cloned();
    let inner = |vars: &mut Vars<'_>| -> Result<String, LexError> {
        let mut w = words(&chars[..close], word_at, vars, false)?;
        Ok(w.pop().map(|w| w.text).unwrap_or_default())
    };
    let expanded = match (op, value) {
        ("", v) => v.unwrap_or_else(|| lookup(vars, i, &name)),
        (":-", Some(v)) if !v.is_empty() => v,
        ("-", Some(v)) => v,
        (":-" | "-", _) => inner(vars)?,
        (":+", Some(v)) if !v.is_empty() => inner(vars)?,
        ("+", Some(_)) => inner(vars)?,
        _ => String::new(),
    };
    text.push_str(&expanded);
    Ok(close + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str, vals: &[(&str, &str)], split: bool) -> Vec<String> {
        let values = vals
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut vars = Vars {
            values: &values,
            undefined: vec![],
        };
        let chars: Vec<char> = s.chars().collect();
        words(&chars, 0, &mut vars, split)
            .unwrap()
            .into_iter()
            .map(|w| w.text)
            .collect()
    }

    #[test]
    fn quotes_escapes_and_substitution() {
        assert_eq!(
            run(r#"a="x \$y $V" 'n $V' \$z"#, &[("V", "1")], true),
            vec!["a=x $y 1", "n $V", "$z"]
        );
        assert_eq!(
            run(
                r#"${N:-"calico"} ${M:-d} ${V:+set} ${V}x"#,
                &[("M", "m"), ("V", "v")],
                true
            ),
            vec!["calico", "m", "set", "vx"]
        );
        assert_eq!(run("  a  b  ", &[], false), vec!["a  b"]);
        assert_eq!(run("cost $5", &[], true), vec!["cost", "$5"]);
    }
}
