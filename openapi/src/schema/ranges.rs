//! The ranges of the integer formats OpenAPI names (`int32`, `int64`), which JSON Schema
//! leaves as annotations: a request past them is refused, as the typed server it describes
//! (Java's `int`, `long`) refuses it. The direction view marks such a schema with
//! [`KEYWORD`]; the validators read the mark.

use jsonschema::{Keyword, ValidationError};
use serde_json::{Map, Number, Value};

/// The keyword a request's view of an `int32`/`int64` schema carries: its format's name.
pub const KEYWORD: &str = "x-integer-format";

/// The formats with a range, read from a schema's `format`.
pub fn ranged_format(schema: &Map<String, Value>) -> Option<&'static str> {
    match schema.get("format").and_then(Value::as_str)? {
        "int32" => Some("int32"),
        "int64" => Some("int64"),
        _ => None,
    }
}

/// Whether a number is within a format's range. A JSON integer past 64 bits is read as a
/// float (`-9223372036854775809` as -2^63): a float at or past 2^63 in size is out of
/// `int64`, which an exact integer never is.
pub fn fits(format: &str, number: &Number) -> bool {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    match format {
        "int32" => match (number.as_i64(), number.as_f64()) {
            (Some(n), _) => i32::try_from(n).is_ok(),
            (None, Some(f)) => f >= f64::from(i32::MIN) && f <= f64::from(i32::MAX),
            (None, None) => false,
        },
        _ => match (number.as_i64(), number.as_u64(), number.as_f64()) {
            (Some(_), _, _) => true,
            (None, Some(_), _) => false,
            (None, None, Some(f)) => f.abs() < TWO_63,
            (None, None, None) => false,
        },
    }
}

struct Range(&'static str);

impl<'i> Keyword<'i> for Range {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        match self.is_valid(instance) {
            true => Ok(()),
            false => Err(ValidationError::custom(format!(
                "{instance} is out of the range of {}",
                self.0
            ))),
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        match instance {
            Value::Number(number) => fits(self.0, number),
            _ => true,
        }
    }
}

/// The keyword's factory, for the validators' options.
pub fn factory<'a>(
    _parent: &'a Map<String, Value>,
    value: &'a Value,
    _path: jsonschema::paths::Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let format = match value.as_str() {
        Some("int32") => "int32",
        _ => "int64",
    };
    Ok(Box::new(Range(format)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Number {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn integers_past_their_format_do_not_fit() {
        assert!(fits("int32", &number("2147483647")));
        assert!(!fits("int32", &number("2147483648")));
        assert!(!fits("int32", &number("-2147483649")));
        assert!(fits("int64", &number("-9223372036854775808")));
        assert!(fits("int64", &number("9223372036854775807")));
        assert!(!fits("int64", &number("9223372036854775808")));
        assert!(!fits("int64", &number("-9223372036854775809")));
        assert!(!fits("int64", &number("1e19")));
        assert!(fits("int64", &number("1.0")));
    }
}
