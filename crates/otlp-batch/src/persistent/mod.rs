//! The on-disk queue: segmented append-only files with checksummed records and an
//! acknowledgement log.
//!
//! # Layout
//!
//! The queue owns one directory: a `LOCK` file (held with `flock` while open, so a second
//! process or queue cannot open the same directory) and segment files
//! `00000000000000000001.seg`, `...2.seg`, each starting with a 16-byte header (`OTLPQSEG`,
//! format version, signal) followed by records:
//!
//! ```text
//! record  = length: u32 LE | crc32: u32 LE | body (length bytes)
//!           crc32 (IEEE, crc32fast) covers the four length bytes and the body
//! body    = 1: u8 | signal: u8 | seq: u64 LE | items: u32 LE | protobuf Export request
//!         | 2: u8 | count: u32 LE | count × (first seq: u64 LE | run: u32 LE)   (acknowledgement)
//! ```
//!
//! Data records are appended when a request is accepted, before `enqueue` returns. When a
//! batch settles (exported, or failed for good), one acknowledgement record listing its
//! sequence numbers as runs is appended. A segment is deleted when it and every older segment
//! hold no unacknowledged data record; acknowledgement records inside it then only refer to
//! data already gone. Acknowledging by sequence number rather than moving a single commit
//! pointer keeps out-of-order completion (several consumers) exact across restarts: a pointer
//! would re-export everything above the oldest unfinished batch.
//!
//! # Recovery
//!
//! Opening scans every segment in order, verifies each record's checksum, and rebuilds the
//! queue from the data records no acknowledgement covers. A record cut short or failing its
//! checksum at the end of the newest segment is a torn tail (the process died mid-write, or
//! the machine lost unsynced pages): it is counted (`torn_records`, `torn_bytes`) and the file
//! is truncated before it, so appends resume on a clean boundary. A bad record inside an
//! older segment is corruption: it and the rest of that segment are skipped and counted
//! (`corrupt_records`).

mod record;

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use otlp_transport::Signal;

use crate::config::{FsyncPolicy, PersistentConfig};
use crate::metrics::QueueMetrics;

pub(crate) use record::data_record_len;
use record::{Body, SEGMENT_HEADER, decode_record, encode_ack, encode_data_header, segment_header};

/// Where a data record lives, enough to read it back without the queue's lock.
#[derive(Debug, Clone)]
pub(crate) struct RecordRef {
    file: Arc<File>,
    pub(crate) segment: u64,
    offset: u64,
    len: u32,
}

impl RecordRef {
    /// Reads the record back, verifies its checksum, and returns the protobuf payload.
    pub(crate) fn read_payload(&self) -> io::Result<Vec<u8>> {
        let mut buffer = vec![0u8; self.len as usize];
        read_exact_at(&self.file, &mut buffer, self.offset)?;
        match decode_record(&buffer) {
            Some((Body::Data { payload, .. }, _)) => Ok(payload.to_vec()),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "record checksum mismatch on read",
            )),
        }
    }
}

/// A data record found at open.
pub(crate) struct Recovered {
    pub(crate) seq: u64,
    pub(crate) items: usize,
    pub(crate) bytes: usize,
    pub(crate) record: RecordRef,
}

struct Segment {
    file: Arc<File>,
    size: u64,
    live: usize,
}

pub(crate) struct DiskQueue {
    directory: PathBuf,
    max_bytes: u64,
    segment_size: u64,
    fsync: FsyncPolicy,
    signal: u8,
    segments: BTreeMap<u64, Segment>,
    active: u64,
    disk_bytes: u64,
    dirty: bool,
    closed: bool,
    metrics: Arc<QueueMetrics>,
    _lock: File,
}

fn signal_tag(signal: Signal) -> u8 {
    match signal {
        Signal::Traces => 1,
        Signal::Metrics => 2,
        Signal::Logs => 3,
        Signal::Profiles => 4,
    }
}

fn segment_path(directory: &Path, id: u64) -> PathBuf {
    directory.join(format!("{id:020}.seg"))
}

#[cfg(unix)]
fn read_exact_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buffer, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buffer: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buffer.is_empty() {
        match file.seek_read(buffer, offset)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buffer = &mut buffer[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
fn lock_directory(directory: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(directory.join("LOCK"))?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).map_err(
        |e| {
            io::Error::new(
                io::ErrorKind::WouldBlock,
                format!(
                    "{} is in use by another queue or process ({e})",
                    directory.display()
                ),
            )
        },
    )?;
    Ok(file)
}

#[cfg(not(unix))]
fn lock_directory(directory: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(directory.join("LOCK"))
}

fn sync_directory(directory: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = File::open(directory) {
        dir.sync_all().ok();
    }
    #[cfg(not(unix))]
    let _ = directory;
}

/// Sorted, non-overlapping runs of acknowledged sequence numbers.
fn is_acked(runs: &[(u64, u64)], seq: u64) -> bool {
    let index = runs.partition_point(|&(first, _)| first <= seq);
    index > 0 && seq < runs[index - 1].1
}

impl DiskQueue {
    /// Opens (or creates) the queue directory and returns the unacknowledged records, in
    /// order.
    pub(crate) fn open(
        config: &PersistentConfig,
        signal: Signal,
        metrics: Arc<QueueMetrics>,
    ) -> io::Result<(DiskQueue, Vec<Recovered>, u64)> {
        fs::create_dir_all(&config.directory)?;
        let lock = lock_directory(&config.directory)?;
        let tag = signal_tag(signal);

        let mut ids: Vec<u64> = Vec::new();
        for entry in fs::read_dir(&config.directory)? {
            let name = entry?.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(id) = name.strip_suffix(".seg").and_then(|id| id.parse().ok()) {
                ids.push(id);
            }
        }
        ids.sort_unstable();

        let mut data: Vec<(u64, usize, usize, u64, u64, u32)> = Vec::new(); // seq, items, bytes, segment, offset, len
        let mut acks: Vec<(u64, u64)> = Vec::new();
        let mut segments = BTreeMap::new();
        let mut max_seq = 0u64;
        let last = ids.last().copied();
        for &id in &ids {
            let path = segment_path(&config.directory, id);
            let bytes = fs::read(&path)?;
            let is_last = Some(id) == last;
            if bytes.len() < SEGMENT_HEADER || bytes[..SEGMENT_HEADER] != segment_header(tag)[..] {
                if bytes.len() >= SEGMENT_HEADER && bytes[..8] == segment_header(tag)[..8] {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{} belongs to a queue of another signal (or format); this queue holds {signal}",
                            path.display()
                        ),
                    ));
                }
                // A segment created but killed before its header was complete, or a foreign
                // file: nothing in it can be read.
                if is_last {
                    metrics.add(|m| &m.torn_bytes, bytes.len() as u64);
                    if !bytes.is_empty() {
                        metrics.add(|m| &m.torn_records, 1);
                    }
                } else {
                    metrics.add(|m| &m.corrupt_records, 1);
                }
                fs::remove_file(&path)?;
                continue;
            }
            let mut position = SEGMENT_HEADER;
            while position < bytes.len() {
                match decode_record(&bytes[position..]) {
                    Some((body, len)) => {
                        match body {
                            Body::Data {
                                signal: record_signal,
                                seq,
                                items,
                                payload,
                            } => {
                                if record_signal != tag {
                                    return Err(io::Error::new(
                                        io::ErrorKind::InvalidData,
                                        format!(
                                            "{} holds a record of another signal",
                                            path.display()
                                        ),
                                    ));
                                }
                                max_seq = max_seq.max(seq);
                                data.push((
                                    seq,
                                    items as usize,
                                    payload.len(),
                                    id,
                                    position as u64,
                                    len as u32,
                                ));
                            }
                            Body::Ack(runs) => {
                                for (first, run) in runs {
                                    max_seq = max_seq.max(first + u64::from(run).saturating_sub(1));
                                    acks.push((first, first + u64::from(run)));
                                }
                            }
                        }
                        position += len;
                    }
                    None => {
                        let skipped = (bytes.len() - position) as u64;
                        if is_last {
                            metrics.add(|m| &m.torn_records, 1);
                            metrics.add(|m| &m.torn_bytes, skipped);
                            tracing::warn!(segment = %path.display(), bytes = skipped, "persistent queue: skipped a torn record at the tail");
                        } else {
                            metrics.add(|m| &m.corrupt_records, 1);
                            tracing::error!(segment = %path.display(), bytes = skipped, "persistent queue: corrupt record; the rest of the segment is skipped");
                        }
                        break;
                    }
                }
            }
            let file = OpenOptions::new().read(true).append(true).open(&path)?;
            if is_last && (position as u64) < bytes.len() as u64 {
                file.set_len(position as u64)?;
                file.sync_all()?;
            }
            let size = if is_last {
                position as u64
            } else {
                bytes.len() as u64
            };
            segments.insert(
                id,
                Segment {
                    file: Arc::new(file),
                    size,
                    live: 0,
                },
            );
        }

        acks.sort_unstable();
        let mut runs: Vec<(u64, u64)> = Vec::with_capacity(acks.len());
        for (first, end) in acks {
            match runs.last_mut() {
                Some(last) if first <= last.1 => last.1 = last.1.max(end),
                _ => runs.push((first, end)),
            }
        }

        let mut recovered = Vec::new();
        data.sort_unstable_by_key(|d| d.0);
        for (seq, items, bytes, segment, offset, len) in data {
            if is_acked(&runs, seq) {
                continue;
            }
            let Some(seg) = segments.get_mut(&segment) else {
                continue;
            };
            seg.live += 1;
            recovered.push(Recovered {
                seq,
                items,
                bytes,
                record: RecordRef {
                    file: Arc::clone(&seg.file),
                    segment,
                    offset,
                    len,
                },
            });
        }
        let next_seq = if ids.is_empty() && recovered.is_empty() {
            1
        } else {
            max_seq + 1
        };

        let disk_bytes = segments.values().map(|s| s.size).sum();
        let mut queue = DiskQueue {
            directory: config.directory.clone(),
            max_bytes: config.max_bytes,
            segment_size: config.segment_size,
            fsync: config.fsync,
            signal: tag,
            active: segments.keys().next_back().copied().unwrap_or(0),
            segments,
            disk_bytes,
            dirty: false,
            closed: false,
            metrics,
            _lock: lock,
        };
        if queue.segments.is_empty() {
            queue.rotate()?;
        }
        queue.collect_garbage();
        queue.publish();
        let items: usize = recovered.iter().map(|r| r.items).sum();
        queue.metrics.add(|m| &m.recovered_items, items as u64);
        Ok((queue, recovered, next_seq))
    }

    fn publish(&self) {
        self.metrics
            .disk_bytes
            .store(self.disk_bytes, Ordering::Relaxed);
    }

    /// Starts a new active segment.
    fn rotate(&mut self) -> io::Result<()> {
        if let Some(old) = self.segments.get(&self.active)
            && self.dirty
            && self.fsync != FsyncPolicy::Never
        {
            old.file.sync_data()?;
            self.dirty = false;
        }
        let id = self.segments.keys().next_back().map_or(1, |last| last + 1);
        let path = segment_path(&self.directory, id);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(&path)?;
        if let Err(e) = file.write_all(&segment_header(self.signal)) {
            drop(file);
            fs::remove_file(&path).ok();
            return Err(e);
        }
        if self.fsync != FsyncPolicy::Never {
            file.sync_all()?;
            sync_directory(&self.directory);
        }
        self.segments.insert(
            id,
            Segment {
                file: Arc::new(file),
                size: SEGMENT_HEADER as u64,
                live: 0,
            },
        );
        self.active = id;
        self.disk_bytes += SEGMENT_HEADER as u64;
        self.publish();
        Ok(())
    }

    /// Whether records of `bytes` bytes in total fit under the capacity now.
    pub(crate) fn fits(&self, bytes: u64) -> bool {
        self.disk_bytes + bytes + SEGMENT_HEADER as u64 <= self.max_bytes
    }

    /// Appends data records (`(seq, items, payload)`) in one write; on failure nothing is
    /// appended. Returns where each landed.
    pub(crate) fn append(&mut self, records: &[(u64, usize, &[u8])]) -> io::Result<Vec<RecordRef>> {
        if self.closed {
            return Err(io::Error::other("the persistent queue is closed"));
        }
        let total: usize = records
            .iter()
            .map(|(_, _, payload)| data_record_len(payload.len()))
            .sum();
        let active_size = self.segments.get(&self.active).map_or(0, |s| s.size);
        if active_size > SEGMENT_HEADER as u64 && active_size + total as u64 > self.segment_size {
            self.rotate()?;
        }
        let mut buffer = Vec::with_capacity(total);
        let mut offsets = Vec::with_capacity(records.len());
        for &(seq, items, payload) in records {
            offsets.push(buffer.len());
            encode_data_header(&mut buffer, self.signal, seq, items as u32, payload);
        }
        let active = self.active;
        let segment = self
            .segments
            .get_mut(&active)
            .ok_or_else(|| io::Error::other("no active segment"))?;
        let start = segment.size;
        let written = (&*segment.file).write_all(&buffer).and_then(|()| {
            if self.fsync == FsyncPolicy::Always {
                segment.file.sync_data()
            } else {
                Ok(())
            }
        });
        if let Err(e) = written {
            // Leave no partial record behind: later appends must start on a boundary.
            if segment.file.set_len(start).is_err() {
                self.closed = true;
            }
            self.metrics.add(|m| &m.storage_errors, 1);
            return Err(e);
        }
        segment.size += buffer.len() as u64;
        segment.live += records.len();
        self.disk_bytes += buffer.len() as u64;
        self.dirty = self.fsync != FsyncPolicy::Always;
        let file = Arc::clone(&segment.file);
        self.publish();
        Ok(offsets
            .into_iter()
            .zip(records)
            .map(|(offset, (_, _, payload))| RecordRef {
                file: Arc::clone(&file),
                segment: active,
                offset: start + offset as u64,
                len: data_record_len(payload.len()) as u32,
            })
            .collect())
    }

    /// Records that the data records `seqs` (in `segments`) are settled, and deletes
    /// segments that no longer hold live data.
    pub(crate) fn acknowledge(&mut self, settled: &[(u64, u64)]) {
        if self.closed || settled.is_empty() {
            return;
        }
        let mut seqs: Vec<u64> = settled.iter().map(|&(seq, _)| seq).collect();
        seqs.sort_unstable();
        let mut runs: Vec<(u64, u32)> = Vec::new();
        for seq in seqs {
            match runs.last_mut() {
                Some((first, run)) if *first + u64::from(*run) == seq && *run < u32::MAX => {
                    *run += 1
                }
                _ => runs.push((seq, 1)),
            }
        }
        let record = encode_ack(&runs);
        let active_size = self.segments.get(&self.active).map_or(0, |s| s.size);
        if active_size + record.len() as u64 > self.segment_size && self.rotate().is_err() {
            self.metrics.add(|m| &m.storage_errors, 1);
        }
        if let Some(segment) = self.segments.get_mut(&self.active) {
            let start = segment.size;
            let written = (&*segment.file).write_all(&record).and_then(|()| {
                if self.fsync == FsyncPolicy::Always {
                    segment.file.sync_data()
                } else {
                    Ok(())
                }
            });
            match written {
                Ok(()) => {
                    segment.size += record.len() as u64;
                    self.disk_bytes += record.len() as u64;
                    self.dirty = self.fsync != FsyncPolicy::Always;
                }
                Err(e) => {
                    // The batch is settled in memory; after a crash it would be exported again
                    // (at least once). Keep the file on a record boundary.
                    tracing::warn!(error = %e, "persistent queue: could not write an acknowledgement");
                    self.metrics.add(|m| &m.storage_errors, 1);
                    if segment.file.set_len(start).is_err() {
                        self.closed = true;
                    }
                }
            }
        }
        for &(_, segment) in settled {
            if let Some(segment) = self.segments.get_mut(&segment) {
                segment.live = segment.live.saturating_sub(1);
            }
        }
        self.collect_garbage();
        self.publish();
    }

    /// Deletes the oldest segments while they hold no live data record. The active segment is
    /// replaced by a fresh one first when it is the last to go.
    fn collect_garbage(&mut self) {
        while let Some((id, live, size)) = self
            .segments
            .iter()
            .next()
            .map(|(&id, s)| (id, s.live, s.size))
        {
            if live > 0 {
                break;
            }
            if id == self.active && (size <= SEGMENT_HEADER as u64 || self.rotate().is_err()) {
                break;
            }
            let Some(segment) = self.segments.remove(&id) else {
                break;
            };
            if let Err(e) = fs::remove_file(segment_path(&self.directory, id)) {
                tracing::warn!(error = %e, "persistent queue: could not delete a settled segment");
                self.metrics.add(|m| &m.storage_errors, 1);
                self.segments.insert(id, segment);
                break;
            }
            self.disk_bytes -= segment.size;
        }
    }

    /// The active file when it has unsynced writes (for the background `Every` sync, which
    /// calls `sync_data` outside the queue's lock).
    pub(crate) fn take_dirty(&mut self) -> Option<Arc<File>> {
        if !self.dirty || self.closed {
            return None;
        }
        self.dirty = false;
        self.segments.get(&self.active).map(|s| Arc::clone(&s.file))
    }

    /// Forces written data to disk unless the policy is `Never`.
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        if self.fsync == FsyncPolicy::Never || !self.dirty {
            return Ok(());
        }
        self.dirty = false;
        match self.segments.get(&self.active) {
            Some(segment) => segment.file.sync_data(),
            None => Ok(()),
        }
    }

    /// Syncs and stops writing: later acknowledgements are ignored (their batches are
    /// exported again after the next open).
    pub(crate) fn close(&mut self) {
        if let Err(e) = self.sync() {
            tracing::warn!(error = %e, "persistent queue: final sync failed");
            self.metrics.add(|m| &m.storage_errors, 1);
        }
        self.closed = true;
    }
}

impl Drop for DiskQueue {
    fn drop(&mut self) {
        if !self.closed {
            self.sync().ok();
        }
    }
}

#[cfg(test)]
mod tests;
