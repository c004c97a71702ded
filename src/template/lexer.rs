//! Splits a template into text and action tokens, applying `{{-`/`-}}`
//! whitespace trimming and dropping `{{/* comments */}}` as Go does.

use super::Positioned;
use super::literal::{parse_number, unescape};

/// One token; `pos` is its byte offset in the source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) pos: usize,
    pub(crate) kind: Tok,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Text(String),
    /// `{{`
    Open,
    /// `}}`
    Close,
    /// `.a.b` — the names of a field chain.
    Field(Vec<String>),
    /// `.` alone.
    Dot,
    /// `$name` (variables are not supported; the parser says so).
    Variable(String),
    /// A function name or keyword (`if`, `else`, `end`, `range`, ...).
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    LParen,
    RParen,
    Pipe,
    /// `:=`, `=` or `,` — only used by variables and `range`.
    Punct(&'static str),
    Eof,
}

const OPEN: &str = "{{";
const CLOSE: &str = "}}";

/// Nesting of `(` beyond this is refused (it protects the recursive parser).
pub(crate) const MAX_DEPTH: usize = 64;

/// Tokenises `src`.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, Positioned> {
    let mut lx = Lexer {
        src,
        pos: 0,
        tokens: Vec::new(),
    };
    lx.run()?;
    Ok(lx.tokens)
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<Token>,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn push(&mut self, pos: usize, kind: Tok) {
        self.tokens.push(Token { pos, kind });
    }

    fn run(&mut self) -> Result<(), Positioned> {
        let mut trim_next_text = false;
        loop {
            let start = self.pos;
            let end = self
                .rest()
                .find(OPEN)
                .map_or(self.src.len(), |i| self.pos + i);
            let raw = &self.src[start..end];
            let mut text = raw;
            if trim_next_text {
                text = text.trim_start_matches(is_space);
            }
            let text_pos = start + (raw.len() - text.len());
            let left_trim = end < self.src.len() && {
                let after = &self.src[end + OPEN.len()..];
                after.starts_with('-') && after[1..].starts_with(is_space)
            };
            if left_trim {
                text = text.trim_end_matches(is_space);
            }
            if !text.is_empty() {
                self.push(text_pos, Tok::Text(text.to_string()));
            }
            if end == self.src.len() {
                self.push(end, Tok::Eof);
                return Ok(());
            }
            self.pos = end + OPEN.len();
            if left_trim {
                self.pos += 2;
            }
            trim_next_text = self.action(end)?;
        }
    }

    /// Lexes one action after `{{`; returns whether it ended with `-}}`.
    fn action(&mut self, open_pos: usize) -> Result<bool, Positioned> {
        if self.rest().starts_with("/*") {
            return self.comment(open_pos);
        }
        self.push(open_pos, Tok::Open);
        let mut depth = 0usize;
        loop {
            let rest = self.rest();
            let Some(c) = rest.chars().next() else {
                return Err(Positioned::new(open_pos, "unclosed action"));
            };
            let start = self.pos;
            if is_space(c) {
                let body = rest.trim_start_matches(is_space);
                let skipped = rest.len() - body.len();
                if body.starts_with("-}}") {
                    self.pos += skipped + 3;
                    self.push(start, Tok::Close);
                    return Ok(true);
                }
                self.pos += skipped;
                continue;
            }
            if rest.starts_with(CLOSE) {
                self.pos += 2;
                self.push(start, Tok::Close);
                return Ok(false);
            }
            match c {
                '"' => self.quoted(start)?,
                '`' => self.raw(start)?,
                '\'' => self.char_const(start)?,
                '(' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(Positioned::new(start, "parentheses nested too deeply"));
                    }
                    self.pos += 1;
                    self.push(start, Tok::LParen);
                }
                ')' => {
                    depth = depth.saturating_sub(1);
                    self.pos += 1;
                    self.push(start, Tok::RParen);
                }
                '|' => {
                    self.pos += 1;
                    self.push(start, Tok::Pipe);
                }
                ',' | '=' => {
                    self.pos += 1;
                    self.push(start, Tok::Punct(if c == ',' { "," } else { "=" }));
                }
                ':' if rest.starts_with(":=") => {
                    self.pos += 2;
                    self.push(start, Tok::Punct(":="));
                }
                '.' if rest[1..].starts_with(|c: char| c.is_ascii_digit()) => self.number(start)?,
                '.' => self.field(start),
                '$' => {
                    let name = self.word(1);
                    self.push(start, Tok::Variable(name));
                }
                '+' | '-' if rest[1..].starts_with(|c: char| c.is_ascii_digit() || c == '.') => {
                    self.number(start)?
                }
                c if c.is_ascii_digit() => self.number(start)?,
                c if is_alnum(c) => {
                    let word = self.word(0);
                    let kind = match word.as_str() {
                        "true" => Tok::Bool(true),
                        "false" => Tok::Bool(false),
                        "nil" => Tok::Nil,
                        _ => Tok::Ident(word),
                    };
                    self.push(start, kind);
                }
                c => {
                    return Err(Positioned::new(
                        start,
                        format!("unrecognized character in action: {c:?}"),
                    ));
                }
            }
        }
    }

    /// `{{/* ... */}}`, with optional trim markers on either side.
    fn comment(&mut self, open_pos: usize) -> Result<bool, Positioned> {
        self.pos += 2;
        let Some(end) = self.rest().find("*/") else {
            return Err(Positioned::new(open_pos, "unclosed comment"));
        };
        self.pos += end + 2;
        let rest = self.rest();
        if rest.starts_with(CLOSE) {
            self.pos += 2;
            Ok(false)
        } else if rest.starts_with(is_space) && rest[1..].starts_with("-}}") {
            self.pos += 1 + "-}}".len();
            Ok(true)
        } else {
            Err(Positioned::new(
                self.pos,
                "comment ends before closing delimiter",
            ))
        }
    }

    /// Letters, digits and `_` starting `skip` bytes from here.
    fn word(&mut self, skip: usize) -> String {
        let body = &self.rest()[skip..];
        let len = body.find(|c: char| !is_alnum(c)).unwrap_or(body.len());
        let word = body[..len].to_string();
        self.pos += skip + len;
        word
    }

    fn field(&mut self, start: usize) {
        let mut names = Vec::new();
        while self.rest().starts_with('.') && self.rest()[1..].starts_with(is_alnum) {
            names.push(self.word(1));
        }
        if names.is_empty() {
            self.pos += 1;
            self.push(start, Tok::Dot);
        } else {
            self.push(start, Tok::Field(names));
        }
    }

    fn quoted(&mut self, start: usize) -> Result<(), Positioned> {
        let body = &self.src[start + 1..];
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match c {
                '\n' => break,
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    let text = unescape(&body[..i], '"')
                        .map_err(|m| Positioned::new(start, format!("{m} in string")))?;
                    self.pos = start + 1 + i + 1;
                    self.push(start, Tok::Str(text));
                    return Ok(());
                }
                _ => escaped = false,
            }
        }
        Err(Positioned::new(start, "unterminated quoted string"))
    }

    fn raw(&mut self, start: usize) -> Result<(), Positioned> {
        let body = &self.src[start + 1..];
        let Some(end) = body.find('`') else {
            return Err(Positioned::new(start, "unterminated raw quoted string"));
        };
        self.pos = start + 1 + end + 1;
        self.push(start, Tok::Str(body[..end].replace('\r', "")));
        Ok(())
    }

    fn char_const(&mut self, start: usize) -> Result<(), Positioned> {
        let body = &self.src[start + 1..];
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match c {
                '\n' => break,
                '\\' if !escaped => escaped = true,
                '\'' if !escaped => {
                    let text = unescape(&body[..i], '\'').map_err(|m| {
                        Positioned::new(start, format!("{m} in character constant"))
                    })?;
                    let mut chars = text.chars();
                    let (Some(ch), None) = (chars.next(), chars.next()) else {
                        return Err(Positioned::new(start, "malformed character constant"));
                    };
                    self.pos = start + 1 + i + 1;
                    self.push(start, Tok::Int(i64::from(u32::from(ch))));
                    return Ok(());
                }
                _ => escaped = false,
            }
        }
        Err(Positioned::new(start, "unterminated character constant"))
    }

    fn number(&mut self, start: usize) -> Result<(), Positioned> {
        let rest = self.rest();
        let mut len = 0;
        let bytes = rest.as_bytes();
        if matches!(bytes.first(), Some(b'+' | b'-')) {
            len = 1;
        }
        while len < bytes.len() {
            let b = bytes[len];
            let exp_sign = matches!(b, b'+' | b'-')
                && len > 0
                && matches!(bytes[len - 1], b'e' | b'E' | b'p' | b'P')
                && !rest[..len].contains(['x', 'X']);
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || exp_sign {
                len += 1;
            } else {
                break;
            }
        }
        let text = &rest[..len];
        let kind = parse_number(text)
            .ok_or_else(|| Positioned::new(start, format!("bad number syntax: {text:?}")))?;
        self.pos += len;
        self.push(start, kind);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        lex(src).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn trims_around_actions() {
        let toks = kinds("a  \n{{- .x -}}\n  b");
        assert_eq!(
            toks,
            vec![
                Tok::Text("a".into()),
                Tok::Open,
                Tok::Field(vec!["x".into()]),
                Tok::Close,
                Tok::Text("b".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn minus_number_is_not_a_trim() {
        assert_eq!(kinds("{{-3}}")[1], Tok::Int(-3));
    }

    #[test]
    fn numbers_and_strings() {
        assert_eq!(kinds("{{ 0x1F }}")[1], Tok::Int(31));
        assert_eq!(kinds("{{ 1.5e3 }}")[1], Tok::Float(1500.0));
        assert_eq!(kinds("{{ 'a' }}")[1], Tok::Int(97));
        assert_eq!(
            kinds(r#"{{ "a\tb\x41\u00e9" }}"#)[1],
            Tok::Str("a\tbAé".into())
        );
        assert_eq!(kinds("{{ `a\\n` }}")[1], Tok::Str("a\\n".into()));
    }

    #[test]
    fn comments_vanish_with_their_trims() {
        assert_eq!(
            kinds("a \n{{- /* c\n d */ -}}\n b"),
            vec![Tok::Text("a".into()), Tok::Text("b".into()), Tok::Eof]
        );
    }
}
