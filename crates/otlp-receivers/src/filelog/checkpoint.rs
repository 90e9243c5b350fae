//! Checkpoints: the fingerprint and offset of every file being read, in one JSON file per
//! receiver under the storage extension's directory (`filelog_<receiver id>.json`), replaced
//! atomically (written to a temporary file, synced when the extension asks, renamed, the
//! directory synced). A record's offset only moves once the pipeline accepted the batch
//! that ends there.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One file's checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    /// The fingerprint, hex.
    pub(crate) fingerprint: String,
    pub(crate) offset: u64,
    /// Where the file was (informational).
    pub(crate) path: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Document {
    version: u32,
    files: Vec<Record>,
}

/// The checkpoint file of one receiver.
#[derive(Debug, Clone)]
pub(crate) struct Checkpoints {
    path: PathBuf,
    fsync: bool,
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Checkpoints {
    /// The checkpoint of receiver `id` under `directory`.
    pub(crate) fn new(directory: &Path, id: &str, fsync: bool) -> Checkpoints {
        let name: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Checkpoints {
            path: directory.join(format!("filelog_{name}.json")),
            fsync,
        }
    }

    /// Where the checkpoint lives.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The saved records; none when there is no checkpoint yet. A damaged file is an error.
    pub(crate) fn load(&self) -> io::Result<Vec<Record>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let doc: Document = serde_json::from_str(&text)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(doc.files)
    }

    /// Replaces the checkpoint with `records`, atomically.
    pub(crate) fn save(&self, records: Vec<Record>) -> io::Result<()> {
        let doc = Document {
            version: 1,
            files: records,
        };
        let bytes = serde_json::to_vec(&doc).map_err(io::Error::other)?;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let tmp = self.path.with_extension("json.tmp");
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            if self.fsync {
                f.sync_all()?;
            }
        }
        std::fs::rename(&tmp, &self.path)?;
        if self.fsync {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_round_trip_and_damage() {
        let dir = tempfile::tempdir().unwrap();
        let c = Checkpoints::new(dir.path(), "filelog/k8s", true);
        assert!(c.path().ends_with("filelog_filelog_k8s.json"));
        assert_eq!(c.load().unwrap(), vec![]);
        let records = vec![Record {
            fingerprint: hex(b"abc\n"),
            offset: 4,
            path: "/x".into(),
        }];
        c.save(records.clone()).unwrap();
        assert_eq!(c.load().unwrap(), records);
        assert_eq!(unhex(&records[0].fingerprint).unwrap(), b"abc\n");
        assert!(!c.path().with_extension("json.tmp").exists());
        std::fs::write(c.path(), "{not json").unwrap();
        assert!(c.load().is_err());
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("abc"), None);
    }
}
