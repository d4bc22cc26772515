//! C ABI of segur (being written).
