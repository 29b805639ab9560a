use crate::tree::{Scalar, Style};
pub struct RenderCtx {
    pub indent: usize,
    pub in_flow: bool,
}
pub fn render_scalar(s: &Scalar, _ctx: &RenderCtx) -> String {
    match s {
        Scalar::Str(s) => s.clone(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Time(_) => String::new(),
    }
}
pub fn render_string_as(s: &str, style: Style, _ctx: &RenderCtx) -> Option<String> {
    match style {
        Style::Plain => Some(s.to_string()),
        Style::SingleQuoted => Some(format!("'{}'", s.replace('\'', "''"))),
        Style::DoubleQuoted => Some(format!("{s:?}")),
        _ => None,
    }
}
pub fn render_key(k: &str) -> String {
    k.to_string()
}
