//! The toml store. Not written yet: see issue 3.

use super::{Layout, Parsed};
use crate::error::{Error, Result};
use crate::tree::{Document, Node};

/// Parses toml text into the tree, the metadata and the layout.
pub fn parse(_text: &str, _file: &str) -> Result<(Parsed, Layout)> {
    Err(Error::Usage("the toml format is not supported yet".into()))
}

/// Writes a document afresh (conversion), with the metadata if given.
pub fn emit(_doc: &Document, _metadata: Option<&Node>) -> Result<String> {
    Err(Error::Usage("the toml format is not supported yet".into()))
}
