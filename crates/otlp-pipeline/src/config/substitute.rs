//! `${env:VAR}`, `${VAR}` and `${env:VAR:-default}` substitution in string values.
//!
//! Substitution runs on the parsed YAML, one string scalar at a time, never on the raw text:
//! whatever an environment variable holds, it can only become (part of) the value it was
//! referenced from, never new keys, lists or documents. The rules, and where they differ from
//! otelcol, are in `docs/configuration.md` ("Environment variables").

use serde_yaml_ng::Value;

/// Looks up an environment variable.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

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

/// Substitutes every string scalar under `value` (mapping values, sequence items, tagged
/// values; never mapping keys).
pub(crate) fn substitute_tree(
    value: &mut Value,
    env: Env<'_>,
    path: &mut Vec<String>,
    report: &mut Report,
) {
    match value {
        Value::String(text) => {
            let mut unset = Vec::new();
            match expand(text, env, &mut unset) {
                Ok(Expanded::Unchanged) => {}
                Ok(Expanded::Text(expanded)) => *value = Value::String(expanded),
                Ok(Expanded::Whole(expanded)) => *value = typed_scalar(expanded),
                Err(message) => report.errors.push(Found {
                    path: path.clone(),
                    message,
                }),
            }
            for name in unset {
                report.warnings.push(Found {
                    path: path.clone(),
                    message: format!(
                        "environment variable \"{name}\" is not set; substituted an empty string"
                    ),
                });
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(format!("[{i}]"));
                substitute_tree(item, env, path, report);
                path.pop();
            }
        }
        Value::Mapping(map) => {
            for (key, item) in map.iter_mut() {
                path.push(key_text(key));
                substitute_tree(item, env, path, report);
                path.pop();
            }
        }
        Value::Tagged(tagged) => substitute_tree(&mut tagged.value, env, path, report),
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
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Expanded {
    /// No reference and no `$$`: the string stays as it is.
    Unchanged,
    /// The whole string was one reference: its value, to be typed.
    Whole(String),
    /// References or `$$` inside other text: the resulting string.
    Text(String),
}

/// Expands references in `input`. Names of unset variables without a default are pushed to
/// `unset` (they expand to the empty string, as in otelcol).
pub(crate) fn expand(
    input: &str,
    env: Env<'_>,
    unset: &mut Vec<String>,
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
            out.push_str(&resolve(&body[..end], env, unset)?);
            references += 1;
            rest = &body[end + 1..];
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

/// The index of the `}` closing a reference whose body starts at `body` (nested `${...}`
/// in a default are skipped over).
fn closing_brace(body: &str) -> Option<usize> {
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
fn resolve(reference: &str, env: Env<'_>, unset: &mut Vec<String>) -> Result<String, String> {
    // `NAME`, `NAME:-default`, `env:NAME`, `env:NAME:-default`; anything else with a `:` is a
    // scheme we do not support (otelcol also has file:, http:, https:, yaml:).
    let (name, default) = match reference.split_once(':') {
        None => (reference, None),
        Some((name, default)) if default.starts_with('-') && valid_env_name(name) => {
            (name, Some(&default[1..]))
        }
        Some(("env", rest)) => match rest.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (rest, None),
        },
        Some((scheme, _)) => {
            return Err(format!(
                "unsupported reference \"${{{reference}}}\": scheme \"{scheme}\" is not supported \
                 (use ${{env:NAME}}, ${{NAME}} or ${{env:NAME:-default}})"
            ));
        }
    };
    if !valid_env_name(name) {
        return Err(format!(
            "invalid environment variable name \"{name}\" in \"${{{reference}}}\" (letters, \
             digits and underscores, not starting with a digit)"
        ));
    }
    match env(name) {
        Some(value) => Ok(value),
        None => match default {
            // A default may itself hold references: `${env:A:-${env:B}}`.
            Some(default) => match expand(default, env, unset)? {
                Expanded::Unchanged => Ok(default.to_owned()),
                Expanded::Whole(text) | Expanded::Text(text) => Ok(text),
            },
            None => {
                unset.push(name.to_owned());
                Ok(String::new())
            }
        },
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
        assert_eq!(unset, ["MISSING"]);
        assert!(run("${HOST").0.unwrap_err().contains("unterminated"));
        assert!(
            run("${file:/etc/x}")
                .0
                .unwrap_err()
                .contains("scheme \"file\" is not supported")
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
