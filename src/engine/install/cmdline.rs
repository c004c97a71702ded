//! An image's CMD/ENTRYPOINT element with its `$(K)` references expanded as
//! sealos expands them, without letting a value run as code.
//!
//! sealos (`guest.formalizeImageCommands`) replaces `$(K)`, `${K}` and `$K`
//! with the value's text (`$$` is `$`, an unknown name stays `$(K)`) and the
//! shell reads the resulting line, so `HELM_OPTS='--set-string b="x y"'`
//! reaches helm as the two words `--set-string` and `b=x y`. tug gives the
//! same words for quotes, backslashes and blanks, but reads the value itself
//! (no `$`, backquote, `;`, `|` or glob in it is interpreted) and pastes
//! each word single-quoted: a value is data, never code. Where the
//! reference sits inside the element's own quotes, the value goes in as it
//! is, escaped for those quotes (sealos pastes it there too, unsplit).
//! Values under secret-looking keys become `${K}` references to the
//! exported value, so a password is never on a command line.

use super::shell::{is_secret_key, with_env};
use crate::cluster::env::{Env, reference};
use crate::engine::command::{Command, quote};

/// Where in the element's own shell quoting a reference sits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    Bare,
    Single,
    Double,
}

/// The guest command for `element`, run in `dir` with `env` exported.
pub(crate) fn guest(dir: &str, env: &Env, element: &str) -> Command {
    with_env(Command::shell(expand(element, env)), env).cwd(dir)
}

/// `element` with every reference replaced (see the module's doc).
fn expand(element: &str, env: &Env) -> String {
    let mut out = String::with_capacity(element.len());
    let mut quoting = Quoting::Bare;
    let mut chars = element.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match (quoting, c) {
            (Quoting::Bare, '\'') => quoting = Quoting::Single,
            (Quoting::Single, '\'') => quoting = Quoting::Bare,
            (Quoting::Bare, '"') => quoting = Quoting::Double,
            (Quoting::Double, '"') => quoting = Quoting::Bare,
            (Quoting::Bare | Quoting::Double, '\\') => {
                out.push(c);
                if let Some((_, next)) = chars.next() {
                    out.push(next);
                }
                continue;
            }
            (_, '$') => {
                let rest = &element[at + 1..];
                if rest.starts_with('$') {
                    chars.next();
                    out.push('$');
                    continue;
                }
                if let Some((name, len)) = reference(rest) {
                    for _ in 0..rest[..len].chars().count() {
                        chars.next();
                    }
                    out.push_str(&replacement(name, env, quoting));
                    continue;
                }
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// What takes the place of a reference to `name` in `quoting`.
fn replacement(name: &str, env: &Env, quoting: Quoting) -> String {
    let Some(value) = env.get(name) else {
        return format!("$({name})");
    };
    if is_secret_key(name) && !value.is_empty() {
        return format!("${{{name}}}");
    }
    match quoting {
        Quoting::Bare => words(value)
            .iter()
            .map(|w| quote(w))
            .collect::<Vec<_>>()
            .join(" "),
        Quoting::Single => value.replace('\'', "'\\''"),
        Quoting::Double => value
            .chars()
            .flat_map(|c| {
                let escape = matches!(c, '"' | '\\' | '$' | '`').then_some('\\');
                escape.into_iter().chain([c])
            })
            .collect(),
    }
}

/// The words the shell would make of `value` by quote removal and splitting on
/// blanks alone: `'…'` keeps everything, `"…"` keeps all but `\"`, `\\`, `\$`,
/// `` \` `` escapes, a bare `\` keeps the next character. Nothing is expanded.
fn words(value: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.by_ref().take_while(|c| *c != '\''));
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => w.push(e),
                            Some('\n') => {}
                            Some(other) => w.extend(['\\', other]),
                            None => w.push('\\'),
                        },
                        other => w.push(other),
                    }
                }
            }
            '\\' => {
                let w = word.get_or_insert_with(String::new);
                match chars.next() {
                    Some('\n') | None => {}
                    Some(next) => w.push(next),
                }
            }
            other => word.get_or_insert_with(String::new).push(other),
        }
    }
    words.extend(word);
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::install::fixture::env_of as env;

    /// What bash hands `helm` for a rendered command: its argv, one word per line.
    fn argv(cmd: &Command) -> Vec<String> {
        let line = cmd.render().unwrap();
        let script = format!("cd() {{ :; }}; helm() {{ printf '%s\\n' \"$@\"; }}; {line}");
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(script)
            .output()
            .unwrap();
        assert!(out.status.success(), "{line}: {out:?}");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn a_values_quotes_and_blanks_make_words_as_with_sealos() {
        let e = env(&[
            ("HELM_OPTS", r#"--set-string b="x y" --set c='p q'\ r"#),
            ("NAME", "n"),
        ]);
        let c = guest("/w", &e, "helm upgrade -i $(NAME) c ${HELM_OPTS}");
        let want = [
            "upgrade",
            "-i",
            "n",
            "c",
            "--set-string",
            "b=x y",
            "--set",
            "c=p q r",
        ];
        assert_eq!(argv(&c), want.map(String::from));
        let c = guest("/w", &e, "helm $HELM_OPTS $UNKNOWN $$HOME");
        assert!(
            c.to_string()
                .ends_with("helm --set-string 'b=x y' --set 'c=p q r' $(UNKNOWN) $HOME"),
            "{c}"
        );
    }

    #[test]
    fn nothing_in_a_value_runs() {
        let canary = std::env::temp_dir().join(format!("tug-cmdline-{}", std::process::id()));
        let hostile = format!("a$(touch {0}) `touch {0}`;touch {0} *", canary.display());
        let e = env(&[("V", hostile.as_str())]);
        let got = argv(&guest("/w", &e, "helm $(V)"));
        let want = [
            "a$(touch".to_string(),
            format!("{})", canary.display()),
            "`touch".to_string(),
            format!("{}`;touch", canary.display()),
            canary.display().to_string(),
            "*".to_string(),
        ];
        assert_eq!(got, want);
        assert!(!canary.exists());
    }

    #[test]
    fn inside_the_elements_quotes_a_value_stays_one_literal_word() {
        let e = env(&[("V", r#"x "y" $(z) 'w'"#)]);
        let got = argv(&guest("/w", &e, r#"helm "--set=$(V)" '$(V)' "\$(V)""#));
        assert_eq!(
            got,
            [r#"--set=x "y" $(z) 'w'"#, r#"x "y" $(z) 'w'"#, "$(V)"].map(String::from)
        );
    }

    #[test]
    fn secrets_stay_references_off_the_command_line() {
        let e = env(&[("registryPassword", "s3 cret$(id)")]);
        let c = guest("/w", &e, "helm x $(registryPassword)");
        assert!(c.to_string().ends_with("helm x ${registryPassword}"), "{c}");
        assert!(
            c.render()
                .unwrap()
                .ends_with("&& helm x ${registryPassword}")
        );
        assert_eq!(argv(&c), ["x", "s3", "cret$(id)"].map(String::from));
    }

    #[test]
    fn a_value_without_words_leaves_nothing() {
        let e = env(&[("EMPTY", ""), ("BLANK", "  ")]);
        assert_eq!(
            argv(&guest("/w", &e, "helm a $(EMPTY) $(BLANK) b")),
            ["a", "b"]
        );
    }
}
