//! Physical lines to logical instructions: comments and blank lines dropped,
//! `\` continuations joined, and every character of the joined text mapped
//! back to the line and column it came from, so errors can point at it.

/// One instruction's text after continuations are joined.
#[derive(Debug, Clone)]
pub struct Logical {
    /// The joined characters (the trailing `\` of each continued line removed).
    pub chars: Vec<char>,
    /// (index in `chars`, line, column) where each physical segment starts.
    segments: Vec<(usize, usize, usize)>,
}

impl Logical {
    /// The 1-based line and column of the character at `index` (or just past
    /// the end, for "expected more here" errors).
    pub fn position(&self, index: usize) -> (usize, usize) {
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|(start, _, _)| *start <= index)
            .or(self.segments.first())
            .copied()
            .unwrap_or((0, 1, 1));
        (seg.1, seg.2 + index.saturating_sub(seg.0))
    }

    /// A single-segment line starting at a known position (for re-lexing a
    /// JSON element whose characters came from `pos`).
    pub fn at(chars: Vec<char>, pos: (usize, usize)) -> Logical {
        Logical {
            chars,
            segments: vec![(0, pos.0, pos.1)],
        }
    }

    /// The text from `index` on, as a string.
    pub fn text_from(&self, index: usize) -> String {
        self.chars[index.min(self.chars.len())..].iter().collect()
    }
}

/// Whether a physical line ends with the escape character (ignoring trailing
/// whitespace); returns the content before it.
fn continued(line: &[char]) -> Option<&[char]> {
    let mut end = line.len();
    while end > 0 && line[end - 1].is_whitespace() {
        end -= 1;
    }
    (end > 0 && line[end - 1] == '\\').then(|| &line[..end - 1])
}

/// Split a Kubefile into logical instructions. Lines whose first
/// non-blank character is `#` are comments, also inside continuations.
pub fn logical_lines(src: &str) -> Vec<Logical> {
    let mut out = Vec::new();
    let mut current: Option<Logical> = None;
    for (n, raw) in src.lines().enumerate() {
        let line_no = n + 1;
        let chars: Vec<char> = raw.chars().collect();
        let indent = chars.iter().take_while(|c| c.is_whitespace()).count();
        let blank = indent == chars.len();
        let comment = !blank && chars[indent] == '#';
        let (skip, body_start) = match &current {
            None => (blank || comment, indent),
            Some(_) => (blank || comment, 0),
        };
        if skip {
            continue;
        }
        let body = &chars[body_start..];
        let (content, more) = match continued(body) {
            Some(c) => (c, true),
            None => (body, false),
        };
        let logical = current.get_or_insert_with(|| Logical {
            chars: Vec::new(),
            segments: Vec::new(),
        });
        logical
            .segments
            .push((logical.chars.len(), line_no, body_start + 1));
        logical.chars.extend_from_slice(content);
        if !more {
            out.extend(current.take());
        }
    }
    out.extend(current.take());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_join_and_positions_map_back() {
        let src = "# c\n\nFROM scratch\nLABEL a=1 \\\n  # inside\n\n   b=2\n";
        let l = logical_lines(src);
        assert_eq!(l.len(), 2);
        let text: String = l[1].chars.iter().collect();
        assert_eq!(text, "LABEL a=1    b=2");
        let b = text.find("b=2").unwrap();
        assert_eq!(l[1].position(b), (7, 4));
        assert_eq!(l[1].position(0), (4, 1));
        assert_eq!(l[0].position(5), (3, 6));
    }
}
