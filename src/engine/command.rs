//! Shell command lines for hosts. Every value that goes into a line (program,
//! arguments, env values, the working dir) is single-quoted for bash, so a
//! hostile host name or env value (`$(…)`, `;`, quotes, newlines) arrives as
//! plain bytes and never runs. Only [`Command::shell`] takes trusted shell
//! text verbatim: the hook lines an image's labels carry (`bash init.sh $x`).
//! [`Secret`] values are sent as they are but shown as `******` everywhere a
//! line is displayed: plans, dry-runs, events and logs.
//!
//! A command reaches a host as data, never as a command line: transports
//! hand [`Command::script`] to `bash -s` on stdin, so its exports (secrets
//! among them) are in no host's process list and no value meets the
//! kernel's limits on argument length.

pub use crate::secret::{MASK, Secret};
use std::fmt;

/// A string that is either shown as it is or masked: an argument, an env
/// value, a file's content.
#[derive(Clone, Debug)]
pub enum Value {
    /// Shown as it is.
    Plain(String),
    /// Sent as it is, shown as [`MASK`].
    Secret(Secret),
}

impl Value {
    /// The real value, as sent.
    pub fn expose(&self) -> &str {
        match self {
            Value::Plain(s) => s,
            Value::Secret(s) => s.expose(),
        }
    }

    /// The value as it may be shown.
    pub fn shown(&self) -> &str {
        match self {
            Value::Plain(s) => s,
            Value::Secret(_) => MASK,
        }
    }

    /// The secret inside, if this value is one.
    pub fn secret(&self) -> Option<&Secret> {
        match self {
            Value::Plain(_) => None,
            Value::Secret(s) => Some(s),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Plain(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Plain(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Plain(s.clone())
    }
}

impl From<Secret> for Value {
    fn from(s: Secret) -> Self {
        Value::Secret(s)
    }
}

/// A value that cannot be put into a shell line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// bash cannot carry a NUL byte in a command line.
    #[error("{what} contains a NUL byte, which a shell command cannot carry")]
    Nul {
        /// Which part of the command.
        what: String,
    },
    /// An env name that is not a shell identifier.
    #[error("env name {0:?} is not a valid shell variable name (letters, digits, _)")]
    BadEnvName(String),
}

/// The longest export list [`Command::brief`] spells out.
pub const BRIEF_EXPORTS: usize = 80;

/// The longest `NAME=value` Linux passes to a program it starts
/// (`MAX_ARG_STRLEN`, 32 pages, counting the terminating NUL). A longer env
/// entry cannot be exported; [`Command::script`] hands it to bash children
/// through a `BASH_ENV` file instead.
pub const EXEC_ENTRY_MAX: usize = 32 * 4096;

/// The shell variable holding the path of the `BASH_ENV` file of a command
/// with oversized env values.
const ENV_FILE_VAR: &str = "tug_env_file";

/// What the command runs: a quoted program with quoted arguments, or a
/// trusted shell snippet.
#[derive(Clone, Debug)]
enum Body {
    Exec { program: Value, args: Vec<Value> },
    Shell(String),
}

/// One command for a host, as data: a program with arguments (or trusted
/// shell text), a working dir and env values, each marked plain or secret.
/// Shown as `cd -- DIR && export K=V … && PROGRAM ARGS…` ([`Command::masked`]);
/// sent as [`Command::script`].
#[derive(Clone, Debug)]
pub struct Command {
    cwd: Option<Value>,
    env: Vec<(String, Value)>,
    body: Body,
}

impl Command {
    /// Run `program` with arguments added by [`Command::arg`]; every part is quoted.
    pub fn new(program: impl Into<Value>) -> Self {
        Command {
            cwd: None,
            env: Vec::new(),
            body: Body::Exec {
                program: program.into(),
                args: Vec::new(),
            },
        }
    }

    /// Run trusted shell text verbatim (an image's hook line such as
    /// `bash init.sh $registryDomain`): `$vars` in it expand from the env.
    /// Never pass user or host data here; use [`Command::new`] for that.
    pub fn shell(text: impl Into<String>) -> Self {
        Command {
            cwd: None,
            env: Vec::new(),
            body: Body::Shell(text.into()),
        }
    }

    /// Add one argument (quoted). Ignored for [`Command::shell`] commands.
    pub fn arg(mut self, arg: impl Into<Value>) -> Self {
        if let Body::Exec { args, .. } = &mut self.body {
            args.push(arg.into());
        }
        self
    }

    /// Add several arguments (each quoted).
    pub fn args<I, V>(self, args: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<Value>,
    {
        args.into_iter().fold(self, Command::arg)
    }

    /// Export `name=value` before the command runs (later entries win).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Run in `dir` (`cd DIR &&` first; the command does not run if cd fails).
    pub fn cwd(mut self, dir: impl Into<Value>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Every secret in the command, so output that echoes one can be masked.
    pub fn secrets(&self) -> Vec<Secret> {
        self.values().filter_map(Value::secret).cloned().collect()
    }

    fn values(&self) -> impl Iterator<Item = &Value> {
        let body: Vec<&Value> = match &self.body {
            Body::Exec { program, args } => std::iter::once(program).chain(args).collect(),
            Body::Shell(_) => Vec::new(),
        };
        self.cwd
            .iter()
            .chain(self.env.iter().map(|(_, v)| v))
            .chain(body)
    }

    /// Check that the command can be rendered: no NUL anywhere, env names
    /// are identifiers. Planners call it so a bad value stops a run before
    /// anything changes on any host.
    pub fn validate(&self) -> Result<(), CommandError> {
        for (name, _) in &self.env {
            let mut chars = name.chars();
            let first_ok = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(CommandError::BadEnvName(name.clone()));
            }
        }
        let nul = |what: String, s: &str| {
            if s.contains('\0') {
                Err(CommandError::Nul { what })
            } else {
                Ok(())
            }
        };
        if let Some(dir) = &self.cwd {
            nul("the working dir".into(), dir.expose())?;
        }
        for (name, v) in &self.env {
            nul(format!("env {name}"), v.expose())?;
        }
        match &self.body {
            Body::Exec { program, args } => {
                nul("the program".into(), program.expose())?;
                for (i, a) in args.iter().enumerate() {
                    nul(format!("argument {}", i + 1), a.expose())?;
                }
            }
            Body::Shell(text) => nul("the shell text".into(), text)?,
        }
        Ok(())
    }

    /// The line as sent to the host, secrets included.
    pub fn render(&self) -> Result<String, CommandError> {
        self.validate()?;
        Ok(self.build(Value::expose))
    }

    /// The line as shown, secrets masked; no validation (shows what was asked).
    pub fn masked(&self) -> String {
        self.build(Value::shown)
    }

    /// The line for a failure report: as [`Command::masked`], except that
    /// an export list longer than [`BRIEF_EXPORTS`] characters is counted,
    /// not spelled out (a hook's exports run to hundreds of characters; the
    /// host's log holds the whole line).
    pub fn brief(&self) -> String {
        self.build_with(Value::shown, true)
    }

    /// The program `bash -s` reads on stdin to run this command, secrets
    /// included: the rendered line as one compound command, then `exit`, so
    /// bash has parsed all of it before the command runs and never reads
    /// what follows on stdin (the data a `send` streams stays the command's
    /// own input: POSIX shells read a script on stdin no further than the
    /// command they run). Env values too long to export (see
    /// [`EXEC_ENTRY_MAX`]) are set unexported in this shell and written to a 0600
    /// `BASH_ENV` file, removed afterwards, that every bash the command
    /// starts reads: a hook run by bash gets them whole.
    pub fn script(&self) -> Result<Secret, CommandError> {
        self.validate()?;
        let (small, big): (Vec<_>, Vec<_>) = self
            .env
            .iter()
            .partition(|(k, v)| k.len() + v.expose().len() + 2 <= EXEC_ENTRY_MAX);
        let line = self.build_parts(Value::expose, &small, false);
        if big.is_empty() {
            return Ok(Secret::new(format!("{{ {line}\n}}; exit $?\n")));
        }
        let set: Vec<String> = big
            .iter()
            .map(|(k, v)| format!("{k}={}", quote(v.expose())))
            .collect();
        let file_lines: Vec<String> = set.iter().map(|l| quote(l)).collect();
        let f = ENV_FILE_VAR;
        let prepare = format!(
            "{f}=$(umask 077 && mktemp) && printf '%s\\n' {} > \"${f}\" && \
             export -n {} && export BASH_ENV=\"${f}\"",
            file_lines.join(" "),
            set.join(" "),
        );
        Ok(Secret::new(format!(
            "{{ {prepare} && {line}\n}}; tug_rc=$?; rm -f -- \"${{{f}:-}}\"; exit $tug_rc\n"
        )))
    }

    fn build(&self, show: fn(&Value) -> &str) -> String {
        self.build_with(show, false)
    }

    fn build_with(&self, show: fn(&Value) -> &str, brief: bool) -> String {
        let env: Vec<&(String, Value)> = self.env.iter().collect();
        self.build_parts(show, &env, brief)
    }

    fn build_parts(
        &self,
        show: fn(&Value) -> &str,
        env: &[&(String, Value)],
        brief: bool,
    ) -> String {
        let mut parts = Vec::new();
        if let Some(dir) = &self.cwd {
            parts.push(format!("cd -- {}", quote(show(dir))));
        }
        if !env.is_empty() {
            let exports: Vec<String> = env
                .iter()
                .map(|(k, v)| format!("{k}={}", quote(show(v))))
                .collect();
            let exports = exports.join(" ");
            if brief && exports.len() > BRIEF_EXPORTS {
                parts.push(format!("export <{} variables>", env.len()));
            } else {
                parts.push(format!("export {exports}"));
            }
        }
        parts.push(match &self.body {
            Body::Exec { program, args } => std::iter::once(program)
                .chain(args)
                .map(|v| quote(show(v)))
                .collect::<Vec<_>>()
                .join(" "),
            Body::Shell(text) => text.clone(),
        });
        parts.join(" && ")
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Quote one word for bash: left bare when it holds only characters that
/// are never special, else wrapped in single quotes with each `'` written as
/// `'\''`. Inside single quotes bash interprets nothing, newlines included.
pub fn quote(s: &str) -> String {
    // No `=`: a bare `NAME=value` in a command's first word is an assignment.
    let bare = |c: char| c.is_ascii_alphanumeric() || "_-./:@%+,".contains(c);
    if !s.is_empty() && s.chars().all(bare) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(quote("tar"), "tar");
        assert_eq!(quote("/var/lib/x-1.2"), "/var/lib/x-1.2");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$(x)"), "'$(x)'");
        assert_eq!(quote("~root"), "'~root'");
        assert_eq!(quote("A=b"), "'A=b'");
    }

    #[test]
    fn renders_cwd_env_and_args_in_order() {
        let c = Command::new("bash")
            .arg("init.sh")
            .env("registryDomain", "sealos.hub")
            .env("X", "a b")
            .cwd("/var/lib/tug/rootfs/scripts");
        assert_eq!(
            c.render().unwrap(),
            "cd -- /var/lib/tug/rootfs/scripts && export registryDomain=sealos.hub X='a b' && bash init.sh"
        );
    }

    #[test]
    fn brief_counts_a_long_export_list_and_keeps_a_short_one() {
        let short = Command::shell("bash init.sh").env("A", "1").cwd("/s");
        assert_eq!(short.brief(), short.masked());
        let long = (0..8).fold(Command::shell("bash init.sh $k0"), |c, i| {
            c.env(format!("k{i}"), "a-value-long-enough-to-matter")
        });
        assert_eq!(long.brief(), "export <8 variables> && bash init.sh $k0");
        assert!(long.masked().len() > BRIEF_EXPORTS);
    }

    #[test]
    fn secrets_are_sent_but_masked_when_shown() {
        let c = Command::new("login").arg(Secret::new("hunter2"));
        assert_eq!(c.render().unwrap(), "login hunter2");
        assert_eq!(c.to_string(), "login '******'");
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.secrets().len(), 1);
    }

    #[test]
    fn scripts_are_one_compound_command_and_long_values_are_not_exported() {
        let c = Command::new("true").env("P", Secret::new("pw"));
        assert_eq!(
            c.script().unwrap().expose(),
            "{ export P=pw && true\n}; exit $?\n"
        );
        let long = "x".repeat(EXEC_ENTRY_MAX);
        let s = Command::new("true")
            .env("B", long.as_str())
            .script()
            .unwrap();
        let s = s.expose();
        assert!(
            !s.contains("export B=") && s.contains("export BASH_ENV="),
            "{}",
            &s[..80]
        );
        assert!(s.ends_with("exit $tug_rc\n"));
    }

    #[test]
    fn rejects_nul_and_bad_env_names() {
        let c = Command::new("echo").arg("a\0b");
        assert_eq!(
            c.render().unwrap_err().to_string(),
            "argument 1 contains a NUL byte, which a shell command cannot carry"
        );
        let c = Command::new("true").env("A;B", "x");
        assert!(matches!(c.render(), Err(CommandError::BadEnvName(_))));
        assert!(Command::new("true").env("9x", "1").validate().is_err());
    }
}
