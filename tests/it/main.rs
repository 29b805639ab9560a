//! The integration tests: one binary that drives the built `sealant` (and the real
//! `sops` and `age` for interop). See `support` for the builder.

mod cli;
mod corpus;
mod ini;
mod support;
mod vectors;
