//! Prometheus relabeling (`relabel_configs`, `metric_relabel_configs`): the actions replace,
//! keep, drop, labelmap, labeldrop, labelkeep, hashmod, lowercase and uppercase, with
//! anchored regular expressions and `$1` / `${name}` references.

use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// One relabeling rule as written.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelabelConfig {
    /// Labels whose values are joined with `separator` and matched against `regex`.
    pub source_labels: Vec<String>,
    /// `;`.
    pub separator: String,
    /// Anchored at both ends (`(.*)`).
    pub regex: String,
    /// For `hashmod`.
    pub modulus: u64,
    /// The label written by `replace`, `hashmod`, `lowercase`, `uppercase`.
    pub target_label: String,
    /// `$1`.
    pub replacement: String,
    /// `replace`.
    pub action: String,
}

impl Default for RelabelConfig {
    fn default() -> Self {
        RelabelConfig {
            source_labels: Vec::new(),
            separator: ";".into(),
            regex: "(.*)".into(),
            modulus: 0,
            target_label: String::new(),
            replacement: "$1".into(),
            action: "replace".into(),
        }
    }
}

/// A relabeling action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Writes the expanded replacement into the target label when the regex matches.
    Replace,
    /// Drops the whole label set unless the regex matches.
    Keep,
    /// Drops the whole label set when the regex matches.
    Drop,
    /// Copies labels whose name matches to the name the replacement gives.
    LabelMap,
    /// Removes labels whose name matches.
    LabelDrop,
    /// Removes labels whose name does not match.
    LabelKeep,
    /// Writes md5(value) mod `modulus` into the target label.
    HashMod,
    /// Writes the lower-cased value.
    Lowercase,
    /// Writes the upper-cased value.
    Uppercase,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    source_labels: Vec<String>,
    separator: String,
    regex: Regex,
    modulus: u64,
    target_label: String,
    replacement: String,
    action: Action,
}

impl Rule {
    /// Checks and compiles a rule (the errors name the key).
    pub fn compile(config: &RelabelConfig) -> Result<Rule, String> {
        let action = match config.action.to_ascii_lowercase().as_str() {
            "replace" => Action::Replace,
            "keep" => Action::Keep,
            "drop" => Action::Drop,
            "labelmap" => Action::LabelMap,
            "labeldrop" => Action::LabelDrop,
            "labelkeep" => Action::LabelKeep,
            "hashmod" => Action::HashMod,
            "lowercase" => Action::Lowercase,
            "uppercase" => Action::Uppercase,
            a @ ("keepequal" | "dropequal") => {
                return Err(format!(
                    "relabel action {a:?} is not supported by this receiver"
                ));
            }
            other => return Err(format!("unknown relabel action {other:?}")),
        };
        let regex = Regex::new(&format!("^(?s:{})$", config.regex))
            .map_err(|e| format!("invalid regex {:?}: {e}", config.regex))?;
        let needs_target = matches!(
            action,
            Action::Replace | Action::HashMod | Action::Lowercase | Action::Uppercase
        );
        if needs_target && config.target_label.is_empty() {
            return Err(format!(
                "relabel action {:?} requires a target_label",
                config.action
            ));
        }
        if matches!(action, Action::HashMod) && config.modulus == 0 {
            return Err("relabel action \"hashmod\" requires a positive modulus".into());
        }
        if matches!(
            action,
            Action::Lowercase | Action::Uppercase | Action::HashMod
        ) && !super::config::valid_label_name(&config.target_label)
        {
            return Err(format!(
                "{:?} is not a valid target_label",
                config.target_label
            ));
        }
        if matches!(action, Action::LabelDrop | Action::LabelKeep)
            && (!config.source_labels.is_empty() || !config.target_label.is_empty())
        {
            return Err(format!(
                "relabel action {:?} takes only regex (no source_labels, target_label)",
                config.action
            ));
        }
        for name in &config.source_labels {
            if !super::config::valid_label_name(name) {
                return Err(format!(
                    "{name:?} in source_labels is not a valid label name"
                ));
            }
        }
        Ok(Rule {
            source_labels: config.source_labels.clone(),
            separator: config.separator.clone(),
            regex,
            modulus: config.modulus,
            target_label: config.target_label.clone(),
            replacement: config.replacement.clone(),
            action,
        })
    }

    /// Applies the rule; `false` when the label set is dropped.
    pub fn apply(&self, labels: &mut BTreeMap<String, String>) -> bool {
        let value = || {
            let mut v = String::new();
            for (i, name) in self.source_labels.iter().enumerate() {
                if i > 0 {
                    v.push_str(&self.separator);
                }
                if let Some(l) = labels.get(name) {
                    v.push_str(l);
                }
            }
            v
        };
        match self.action {
            Action::Replace => {
                let v = value();
                let Some(caps) = self.regex.captures(&v) else {
                    return true;
                };
                let mut target = String::new();
                caps.expand(&self.target_label, &mut target);
                if !super::config::valid_label_name(&target) {
                    return true;
                }
                let mut result = String::new();
                caps.expand(&self.replacement, &mut result);
                if result.is_empty() {
                    labels.remove(&target);
                } else {
                    labels.insert(target, result);
                }
            }
            Action::Keep => return self.regex.is_match(&value()),
            Action::Drop => return !self.regex.is_match(&value()),
            Action::Lowercase => {
                let v = value().to_lowercase();
                labels.insert(self.target_label.clone(), v);
            }
            Action::Uppercase => {
                let v = value().to_uppercase();
                labels.insert(self.target_label.clone(), v);
            }
            Action::HashMod => {
                let digest = md5(value().as_bytes());
                let mut last = [0u8; 8];
                last.copy_from_slice(&digest[8..]);
                let m = u64::from_be_bytes(last) % self.modulus;
                labels.insert(self.target_label.clone(), m.to_string());
            }
            Action::LabelMap => {
                let mut add = Vec::new();
                for (name, v) in labels.iter() {
                    if let Some(caps) = self.regex.captures(name) {
                        let mut result = String::new();
                        caps.expand(&self.replacement, &mut result);
                        add.push((result, v.clone()));
                    }
                }
                for (name, v) in add {
                    labels.insert(name, v);
                }
            }
            Action::LabelDrop => labels.retain(|name, _| !self.regex.is_match(name)),
            Action::LabelKeep => labels.retain(|name, _| self.regex.is_match(name)),
        }
        true
    }
}

/// Applies `rules` in order; `false` when one dropped the label set.
pub fn apply_all(rules: &[Rule], labels: &mut BTreeMap<String, String>) -> bool {
    rules.iter().all(|r| r.apply(labels))
}

/// MD5 (RFC 1321), for `hashmod` only.
pub(crate) fn md5(input: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut message = input.to_vec();
    let bit_len = (input.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_le_bytes());
    let (mut a0, mut b0, mut c0, mut d0) = (
        0x6745_2301u32,
        0xefcd_ab89u32,
        0x98ba_dcfeu32,
        0x1032_5476u32,
    );
    for chunk in message.chunks_exact(64) {
        let mut m = [0u32; 16];
        for (i, word) in chunk.chunks_exact(4).enumerate() {
            m[i] = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        }
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    let mut out = [0u8; 16];
    out[..4].copy_from_slice(&a0.to_le_bytes());
    out[4..8].copy_from_slice(&b0.to_le_bytes());
    out[8..12].copy_from_slice(&c0.to_le_bytes());
    out[12..].copy_from_slice(&d0.to_le_bytes());
    out
}
