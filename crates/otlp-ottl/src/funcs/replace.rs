//! The `replace_*` editors' text work: regular expression replacement with `$1` / `${name}`
//! groups (Go's `regexp.Expand` syntax, which Rust's `regex` shares), glob patterns
//! (Go's `filepath.Match` syntax) compiled to anchored regular expressions, and the optional
//! hash function plus `replacementFormat` applied to each replacement.

use regex::{Captures, Regex};

use super::encoding::sha256_hex;

/// A converter named as `replace_*`'s `function` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashFn {
    Sha256,
}

/// What a match is replaced with, besides the replacement text itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct Post {
    pub(crate) function: Option<HashFn>,
    /// `replacementFormat`: one `%s`, standing for the hashed replacement.
    pub(crate) format: Option<String>,
}

impl Post {
    /// Applies the function and the format to an expanded replacement.
    fn apply(&self, replacement: &str) -> String {
        match self.function {
            None => replacement.to_owned(),
            Some(HashFn::Sha256) => {
                let hashed = sha256_hex(replacement);
                match &self.format {
                    Some(f) => f.replacen("%s", &hashed, 1),
                    None => hashed,
                }
            }
        }
    }
}

/// Every match of `re` in `s` replaced by `replacement` (groups expanded), passed through
/// `post`; `None` when nothing matched.
pub(crate) fn replace_regex(re: &Regex, s: &str, replacement: &str, post: &Post) -> Option<String> {
    if !re.is_match(s) {
        return None;
    }
    Some(if post.function.is_none() {
        re.replace_all(s, replacement).into_owned()
    } else {
        re.replace_all(s, |caps: &Captures<'_>| {
            let mut expanded = String::new();
            caps.expand(replacement, &mut expanded);
            post.apply(&expanded)
        })
        .into_owned()
    })
}

/// `replacement` passed through `post`, for a whole-string (glob) match.
pub(crate) fn replace_whole(replacement: &str, post: &Post) -> String {
    post.apply(replacement)
}

/// Compiles a glob (`*` any run of characters but `/`, `?` one such character, `[a-z]` /
/// `[^a-z]` classes, `\` escaping the next character) to a regular expression matching the
/// whole string; `None` for a malformed pattern.
pub(crate) fn glob(pattern: &str) -> Option<Regex> {
    let mut re = String::from("^");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '\\' => re.push_str(&regex::escape(&chars.next()?.to_string())),
            '[' => {
                re.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    re.push('^');
                }
                let mut closed = false;
                let mut empty = true;
                while let Some(c) = chars.next() {
                    match c {
                        ']' if !empty => {
                            closed = true;
                            break;
                        }
                        '\\' => re.push_str(&regex::escape(&chars.next()?.to_string())),
                        '-' if !empty && chars.peek().is_some_and(|n| *n != ']') => re.push('-'),
                        other => re.push_str(&regex::escape(&other.to_string())),
                    }
                    empty = false;
                }
                if !closed {
                    return None;
                }
                re.push(']');
            }
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn globs_match_as_go_filepath_match() {
        let g = glob("/user/*/list/*").unwrap();
        assert!(g.is_match("/user/123/list/456"));
        assert!(!g.is_match("/user/1/2/list/456"), "`*` stops at `/`");
        assert!(
            !g.is_match("x/user/1/list/2"),
            "the whole string must match"
        );
        let g = glob("a?c[0-9][^x]\\*").unwrap();
        assert!(g.is_match("abc5y*"));
        assert!(!g.is_match("abc5x*"));
        assert!(glob("[abc").is_none());
        assert!(glob("trailing\\").is_none());
    }

    #[test]
    fn regex_replacement_expands_groups_and_hashes() {
        let re = Regex::new("^kube_([0-9A-Za-z]+_)").unwrap();
        assert_eq!(
            replace_regex(&re, "kube_pod_status", "k8s.$1.", &Post::default()).as_deref(),
            Some("k8s.pod_.status")
        );
        let post = Post {
            function: Some(HashFn::Sha256),
            format: Some("k8s.%s".into()),
        };
        assert_eq!(
            replace_regex(&re, "kube_pod_status", "$1", &post),
            Some(format!("k8s.{}status", sha256_hex("pod_")))
        );
        assert_eq!(replace_regex(&re, "other", "x", &Post::default()), None);
    }
}
