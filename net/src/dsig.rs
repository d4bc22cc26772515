//! XML signatures (being written).
