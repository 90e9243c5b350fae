//! Realistic payloads (filled in below).
