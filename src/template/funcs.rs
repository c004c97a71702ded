//! The functions templates may call: Go's builtins (except `and`/`or`,
//! which short-circuit in the evaluator) and the sprig functions cluster
//! images use, each with Go's argument types and results.

use super::printf::sprintf;
use super::semver::semver_compare;
use super::value::{MAX_OUTPUT, Value, go_quote};

/// A parameter type, checked like Go's reflection-based call.
#[derive(Clone, Copy)]
enum Ty {
    Str,
    Int,
    Bool,
    Any,
}

type Impl = fn(Vec<Value>) -> Result<Value, String>;

struct Spec {
    name: &'static str,
    fixed: &'static [Ty],
    variadic: Option<Ty>,
    imp: Impl,
}

use Ty::{Any, Bool, Int, Str};

const fn f(name: &'static str, fixed: &'static [Ty], variadic: Option<Ty>, imp: Impl) -> Spec {
    Spec {
        name,
        fixed,
        variadic,
        imp,
    }
}

const FUNCS: &[Spec] = &[
    // Go builtins.
    f("not", &[Any], None, |a| Ok(Value::Bool(!a[0].truth()))),
    f("eq", &[Any], Some(Any), eq),
    f("ne", &[Any, Any], None, |a| {
        Ok(Value::Bool(!equal(&a[0], &a[1])?))
    }),
    f("lt", &[Any, Any], None, |a| {
        Ok(Value::Bool(less(&a[0], &a[1])?))
    }),
    f("le", &[Any, Any], None, |a| {
        Ok(Value::Bool(less_equal(&a[0], &a[1])?))
    }),
    f("gt", &[Any, Any], None, |a| {
        Ok(Value::Bool(!less_equal(&a[0], &a[1])?))
    }),
    f("ge", &[Any, Any], None, |a| {
        Ok(Value::Bool(!less(&a[0], &a[1])?))
    }),
    f("len", &[Any], None, |a| match &a[0] {
        Value::Str(s) => Ok(Value::Int(s.len() as i64)),
        v => Err(format!("len of type {}", v.type_name())),
    }),
    f("print", &[], Some(Any), |a| Ok(Value::Str(sprint(&a)))),
    f("println", &[], Some(Any), |a| {
        let words: Vec<String> = a.iter().map(Value::to_go_string).collect();
        Ok(Value::Str(words.join(" ") + "\n"))
    }),
    f("printf", &[Str], Some(Any), |a| {
        Ok(Value::Str(sprintf(&text(&a[0]), &a[1..])?))
    }),
    // sprig.
    f("default", &[Any], Some(Any), |mut a| match a.get(1) {
        Some(given) if given.truth() => Ok(a.swap_remove(1)),
        _ => Ok(a.swap_remove(0)),
    }),
    f("empty", &[Any], None, |a| Ok(Value::Bool(!a[0].truth()))),
    f("coalesce", &[], Some(Any), |a| {
        Ok(a.into_iter().find(Value::truth).unwrap_or(Value::Nil))
    }),
    f("ternary", &[Any, Any, Bool], None, |mut a| {
        let pick = if a[2] == Value::Bool(true) { 0 } else { 1 };
        Ok(a.swap_remove(pick))
    }),
    f("quote", &[], Some(Any), |a| {
        Ok(join_non_nil(&a, |v| go_quote(&v.to_go_string())))
    }),
    f("squote", &[], Some(Any), |a| {
        Ok(join_non_nil(&a, |v| format!("'{}'", v.to_go_string())))
    }),
    f("cat", &[], Some(Any), |a| {
        Ok(join_non_nil(&a, Value::to_go_string))
    }),
    f("toString", &[Any], None, |a| {
        Ok(Value::Str(a[0].to_go_string()))
    }),
    f("contains", &[Str, Str], None, |a| {
        Ok(Value::Bool(text(&a[1]).contains(&text(&a[0]))))
    }),
    f("hasPrefix", &[Str, Str], None, |a| {
        Ok(Value::Bool(text(&a[1]).starts_with(&text(&a[0]))))
    }),
    f("hasSuffix", &[Str, Str], None, |a| {
        Ok(Value::Bool(text(&a[1]).ends_with(&text(&a[0]))))
    }),
    f("trim", &[Str], None, |a| {
        Ok(Value::Str(text(&a[0]).trim().to_string()))
    }),
    f("trimPrefix", &[Str, Str], None, |a| {
        let (p, s) = (text(&a[0]), text(&a[1]));
        Ok(Value::Str(s.strip_prefix(&p).unwrap_or(&s).to_string()))
    }),
    f("trimSuffix", &[Str, Str], None, |a| {
        let (p, s) = (text(&a[0]), text(&a[1]));
        Ok(Value::Str(s.strip_suffix(&p).unwrap_or(&s).to_string()))
    }),
    f("upper", &[Str], None, |a| {
        Ok(Value::Str(text(&a[0]).to_uppercase()))
    }),
    f("lower", &[Str], None, |a| {
        Ok(Value::Str(text(&a[0]).to_lowercase()))
    }),
    f("replace", &[Str, Str, Str], None, |a| {
        Ok(Value::Str(text(&a[2]).replace(&text(&a[0]), &text(&a[1]))))
    }),
    f("trunc", &[Int, Str], None, |a| {
        Ok(Value::Str(trunc(int(&a[0]), &text(&a[1]))))
    }),
    f("indent", &[Int, Str], None, |a| {
        Ok(Value::Str(indent(int(&a[0]), &text(&a[1]))?))
    }),
    f("nindent", &[Int, Str], None, |a| {
        Ok(Value::Str(format!(
            "\n{}",
            indent(int(&a[0]), &text(&a[1]))?
        )))
    }),
    f("b64enc", &[Str], None, |a| {
        Ok(Value::Str(base64(text(&a[0]).as_bytes())))
    }),
    f("semverCompare", &[Str, Str], None, |a| {
        Ok(Value::Bool(semver_compare(&text(&a[0]), &text(&a[1]))?))
    }),
];

/// Whether `name` can be called (checked at parse time, as Go does).
pub(crate) fn is_defined(name: &str) -> bool {
    name == "and"
        || name == "or"
        || super::environ::NAMES.contains(&name)
        || FUNCS.iter().any(|s| s.name == name)
}

/// Calls `name` with evaluated arguments (the piped value last).
pub(crate) fn call(name: &str, args: Vec<Value>) -> Result<Value, String> {
    let spec = FUNCS
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("function {name:?} not defined"))?;
    let want = spec.fixed.len();
    match spec.variadic {
        Some(_) if args.len() < want => {
            return Err(format!(
                "wrong number of args for {name}: want at least {want} got {}",
                args.len()
            ));
        }
        None if args.len() != want => {
            return Err(format!(
                "wrong number of args for {name}: want {want} got {}",
                args.len()
            ));
        }
        _ => {}
    }
    for (i, arg) in args.iter().enumerate() {
        let ty = spec.fixed.get(i).copied().or(spec.variadic).unwrap_or(Any);
        check_type(arg, ty)?;
    }
    (spec.imp)(args).map_err(|e| format!("error calling {name}: {e}"))
}

fn check_type(v: &Value, ty: Ty) -> Result<(), String> {
    let want = match ty {
        Any => return Ok(()),
        Str => "string",
        Int => "int",
        Bool => "bool",
    };
    match (ty, v) {
        (Str, Value::Str(_)) | (Int, Value::Int(_)) | (Bool, Value::Bool(_)) => Ok(()),
        (_, Value::Nil) => Err(format!("invalid value; expected {want}")),
        (_, v) => Err(format!(
            "wrong type for value; expected {want}; got {}",
            v.type_name()
        )),
    }
}

fn text(v: &Value) -> String {
    v.to_go_string()
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        _ => 0,
    }
}

fn eq(a: Vec<Value>) -> Result<Value, String> {
    if a.len() < 2 {
        return Err("missing argument for comparison".into());
    }
    for other in &a[1..] {
        if equal(&a[0], other)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn equal(a: &Value, b: &Value) -> Result<bool, String> {
    Ok(match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Nil, _) | (_, Value::Nil) => false,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (x, y) => return Err(incompatible(x, y)),
    })
}

fn less(a: &Value, b: &Value) -> Result<bool, String> {
    Ok(match (a, b) {
        (Value::Nil | Value::Bool(_), _) | (_, Value::Nil | Value::Bool(_)) => {
            return Err("invalid type for comparison".into());
        }
        (Value::Int(x), Value::Int(y)) => x < y,
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::Str(x), Value::Str(y)) => x < y,
        (x, y) => return Err(incompatible(x, y)),
    })
}

fn less_equal(a: &Value, b: &Value) -> Result<bool, String> {
    Ok(less(a, b)? || equal(a, b)?)
}

fn incompatible(a: &Value, b: &Value) -> String {
    format!(
        "incompatible types for comparison: {} and {}",
        a.type_name(),
        b.type_name()
    )
}

/// `fmt.Sprint`: a space between operands when neither is a string.
fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, v) in args.iter().enumerate() {
        let is_str = |v: &Value| matches!(v, Value::Str(_));
        if i > 0 && !is_str(v) && !is_str(&args[i - 1]) {
            out.push(' ');
        }
        out.push_str(&v.to_go_string());
    }
    out
}

fn join_non_nil(args: &[Value], each: impl Fn(&Value) -> String) -> Value {
    let parts: Vec<String> = args
        .iter()
        .filter(|v| **v != Value::Nil)
        .map(each)
        .collect();
    Value::Str(parts.join(" "))
}

/// sprig `trunc`: keep the first n bytes, or the last -n.
fn trunc(n: i64, s: &str) -> String {
    let len = s.len() as i64;
    let bytes = s.as_bytes();
    let cut = if n < 0 && len + n > 0 {
        &bytes[(len + n) as usize..]
    } else if n >= 0 && len > n {
        &bytes[..n as usize]
    } else {
        bytes
    };
    String::from_utf8_lossy(cut).into_owned()
}

fn indent(n: i64, s: &str) -> Result<String, String> {
    let width = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
    let lines = s.matches('\n').count() + 1;
    if width.saturating_mul(lines).saturating_add(s.len()) > MAX_OUTPUT {
        return Err(format!("indenting by {n} would exceed the output limit"));
    }
    let pad = " ".repeat(width);
    Ok(format!("{pad}{}", s.replace('\n', &format!("\n{pad}"))))
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"admin:passw0rd"), "YWRtaW46cGFzc3cwcmQ=");
    }

    #[test]
    fn trunc_counts_bytes_from_either_end() {
        assert_eq!(trunc(3, "abcdef"), "abc");
        assert_eq!(trunc(-2, "abcdef"), "ef");
        assert_eq!(trunc(10, "abc"), "abc");
    }
}
