//! The current context: which span a new span, a log record or an outgoing call belongs to,
//! following the code across function calls, threads (explicitly) and `.await` points.
//!
//! There is one context type, [`otlp_propagation::Context`]: what propagators extract from
//! and inject into headers is what travels in-process. The *current* context is a per-thread
//! stack: [`attach`] pushes a context and returns a guard that pops it, and
//! [`FutureExt::with_context`] makes a future attach its context every time it is polled, on
//! whichever thread or executor polls it. Nothing here needs a runtime.

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

pub use otlp_propagation::Context;

thread_local! {
    static STACK: RefCell<Vec<Option<Context>>> = const { RefCell::new(Vec::new()) };
}

/// A clone of the current context (empty when nothing is attached). Cloning a context only
/// bumps reference counts.
#[must_use]
pub fn current() -> Context {
    with_current(Context::clone)
}

/// Runs `f` with the current context, without cloning it.
pub fn with_current<R>(f: impl FnOnce(&Context) -> R) -> R {
    STACK.with(|stack| {
        let stack = stack.borrow();
        match stack.iter().rev().find_map(Option::as_ref) {
            Some(cx) => f(cx),
            // An empty context allocates nothing.
            None => f(&Context::new()),
        }
    })
}

/// Makes `cx` the current context of this thread until the returned guard is dropped.
///
/// Guards may be dropped in any order: dropping one removes exactly its own context, and the
/// current context is the most recently attached one still alive.
pub fn attach(cx: Context) -> ContextGuard {
    let depth = STACK.with(|stack| {
        let mut stack = stack.borrow_mut();
        stack.push(Some(cx));
        stack.len()
    });
    ContextGuard {
        depth,
        _not_send: PhantomData,
    }
}

/// Restores the previous current context when dropped. Not `Send`: a context is attached to
/// one thread.
#[derive(Debug)]
#[must_use = "the context is detached as soon as the guard is dropped"]
pub struct ContextGuard {
    depth: usize,
    _not_send: PhantomData<*const ()>,
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        // `try_with`: a guard dropped during thread teardown finds no stack, and that is fine.
        let _ = STACK.try_with(|stack| {
            let mut stack = stack.borrow_mut();
            if let Some(slot) = stack.get_mut(self.depth - 1) {
                *slot = None;
            }
            while stack.last().is_some_and(Option::is_none) {
                stack.pop();
            }
        });
    }
}

pin_project_lite::pin_project! {
    /// A future that runs with its own current context: see [`FutureExt::with_context`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct WithContext<F> {
        #[pin]
        inner: F,
        cx: Context,
    }
}

impl<F: Future> Future for WithContext<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _guard = attach(this.cx.clone());
        this.inner.poll(task)
    }
}

/// Carries a context across `.await` points, on any executor.
pub trait FutureExt: Future + Sized {
    /// Attaches `cx` while this future is polled: code inside it (and the spans it starts)
    /// sees `cx` as current, whichever thread polls it.
    fn with_context(self, cx: Context) -> WithContext<Self> {
        WithContext { inner: self, cx }
    }

    /// [`with_context`](Self::with_context) with the context current now, for a future
    /// handed to `spawn`.
    fn with_current_context(self) -> WithContext<Self> {
        self.with_context(current())
    }
}

impl<F: Future> FutureExt for F {}
