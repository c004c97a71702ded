//! Go's `fmt.Sprintf` for the verbs templates use: `%s %d %v %q %t %%`, with
//! width and the `-`/`0` flags. Mismatches print Go's `%!d(string=x)` forms;
//! verbs or flags outside this set are an error rather than a guess.

use super::value::{MAX_OUTPUT, Value, go_quote};

/// Formats like Go's `fmt.Sprintf(format, args...)`.
pub(crate) fn sprintf(format: &str, args: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut next = 0usize;
    let mut chars = format.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut left = false;
        let mut zero = false;
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '-' => left = true,
                '0' => zero = true,
                _ => break,
            }
            chars.next();
        }
        let mut width = 0usize;
        while let Some(&(_, d)) = chars.peek() {
            let Some(n) = d.to_digit(10) else { break };
            width = width.saturating_mul(10).saturating_add(n as usize);
            chars.next();
        }
        let Some((_, verb)) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if width > MAX_OUTPUT {
            return Err(format!("printf width {width} is too large"));
        }
        if verb == '%' {
            out.push('%');
            continue;
        }
        if !matches!(verb, 's' | 'd' | 'v' | 'q' | 't') {
            return Err(format!("printf verb %{verb} is not supported by tug"));
        }
        let Some(arg) = args.get(next) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next += 1;
        let text = format_one(verb, arg);
        let pad = width.saturating_sub(text.chars().count());
        let numeric = matches!(arg, Value::Int(_) | Value::Float(_));
        if left {
            out.push_str(&text);
            out.push_str(&" ".repeat(pad));
        } else if zero && numeric && text.starts_with('-') {
            out.push('-');
            out.push_str(&"0".repeat(pad));
            out.push_str(&text[1..]);
        } else {
            out.push_str(&(if zero { "0" } else { " " }).repeat(pad));
            out.push_str(&text);
        }
    }
    if next < args.len() {
        let extra: Vec<String> = args[next..]
            .iter()
            .map(|a| match a {
                Value::Nil => "<nil>".to_string(),
                a => format!("{}={}", a.type_name(), a.to_go_string()),
            })
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    Ok(out)
}

fn format_one(verb: char, arg: &Value) -> String {
    match (verb, arg) {
        ('v', a) => a.to_go_string(),
        ('s', Value::Str(s)) => s.clone(),
        ('q', Value::Str(s)) => go_quote(s),
        ('d', Value::Int(i)) => i.to_string(),
        ('t', Value::Bool(b)) => b.to_string(),
        (verb, Value::Nil) => format!("%!{verb}(<nil>)"),
        (verb, a) => format!("%!{verb}({}={})", a.type_name(), a.to_go_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::Str(x.to_string())
    }

    #[test]
    fn formats_like_go() {
        let f = |fmt: &str, args: &[Value]| sprintf(fmt, args).unwrap();
        assert_eq!(f("%s-%s", &[s("a"), s("b")]), "a-b");
        assert_eq!(f("%d%%", &[Value::Int(42)]), "42%");
        assert_eq!(f("%q", &[s("a\"b")]), r#""a\"b""#);
        assert_eq!(f("%v %v", &[Value::Bool(true), Value::Nil]), "true <nil>");
        assert_eq!(f("%d", &[s("x")]), "%!d(string=x)");
        assert_eq!(f("%s %s", &[s("x")]), "x %!s(MISSING)");
        assert_eq!(f("%s", &[s("x"), Value::Int(1)]), "x%!(EXTRA int=1)");
        assert_eq!(
            f("[%5s|%-3d|%03d]", &[s("ab"), Value::Int(7), Value::Int(-4)]),
            "[   ab|7  |-04]"
        );
        assert!(sprintf("%x", &[Value::Int(1)]).is_err());
    }
}
