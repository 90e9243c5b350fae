//! Trace and span identifiers, trace flags, trace state and span context.
