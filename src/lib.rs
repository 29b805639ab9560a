//! sealant: keeps secrets encrypted inside config files, in the sops v3 format.
//!
//! See `docs/ARCHITECTURE.md` for the module map and the one idea behind it: splice
//! ciphertexts into the user's own text instead of re-serializing the file.

pub mod error;
pub mod tree;
pub mod yaml_fmt;
