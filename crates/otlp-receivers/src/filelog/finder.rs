//! Finding the files: doublestar glob patterns (`*`, `?`, `[a-z]`, `[!x]`, `{a,b}`, and `**`
//! for any number of directories) for `include` and `exclude`. The walk starts at the
//! pattern's literal prefix, does not follow directory symlinks under `**`, and stops 64
//! levels down.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(char),
    Star,
    Any,
    Class(Vec<(char, char)>, bool),
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    DoubleStar,
    Segment(Vec<Tok>),
}

/// One compiled pattern (its `{a,b}` alternatives expanded).
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    alternatives: Vec<(bool, Vec<Part>)>,
}

const MAX_EXPANSIONS: usize = 256;
const MAX_DEPTH: usize = 64;

fn expand_braces(pattern: &str) -> Result<Vec<String>, String> {
    let Some(open) = pattern.find('{') else {
        return Ok(vec![pattern.to_owned()]);
    };
    let mut depth = 0;
    let mut close = None;
    let mut commas = Vec::new();
    for (i, c) in pattern[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            ',' if depth == 1 => commas.push(open + i),
            _ => {}
        }
    }
    let close = close.ok_or_else(|| "unclosed {".to_owned())?;
    let mut bounds = vec![open];
    bounds.extend(commas);
    bounds.push(close);
    let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let choice = &pattern[w[0] + 1..w[1]];
        for expanded in expand_braces(&format!("{head}{choice}{tail}"))? {
            out.push(expanded);
            if out.len() > MAX_EXPANSIONS {
                return Err("too many {…} alternatives".into());
            }
        }
    }
    Ok(out)
}

fn segment(text: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                if toks.last() != Some(&Tok::Star) {
                    toks.push(Tok::Star);
                }
            }
            '?' => toks.push(Tok::Any),
            '\\' => toks.push(Tok::Lit(chars.next().ok_or("pattern ends with \\")?)),
            '[' => {
                let negated = matches!(chars.peek(), Some('!' | '^'));
                if negated {
                    chars.next();
                }
                let mut ranges = Vec::new();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    if c == ']' && !ranges.is_empty() {
                        closed = true;
                        break;
                    }
                    let lo = if c == '\\' {
                        chars.next().ok_or("unclosed [")?
                    } else {
                        c
                    };
                    if chars.peek() == Some(&'-') {
                        chars.next();
                        match chars.next() {
                            Some(']') | None => {
                                ranges.push((lo, lo));
                                ranges.push(('-', '-'));
                                closed = true;
                                break;
                            }
                            Some(hi) => ranges.push((lo, hi)),
                        }
                    } else {
                        ranges.push((lo, lo));
                    }
                }
                if !closed {
                    return Err("unclosed [".into());
                }
                toks.push(Tok::Class(ranges, negated));
            }
            other => toks.push(Tok::Lit(other)),
        }
    }
    Ok(toks)
}

fn match_segment(toks: &[Tok], name: &[char]) -> bool {
    // Iterative wildcard matching with one backtrack point per star.
    let (mut t, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let ok = match toks.get(t) {
            Some(Tok::Lit(c)) => *c == name[n],
            Some(Tok::Any) => true,
            Some(Tok::Class(ranges, negated)) => {
                ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&name[n])) != *negated
            }
            Some(Tok::Star) => {
                star = Some((t, n));
                t += 1;
                continue;
            }
            None => false,
        };
        if ok {
            t += 1;
            n += 1;
        } else if let Some((st, sn)) = star {
            t = st + 1;
            n = sn + 1;
            star = Some((st, sn + 1));
        } else {
            return false;
        }
    }
    toks[t..].iter().all(|tok| *tok == Tok::Star)
}

impl Glob {
    pub(crate) fn new(pattern: &str) -> Result<Glob, String> {
        if pattern.is_empty() {
            return Err("empty pattern".into());
        }
        let mut alternatives = Vec::new();
        for p in expand_braces(pattern)? {
            let absolute = p.starts_with('/');
            let mut parts = Vec::new();
            for s in p.split('/').filter(|s| !s.is_empty() && *s != ".") {
                if s == "**" {
                    if parts.last() != Some(&Part::DoubleStar) {
                        parts.push(Part::DoubleStar);
                    }
                } else {
                    parts.push(Part::Segment(segment(s)?));
                }
            }
            alternatives.push((absolute, parts));
        }
        Ok(Glob { alternatives })
    }

    /// Whether `path` matches.
    pub(crate) fn matches(&self, path: &Path) -> bool {
        let text = path.to_string_lossy();
        let absolute = text.starts_with('/');
        let comps: Vec<Vec<char>> = text
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .map(|s| s.chars().collect())
            .collect();
        self.alternatives
            .iter()
            .any(|(abs, parts)| *abs == absolute && match_parts(parts, &comps, 0))
    }

    /// The existing regular files matching (symlinks to files included).
    pub(crate) fn find(&self, out: &mut BTreeSet<PathBuf>) {
        for (absolute, parts) in &self.alternatives {
            let root = if *absolute {
                PathBuf::from("/")
            } else {
                PathBuf::from(".")
            };
            walk(&root, parts, 0, out);
        }
    }
}

fn match_parts(parts: &[Part], comps: &[Vec<char>], depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match parts.split_first() {
        None => comps.is_empty(),
        Some((Part::DoubleStar, rest)) => {
            (0..=comps.len()).any(|skip| match_parts(rest, &comps[skip..], depth + 1))
        }
        Some((Part::Segment(toks), rest)) => match comps.split_first() {
            Some((first, others)) => {
                match_segment(toks, first) && match_parts(rest, others, depth + 1)
            }
            None => false,
        },
    }
}

fn literal(toks: &[Tok]) -> Option<String> {
    toks.iter()
        .map(|t| match t {
            Tok::Lit(c) => Some(*c),
            _ => None,
        })
        .collect()
}

fn walk(dir: &Path, parts: &[Part], depth: usize, out: &mut BTreeSet<PathBuf>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Some((part, rest)) = parts.split_first() else {
        return;
    };
    match part {
        Part::DoubleStar => {
            walk(dir, rest, depth + 1, out);
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    walk(&entry.path(), parts, depth + 1, out);
                }
            }
        }
        Part::Segment(toks) => {
            if let Some(name) = literal(toks) {
                let path = dir.join(&name);
                visit(&path, rest, depth, out);
                return;
            }
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let name: Vec<char> = entry.file_name().to_string_lossy().chars().collect();
                if match_segment(toks, &name) {
                    visit(&entry.path(), rest, depth, out);
                }
            }
        }
    }
}

fn visit(path: &Path, rest: &[Part], depth: usize, out: &mut BTreeSet<PathBuf>) {
    if rest.is_empty() {
        if std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            let clean = path.strip_prefix("./").unwrap_or(path).to_path_buf();
            out.insert(clean);
        }
    } else if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        walk(path, rest, depth + 1, out);
    }
}

/// `include` minus `exclude`, sorted, at most `limit` paths.
pub(crate) fn find_files(include: &[Glob], exclude: &[Glob], limit: usize) -> Vec<PathBuf> {
    let mut found = BTreeSet::new();
    for glob in include {
        glob.find(&mut found);
    }
    found
        .into_iter()
        .filter(|p| !exclude.iter().any(|g| g.matches(p)))
        .take(limit)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_doublestar() {
        let g = Glob::new("/var/log/pods/*/*/*.log").unwrap();
        assert!(g.matches(Path::new("/var/log/pods/ns_p_u/c/0.log")));
        assert!(!g.matches(Path::new("/var/log/pods/ns_p_u/c/0.log.gz")));
        assert!(!g.matches(Path::new("/var/log/pods/x/0.log")));
        let g = Glob::new("/a/**/*.{log,txt}").unwrap();
        assert!(g.matches(Path::new("/a/x.log")));
        assert!(g.matches(Path::new("/a/b/c/d/x.txt")));
        assert!(!g.matches(Path::new("/a/b/x.gz")));
        let g = Glob::new("/a/[a-c]?[!x].log").unwrap();
        assert!(g.matches(Path::new("/a/b1y.log")));
        assert!(!g.matches(Path::new("/a/d1y.log")));
        assert!(!g.matches(Path::new("/a/b1x.log")));
        assert!(Glob::new("/a/[b").is_err());
        assert!(Glob::new("/a/{b").is_err());
    }

    #[test]
    fn finds_files_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("x/y")).unwrap();
        for f in ["a.log", "b.txt", "x/c.log", "x/y/d.log", "x/y/skip.log"] {
            std::fs::write(root.join(f), "1\n").unwrap();
        }
        let include = [Glob::new(&format!("{}/**/*.log", root.display())).unwrap()];
        let exclude = [Glob::new(&format!("{}/**/skip*", root.display())).unwrap()];
        let found = find_files(&include, &exclude, 100);
        let names: Vec<String> = found
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["a.log", "x/c.log", "x/y/d.log"]);
        assert_eq!(find_files(&include, &exclude, 2).len(), 2);
    }
}
