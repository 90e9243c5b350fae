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

use libmimalloc_sys::{mi_option_set, mi_option_t};

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

#[cfg(test)]
mod tests {
    use libmimalloc_sys::mi_option_get;

    use super::*;

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
