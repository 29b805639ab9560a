//! YAML scalars, the way go-yaml v3 (as used by sops 3.11) types and writes them.
//!
//! sops reads and writes YAML with go-yaml v3, which is neither YAML 1.1 nor YAML 1.2:
//! `017` is 15, `yes` is a string, `1_000` is 1000, an unquoted date is a timestamp. The
//! type of every clear value feeds the MAC, so sealant must type scalars exactly as
//! go-yaml does ([`resolve()`]) and, to be a byte-compatible drop-in, write them exactly
//! as go-yaml does ([`render`]).
//!
//! Every rule here was checked against the real sops 3.11 binary; the tests say which.

pub mod render;
pub mod resolve;
mod timestamp;

pub use render::{render_key, render_scalar, render_string_as, RenderCtx};
pub use resolve::{resolve, ResolveError, Resolved};
