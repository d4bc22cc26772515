//! XDS.b messages (being written).
