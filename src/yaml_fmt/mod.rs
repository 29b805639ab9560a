//! YAML scalars and block layout, the way go-yaml v3 (as used by sops 3.11) does them.
//!
//! sops reads and writes YAML with go-yaml v3, which is neither YAML 1.1 nor YAML 1.2:
//! `017` is 15, `yes` is a string, `1_000` is 1000, an unquoted date is a timestamp. The
//! type of every clear value feeds the MAC, so sealant must type scalars exactly as
//! go-yaml does ([`resolve()`]) and, to be a byte-compatible drop-in, write them exactly as
//! go-yaml does ([`render`], [`emit`]).
//!
//! * [`resolve()`]: the type of a scalar, from its text, style and tag.
//! * [`render_scalar`], [`render_key`]: how go-yaml writes one value or key;
//!   [`render_string_as`]: a string in a requested style, when that style can hold it.
//! * [`emit_documents`], [`emit_node`]: a fresh block emitter that reproduces sops's
//!   decrypted output, comments and quirks included.
//!
//! Every rule here was checked against the real sops 3.11 binary; the tests say which.

pub mod emit;
pub mod render;
pub mod resolve;
mod timestamp;

pub use emit::{emit_documents, emit_node};
pub use render::{render_key, render_scalar, render_string_as, RenderCtx};
pub use resolve::{resolve, ResolveError, Resolved};
