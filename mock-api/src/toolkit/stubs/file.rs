//! Stubs read from their JSON text (each response's body kept as written, so it is sent in
//! the client's key order) or from a file of them.

use serde::Deserialize;
use uuid::Uuid;

use super::compiled::Stub;
use super::def::StubDef;

/// What [`with_written_bodies`] reads of a stub: only its responses' bodies, as text.
#[derive(Deserialize)]
pub(super) struct Written<'a> {
    #[serde(borrow, default)]
    pub(super) response: Option<WrittenResponse<'a>>,
    #[serde(borrow, default)]
    pub(super) responses: Option<Vec<WrittenResponse<'a>>>,
}

#[derive(Deserialize)]
pub(super) struct WrittenResponse<'a> {
    #[serde(borrow, default)]
    pub(super) body: Option<&'a serde_json::value::RawValue>,
}

/// A stub parsed from its JSON text, each response's body kept as written, so that it is
/// sent in the client's key order.
pub fn from_text(text: &str) -> Result<StubDef, serde_json::Error> {
    let mut def: StubDef = serde_json::from_str(text)?;
    with_written_bodies(&mut def, text);
    Ok(def)
}

/// Keeps, beside each response's body, its JSON text as `text` writes it.
pub fn with_written_bodies(def: &mut StubDef, text: &str) {
    let Ok(written) = serde_json::from_str::<Written<'_>>(text) else {
        return;
    };
    let pairs = def.response.iter_mut().zip(written.response).chain(
        def.responses
            .iter_mut()
            .flatten()
            .zip(written.responses.into_iter().flatten()),
    );
    for (response, written) in pairs {
        response.written = written.body.map(|raw| raw.get().to_owned());
    }
}

/// Reads stubs from a JSON or YAML file: an array of stubs, or an object with a `stubs` array.
pub fn load(path: &std::path::Path) -> Result<Vec<StubDef>, crate::core::files::FileError> {
    crate::core::files::read_file(path, parse_file)
}

pub fn parse_file(text: &str) -> Result<Vec<StubDef>, String> {
    crate::core::files::ordered_records(text, "stubs")?
        .into_iter()
        .enumerate()
        .map(|(index, stub)| {
            let def = from_text(&stub).map_err(|e| format!("stub {}: {e}", index + 1))?;
            // Compiled once here for the error message; the server compiles its own copy.
            Stub::compile(def.clone(), 0, Uuid::nil)
                .map_err(|e| format!("stub {}: {e}", index + 1))?;
            Ok(def)
        })
        .collect()
}
