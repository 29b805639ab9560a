use crate::tree::{Document, Node};
pub fn emit_documents(_docs: &[Document], _indent: usize) -> String {
    String::new()
}
pub fn emit_node(_node: &Node, _indent: usize) -> String {
    String::new()
}
