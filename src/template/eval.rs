//! Executes a parsed template against a flat string map.

use std::collections::BTreeMap;

use super::Positioned;
use super::parser::{Cmd, Node, Operand, Pipe};
use super::value::{MAX_OUTPUT, Value};
use super::{environ, funcs};

/// Renders `nodes` with `data` behind `.key`.
pub(crate) fn execute(
    nodes: &[Node],
    data: &BTreeMap<String, String>,
) -> Result<String, Positioned> {
    let mut out = String::new();
    Exec { data }.walk(nodes, &mut out)?;
    Ok(out)
}

struct Exec<'a> {
    data: &'a BTreeMap<String, String>,
}

impl Exec<'_> {
    fn walk(&self, nodes: &[Node], out: &mut String) -> Result<(), Positioned> {
        for node in nodes {
            match node {
                Node::Text(s) => out.push_str(s),
                Node::Print(pipe) => {
                    out.push_str(&self.pipe(pipe)?.to_output());
                    if out.len() > MAX_OUTPUT {
                        return Err(Positioned::new(
                            pipe.pos,
                            format!("rendered output exceeds {} MiB", MAX_OUTPUT >> 20),
                        ));
                    }
                }
                Node::If {
                    branches,
                    otherwise,
                } => {
                    let mut taken = None;
                    for (cond, body) in branches {
                        if self.pipe(cond)?.truth() {
                            taken = Some(body);
                            break;
                        }
                    }
                    self.walk(taken.unwrap_or(otherwise), out)?;
                }
            }
        }
        Ok(())
    }

    fn pipe(&self, pipe: &Pipe) -> Result<Value, Positioned> {
        let mut last = None;
        for cmd in &pipe.cmds {
            last = Some(self.command(cmd, last)?);
        }
        Ok(last.unwrap_or(Value::Nil))
    }

    fn command(&self, cmd: &Cmd, piped: Option<Value>) -> Result<Value, Positioned> {
        match &cmd.args[0] {
            Operand::Func { pos, name } => self.call(*pos, name, &cmd.args[1..], piped),
            Operand::Field { pos, names } if cmd.args.len() > 1 || piped.is_some() => {
                Err(Positioned::new(
                    *pos,
                    format!("{} is not a method but has arguments", names.join(".")),
                ))
            }
            first if piped.is_some() => Err(Positioned::new(
                operand_pos(first).unwrap_or(cmd.pos),
                "can't give argument to non-function",
            )),
            first => self.operand(first),
        }
    }

    fn operand(&self, op: &Operand) -> Result<Value, Positioned> {
        Ok(match op {
            Operand::Field { pos, names } => self.field(*pos, names)?,
            Operand::Dot { pos } => {
                return Err(Positioned::new(
                    *pos,
                    "unsupported template construct: \".\" as a value (template data is a flat map; use .key)",
                ));
            }
            Operand::Func { pos, name } => self.call(*pos, name, &[], None)?,
            Operand::Str(s) => Value::Str(s.clone()),
            Operand::Int(i) => Value::Int(*i),
            Operand::Float(f) => Value::Float(*f),
            Operand::Bool(b) => Value::Bool(*b),
            Operand::Nil { .. } => Value::Nil,
            Operand::Pipe(p) => self.pipe(p)?,
        })
    }

    /// `.a` looks `a` up; a missing key is Go's "no value". `.a.b` on a
    /// string is Go's "can't evaluate field" error. `.Env.a` is `.a`, as
    /// `sealctl render` also offers the env under `.Env`.
    fn field(&self, pos: usize, names: &[String]) -> Result<Value, Positioned> {
        let names = match names {
            [env, rest @ ..]
                if env == "Env" && !rest.is_empty() && !self.data.contains_key(env) =>
            {
                rest
            }
            all => all,
        };
        let mut value = match self.data.get(&names[0]) {
            Some(s) => Value::Str(s.clone()),
            None => Value::Nil,
        };
        for name in &names[1..] {
            if value != Value::Nil {
                return Err(Positioned::new(
                    pos,
                    format!("can't evaluate field {name} in type {}", value.type_name()),
                ));
            }
            value = Value::Nil;
        }
        Ok(value)
    }

    fn call(
        &self,
        pos: usize,
        name: &str,
        args: &[Operand],
        piped: Option<Value>,
    ) -> Result<Value, Positioned> {
        if name == "and" || name == "or" {
            return self.and_or(pos, name == "or", args, piped);
        }
        let mut values = Vec::with_capacity(args.len() + 1);
        for arg in args {
            values.push(self.operand(arg)?);
        }
        values.extend(piped);
        if environ::NAMES.contains(&name) {
            return match values.as_slice() {
                [Value::Str(arg)] => Ok(Value::Str(environ::call(name, self.data, arg))),
                _ => Err(Positioned::new(
                    pos,
                    format!("wrong arguments for {name}: want one string"),
                )),
            };
        }
        funcs::call(name, values).map_err(|m| Positioned::new(pos, m))
    }

    /// Go's short-circuit `and`/`or`: arguments are evaluated left to right
    /// until one decides, and that argument is the result.
    fn and_or(
        &self,
        pos: usize,
        is_or: bool,
        args: &[Operand],
        piped: Option<Value>,
    ) -> Result<Value, Positioned> {
        if args.is_empty() && piped.is_none() {
            let name = if is_or { "or" } else { "and" };
            return Err(Positioned::new(
                pos,
                format!("wrong number of args for {name}: want at least 1 got 0"),
            ));
        }
        let mut last = Value::Nil;
        for arg in args {
            last = self.operand(arg)?;
            if last.truth() == is_or {
                return Ok(last);
            }
        }
        Ok(piped.unwrap_or(last))
    }
}

fn operand_pos(op: &Operand) -> Option<usize> {
    match op {
        Operand::Field { pos, .. }
        | Operand::Dot { pos }
        | Operand::Func { pos, .. }
        | Operand::Nil { pos } => Some(*pos),
        Operand::Pipe(p) => Some(p.pos),
        _ => None,
    }
}
