//! One file: its fingerprint (the first `fingerprint_size` bytes, which identify it across
//! renames, as stanza does), its offset, and reading a batch of entries from the offset —
//! splitting lines in the file's encoding, cutting entries longer than `max_log_size`,
//! grouping multiline entries, and sending an unterminated last entry only after
//! `force_flush_period` without new data.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::config::Encoding;
use super::multiline::Multiline;

/// What is known about one file.
#[derive(Debug)]
pub(crate) struct FileState {
    /// Where it was last found.
    pub(crate) path: PathBuf,
    /// Its first bytes (up to `fingerprint_size`).
    pub(crate) fingerprint: Vec<u8>,
    /// Bytes already sent (and accepted) from its start.
    pub(crate) offset: u64,
    /// The open handle (kept across renames and deletion).
    pub(crate) file: Option<File>,
    /// An unterminated tail: its offset, length, and since when it did not change.
    stall: Option<(u64, usize, Instant)>,
}

/// How to read.
#[derive(Debug, Clone)]
pub(crate) struct ReadOptions {
    pub(crate) encoding: Encoding,
    pub(crate) max_log_size: usize,
    pub(crate) multiline: Option<Multiline>,
    pub(crate) force_flush_period: Duration,
    pub(crate) fingerprint_size: usize,
}

impl ReadOptions {
    /// The read buffer: room for one longest entry and its newline.
    pub(crate) fn chunk(&self) -> usize {
        (self.max_log_size + 8).max(64 * 1024)
    }
}

/// One batch read from a file.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// The raw bytes of each entry (without newlines).
    pub(crate) entries: Vec<Vec<u8>>,
    /// The offset after the last entry.
    pub(crate) end: u64,
    /// The buffer was full: there may be more to read now.
    pub(crate) more: bool,
}

/// Reads the first `size` bytes.
pub(crate) fn read_fingerprint(file: &File, size: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; size];
    let mut read = 0;
    while read < size {
        match file.read_at(&mut buf[read..], read as u64) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(read);
    Ok(buf)
}

/// Whether a file with fingerprint `now` is the file known as `known`: one starts with the
/// other (the file grew past a short fingerprint, or was truncated and rewritten alike).
pub(crate) fn same_file(known: &[u8], now: &[u8]) -> bool {
    !known.is_empty() && !now.is_empty() && (now.starts_with(known) || known.starts_with(now))
}

/// The newline positions of the encoding: `(line_end, next_start)` after `from`.
fn next_line(buf: &[u8], from: usize, encoding: Encoding) -> Option<(usize, usize)> {
    match encoding {
        Encoding::Utf16Le | Encoding::Utf16Be => {
            let mut i = from;
            while i + 1 < buf.len() {
                let unit = if encoding == Encoding::Utf16Le {
                    u16::from_le_bytes([buf[i], buf[i + 1]])
                } else {
                    u16::from_be_bytes([buf[i], buf[i + 1]])
                };
                if unit == u16::from(b'\n') {
                    let mut end = i;
                    if end >= from + 2 {
                        let prev = if encoding == Encoding::Utf16Le {
                            u16::from_le_bytes([buf[end - 2], buf[end - 1]])
                        } else {
                            u16::from_be_bytes([buf[end - 2], buf[end - 1]])
                        };
                        if prev == u16::from(b'\r') {
                            end -= 2;
                        }
                    }
                    return Some((end, i + 2));
                }
                i += 2;
            }
            None
        }
        _ => {
            let pos = memchr(b'\n', &buf[from..])? + from;
            let end = if pos > from && buf[pos - 1] == b'\r' {
                pos - 1
            } else {
                pos
            };
            Some((end, pos + 1))
        }
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|b| *b == needle)
}

/// Decodes an entry's bytes.
pub(crate) fn decode(bytes: &[u8], encoding: Encoding) -> String {
    match encoding {
        Encoding::Utf8 | Encoding::Nop => String::from_utf8_lossy(bytes).into_owned(),
        Encoding::Ascii => bytes
            .iter()
            .map(|b| if b.is_ascii() { *b as char } else { '\u{FFFD}' })
            .collect(),
        Encoding::Utf16Le | Encoding::Utf16Be => {
            let units = bytes.chunks(2).map(|c| {
                let pair = [c[0], *c.get(1).unwrap_or(&0)];
                if encoding == Encoding::Utf16Le {
                    u16::from_le_bytes(pair)
                } else {
                    u16::from_be_bytes(pair)
                }
            });
            char::decode_utf16(units)
                .map(|r| r.unwrap_or('\u{FFFD}'))
                .collect::<String>()
                .trim_start_matches('\u{FEFF}')
                .to_owned()
        }
    }
}

/// Cuts `max` bytes, kept even for UTF-16 and on a character boundary for UTF-8.
fn cut(bytes: &[u8], max: usize, encoding: Encoding) -> usize {
    let mut n = max.min(bytes.len());
    match encoding {
        Encoding::Utf16Le | Encoding::Utf16Be => n -= n % 2,
        Encoding::Utf8 => {
            while n > 0 && n < bytes.len() && (bytes[n] & 0xC0) == 0x80 {
                n -= 1;
            }
            if n == 0 {
                n = max.min(bytes.len());
            }
        }
        _ => {}
    }
    n.max(1)
}

impl FileState {
    pub(crate) fn new(
        path: PathBuf,
        fingerprint: Vec<u8>,
        offset: u64,
        file: Option<File>,
    ) -> Self {
        FileState {
            path,
            fingerprint,
            offset,
            file,
            stall: None,
        }
    }

    /// Refreshes a short fingerprint as the file grows (so it keeps identifying the file).
    pub(crate) fn update_fingerprint(&mut self, now: &[u8], size: usize) {
        if self.fingerprint.len() < size
            && now.len() > self.fingerprint.len()
            && now.starts_with(&self.fingerprint)
        {
            self.fingerprint = now.to_vec();
        }
    }

    /// Reads one batch from the offset. Does not move the offset: the caller does, once the
    /// batch was accepted.
    pub(crate) fn read_batch(
        &mut self,
        buf: &mut Vec<u8>,
        opts: &ReadOptions,
    ) -> io::Result<Batch> {
        let Some(file) = &self.file else {
            return Ok(Batch {
                end: self.offset,
                ..Batch::default()
            });
        };
        let size = file.metadata()?.len();
        if size < self.offset {
            // Truncated: start again from the top.
            self.offset = 0;
            self.stall = None;
        }
        let chunk = opts.chunk();
        buf.resize(chunk, 0);
        let mut n = 0;
        while n < chunk {
            match file.read_at(&mut buf[n..], self.offset + n as u64) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let data = &buf[..n];
        let full = n == chunk;
        let mut lines: Vec<(usize, usize, usize)> = Vec::new(); // start, end, next
        let mut pos = 0;
        while pos < data.len() {
            match next_line(data, pos, opts.encoding) {
                Some((end, next)) => {
                    lines.push((pos, end, next));
                    pos = next;
                }
                None => break,
            }
        }
        let tail = (pos, data.len());
        let pass = |flush: bool| -> (Vec<Vec<u8>>, usize) {
            let mut entries = Vec::new();
            let mut last_next = 0;
            let tail_len = tail.1 - tail.0;
            match &opts.multiline {
                None => {
                    for &(start, end, next) in &lines {
                        push_cut(&mut entries, &data[start..end], opts);
                        last_next = next;
                    }
                    if tail_len > 0 && (flush || tail_len >= opts.max_log_size) {
                        let piece = &data[tail.0..tail.1];
                        if tail_len >= opts.max_log_size {
                            let k = cut(piece, opts.max_log_size, opts.encoding);
                            entries.push(piece[..k].to_vec());
                            last_next = tail.0 + k;
                        } else {
                            entries.push(piece.to_vec());
                            last_next = tail.1;
                        }
                    }
                }
                Some(multiline) => {
                    let mut ranges: Vec<(usize, usize, usize)> = lines.clone();
                    if flush && tail_len > 0 {
                        ranges.push((tail.0, tail.1, tail.1));
                    }
                    let texts: Vec<String> = ranges
                        .iter()
                        .map(|&(s, e, _)| decode(&data[s..e], opts.encoding))
                        .collect();
                    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                    let mut groups = multiline.group(&refs, flush);
                    if groups.is_empty() && flush && !ranges.is_empty() {
                        groups.push(0..ranges.len());
                    }
                    for g in groups {
                        let (start, _, _) = ranges[g.start];
                        let (_, end, next) = ranges[g.end - 1];
                        push_cut(&mut entries, &data[start..end], opts);
                        last_next = next;
                    }
                }
            }
            (entries, last_next)
        };
        let (mut entries, mut last_next) = pass(false);
        let leftover = data.len() - last_next;
        if leftover > 0 {
            if full && last_next == 0 {
                // A buffer full of one unfinished entry: send it (cut at max_log_size).
                (entries, last_next) = pass(true);
            } else if !full {
                let at = self.offset + last_next as u64;
                let expired = match self.stall {
                    Some((o, l, since)) if o == at && l == leftover => {
                        !opts.force_flush_period.is_zero()
                            && since.elapsed() >= opts.force_flush_period
                    }
                    _ => {
                        self.stall = Some((at, leftover, Instant::now()));
                        false
                    }
                };
                if expired {
                    (entries, last_next) = pass(true);
                    self.stall = None;
                }
            }
        } else {
            self.stall = None;
        }
        Ok(Batch {
            entries,
            end: self.offset + last_next as u64,
            more: full && last_next > 0,
        })
    }
}

fn push_cut(out: &mut Vec<Vec<u8>>, mut bytes: &[u8], opts: &ReadOptions) {
    while bytes.len() > opts.max_log_size {
        let k = cut(bytes, opts.max_log_size, opts.encoding);
        out.push(bytes[..k].to_vec());
        bytes = &bytes[k..];
    }
    out.push(bytes.to_vec());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn opts() -> ReadOptions {
        ReadOptions {
            encoding: Encoding::Utf8,
            max_log_size: 1024 * 1024,
            multiline: None,
            force_flush_period: Duration::from_millis(50),
            fingerprint_size: 1000,
        }
    }

    fn state(path: &std::path::Path) -> FileState {
        FileState::new(
            path.to_path_buf(),
            Vec::new(),
            0,
            Some(File::open(path).unwrap()),
        )
    }

    fn strings(b: &Batch, enc: Encoding) -> Vec<String> {
        b.entries.iter().map(|e| decode(e, enc)).collect()
    }

    #[test]
    fn lines_crlf_and_the_unterminated_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, "one\r\ntwo\nthr").unwrap();
        let mut s = state(&path);
        let mut buf = Vec::new();
        let b = s.read_batch(&mut buf, &opts()).unwrap();
        assert_eq!(strings(&b, Encoding::Utf8), ["one", "two"]);
        assert_eq!(b.end, 9);
        s.offset = b.end;
        // The tail waits for force_flush_period without change, then is sent.
        assert!(s.read_batch(&mut buf, &opts()).unwrap().entries.is_empty());
        std::thread::sleep(Duration::from_millis(60));
        let b = s.read_batch(&mut buf, &opts()).unwrap();
        assert_eq!(strings(&b, Encoding::Utf8), ["thr"]);
        assert_eq!(b.end, 12);
    }

    #[test]
    fn long_lines_are_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, format!("{}\nshort\n", "x".repeat(25))).unwrap();
        let mut s = state(&path);
        let o = ReadOptions {
            max_log_size: 10,
            ..opts()
        };
        let b = s.read_batch(&mut Vec::new(), &o).unwrap();
        assert_eq!(
            strings(&b, Encoding::Utf8),
            ["xxxxxxxxxx", "xxxxxxxxxx", "xxxxx", "short"]
        );
    }

    #[test]
    fn utf16_both_orders() {
        let dir = tempfile::tempdir().unwrap();
        for (enc, le) in [(Encoding::Utf16Le, true), (Encoding::Utf16Be, false)] {
            let path = dir.path().join(format!("{le}.log"));
            let mut f = File::create(&path).unwrap();
            for unit in "héllo\r\nwörld ✓\n".encode_utf16() {
                let b = if le {
                    unit.to_le_bytes()
                } else {
                    unit.to_be_bytes()
                };
                f.write_all(&b).unwrap();
            }
            drop(f);
            let mut s = state(&path);
            let o = ReadOptions {
                encoding: enc,
                ..opts()
            };
            let b = s.read_batch(&mut Vec::new(), &o).unwrap();
            assert_eq!(strings(&b, enc), ["héllo", "wörld ✓"]);
        }
    }

    #[test]
    fn ascii_and_invalid_utf8() {
        assert_eq!(decode(b"a\xffb", Encoding::Utf8), "a\u{FFFD}b");
        assert_eq!(
            decode("aé".as_bytes(), Encoding::Ascii),
            "a\u{FFFD}\u{FFFD}"
        );
    }

    #[test]
    fn truncation_restarts_at_zero() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, "aaaa\nbbbb\n").unwrap();
        let mut s = state(&path);
        s.offset = 10;
        std::fs::write(&path, "cc\n").unwrap();
        let b = s.read_batch(&mut Vec::new(), &opts()).unwrap();
        assert_eq!(strings(&b, Encoding::Utf8), ["cc"]);
        assert_eq!(b.end, 3);
    }

    #[test]
    fn multiline_start_pattern_waits_for_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, "E1 a\n  at b\nE2 c\n  at d\n").unwrap();
        let mut s = state(&path);
        let o = ReadOptions {
            multiline: Some(
                Multiline::new(&crate::filelog::config::MultilineConfig {
                    line_start_pattern: Some("^E".into()),
                    ..Default::default()
                })
                .unwrap(),
            ),
            ..opts()
        };
        let b = s.read_batch(&mut Vec::new(), &o).unwrap();
        assert_eq!(strings(&b, Encoding::Utf8), ["E1 a\n  at b"]);
        assert_eq!(b.end, 12);
        s.offset = b.end;
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"E3 e\n")
            .unwrap();
        let b = s.read_batch(&mut Vec::new(), &o).unwrap();
        assert_eq!(strings(&b, Encoding::Utf8), ["E2 c\n  at d"]);
    }

    #[test]
    fn fingerprints_identify_files() {
        assert!(same_file(b"abc", b"abcdef"));
        assert!(same_file(b"abcdef", b"abc"));
        assert!(!same_file(b"abc", b"abd"));
        assert!(!same_file(b"", b"abc"));
    }
}
