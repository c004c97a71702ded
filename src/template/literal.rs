//! Go's literal syntax inside actions: numbers and escaped strings.

use super::lexer::Tok;

/// Go's integer and float literal forms (base prefixes, `_` separators).
pub(crate) fn parse_number(text: &str) -> Option<Tok> {
    let clean = text.replace('_', "");
    let (neg, body) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, clean.as_str()),
    };
    let lower = body.to_ascii_lowercase();
    let radix = if lower.starts_with("0x") {
        Some((16, &body[2..]))
    } else if lower.starts_with("0o") {
        Some((8, &body[2..]))
    } else if lower.starts_with("0b") {
        Some((2, &body[2..]))
    } else if body.len() > 1 && body.starts_with('0') && body.bytes().all(|b| b.is_ascii_digit()) {
        Some((8, &body[1..]))
    } else if body.bytes().all(|b| b.is_ascii_digit()) {
        Some((10, body))
    } else {
        None
    };
    if let Some((radix, digits)) = radix {
        let magnitude = i128::from_str_radix(digits, radix).ok()?;
        let value = if neg { -magnitude } else { magnitude };
        return i64::try_from(value).ok().map(Tok::Int);
    }
    if !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') || lower.contains("inf") {
        return None;
    }
    let f: f64 = body.parse().ok()?;
    Some(Tok::Float(if neg { -f } else { f }))
}

/// Go's escapes in interpreted string and character literals.
pub(crate) fn unescape(body: &str, quote: char) -> Result<String, String> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or("unterminated escape")?;
        let simple = match e {
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            '\\' => Some('\\'),
            q if q == quote => Some(q),
            _ => None,
        };
        if let Some(s) = simple {
            out.push(s);
            continue;
        }
        let (digits, radix) = match e {
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            '0'..='7' => (2, 8),
            other => return Err(format!("invalid escape \\{other}")),
        };
        let mut code: String = if radix == 8 {
            e.to_string()
        } else {
            String::new()
        };
        for _ in 0..digits {
            code.push(chars.next().ok_or("short escape")?);
        }
        let n = u32::from_str_radix(&code, radix).map_err(|_| format!("invalid escape \\{e}"))?;
        let ch = char::from_u32(n).ok_or_else(|| format!("invalid escape \\{e}{code}"))?;
        out.push(ch);
    }
    Ok(out)
}
