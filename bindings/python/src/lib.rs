//! Python bindings of segur (being written).
