//! [`CountingAllocator`]: the process's global allocator wrapped so that the bytes in use
//! (allocated and not yet freed) can be read at any time, cheaply — what the `memory_limiter`
//! measures when a program installs it (the `otlp-collector` binary does), as otelcol's
//! measures the Go heap (`runtime.MemStats.Alloc`):
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: otlp_pipeline::allocator::CountingAllocator<std::alloc::System> =
//!     otlp_pipeline::allocator::CountingAllocator(std::alloc::System);
//! ```
//!
//! [`MemoryPressure`](crate::MemoryPressure) notices it ([`bytes_in_use`] is `Some`) and
//! measures the heap in use plus the memory the process held besides its heap when the first
//! limiter was made; without it, the resident set size.
//!
//! Why not RSS: freed memory stays with the allocator (mimalloc keeps freed pages of idle
//! threads), so after a burst RSS stays above the soft limit although nothing is in use; a
//! limiter that refuses on RSS then refuses everything, and because refusing allocates nothing,
//! nothing changes — it never recovers (issue: a zstd flood latched it for good). Bytes in use
//! fall as soon as the data has drained.
//!
//! Cost: one thread-local add per allocation and free; the shared counter is touched once per
//! [`FLUSH`] bytes of change per thread, so the reading is exact to within
//! threads × [`FLUSH`]. A thread that exits takes its unfolded change with it unless it calls
//! [`flush_thread`] last (tokio's `on_thread_stop`; the collector does), so that the count
//! does not drift as short-lived threads come and go.

// A `GlobalAlloc` implementation is unsafe by definition; the wrapper only forwards to the
// inner allocator with the caller's own arguments, adding bookkeeping that never allocates.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

/// Per-thread change, in bytes, folded into the shared counter once it exceeds this.
pub const FLUSH: isize = 256 * 1024;

/// Bytes in use, as folded in by every thread.
static IN_USE: AtomicIsize = AtomicIsize::new(0);
/// Whether a [`CountingAllocator`] is the global allocator (it has allocated once).
static INSTALLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    // Const-initialised and without a destructor: safe to touch from inside the allocator.
    static PENDING: Cell<isize> = const { Cell::new(0) };
}

/// A global allocator that counts the bytes in use and forwards to `A`.
#[derive(Debug, Default)]
pub struct CountingAllocator<A>(pub A);

fn record(delta: isize) {
    let folded = PENDING.try_with(|pending| {
        let value = pending.get() + delta;
        if value.abs() >= FLUSH {
            pending.set(0);
            IN_USE.fetch_add(value, Ordering::Relaxed);
        } else {
            pending.set(value);
        }
    });
    if folded.is_err() {
        // No thread-local storage any more: count directly.
        IN_USE.fetch_add(delta, Ordering::Relaxed);
    }
}

/// Folds this thread's unfolded change into the shared count; call it last on a thread that
/// is about to exit (tokio: `runtime::Builder::on_thread_stop(flush_thread)`).
pub fn flush_thread() {
    let _ = PENDING.try_with(|pending| {
        IN_USE.fetch_add(pending.replace(0), Ordering::Relaxed);
    });
}

/// Bytes allocated and not freed, when a [`CountingAllocator`] is the global allocator.
pub fn bytes_in_use() -> Option<u64> {
    INSTALLED
        .load(Ordering::Relaxed)
        .then(|| u64::try_from(IN_USE.load(Ordering::Relaxed)).unwrap_or(0))
}

/// Marks the counting allocator installed. A load first: a store on every allocation would
/// bounce this cache line between the cores.
fn mark_installed() {
    if !INSTALLED.load(Ordering::Relaxed) {
        INSTALLED.store(true, Ordering::Relaxed);
    }
}

fn size(layout: Layout) -> isize {
    isize::try_from(layout.size()).unwrap_or(isize::MAX)
}

// SAFETY: every method forwards to `A` with the arguments it was given (so `A`'s contract is
// the caller's), and records sizes in a thread-local `Cell` or an atomic, which never
// allocates.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAllocator<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let pointer = unsafe { self.0.alloc(layout) };
        if !pointer.is_null() {
            mark_installed();
            record(size(layout));
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let pointer = unsafe { self.0.alloc_zeroed(layout) };
        if !pointer.is_null() {
            mark_installed();
            record(size(layout));
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { self.0.dealloc(pointer, layout) };
        record(-size(layout));
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let moved = unsafe { self.0.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            record(isize::try_from(new_size).unwrap_or(isize::MAX) - size(layout));
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The count is process-wide: one test at a time.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn counts_allocations_and_frees() {
        let _serial = SERIAL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let allocator = CountingAllocator(std::alloc::System);
        let before = IN_USE.load(Ordering::Relaxed) + PENDING.with(Cell::get);
        let layout = Layout::from_size_align(3 * FLUSH as usize, 8).unwrap_or(Layout::new::<u8>());
        // SAFETY: a non-zero layout; the pointer is freed with the same layout.
        let pointer = unsafe { allocator.alloc(layout) };
        assert!(!pointer.is_null());
        let during = IN_USE.load(Ordering::Relaxed) + PENDING.with(Cell::get);
        assert_eq!(during - before, 3 * FLUSH);
        assert!(bytes_in_use().is_some());
        // SAFETY: allocated above with this layout.
        let grown = unsafe { allocator.realloc(pointer, layout, 4 * FLUSH as usize) };
        assert!(!grown.is_null());
        let grown_layout = Layout::from_size_align(4 * FLUSH as usize, 8).unwrap_or(layout);
        let after_grow = IN_USE.load(Ordering::Relaxed) + PENDING.with(Cell::get);
        assert_eq!(after_grow - before, 4 * FLUSH);
        // SAFETY: reallocated above to this layout.
        unsafe { allocator.dealloc(grown, grown_layout) };
        let after = IN_USE.load(Ordering::Relaxed) + PENDING.with(Cell::get);
        assert_eq!(after, before);
    }

    #[test]
    fn an_exiting_thread_hands_its_change_over() {
        let _serial = SERIAL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let allocator = CountingAllocator(std::alloc::System);
        let layout = Layout::from_size_align(1000, 8).unwrap_or(Layout::new::<u8>());
        let before = IN_USE.load(Ordering::Relaxed);
        let address = std::thread::spawn(move || {
            // SAFETY: a non-zero layout; freed below with it (on this test's thread).
            let pointer = unsafe { allocator.alloc(layout) };
            flush_thread();
            pointer as usize
        })
        .join()
        .unwrap_or(0);
        assert_ne!(address, 0);
        assert_eq!(IN_USE.load(Ordering::Relaxed) - before, 1000);
        // SAFETY: allocated above with this layout by the same inner allocator.
        unsafe { CountingAllocator(std::alloc::System).dealloc(address as *mut u8, layout) };
        flush_thread();
        assert_eq!(IN_USE.load(Ordering::Relaxed), before);
    }
}
