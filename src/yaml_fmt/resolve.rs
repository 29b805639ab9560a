use crate::tree::Scalar;
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Null,
    Value(Scalar),
}
#[derive(Debug, Clone, PartialEq)]
pub enum ResolveError {
    Uint64,
}
pub fn resolve(value: &str, plain: bool, _tag: Option<&str>) -> Result<Resolved, ResolveError> {
    if !plain {
        return Ok(Resolved::Value(Scalar::Str(value.to_string())));
    }
    match value {
        "" | "~" | "null" | "Null" | "NULL" => Ok(Resolved::Null),
        "true" | "True" | "TRUE" => Ok(Resolved::Value(Scalar::Bool(true))),
        "false" | "False" | "FALSE" => Ok(Resolved::Value(Scalar::Bool(false))),
        _ => Ok(Resolved::Value(if let Ok(i) = value.parse::<i64>() {
            Scalar::Int(i)
        } else if let Ok(f) = value.parse::<f64>() {
            Scalar::Float(f)
        } else {
            Scalar::Str(value.to_string())
        })),
    }
}
