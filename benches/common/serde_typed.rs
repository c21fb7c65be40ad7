//! A JSON batch response as a user would type it for serde_json, with bodies as `RawValue` (no copy, no
//! parse into values): the baseline the JSON reader is measured against, in `benches/json.rs` and
//! `examples/profile_json.rs`.

/// The document.
#[derive(serde::Deserialize)]
pub(crate) struct TypedResponses<'a> {
    #[serde(borrow)]
    pub(crate) responses: Vec<TypedResponse<'a>>,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)] // read to be measured, not used
pub(crate) struct TypedResponse<'a> {
    id: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "atomicityGroup")]
    atomicity_group: Option<std::borrow::Cow<'a, str>>,
    pub(crate) status: u16,
    #[serde(borrow, default)]
    headers: std::collections::HashMap<std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) body: Option<&'a serde_json::value::RawValue>,
}
