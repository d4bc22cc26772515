//! Exclusive XML canonicalization (being written).
