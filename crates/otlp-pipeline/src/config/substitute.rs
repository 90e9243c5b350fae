//! `${env:VAR}`, `${VAR}`, `${env:VAR:-default}` and provider (`${file:PATH}`,
//! `${yaml:INLINE}`, `${http://URL}`) substitution in string values.
//!
//! Substitution runs on the parsed YAML, one string scalar at a time, never on the raw text.
//! Whatever an environment variable holds, it can only become (part of) the value it was
//! referenced from, never new keys, lists or documents. A provider's content is read as YAML
//! (otelcol's confmap semantics): a value that is exactly one provider reference becomes that
//! YAML (a map, a list, a scalar), one inside longer text must be a scalar and is inserted as
//! text. References inside a provider's content are expanded in turn, at most [`MAX_DEPTH`]
//! providers deep, and a provider that includes itself is an error. The rules, and where they
//! differ from otelcol, are in `docs/configuration.md` ("Environment variables").

mod http;
mod providers;

use serde_yaml_ng::Value;

use providers::Scheme;

/// Looks up an environment variable.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// How many provider references may be nested (a file referencing a file ...).
pub(crate) const MAX_DEPTH: usize = 10;

/// A problem found while substituting, at a path inside the file.
#[derive(Debug)]
pub(crate) struct Found {
    pub(crate) path: Vec<String>,
    pub(crate) message: String,
}

/// What substitution found in one file.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) errors: Vec<Found>,
    pub(crate) warnings: Vec<Found>,
}

/// What expanding needs: the environment, and the provider references being resolved
/// (outermost first), to refuse cycles and too deep a nesting.
struct Scope<'a> {
    env: Env<'a>,
    chain: Vec<String>,
}

/// Substitutes every string scalar under `value` (mapping values, sequence items, tagged
/// values; never mapping keys).
pub(crate) fn substitute_tree(
    value: &mut Value,
    env: Env<'_>,
    path: &mut Vec<String>,
    report: &mut Report,
) {
    let mut scope = Scope {
        env,
        chain: Vec::new(),
    };
    substitute_in(value, &mut scope, path, report);
}

fn substitute_in(
    value: &mut Value,
    scope: &mut Scope<'_>,
    path: &mut Vec<String>,
    report: &mut Report,
) {
    match value {
        Value::String(text) => {
            let mut warnings = Vec::new();
            match expand_in(text, scope, &mut warnings) {
                Ok(Expanded::Unchanged) => {}
                Ok(Expanded::Text(expanded)) => *value = Value::String(expanded),
                Ok(Expanded::Whole(expanded)) => *value = typed_scalar(expanded),
                Ok(Expanded::Value(expanded)) => *value = expanded,
                Err(message) => report.errors.push(Found {
                    path: path.clone(),
                    message,
                }),
            }
            for message in warnings {
                report.warnings.push(Found {
                    path: path.clone(),
                    message,
                });
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(format!("[{i}]"));
                substitute_in(item, scope, path, report);
                path.pop();
            }
        }
        Value::Mapping(map) => {
            for (key, item) in map.iter_mut() {
                path.push(key_text(key));
                substitute_in(item, scope, path, report);
                path.pop();
            }
        }
        Value::Tagged(tagged) => substitute_in(&mut tagged.value, scope, path, report),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// A mapping key as text, for paths in messages.
pub(crate) fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        other => serde_yaml_ng::to_string(other)
            .unwrap_or_default()
            .trim_end()
            .to_owned(),
    }
}

/// The value a whole-value reference (`port: ${env:PORT}`) becomes: an integer, a float, a
/// boolean or null when the text is exactly the YAML spelling of one (`4317` → 4317, `true`
/// → true), otherwise the text as a string (`0123`, `1.50`, `True` and `[a, b]` stay
/// strings). Typed fields then get typed values, and string fields get the text back exactly
/// (component configurations are read through YAML text, where a plain `4317` is both).
fn typed_scalar(text: String) -> Value {
    if let Ok(value @ (Value::Number(_) | Value::Bool(_) | Value::Null)) =
        serde_yaml_ng::from_str::<Value>(&text)
        && serde_yaml_ng::to_string(&value).is_ok_and(|round| round.trim_end() == text)
    {
        return value;
    }
    Value::String(text)
}

/// The result of expanding one string.
#[derive(Debug, PartialEq)]
pub(crate) enum Expanded {
    /// No reference and no `$$`: the string stays as it is.
    Unchanged,
    /// The whole string was one environment reference: its value, to be typed.
    Whole(String),
    /// References or `$$` inside other text: the resulting string.
    Text(String),
    /// The whole string was one provider reference: its YAML, already expanded.
    Value(Value),
}

/// What one `${...}` gives.
enum Piece {
    /// An environment variable's text (never structure).
    Text(String),
    /// A provider's YAML.
    Value(Value),
}

/// Expands references in `input`. Warnings (unset variables without a default, which expand
/// to the empty string as in otelcol) are pushed to `warnings`.
#[cfg(test)]
pub(crate) fn expand(
    input: &str,
    env: Env<'_>,
    warnings: &mut Vec<String>,
) -> Result<Expanded, String> {
    let mut scope = Scope {
        env,
        chain: Vec::new(),
    };
    expand_in(input, &mut scope, warnings)
}

fn expand_in(
    input: &str,
    scope: &mut Scope<'_>,
    warnings: &mut Vec<String>,
) -> Result<Expanded, String> {
    if !input.contains('$') {
        return Ok(Expanded::Unchanged);
    }
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    let mut references = 0;
    let mut other_text = false;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        other_text |= at > 0;
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            other_text = true;
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = closing_brace(body).ok_or_else(|| {
                format!("unterminated \"${{\" in \"{input}\" (write \"$$\" for a literal \"$\")")
            })?;
            let reference = &body[..end];
            rest = &body[end + 1..];
            match resolve(reference, scope, warnings)? {
                Piece::Text(text) => out.push_str(&text),
                Piece::Value(value) if references == 0 && !other_text && rest.is_empty() => {
                    return Ok(Expanded::Value(value));
                }
                Piece::Value(value) => out.push_str(&scalar_text(value, reference)?),
            }
            references += 1;
        } else {
            out.push('$');
            other_text = true;
            rest = after;
        }
    }
    other_text |= !rest.is_empty();
    out.push_str(rest);
    Ok(if references == 1 && !other_text {
        Expanded::Whole(out)
    } else {
        Expanded::Text(out)
    })
}

/// The text of a provider's value referenced inside a longer string: only a scalar can be
/// (otelcol: a string, a number or a boolean).
fn scalar_text(value: Value, reference: &str) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        other => Err(format!(
            "\"${{{reference}}}\" is part of a longer string, so it must give a string, a number \
             or a boolean, not {}",
            providers::shape(&other)
        )),
    }
}

/// The index of the `}` closing a reference whose body starts at `body` (nested `${...}`
/// in a default are skipped over; in `yaml:` content, so are YAML's `{...}`).
fn closing_brace(body: &str) -> Option<usize> {
    let inline_yaml = body.starts_with("yaml:");
    let bytes = body.as_bytes();
    let mut depth = 1usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 2;
                continue;
            }
            b'{' if inline_yaml => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Resolves the inside of one `${...}`.
fn resolve(
    reference: &str,
    scope: &mut Scope<'_>,
    warnings: &mut Vec<String>,
) -> Result<Piece, String> {
    // `NAME`, `NAME:-default`, `env:NAME`, `env:NAME:-default`, or a provider's scheme.
    let (name, default) = match reference.split_once(':') {
        None => (reference, None),
        Some((name, default)) if default.starts_with('-') && valid_env_name(name) => {
            (name, Some(&default[1..]))
        }
        Some(("env", rest)) => match rest.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (rest, None),
        },
        Some((scheme_name, target)) => {
            let Some(scheme) = Scheme::from_name(scheme_name) else {
                return Err(format!(
                    "unsupported reference \"${{{reference}}}\": scheme \"{scheme_name}\" is not \
                     supported (use env:, file:, yaml:, http: or a plain ${{NAME}})"
                ));
            };
            return provide(scheme, target, reference, scope, warnings).map(Piece::Value);
        }
    };
    if !valid_env_name(name) {
        return Err(format!(
            "invalid environment variable name \"{name}\" in \"${{{reference}}}\" (letters, \
             digits and underscores, not starting with a digit)"
        ));
    }
    match (scope.env)(name) {
        Some(value) => Ok(Piece::Text(value)),
        None => match default {
            // A default may itself hold references: `${env:A:-${env:B}}`.
            Some(default) => Ok(Piece::Text(as_text(default, reference, scope, warnings)?)),
            None => {
                warnings.push(format!(
                    "environment variable \"{name}\" is not set; substituted an empty string"
                ));
                Ok(Piece::Text(String::new()))
            }
        },
    }
}

/// `text` with its references expanded, as text (a default, a provider's location).
fn as_text(
    text: &str,
    reference: &str,
    scope: &mut Scope<'_>,
    warnings: &mut Vec<String>,
) -> Result<String, String> {
    Ok(match expand_in(text, scope, warnings)? {
        Expanded::Unchanged => text.to_owned(),
        Expanded::Whole(text) | Expanded::Text(text) => text,
        Expanded::Value(value) => scalar_text(value, reference)?,
    })
}

/// The value of the provider reference `${scheme:target}`: the provider's content as YAML,
/// with the references inside it expanded one level deeper.
fn provide(
    scheme: Scheme,
    target: &str,
    reference: &str,
    scope: &mut Scope<'_>,
    warnings: &mut Vec<String>,
) -> Result<Value, String> {
    let target = if scheme.is_location() {
        as_text(target, reference, scope, warnings)?
    } else {
        target.to_owned()
    };
    let uri = format!("{}:{target}", scheme.name());
    if scope.chain.contains(&uri) {
        let mut cycle = scope.chain.clone();
        cycle.push(uri);
        return Err(format!(
            "\"${{{reference}}}\" includes itself: {}",
            cycle.join(" → ")
        ));
    }
    if scope.chain.len() >= MAX_DEPTH {
        return Err(format!(
            "\"${{{reference}}}\" is nested more than {MAX_DEPTH} provider references deep"
        ));
    }
    let text = providers::fetch(scheme, &target).map_err(|error| error.to_string())?;
    let mut value = providers::parse(&text);
    scope.chain.push(uri);
    let mut report = Report::default();
    substitute_in(&mut value, scope, &mut Vec::new(), &mut report);
    scope.chain.pop();
    let inside = |found: &Found| {
        if found.path.is_empty() {
            format!("in \"${{{reference}}}\": {}", found.message)
        } else {
            format!(
                "in \"${{{reference}}}\", at {}: {}",
                found.path.join("::"),
                found.message
            )
        }
    };
    warnings.extend(report.warnings.iter().map(inside));
    if report.errors.is_empty() {
        Ok(value)
    } else {
        let errors: Vec<String> = report.errors.iter().map(inside).collect();
        Err(errors.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("collector".into()),
            "PORT" => Some("4317".into()),
            "EMPTY" => Some(String::new()),
            "DOLLAR" => Some("${HOST}".into()),
            _ => None,
        }
    }

    fn run(input: &str) -> (Result<Expanded, String>, Vec<String>) {
        let mut unset = Vec::new();
        (expand(input, &env, &mut unset), unset)
    }

    #[test]
    fn forms() {
        assert_eq!(
            run("${env:HOST}").0,
            Ok(Expanded::Whole("collector".into()))
        );
        assert_eq!(run("${HOST}").0, Ok(Expanded::Whole("collector".into())));
        assert_eq!(
            run("${HOST}:${env:PORT}").0,
            Ok(Expanded::Text("collector:4317".into()))
        );
        assert_eq!(
            run("http://${HOST}").0,
            Ok(Expanded::Text("http://collector".into()))
        );
        assert_eq!(
            run("${env:MISSING:-fallback}").0,
            Ok(Expanded::Whole("fallback".into()))
        );
        assert_eq!(
            run("${MISSING:-a:-b}").0,
            Ok(Expanded::Whole("a:-b".into()))
        );
        assert_eq!(
            run("${env:EMPTY:-fallback}").0,
            Ok(Expanded::Whole(String::new())),
            "set but empty: no default (otelcol)"
        );
        assert_eq!(
            run("${env:MISSING:-${HOST}}").0,
            Ok(Expanded::Whole("collector".into()))
        );
        assert_eq!(run("plain").0, Ok(Expanded::Unchanged));
    }

    #[test]
    fn escapes_and_literals() {
        assert_eq!(run("$${HOST}").0, Ok(Expanded::Text("${HOST}".into())));
        assert_eq!(run("a$$b").0, Ok(Expanded::Text("a$b".into())));
        assert_eq!(run("cost: $5").0, Ok(Expanded::Text("cost: $5".into())));
        assert_eq!(run("$").0, Ok(Expanded::Text("$".into())));
        assert_eq!(
            run("${DOLLAR}").0,
            Ok(Expanded::Whole("${HOST}".into())),
            "values are not expanded again"
        );
    }

    #[test]
    fn unset_and_errors() {
        let (result, unset) = run("x${MISSING}y");
        assert_eq!(result, Ok(Expanded::Text("xy".into())));
        assert_eq!(
            unset,
            ["environment variable \"MISSING\" is not set; substituted an empty string"]
        );
        assert!(run("${HOST").0.unwrap_err().contains("unterminated"));
        assert!(
            run("${ftp:/etc/x}")
                .0
                .unwrap_err()
                .contains("scheme \"ftp\" is not supported")
        );
        assert!(
            run("${1BAD}")
                .0
                .unwrap_err()
                .contains("invalid environment variable name")
        );
        assert!(
            run("${}")
                .0
                .unwrap_err()
                .contains("invalid environment variable name")
        );
    }

    #[test]
    fn inline_yaml_whole_embedded_and_braces() {
        let map = run("${yaml:{a: 1, b: [x, y]}}").0.unwrap();
        let Expanded::Value(map) = map else {
            panic!("{map:?}")
        };
        assert_eq!(map["a"], Value::Number(1.into()));
        assert_eq!(map["b"][1], Value::String("y".into()));
        assert_eq!(
            run("port ${yaml:4317}").0,
            Ok(Expanded::Text("port 4317".into()))
        );
        assert_eq!(
            run("${yaml:${HOST}}").0,
            Ok(Expanded::Value(Value::String("collector".into()))),
            "references in the content are expanded"
        );
        assert!(
            run("x ${yaml:[a]}")
                .0
                .unwrap_err()
                .contains("must give a string, a number or a boolean, not a list")
        );
    }

    #[test]
    fn whole_values_are_typed_only_when_exact() {
        assert_eq!(typed_scalar("4317".into()), Value::Number(4317.into()));
        assert_eq!(typed_scalar("true".into()), Value::Bool(true));
        assert_eq!(typed_scalar("null".into()), Value::Null);
        for text in ["0123", "1.50", "True", "[a, b]", "a: b", "", "0x1F", "~"] {
            assert_eq!(
                typed_scalar(text.into()),
                Value::String(text.into()),
                "{text:?}"
            );
        }
    }
}
