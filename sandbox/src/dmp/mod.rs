//! DMP simulator (being written).
