//! sprig's `env` and `expandenv`, as an image's templates meet them under
//! sealos: its final render (`sealctl render` on each host) runs with the
//! cluster's env exported, so both read the rendering data. Nothing of the
//! jump host's own environment reaches a host's files.

use std::collections::BTreeMap;

/// The names these functions take.
pub(crate) const NAMES: [&str; 2] = ["env", "expandenv"];

/// Call `env NAME` or `expandenv TEXT` with `data` as the environment.
pub(crate) fn call(name: &str, data: &BTreeMap<String, String>, arg: &str) -> String {
    let lookup = |k: &str| data.get(k).cloned().unwrap_or_default();
    if name == "env" {
        lookup(arg)
    } else {
        expand(arg, lookup)
    }
}

/// Go's `os.Expand`: `$NAME` and `${NAME}` replaced by `lookup`, a shell
/// special (`$1`, `$@`, …) read as a one-character name, bad syntax eaten,
/// a lone `$` kept.
fn expand(s: &str, lookup: impl Fn(&str) -> String) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let (mut i, mut j) = (0, 0);
    while j < b.len() {
        if b[j] == b'$' && j + 1 < b.len() {
            out.push_str(&s[i..j]);
            let (name, width) = shell_name(&s[j + 1..]);
            match name {
                Some(n) if !n.is_empty() => out.push_str(&lookup(n)),
                Some(_) => out.push('$'),
                None => {}
            }
            j += width;
            i = j + 1;
        }
        j += 1;
    }
    out.push_str(&s[i.min(s.len())..]);
    out
}

/// The name after a `$` and how many bytes it spans; `None` for bad syntax
/// (eaten), an empty name when `$` is followed by no name (kept).
fn shell_name(s: &str) -> (Option<&str>, usize) {
    let b = s.as_bytes();
    let special = |c: u8| b"*#$@!?-".contains(&c) || c.is_ascii_digit();
    if b[0] == b'{' {
        if b.len() > 2 && special(b[1]) && b[2] == b'}' {
            return (Some(&s[1..2]), 3);
        }
        return match s[1..].find('}') {
            Some(0) => (None, 2),
            Some(end) => (Some(&s[1..=end]), end + 2),
            None => (None, 1),
        };
    }
    if special(b[0]) {
        return (Some(&s[..1]), 1);
    }
    let end = b
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
        .unwrap_or(b.len());
    (Some(&s[..end]), end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> BTreeMap<String, String> {
        [
            ("registryDomain", "sealos.hub"),
            ("PORT", "5000"),
            ("1", "one"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn env_reads_the_rendering_data_and_nothing_else() {
        assert_eq!(call("env", &data(), "registryDomain"), "sealos.hub");
        // SAFETY: no other thread of this test binary reads TUG_ENVIRON_PROBE.
        unsafe { std::env::set_var("TUG_ENVIRON_PROBE", "jump host") };
        assert_eq!(call("env", &data(), "TUG_ENVIRON_PROBE"), "");
    }

    #[test]
    fn expandenv_follows_gos_os_expand() {
        let e = |s: &str| call("expandenv", &data(), s);
        assert_eq!(e("${registryDomain}:$PORT/x"), "sealos.hub:5000/x");
        assert_eq!(e("$missing|${missing}|"), "||");
        assert_eq!(e("cost $"), "cost $");
        assert_eq!(e("a$1b ${1}"), "aoneb one");
        assert_eq!(e("a${}b ${x"), "ab x");
        assert_eq!(e("$-x $ y"), "x $ y");
        assert_eq!(e("日本$PORT語"), "日本5000語");
    }

    #[test]
    fn templates_call_them_like_any_function() {
        let t = super::super::Template::parse(
            "etc/x.tmpl",
            r#"{{ env "PORT" }} {{ "${registryDomain}" | expandenv | upper }}"#,
        )
        .unwrap();
        assert_eq!(t.render(&data()).unwrap(), "5000 SEALOS.HUB");
        let bad = super::super::Template::parse("etc/x.tmpl", "{{ env 1 }}").unwrap();
        let e = bad.render(&data()).unwrap_err().to_string();
        assert!(e.contains("wrong arguments for env"), "{e}");
    }
}
