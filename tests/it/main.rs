//! The integration tests: one binary that drives the built `sealant` (and the real
//! `sops` and `age` for interop). See `support` for the builder.

mod binary;
mod cli;
mod config;
mod conversion;
mod corpus;
mod dotenv;
// GNU coreutils (`stat -c`) and Linux signal semantics.
#[cfg(target_os = "linux")]
mod exec;
mod ini;
mod keys;
mod keys_cmds;
mod rewrite;
mod set;
mod set_formats;
mod support;
mod toml;
mod vectors;
