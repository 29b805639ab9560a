//! sealant: keeps secrets encrypted inside config files, in the sops v3 format.
//!
//! See `docs/ARCHITECTURE.md` for the module map and the one idea behind it: splice
//! ciphertexts into the user's own text instead of re-serializing the file.

pub mod cli;
pub mod config;
pub mod crypto;
pub mod engine;
pub mod error;
pub mod fsutil;
pub mod keys;
pub mod metadata;
pub mod pipeline;
pub mod rekey;
pub mod store;
pub mod tree;
pub mod treepath;
pub mod yaml_fmt;
