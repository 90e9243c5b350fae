//! `traceparent` parsing and formatting never allocate, and neither does extracting a span
//! context that has no `tracestate`: checked with a counting global allocator.

// The counting allocator needs `unsafe impl GlobalAlloc`; it only forwards to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use otlp_propagation::{Extractor, TraceContextPropagator, TraceParent};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counter
// is a const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn traceparent_paths_do_not_allocate() {
    const VALUE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let carrier: Vec<(String, Vec<u8>)> = vec![
        ("Accept".to_owned(), b"*/*".to_vec()),
        ("TraceParent".to_owned(), VALUE.as_bytes().to_vec()),
    ];

    let n = allocations_in(|| {
        let parsed = TraceParent::parse(std::hint::black_box(VALUE));
        let header = parsed.map(|tp| tp.encode());
        assert_eq!(header.map(|h| h.as_str() == VALUE), Ok(true));
    });
    assert_eq!(n, 0, "TraceParent::parse + encode");

    let n = allocations_in(|| {
        for invalid in [
            "",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "garbage",
        ] {
            assert!(TraceParent::parse(std::hint::black_box(invalid)).is_err());
        }
    });
    assert_eq!(n, 0, "rejecting invalid values");

    let n = allocations_in(|| {
        let sc = TraceContextPropagator::new().extract_span_context(&carrier as &dyn Extractor);
        assert!(sc.is_some_and(|sc| sc.is_sampled()));
    });
    assert_eq!(n, 0, "extracting a span context without tracestate");
}
