//! Builds the node tree from tokens: text, printed pipelines and
//! `if`/`else if`/`else`/`end`. Constructs outside the subset are refused here.

use super::Positioned;
use super::funcs;
use super::lexer::{MAX_DEPTH, Tok, Token};

/// A node of a parsed template.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Text(String),
    /// `{{ pipeline }}`: the value is printed.
    Print(Pipe),
    /// `{{ if a }}…{{ else if b }}…{{ else }}…{{ end }}`.
    If {
        branches: Vec<(Pipe, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
}

/// Commands joined by `|`; each result is the last argument of the next.
#[derive(Debug, Clone)]
pub(crate) struct Pipe {
    pub(crate) pos: usize,
    pub(crate) cmds: Vec<Cmd>,
}

/// One command: a function call, or a single operand.
#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    pub(crate) pos: usize,
    pub(crate) args: Vec<Operand>,
}

#[derive(Debug, Clone)]
pub(crate) enum Operand {
    Field { pos: usize, names: Vec<String> },
    Dot { pos: usize },
    Func { pos: usize, name: String },
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil { pos: usize },
    Pipe(Pipe),
}

const UNSUPPORTED_KEYWORDS: &[&str] = &[
    "range", "with", "define", "template", "block", "break", "continue",
];

/// Parses a whole template.
pub(crate) fn parse(tokens: Vec<Token>) -> Result<Vec<Node>, Positioned> {
    let mut p = Parser { tokens, at: 0 };
    let (nodes, end) = p.list(0)?;
    match end {
        Stop::Eof => Ok(nodes),
        Stop::End(pos) => Err(Positioned::new(pos, "unexpected {{end}}")),
        Stop::Else(pos, _) => Err(Positioned::new(pos, "unexpected {{else}}")),
    }
}

/// What stopped a list of nodes.
enum Stop {
    Eof,
    End(usize),
    /// `{{ else }}` (None) or `{{ else if pipe }}` (Some).
    Else(usize, Option<Pipe>),
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.at < self.tokens.len() {
            self.at += 1;
        }
        t
    }

    fn expect_close(&mut self, what: &str) -> Result<(), Positioned> {
        let t = self.next();
        match t.kind {
            Tok::Close => Ok(()),
            _ => Err(Positioned::new(
                t.pos,
                format!("unexpected {} in {what}", describe(&t.kind)),
            )),
        }
    }

    fn list(&mut self, depth: usize) -> Result<(Vec<Node>, Stop), Positioned> {
        let mut nodes = Vec::new();
        loop {
            let t = self.next();
            match t.kind {
                Tok::Eof => return Ok((nodes, Stop::Eof)),
                Tok::Text(s) => nodes.push(Node::Text(s)),
                Tok::Open => {
                    if let Some(end) = self.action(&mut nodes, t.pos, depth)? {
                        return Ok((nodes, end));
                    }
                }
                other => {
                    return Err(Positioned::new(
                        t.pos,
                        format!("unexpected {}", describe(&other)),
                    ));
                }
            }
        }
    }

    /// After `{{`: adds a node, or returns the `end`/`else` that stops a list.
    fn action(
        &mut self,
        nodes: &mut Vec<Node>,
        open: usize,
        depth: usize,
    ) -> Result<Option<Stop>, Positioned> {
        let t = self.peek().clone();
        if let Tok::Ident(word) = &t.kind {
            match word.as_str() {
                "if" => {
                    self.next();
                    nodes.push(self.if_chain(t.pos, depth)?);
                    return Ok(None);
                }
                "end" => {
                    self.next();
                    self.expect_close("end")?;
                    return Ok(Some(Stop::End(open)));
                }
                "else" => {
                    self.next();
                    if matches!(&self.peek().kind, Tok::Ident(w) if w == "if") {
                        let pos = self.next().pos;
                        let pipe = self.pipeline(pos, "if")?;
                        return Ok(Some(Stop::Else(open, Some(pipe))));
                    }
                    if let Tok::Ident(w) = &self.peek().kind {
                        let (w, pos) = (w.clone(), self.peek().pos);
                        return Err(unsupported(pos, &format!("else {w}")));
                    }
                    self.expect_close("else")?;
                    return Ok(Some(Stop::Else(open, None)));
                }
                w if UNSUPPORTED_KEYWORDS.contains(&w) => return Err(unsupported(t.pos, w)),
                _ => {}
            }
        }
        let pipe = self.pipeline(t.pos, "command")?;
        nodes.push(Node::Print(pipe));
        Ok(None)
    }

    /// `if` and its `else if`s up to the shared `{{ end }}`.
    fn if_chain(&mut self, pos: usize, depth: usize) -> Result<Node, Positioned> {
        if depth >= MAX_DEPTH {
            return Err(Positioned::new(pos, "if blocks nested too deeply"));
        }
        let mut cond = self.pipeline(pos, "if")?;
        let mut branches = Vec::new();
        loop {
            let (body, end) = self.list(depth + 1)?;
            branches.push((cond, body));
            match end {
                Stop::Eof => {
                    return Err(Positioned::new(
                        pos,
                        "unexpected EOF: {{if}} has no {{end}}",
                    ));
                }
                Stop::End(_) => {
                    return Ok(Node::If {
                        branches,
                        otherwise: Vec::new(),
                    });
                }
                Stop::Else(_, Some(next)) => cond = next,
                Stop::Else(_, None) => {
                    let (otherwise, end) = self.list(depth + 1)?;
                    return match end {
                        Stop::End(_) => Ok(Node::If {
                            branches,
                            otherwise,
                        }),
                        Stop::Eof => Err(Positioned::new(
                            pos,
                            "unexpected EOF: {{if}} has no {{end}}",
                        )),
                        Stop::Else(p, _) => {
                            Err(Positioned::new(p, "unexpected {{else}} after {{else}}"))
                        }
                    };
                }
            }
        }
    }

    /// A pipeline up to `}}`.
    fn pipeline(&mut self, pos: usize, context: &str) -> Result<Pipe, Positioned> {
        let pipe = self.pipe_until(pos, context, 0)?;
        self.expect_close(context)?;
        Ok(pipe)
    }

    /// Commands separated by `|`, stopping before `}}` or `)`.
    fn pipe_until(&mut self, pos: usize, context: &str, depth: usize) -> Result<Pipe, Positioned> {
        if let Tok::Variable(_) = self.peek().kind {
            return Err(unsupported(self.peek().pos, "variables ($x)"));
        }
        let mut cmds = Vec::new();
        loop {
            let cmd = self.command(depth)?;
            if cmd.args.is_empty() {
                let at = self.peek().pos;
                return Err(Positioned::new(at, format!("missing value for {context}")));
            }
            if !cmds.is_empty()
                && !matches!(cmd.args[0], Operand::Func { .. } | Operand::Field { .. })
            {
                return Err(Positioned::new(
                    cmd.pos,
                    format!(
                        "non executable command in pipeline stage {}",
                        cmds.len() + 1
                    ),
                ));
            }
            cmds.push(cmd);
            if self.peek().kind == Tok::Pipe {
                self.next();
            } else {
                return Ok(Pipe { pos, cmds });
            }
        }
    }

    fn command(&mut self, depth: usize) -> Result<Cmd, Positioned> {
        let pos = self.peek().pos;
        let mut args = Vec::new();
        loop {
            let t = self.peek().clone();
            let operand = match t.kind {
                Tok::Close | Tok::Pipe | Tok::RParen | Tok::Eof => break,
                Tok::Field(names) => Operand::Field { pos: t.pos, names },
                Tok::Dot => Operand::Dot { pos: t.pos },
                Tok::Str(s) => Operand::Str(s),
                Tok::Int(i) => Operand::Int(i),
                Tok::Float(f) => Operand::Float(f),
                Tok::Bool(b) => Operand::Bool(b),
                Tok::Nil => Operand::Nil { pos: t.pos },
                Tok::Ident(name) => {
                    if UNSUPPORTED_KEYWORDS.contains(&name.as_str())
                        || ["if", "else", "end"].contains(&name.as_str())
                    {
                        return Err(Positioned::new(
                            t.pos,
                            format!("unexpected keyword {name:?} in command"),
                        ));
                    }
                    if !funcs::is_defined(&name) {
                        return Err(Positioned::new(
                            t.pos,
                            format!("function {name:?} is not supported by tug's template engine"),
                        ));
                    }
                    Operand::Func { pos: t.pos, name }
                }
                Tok::Variable(_) => return Err(unsupported(t.pos, "variables ($x)")),
                Tok::LParen => {
                    self.next();
                    let inner =
                        self.pipe_until(self.peek().pos, "parenthesized pipeline", depth + 1)?;
                    let close = self.next();
                    if close.kind != Tok::RParen {
                        return Err(Positioned::new(close.pos, "unclosed left paren"));
                    }
                    if let Tok::Field(_) = self.peek().kind
                        && self.peek().pos == close.pos + 1
                    {
                        return Err(unsupported(
                            self.peek().pos,
                            "field access on a parenthesized value",
                        ));
                    }
                    args.push(Operand::Pipe(inner));
                    continue;
                }
                Tok::Punct(p) => {
                    return Err(unsupported(t.pos, &format!("{p:?} (variables and range)")));
                }
                Tok::Text(_) | Tok::Open => {
                    return Err(Positioned::new(t.pos, "unexpected text in action"));
                }
            };
            self.next();
            args.push(operand);
        }
        if args.len() > 1 && !matches!(args[0], Operand::Func { .. } | Operand::Field { .. }) {
            return Err(Positioned::new(pos, "can't give argument to non-function"));
        }
        if let Some(Operand::Nil { pos }) = args.first() {
            return Err(Positioned::new(*pos, "nil is not a command"));
        }
        Ok(Cmd { pos, args })
    }
}

fn unsupported(pos: usize, what: &str) -> Positioned {
    Positioned::new(
        pos,
        format!(
            "unsupported template construct: {what} (tug supports fields, if/else, pipes and the documented functions)"
        ),
    )
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Text(_) => "text".into(),
        Tok::Open => "\"{{\"".into(),
        Tok::Close => "\"}}\"".into(),
        Tok::Field(n) => format!("field .{}", n.join(".")),
        Tok::Dot => "\".\"".into(),
        Tok::Variable(v) => format!("variable ${v}"),
        Tok::Ident(i) => format!("{i:?}"),
        Tok::Str(s) => format!("string {s:?}"),
        Tok::Int(i) => format!("number {i}"),
        Tok::Float(f) => format!("number {f}"),
        Tok::Bool(b) => format!("{b}"),
        Tok::Nil => "nil".into(),
        Tok::LParen => "\"(\"".into(),
        Tok::RParen => "\")\"".into(),
        Tok::Pipe => "\"|\"".into(),
        Tok::Punct(p) => format!("{p:?}"),
        Tok::Eof => "EOF".into(),
    }
}
