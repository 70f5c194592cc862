//! XML bodies as a server bound by the schema reads them (JAXB, Jackson's XML module), by
//! OpenAPI's `xml` object: element and attribute names, wrapped arrays. The value read is
//! judged by the same validator as a JSON body; text is typed as a form field's is. The
//! same rules write a value as such a body ([`write`]), for a checker to send.

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use serde_json::{Map, Value};

use crate::generate::wire::Shape;
use crate::schema::Schemas;
use crate::schema::query::{object_view, types};

/// How deep elements may nest: past it the body is refused, not read.
const MAX_DEPTH: usize = 64;

/// One element: its name (without a prefix), attributes, child elements and text.
#[derive(Debug, Default)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

/// Why a body is not XML a server can read.
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("malformed XML: {0}")]
    Malformed(String),
    #[error("malformed XML: no root element")]
    Empty,
    #[error("XML nested deeper than {MAX_DEPTH} elements")]
    TooDeep,
}

/// An element's name without its namespace prefix.
fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    match name.rsplit_once(':') {
        Some((_, local)) => local.to_owned(),
        None => name.into_owned(),
    }
}

/// The document's root element; anything but comments and space after it is malformed.
pub fn parse(bytes: &[u8]) -> Result<Element, XmlError> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let root = root(&mut reader)?;
    loop {
        match reader
            .read_event()
            .map_err(|e| XmlError::Malformed(e.to_string()))?
        {
            Event::Eof => return Ok(root),
            Event::Comment(_) | Event::PI(_) => {}
            Event::Text(text) if text.iter().all(u8::is_ascii_whitespace) => {}
            _ => {
                return Err(XmlError::Malformed("more than one root element".to_owned()));
            }
        }
    }
}

fn root(reader: &mut quick_xml::Reader<&[u8]>) -> Result<Element, XmlError> {
    let mut stack: Vec<Element> = Vec::new();
    let malformed = |e: &dyn std::fmt::Display| XmlError::Malformed(e.to_string());
    let open = |start: &BytesStart<'_>| -> Result<Element, XmlError> {
        let mut attributes = Vec::new();
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|e| malformed(&e))?;
            let value = attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| malformed(&e))?
                .into_owned();
            attributes.push((local(attribute.key.as_ref()), value));
        }
        Ok(Element {
            name: local(start.name().as_ref()),
            attributes,
            ..Element::default()
        })
    };
    loop {
        match reader.read_event().map_err(|e| malformed(&e))? {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(open(&start)?);
            }
            Event::Empty(start) => {
                let element = open(&start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or(XmlError::Empty)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::Text(text) => {
                if let Some(element) = stack.last_mut() {
                    element
                        .text
                        .push_str(&text.decode().map_err(|e| malformed(&e))?);
                }
            }
            Event::CData(data) => {
                if let Some(element) = stack.last_mut() {
                    element.text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(element) = stack.last_mut() {
                    let name = reference.decode().map_err(|e| malformed(&e))?;
                    let text = match name.as_ref() {
                        "lt" => "<",
                        "gt" => ">",
                        "amp" => "&",
                        "apos" => "'",
                        "quot" => "\"",
                        _ => return Err(malformed(&format!("unknown entity &{name};"))),
                    };
                    element.text.push_str(text);
                }
            }
            Event::Eof => {
                return Err(match stack.is_empty() {
                    true => XmlError::Empty,
                    false => XmlError::Malformed("the document ends inside an element".into()),
                });
            }
            _ => {}
        }
    }
}

/// The `xml` object of a property: on its own schema, else on the schema it refers to.
fn xml_of<'a>(schemas: &'a Schemas, schema: &'a Value) -> Option<&'a Value> {
    schema
        .get("xml")
        .or_else(|| schemas.resolve(schema).get("xml"))
}

fn xml_text<'a>(xml: Option<&'a Value>, key: &str) -> Option<&'a str> {
    xml?.get(key)?.as_str()
}

fn xml_flag(xml: Option<&Value>, key: &str) -> bool {
    xml.and_then(|x| x.get(key)).and_then(Value::as_bool) == Some(true)
}

/// The element read as a value of the schema. What the schema does not declare is left
/// out, as the servers it describes ignore it.
pub fn read(schemas: &Schemas, schema: &Value, element: &Element) -> Value {
    read_at(schemas, schema, element, 0)
}

fn read_at(schemas: &Schemas, schema: &Value, element: &Element, depth: usize) -> Value {
    let resolved = schemas.resolve(schema);
    if depth < MAX_DEPTH && types(resolved) == ["array"] {
        let items = resolved.get("items").cloned().unwrap_or(Value::Bool(true));
        return Value::Array(
            element
                .children
                .iter()
                .map(|child| read_at(schemas, &items, child, depth + 1))
                .collect(),
        );
    }
    let view = object_view(schemas, schema);
    let Some(properties) = view.get("properties").and_then(Value::as_object) else {
        return Shape::of(schemas, schema).coerce(element.text.trim());
    };
    // Text where an object is wanted (`<order>true</order>`): the text, which the schema
    // refuses, not an empty object.
    let text = element.text.trim();
    if element.children.is_empty() && element.attributes.is_empty() && !text.is_empty() {
        return Value::String(text.to_owned());
    }
    if depth >= MAX_DEPTH {
        return Value::Object(Map::new());
    }
    let mut object = Map::new();
    for (name, property) in properties {
        let xml = xml_of(schemas, property);
        let xml_name = xml_text(xml, "name").unwrap_or(name);
        if xml_flag(xml, "attribute") {
            if let Some((_, text)) = element.attributes.iter().find(|(n, _)| n == xml_name) {
                object.insert(name.clone(), Shape::of(schemas, property).coerce(text));
            }
            continue;
        }
        let resolved = schemas.resolve(property);
        if types(resolved) == ["array"] {
            let items = resolved.get("items").cloned().unwrap_or(Value::Bool(true));
            let item_name = xml_text(xml_of(schemas, &items), "name").unwrap_or(xml_name);
            let found: Option<Vec<&Element>> = match xml_flag(xml, "wrapped") {
                true => element
                    .children
                    .iter()
                    .find(|c| c.name == xml_name)
                    .map(|wrapper| wrapper.children.iter().collect()),
                false => {
                    let found: Vec<&Element> = element
                        .children
                        .iter()
                        .filter(|c| c.name == item_name)
                        .collect();
                    (!found.is_empty()).then_some(found)
                }
            };
            if let Some(found) = found {
                let values = found
                    .into_iter()
                    .map(|c| read_at(schemas, &items, c, depth + 1))
                    .collect();
                object.insert(name.clone(), Value::Array(values));
            }
            continue;
        }
        if let Some(child) = element.children.iter().find(|c| c.name == xml_name) {
            object.insert(name.clone(), read_at(schemas, property, child, depth + 1));
        }
    }
    Value::Object(object)
}

/// The root element's name the schema says outright (its `xml.name`), for checking an
/// answer's root: a component's own name is only what most servers use.
pub fn declared_root(schemas: &Schemas, schema: &Value) -> Option<String> {
    xml_text(xml_of(schemas, schema), "name").map(str::to_owned)
}

/// The name of the root element of a body of `schema`: its `xml.name`, else the name of the
/// component it is (`Pet` for `#/components/schemas/Pet`).
pub fn root_name(schemas: &Schemas, schema: &Value) -> Option<String> {
    if let Some(name) = xml_text(xml_of(schemas, schema), "name") {
        return Some(name.to_owned());
    }
    let origin = schemas.origin(schema)?;
    let (parent, name) = origin.rsplit_once('/')?;
    (parent.ends_with("/schemas") || parent.ends_with("/definitions")).then(|| name.to_owned())
}

/// Whether XML can name an element or attribute so: a letter or `_` first, then letters,
/// digits, `-`, `_` and `.` (no prefix, which would need a namespace).
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Whether XML 1.0 can carry this text at all (no control characters but tab and line ends).
fn is_text(text: &str) -> bool {
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
}

/// `value` as the XML body a server bound by `schema` reads back as it (see [`read`]);
/// `None` where XML cannot say it (a name XML does not allow, text it cannot carry, no
/// root name).
pub fn write(schemas: &Schemas, schema: &Value, value: &Value) -> Option<Vec<u8>> {
    let root = root_name(schemas, schema)?;
    let mut writer = quick_xml::Writer::new(Vec::new());
    write_at(&mut writer, schemas, schema, &root, value, 0)?;
    Some(writer.into_inner())
}

/// Text of a scalar, as a form field carries it.
fn scalar_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::Array(_) | Value::Object(_) => return None,
    };
    is_text(&text).then_some(text)
}

fn write_at(
    writer: &mut quick_xml::Writer<Vec<u8>>,
    schemas: &Schemas,
    schema: &Value,
    name: &str,
    value: &Value,
    depth: usize,
) -> Option<()> {
    if depth >= MAX_DEPTH || !is_name(name) {
        return None;
    }
    let resolved = schemas.resolve(schema);
    let mut start = BytesStart::new(name);
    let mut children: Vec<(Value, String, &Value)> = Vec::new();
    let mut text = None;
    if let (Value::Array(items), true) = (value, types(resolved) == ["array"]) {
        // Items without a name of their own take the array's (as Swagger UI shows them).
        let item_schema = resolved.get("items").cloned().unwrap_or(Value::Bool(true));
        let item_name = item_name(schemas, &item_schema, name);
        children.extend(
            items
                .iter()
                .map(|item| (item_schema.clone(), item_name.clone(), item)),
        );
    } else if let Value::Object(object) = value {
        let view = object_view(schemas, schema);
        let properties = view.get("properties").and_then(Value::as_object)?;
        for (property_name, property) in properties {
            let Some(field) = object.get(property_name) else {
                continue;
            };
            let xml = xml_of(schemas, property);
            let xml_name = xml_text(xml, "name").unwrap_or(property_name);
            if !is_name(xml_name) {
                return None;
            }
            if xml_flag(xml, "attribute") {
                start.push_attribute((xml_name, scalar_text(field)?.as_str()));
                continue;
            }
            let property_resolved = schemas.resolve(property);
            match (field, types(property_resolved) == ["array"]) {
                (Value::Array(items), true) => {
                    let items_schema = property_resolved
                        .get("items")
                        .cloned()
                        .unwrap_or(Value::Bool(true));
                    let each = item_name(schemas, &items_schema, xml_name);
                    match xml_flag(xml, "wrapped") {
                        // The wrapper is an array element of its own: its items inside.
                        true => children.push((property.clone(), xml_name.to_owned(), field)),
                        false => children.extend(
                            items
                                .iter()
                                .map(|item| (items_schema.clone(), each.clone(), item)),
                        ),
                    }
                }
                _ => children.push((property.clone(), xml_name.to_owned(), field)),
            }
        }
    } else {
        text = Some(scalar_text(value)?);
    }
    if children.is_empty() && text.as_deref().is_none_or(str::is_empty) {
        return writer.write_event(Event::Empty(start)).ok();
    }
    writer.write_event(Event::Start(start)).ok()?;
    if let Some(text) = &text {
        writer.write_event(Event::Text(BytesText::new(text))).ok()?;
    }
    for (child_schema, child_name, child) in children {
        write_at(
            writer,
            schemas,
            &child_schema,
            &child_name,
            child,
            depth + 1,
        )?;
    }
    writer.write_event(Event::End(BytesEnd::new(name))).ok()
}

/// The element name of an array's items: their `xml.name`, else `fallback`.
fn item_name(schemas: &Schemas, items: &Value, fallback: &str) -> String {
    xml_text(xml_of(schemas, items), "name")
        .unwrap_or(fallback)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::Direction;

    #[test]
    fn reads_xml_as_the_schema_binds_it() {
        let api = crate::parse(
            r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /pet:
    post:
      requestBody: {content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}, application/xml: {schema: {$ref: "#/components/schemas/Pet"}}}}
      responses: {"200": {description: ok}}
components:
  schemas:
    Tag: {type: object, xml: {name: tag}, properties: {id: {type: integer}, name: {type: string}}}
    Pet:
      type: object
      xml: {name: pet}
      required: [name, photoUrls]
      properties:
        id: {type: integer, format: int64, xml: {attribute: true}}
        name: {type: string}
        available: {type: boolean}
        photoUrls: {type: array, xml: {wrapped: true}, items: {type: string, xml: {name: photoUrl}}}
        tags: {type: array, items: {$ref: "#/components/schemas/Tag"}}
"##,
        )
        .unwrap();
        let schema = &api.operations[0].body.as_ref().unwrap().schema;
        let body = br#"<?xml version="1.0"?><pet id="10"><name>rex &amp; co</name>
            <available>true</available><photoUrls><photoUrl>a</photoUrl><photoUrl>b</photoUrl></photoUrls>
            <tag><id>1</id><name>good</name></tag><unknown>x</unknown></pet>"#;
        let value = read(&api.schemas, schema, &parse(body).unwrap());
        assert_eq!(
            value,
            json!({"id": 10, "name": "rex & co", "available": true, "photoUrls": ["a", "b"],
                "tags": [{"id": 1, "name": "good"}]})
        );
        assert!(api.schemas.is_valid(schema, Direction::Request, &value));
        // An empty boolean is not one: the body is invalid, as JAXB refuses it.
        let body = br#"<pet><name>rex</name><available></available><photoUrls/></pet>"#;
        let value = read(&api.schemas, schema, &parse(body).unwrap());
        assert!(!api.schemas.is_valid(schema, Direction::Request, &value));
        assert!(matches!(parse(b"<pet><name>"), Err(XmlError::Malformed(_))));
        assert!(matches!(parse(b""), Err(XmlError::Empty)));
        assert!(matches!(
            parse(b"<order>null</order><order>null</order>"),
            Err(XmlError::Malformed(_))
        ));
        assert!(parse(b"<order/>\n<!-- done -->\n").is_ok());
        let text = read(&api.schemas, schema, &parse(b"<pet>true</pet>").unwrap());
        assert!(!api.schemas.is_valid(schema, Direction::Request, &text));
        // Written by the same rules, a value reads back as itself.
        let pet = json!({"id": 10, "name": "rex & <co>", "available": true,
            "photoUrls": ["a", "b"], "tags": [{"id": 1, "name": "good"}, {"id": 2}]});
        let bytes = write(&api.schemas, schema, &pet).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(r#"<pet id="10">"#), "{text}");
        assert!(text.contains("<photoUrls><photoUrl>a</photoUrl>"), "{text}");
        assert_eq!(read(&api.schemas, schema, &parse(&bytes).unwrap()), pet);
        // Text XML cannot carry is not written.
        let bell = json!({"name": "a\u{7}b", "photoUrls": []});
        assert!(write(&api.schemas, schema, &bell).is_none());
    }
}
