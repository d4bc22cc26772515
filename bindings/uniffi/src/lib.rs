//! UniFFI bindings of segur (being written).
