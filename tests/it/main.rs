//! The integration tests: one binary that drives the built `sealant` (and the real
//! `sops` and `age` for interop). See `support` for the builder.

mod binary;
mod cli;
mod config;
mod corpus;
mod rewrite;
mod support;
mod vectors;
