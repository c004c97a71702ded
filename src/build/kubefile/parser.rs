//! One logical line to one instruction, with ARG/ENV substitution applied
//! where Dockerfiles apply it (FROM, COPY, ENV, LABEL; not CMD/ENTRYPOINT,
//! whose `$(VAR)`/`$VAR` are for the installer to expand at run time).

use super::instruction::{Base, Command, Instruction, Step};
use super::lines::Logical;
use super::words::{LexError, Vars, Word, words};
use super::{Kubefile, ParseError};
use crate::image::Reference;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const EXPECTED: &str = "expected one of FROM, ARG, COPY, ENV, LABEL, CMD, ENTRYPOINT, MAINTAINER";

/// Parser state across instructions.
pub struct Parser<'a> {
    path: PathBuf,
    build_args: &'a BTreeMap<String, String>,
    used_args: BTreeSet<String>,
    values: BTreeMap<String, String>,
    base: Option<Base>,
    steps: Vec<Step>,
    warnings: Vec<String>,
}

impl<'a> Parser<'a> {
    /// A parser for the file at `path` with these `--build-arg`s.
    pub fn new(path: &Path, build_args: &'a BTreeMap<String, String>) -> Self {
        Parser {
            path: path.to_path_buf(),
            build_args,
            used_args: BTreeSet::new(),
            values: BTreeMap::new(),
            base: None,
            steps: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn err(&self, l: &Logical, at: usize, message: impl Into<String>) -> ParseError {
        let (line, column) = l.position(at);
        ParseError {
            file: self.path.clone(),
            line,
            column,
            message: message.into(),
        }
    }

    fn lex(&mut self, l: &Logical, from: usize, split: bool) -> Result<Vec<Word>, ParseError> {
        let mut vars = Vars {
            values: &self.values,
            undefined: Vec::new(),
        };
        let result = words(&l.chars, from, &mut vars, split);
        let undefined = std::mem::take(&mut vars.undefined);
        for (at, name) in undefined {
            let (line, column) = l.position(at);
            self.warnings.push(format!(
                "{}:{line}:{column}: ${name} is not set by an ARG or ENV before this line, so it is empty here; write \\${name} to keep it literal",
                self.path.display()
            ));
        }
        result.map_err(|LexError { at, message }| self.err(l, at, message))
    }

    /// Parse one logical line.
    pub fn instruction(&mut self, l: &Logical) -> Result<(), ParseError> {
        let kw_end = l
            .chars
            .iter()
            .position(|c| c.is_whitespace())
            .unwrap_or(l.chars.len());
        let keyword: String = l.chars[..kw_end].iter().collect::<String>().to_uppercase();
        let args = (kw_end..l.chars.len())
            .find(|&i| !l.chars[i].is_whitespace())
            .unwrap_or(l.chars.len());
        let upper = keyword.as_str();
        if self.base.is_none()
            && matches!(
                upper,
                "COPY" | "ENV" | "LABEL" | "CMD" | "ENTRYPOINT" | "MAINTAINER"
            )
        {
            return Err(self.err(l, 0, format!("expected FROM before {upper}")));
        }
        let instruction = match upper {
            "FROM" => return self.from(l, args),
            "ARG" => return self.arg(l, args),
            "COPY" => self.copy(l, args)?,
            "ENV" => Instruction::Env(self.pairs(l, args, "ENV", true)?),
            "LABEL" => Instruction::Label(self.pairs(l, args, "LABEL", true)?),
            "CMD" => Instruction::Cmd(self.command(l, args, "CMD")?),
            "ENTRYPOINT" => Instruction::Entrypoint(self.command(l, args, "ENTRYPOINT")?),
            "MAINTAINER" => {
                let who = l.text_from(args).trim().to_string();
                if who.is_empty() {
                    return Err(self.err(
                        l,
                        args,
                        "MAINTAINER needs a name; expected MAINTAINER NAME",
                    ));
                }
                Instruction::Maintainer(who)
            }
            "RUN" => {
                return Err(self.err(
                    l,
                    0,
                    "RUN is not supported: a lite build runs nothing. Produce those files before the build, put them in the context and COPY them (e.g. COPY bin/helm bin/)",
                ));
            }
            "ADD" => {
                return Err(self.err(
                    l,
                    0,
                    "ADD is not supported: a lite build fetches and unpacks nothing; put the files in the context and COPY them",
                ));
            }
            "WORKDIR" | "EXPOSE" | "USER" | "VOLUME" | "HEALTHCHECK" | "SHELL" | "STOPSIGNAL"
            | "ONBUILD" => {
                return Err(self.err(
                    l,
                    0,
                    format!("{upper} is not supported: cluster images are not run as containers; {EXPECTED}"),
                ));
            }
            _ => {
                let kw: String = l.chars[..kw_end].iter().collect();
                return Err(self.err(l, 0, format!("unknown instruction {kw:?}; {EXPECTED}")));
            }
        };
        self.steps.push(Step {
            line: l.position(0).0,
            text: l.chars.iter().collect(),
            instruction,
        });
        Ok(())
    }

    fn from(&mut self, l: &Logical, args: usize) -> Result<(), ParseError> {
        const FORM: &str = "expected FROM [--platform=OS/ARCH] IMAGE|scratch";
        if self.base.is_some() {
            return Err(self.err(
                l,
                0,
                "a second FROM: multi-stage builds are not supported; expected a single FROM",
            ));
        }
        let words = self.lex(l, args, true)?;
        let mut platform = None;
        let mut rest = words.iter().peekable();
        while let Some(w) = rest.next_if(|w| w.text.starts_with("--")) {
            match w.text.strip_prefix("--platform=") {
                Some(p) if !p.is_empty() => platform = Some(p.to_string()),
                _ => {
                    return Err(self.err(
                        l,
                        w.start,
                        format!("unsupported FROM flag {:?}; {FORM}", w.text),
                    ));
                }
            }
        }
        let image = rest
            .next()
            .ok_or_else(|| self.err(l, l.chars.len(), format!("FROM needs an image; {FORM}")))?;
        if let Some(extra) = rest.next() {
            let stage = extra.text.eq_ignore_ascii_case("as");
            let msg = if stage {
                "stage names (FROM … AS name) are not supported: a lite build has one stage"
                    .to_string()
            } else {
                format!("unexpected {:?} after the image; {FORM}", extra.text)
            };
            return Err(self.err(l, extra.start, msg));
        }
        let base = if image.text.eq_ignore_ascii_case("scratch") {
            Base::Scratch
        } else {
            let reference = image
                .text
                .parse::<Reference>()
                .map_err(|e| self.err(l, image.start, format!("{e}; {FORM}")))?;
            Base::Image {
                reference,
                platform,
            }
        };
        self.base = Some(base);
        Ok(())
    }

    fn arg(&mut self, l: &Logical, args: usize) -> Result<(), ParseError> {
        let words = self.lex(l, args, true)?;
        if words.is_empty() {
            return Err(self.err(l, args, "ARG needs a name; expected ARG NAME[=default]"));
        }
        for w in words {
            let (name, default) = match w.text.split_once('=') {
                Some((n, d)) => (n.to_string(), Some(d.to_string())),
                None => (w.text.clone(), None),
            };
            if !valid_name(&name) {
                return Err(self.err(l, w.start, format!("{name:?} is not a variable name; expected ARG NAME[=default] (letters, digits, _)")));
            }
            self.used_args.insert(name.clone());
            if let Some(v) = self.build_args.get(&name).cloned().or(default) {
                self.values.insert(name, v);
            }
        }
        Ok(())
    }

    fn copy(&mut self, l: &Logical, args: usize) -> Result<Instruction, ParseError> {
        const FORM: &str = "expected COPY SRC... DEST";
        let json = l.chars.get(args) == Some(&'[');
        let words: Vec<Word> = if json {
            let items = self.json_array(l, args, "COPY")?;
            let mut out = Vec::new();
            for item in items {
                let chars: Vec<char> = item.chars().collect();
                let sub = Logical::at(chars, l.position(args));
                let mut w = self.lex(&sub, 0, false)?;
                out.push(Word {
                    text: w.pop().map(|w| w.text).unwrap_or_default(),
                    start: args,
                });
            }
            out
        } else {
            self.lex(l, args, true)?
        };
        if let Some(flag) = words.iter().find(|w| w.text.starts_with("--")) {
            let name = flag.text.split('=').next().unwrap_or(&flag.text);
            let why = match name {
                "--chown" | "--chmod" => {
                    "a lite build writes every file as root (uid 0, gid 0) with the context's modes"
                }
                "--from" => "multi-stage builds are not supported",
                _ => "COPY takes no flags in a lite build",
            };
            return Err(self.err(
                l,
                flag.start,
                format!("{name} is not supported: {why}; {FORM}"),
            ));
        }
        if words.len() < 2 {
            let at = words.last().map_or(args, |w| w.start);
            return Err(self.err(
                l,
                at,
                format!("COPY needs a source and a destination; {FORM}"),
            ));
        }
        let (dest, sources) = words.split_last().expect("two or more words");
        Ok(Instruction::Copy {
            sources: sources.iter().map(|w| w.text.clone()).collect(),
            dest: dest.text.clone(),
        })
    }

    /// `K=V …` pairs, or the legacy `K V` form when `legacy` and the first
    /// word has no `=`. ENV pairs become visible to later instructions.
    fn pairs(
        &mut self,
        l: &Logical,
        args: usize,
        what: &str,
        legacy: bool,
    ) -> Result<Vec<(String, String)>, ParseError> {
        let form = format!("expected {what} KEY=VALUE [KEY=VALUE...] or {what} KEY VALUE");
        let words = self.lex(l, args, true)?;
        let first = words
            .first()
            .ok_or_else(|| self.err(l, args, format!("{what} needs a key and a value; {form}")))?;
        let pairs = if legacy && !first.text.contains('=') {
            let key_end = (args..l.chars.len())
                .find(|&i| l.chars[i].is_whitespace())
                .unwrap_or(l.chars.len());
            let value = self.lex(l, key_end, false)?.pop();
            let value = value.ok_or_else(|| {
                self.err(
                    l,
                    l.chars.len(),
                    format!("{what} {} needs a value; {form}", first.text),
                )
            })?;
            vec![(first.text.clone(), value.text)]
        } else {
            let mut out = Vec::new();
            for w in &words {
                match w.text.split_once('=') {
                    Some((k, v)) if !k.is_empty() => out.push((k.to_string(), v.to_string())),
                    _ => {
                        return Err(self.err(
                            l,
                            w.start,
                            format!("{:?} is not KEY=VALUE; {form}", w.text),
                        ));
                    }
                }
            }
            out
        };
        if what == "ENV" {
            for (k, v) in &pairs {
                self.values.insert(k.clone(), v.clone());
            }
        }
        Ok(pairs)
    }

    fn json_array(&self, l: &Logical, args: usize, what: &str) -> Result<Vec<String>, ParseError> {
        let text = l.text_from(args);
        serde_json::from_str::<Vec<String>>(text.trim_end()).map_err(|e| {
            let at = args + text.chars().take(e.column().saturating_sub(1)).count();
            self.err(l, at, format!("{what} is not a valid JSON array of strings ({e}); expected [\"cmd\", \"arg\"] or the shell form without brackets"))
        })
    }

    fn command(&self, l: &Logical, args: usize, what: &str) -> Result<Command, ParseError> {
        if l.chars.get(args) == Some(&'[') {
            let items = self.json_array(l, args, what)?;
            if items.is_empty() {
                return Err(self.err(
                    l,
                    args,
                    format!("{what} [] runs nothing; expected at least one command"),
                ));
            }
            return Ok(Command::Exec(items));
        }
        let line = l.text_from(args).trim().to_string();
        if line.is_empty() {
            return Err(self.err(l, args, format!("{what} needs a command; expected {what} [\"cmd\", \"arg\"] or {what} command line")));
        }
        Ok(Command::Shell(line))
    }

    /// The parsed Kubefile, or an error when there was no FROM.
    pub fn finish(mut self) -> Result<Kubefile, ParseError> {
        let base = self.base.take().ok_or_else(|| ParseError {
            file: self.path.clone(),
            line: 1,
            column: 1,
            message: "no FROM instruction; expected FROM IMAGE or FROM scratch".into(),
        })?;
        for name in self
            .build_args
            .keys()
            .filter(|k| !self.used_args.contains(*k))
        {
            self.warnings.push(format!(
                "--build-arg {name} is not used: the Kubefile declares no ARG {name}"
            ));
        }
        Ok(Kubefile {
            path: self.path,
            base,
            steps: self.steps,
            warnings: self.warnings,
        })
    }
}

fn valid_name(n: &str) -> bool {
    let mut c = n.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}
