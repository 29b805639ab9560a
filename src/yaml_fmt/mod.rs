//! TEMPORARY STUB: replaced by the go-yaml-compatible implementation (branch yamlfmt).
pub mod emit;
pub mod render;
pub mod resolve;
