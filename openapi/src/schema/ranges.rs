//! The ranges of the numeric formats OpenAPI names (`int32`, `int64`, `float`), which JSON
//! Schema leaves as annotations. A request past them is refused, as the typed server it
//! describes (Java's `int`, `long`) refuses it; a response must hold them as its clients
//! read it (as Schemathesis checks them): an integer format written as a whole number in
//! range (`-9.22e18` for an `int64` has lost its digits), a `float` within `f32`. The
//! direction view marks such a schema with [`KEYWORD`]; the validators read the mark.

use jsonschema::{Keyword, ValidationError};
use serde_json::{Map, Number, Value};

use super::direction::Direction;

/// The keyword a direction's view of a ranged schema carries: its format's name, and in
/// responses ` exact` after an integer format.
pub const KEYWORD: &str = "x-integer-format";

/// The mark of a schema's `format` in a direction's view, if it has a range there.
pub fn ranged_format(schema: &Map<String, Value>, direction: Direction) -> Option<&'static str> {
    let format = schema.get("format").and_then(Value::as_str)?;
    match (direction, format) {
        (Direction::Request, "int32") => Some("int32"),
        (Direction::Request, "int64") => Some("int64"),
        (Direction::Response, "int32") => Some("int32 exact"),
        (Direction::Response, "int64") => Some("int64 exact"),
        (Direction::Response, "float") => Some("float"),
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
        "float" => number
            .as_f64()
            .is_some_and(|f| f.abs() <= f64::from(f32::MAX)),
        _ => match (number.as_i64(), number.as_u64(), number.as_f64()) {
            (Some(_), _, _) => true,
            (None, Some(_), _) => false,
            (None, None, Some(f)) => f.abs() < TWO_63,
            (None, None, None) => false,
        },
    }
}

/// A format's range; `exact`: an integer format must be written as a whole number.
struct Range {
    format: &'static str,
    exact: bool,
}

impl<'i> Keyword<'i> for Range {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        match self.is_valid(instance) {
            true => Ok(()),
            false => Err(ValidationError::custom(format!(
                "{instance} is out of the range of {}",
                self.format
            ))),
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        match instance {
            Value::Number(number) => !(self.exact && number.is_f64()) && fits(self.format, number),
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
    let mark = value.as_str().unwrap_or("int64");
    let format = match mark.split_whitespace().next() {
        Some("int32") => "int32",
        Some("float") => "float",
        _ => "int64",
    };
    Ok(Box::new(Range {
        format,
        exact: mark.ends_with(" exact"),
    }))
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
        assert!(fits("float", &number("3.4e38")));
        assert!(!fits("float", &number("3.5e38")));
    }
}
