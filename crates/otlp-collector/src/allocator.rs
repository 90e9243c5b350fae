//! mimalloc's memory-return setting, applied first in `main` (feature `mimalloc`).
//!
//! mimalloc 3 keeps freed pages for a second before it returns them to the OS (its
//! `purge_delay` is 1000 ms). A collector's batches come and go every few hundred
//! milliseconds, so with that delay a burst's memory stays resident long after the burst, and
//! at a steady 20 000 spans/s the resident set is a fifth larger than it needs to be
//! (docs/benchmarks.md, "Issue 17: what changed"). The collector returns freed pages after
//! [`PURGE_DELAY_MS`] instead. An operator's own `MIMALLOC_PURGE_DELAY` (mimalloc's
//! environment variable) wins.
//!
//! The other half of the same story is a build setting: mimalloc's `no_thp` feature
//! (`Cargo.toml`), so its arenas are not `madvise`d into transparent huge pages, where one
//! touched byte makes 2 MiB resident.
//!
//! mimalloc purges what it freed only from inside its own calls, so a collector that falls
//! idle after a burst keeps the burst's pages resident: 170 MiB of a 320 MiB peak three seconds
//! after a maximum-rate run had drained. [`spawn_memory_return`] starts a thread that, once a
//! second, reads the heap bytes in use (the counting allocator's count, one atomic load) and,
//! when they have fallen by [`RETURN_AFTER_DROP`] from their highest since the last time,
//! asks mimalloc to purge everything free (`mi_collect(true)`): the same run then keeps 23 MiB.
//! At a steady load the count moves by less than that, so nothing is purged under load.

use std::time::Duration;

use libmimalloc_sys::{mi_collect, mi_option_set, mi_option_t};

/// `mi_option_purge_delay` in mimalloc's option enumeration (the same index in mimalloc 2
/// and 3): milliseconds before freed memory is returned to the OS.
const PURGE_DELAY: mi_option_t = 15;

/// The collector's purge delay.
const PURGE_DELAY_MS: std::ffi::c_long = 10;

/// Sets the purge delay unless the environment sets it. Called first in `main`, before any
/// other thread exists (mimalloc's option setters are not thread-safe).
pub(crate) fn apply_defaults() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some()
        || std::env::var_os("MIMALLOC_RESET_DELAY").is_some()
    {
        return;
    }
    // SAFETY: a store into mimalloc's option table at a valid index (mimalloc reads it at
    // each purge); no other thread runs yet.
    #[allow(unsafe_code)]
    unsafe {
        mi_option_set(PURGE_DELAY, PURGE_DELAY_MS);
    }
}

/// How far the heap in use must fall from its recent high before free memory is returned.
const RETURN_AFTER_DROP: u64 = 16 << 20;

/// How often the heap in use is read: far less often than any batch timeout, so an idle
/// collector is not kept awake by it.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Starts the thread that returns free memory to the OS after a burst (see the module doc).
/// Nothing starts when the counting allocator is not the global allocator.
pub(crate) fn spawn_memory_return() {
    if otlp_pipeline::allocator::bytes_in_use().is_none() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("otlp-memory-return".to_owned())
        .spawn(|| {
            let mut high = 0;
            loop {
                std::thread::sleep(CHECK_EVERY);
                let now = otlp_pipeline::allocator::bytes_in_use().unwrap_or(0);
                if should_return(&mut high, now) {
                    // SAFETY: mimalloc's collection entry point, callable from any thread.
                    #[allow(unsafe_code)]
                    unsafe {
                        mi_collect(true);
                    }
                }
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the memory-return thread; memory freed after a burst returns to the OS more slowly");
    }
}

/// Whether the heap in use, `now`, has fallen far enough from `high` (the highest since the
/// last return, updated here) to return free memory.
fn should_return(high: &mut u64, now: u64) -> bool {
    if high.saturating_sub(now) >= RETURN_AFTER_DROP {
        *high = now;
        true
    } else {
        *high = (*high).max(now);
        false
    }
}

#[cfg(test)]
mod tests {
    use libmimalloc_sys::mi_option_get;

    use super::*;

    #[test]
    fn memory_is_returned_after_a_fall_from_the_high_not_under_a_steady_load() {
        let mut high = 0;
        let mib = 1 << 20;
        // A steady load moving by a few MiB: never.
        for now in [40, 44, 38, 45, 41, 39].map(|n| n * mib) {
            assert!(!should_return(&mut high, now));
        }
        assert_eq!(high, 45 * mib);
        // A burst, then its drain: once, when the fall reaches the threshold.
        assert!(!should_return(&mut high, 300 * mib));
        assert!(!should_return(&mut high, 290 * mib));
        assert!(should_return(&mut high, 30 * mib));
        assert!(!should_return(&mut high, 30 * mib), "not again while idle");
        assert!(!should_return(&mut high, 20 * mib));
    }

    #[test]
    fn the_purge_delay_is_the_collectors_unless_the_environment_sets_it() {
        apply_defaults();
        // SAFETY: reads mimalloc's option table.
        #[allow(unsafe_code)]
        let delay = unsafe { mi_option_get(PURGE_DELAY) };
        match std::env::var("MIMALLOC_PURGE_DELAY") {
            Ok(value) => assert_eq!(value.parse::<std::ffi::c_long>().ok(), Some(delay)),
            Err(_) => assert_eq!(delay, PURGE_DELAY_MS),
        }
    }
}
