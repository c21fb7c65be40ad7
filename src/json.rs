//! The OData 4.01 JSON batch view of decoded batches (feature `json`).
//!
//! [`BatchRequest`] and [`BatchResponse`] implement `serde::Serialize` as the JSON batch format of OData 4.01
//! Part 1 §11.7.7 (`{"requests":[...]}` / `{"responses":[...]}`):
//!
//! - `id` is the Content-ID, absent when there is none;
//! - `atomicityGroup` is present exactly for the items of one changeset, and shared by them (`changeset1`,
//!   `changeset2`, ... in order, made unique against the ids);
//! - `dependsOn` (requests) names the item a `$id` URL refers to, or its atomicity group when that item is in
//!   another group, as the format requires;
//! - `headers` are the embedded HTTP headers only, names in lower case; repeated headers are joined with
//!   `", "`;
//! - `body` is the JSON value itself for `application/json` and `*/*+json` (kept byte for byte, not
//!   re-serialised), a string for text (`text/*`, XML, form data) that is valid UTF-8, and base64url without
//!   padding otherwise; absent when the body is empty.
//!
//! # Example
//!
//! ```
//! use odata_batch::BatchResponse;
//!
//! let body = "--b\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\n\
//!     HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n\r\n{\"ID\":7}\r\n--b--\r\n";
//! let batch = BatchResponse::decode("multipart/mixed; boundary=b", body).unwrap();
//! assert_eq!(
//!     serde_json::to_string(&batch).unwrap(),
//!     r#"{"responses":[{"id":"1","status":201,"headers":{"content-type":"application/json"},"body":{"ID":7}}]}"#
//! );
//! ```

use base64::Engine as _;
use http::HeaderMap;
use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::grammar;
use crate::model::{text, BatchRequest, BatchResponse};
use crate::reference::content_id_reference;

/// How a body is written in JSON.
enum JsonBody {
    Json(Box<RawValue>),
    Text(String),
    Base64(String),
}

impl Serialize for JsonBody {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Json(raw) => raw.serialize(s),
            Self::Text(t) | Self::Base64(t) => s.serialize_str(t),
        }
    }
}

/// Whether a media type is written as a JSON value.
pub(crate) fn is_json_media_type(type_: &[u8], subtype: &[u8]) -> bool {
    type_.eq_ignore_ascii_case(b"application")
        && (subtype.eq_ignore_ascii_case(b"json") || ends_with_ignore_case(subtype, b"+json"))
}

fn ends_with_ignore_case(s: &[u8], suffix: &[u8]) -> bool {
    s.len() >= suffix.len() && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Whether a media type is text, written as a string when it is UTF-8.
pub(crate) fn is_text_media_type(type_: &[u8], subtype: &[u8]) -> bool {
    type_.eq_ignore_ascii_case(b"text")
        || subtype.eq_ignore_ascii_case(b"xml")
        || ends_with_ignore_case(subtype, b"+xml")
        || subtype.eq_ignore_ascii_case(b"x-www-form-urlencoded")
}

fn json_body(headers: &HeaderMap, body: &[u8]) -> Option<JsonBody> {
    if body.is_empty() {
        return None;
    }
    let media_type = headers.get(http::header::CONTENT_TYPE).map(|v| v.as_bytes());
    let parsed = media_type.and_then(grammar::media_type);
    let (json, text_type) = match &parsed {
        Some(m) => (
            is_json_media_type(m.type_, m.subtype),
            is_text_media_type(m.type_, m.subtype),
        ),
        None => (false, false),
    };
    if let Ok(utf8) = std::str::from_utf8(body) {
        if json {
            if let Ok(raw) = RawValue::from_string(utf8.to_owned()) {
                return Some(JsonBody::Json(raw));
            }
        }
        if json || text_type {
            return Some(JsonBody::Text(utf8.to_owned()));
        }
    }
    Some(JsonBody::Base64(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body),
    ))
}

/// Headers as a JSON object: lower-case names, repeated ones joined with ", ".
struct JsonHeaders<'a>(&'a HeaderMap);

impl Serialize for JsonHeaders<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.keys_len()))?;
        for name in self.0.keys() {
            let joined = self
                .0
                .get_all(name)
                .iter()
                .map(|v| text(v.as_bytes()))
                .collect::<Vec<_>>()
                .join(", ");
            map.serialize_entry(name.as_str(), &joined)?;
        }
        map.end()
    }
}

/// Atomicity group names for changeset indexes, unique against the ids.
fn group_names(count: usize, ids: &[Option<&str>]) -> Vec<String> {
    (0..count)
        .map(|i| {
            let mut name = format!("changeset{}", i + 1);
            while ids.contains(&Some(name.as_str())) {
                name.push('_');
            }
            name
        })
        .collect()
}

struct ResponseList<'a, T> {
    list: &'a [T],
    groups: &'a [String],
}

impl Serialize for ResponseList<'_, crate::model::ResponseItem> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.list.len()))?;
        for r in self.list {
            seq.serialize_element(&ResponseJson {
                item: r,
                group: r.changeset.map(|c| self.groups[c].as_str()),
            })?;
        }
        seq.end()
    }
}

struct ResponseJson<'a> {
    item: &'a crate::model::ResponseItem,
    group: Option<&'a str>,
}

impl Serialize for ResponseJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.item;
        let mut st = s.serialize_struct("response", 5)?;
        if let Some(id) = &r.content_id {
            st.serialize_field("id", id)?;
        }
        if let Some(g) = self.group {
            st.serialize_field("atomicityGroup", g)?;
        }
        st.serialize_field("status", &r.status.as_u16())?;
        st.serialize_field("headers", &JsonHeaders(&r.headers))?;
        if let Some(body) = json_body(&r.headers, &r.body) {
            st.serialize_field("body", &body)?;
        }
        st.end()
    }
}

impl Serialize for BatchResponse {
    /// Serialises as `{"responses":[...]}` (see the [module docs](self)).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ids: Vec<Option<&str>> = self.items.iter().map(|i| i.content_id.as_deref()).collect();
        let groups = group_names(self.changesets, &ids);
        let mut st = s.serialize_struct("BatchResponse", 1)?;
        st.serialize_field(
            "responses",
            &ResponseList {
                list: &self.items,
                groups: &groups,
            },
        )?;
        st.end()
    }
}

struct RequestJson<'a> {
    batch: &'a BatchRequest,
    index: usize,
    groups: &'a [String],
}

impl Serialize for RequestJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = &self.batch.items[self.index];
        let group = r.changeset.map(|c| self.groups[c].as_str());
        let mut st = s.serialize_struct("request", 7)?;
        if let Some(id) = &r.content_id {
            st.serialize_field("id", id)?;
        }
        if let Some(g) = group {
            st.serialize_field("atomicityGroup", g)?;
        }
        // A `$id` URL depends on that earlier item, or on its group when the group is another one.
        if let Some(reference) = content_id_reference(r.url.as_bytes()) {
            let earlier = self.batch.items[..self.index]
                .iter()
                .rev()
                .find(|e| e.content_id.as_deref().map(str::as_bytes) == Some(reference));
            if let Some(e) = earlier {
                let dep = match e.changeset {
                    Some(c) if e.changeset != r.changeset => self.groups[c].as_str(),
                    _ => e.content_id.as_deref().unwrap_or_default(),
                };
                st.serialize_field("dependsOn", &[dep])?;
            }
        }
        st.serialize_field("method", r.method.as_str())?;
        st.serialize_field("url", &r.url)?;
        st.serialize_field("headers", &JsonHeaders(&r.headers))?;
        if let Some(body) = json_body(&r.headers, &r.body) {
            st.serialize_field("body", &body)?;
        }
        st.end()
    }
}

struct Requests<'a> {
    batch: &'a BatchRequest,
    groups: &'a [String],
}

impl Serialize for Requests<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.batch.items.len()))?;
        for index in 0..self.batch.items.len() {
            seq.serialize_element(&RequestJson {
                batch: self.batch,
                index,
                groups: self.groups,
            })?;
        }
        seq.end()
    }
}

impl Serialize for BatchRequest {
    /// Serialises as `{"requests":[...]}` (see the [module docs](self)).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ids: Vec<Option<&str>> = self.items.iter().map(|i| i.content_id.as_deref()).collect();
        let groups = group_names(self.changesets, &ids);
        let mut st = s.serialize_struct("BatchRequest", 1)?;
        st.serialize_field(
            "requests",
            &Requests {
                batch: self,
                groups: &groups,
            },
        )?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_type_classes() {
        assert!(is_json_media_type(b"application", b"json"));
        assert!(is_json_media_type(b"Application", b"problem+JSON"));
        assert!(!is_json_media_type(b"text", b"json"));
        assert!(is_text_media_type(b"text", b"plain"));
        assert!(is_text_media_type(b"application", b"atom+xml"));
        assert!(!is_text_media_type(b"application", b"octet-stream"));
    }

    #[test]
    fn group_names_avoid_ids() {
        assert_eq!(
            group_names(2, &[Some("changeset1"), None]),
            vec!["changeset1_", "changeset2"]
        );
    }
}

/// Why a JSON batch document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonErrorKind {
    /// Not valid JSON, or not the shape of a batch document (the message says where).
    Syntax(String),
    /// A method that is not an HTTP token.
    InvalidMethod,
    /// A header name or value that HTTP does not allow.
    InvalidHeader,
    /// A body that does not fit its media type (a non-string for text, invalid base64url for binary).
    InvalidBody,
    /// The members of an atomicity group are not adjacent.
    GroupNotAdjacent,
}

/// A JSON batch document that could not be read, naming the request (0-based) where it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    kind: JsonErrorKind,
    item: Option<usize>,
}

impl JsonError {
    /// What is wrong.
    pub fn kind(&self) -> &JsonErrorKind {
        &self.kind
    }

    /// The request it concerns, if one.
    pub fn item(&self) -> Option<usize> {
        self.item
    }
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(i) = self.item {
            write!(f, "request {i}: ")?;
        }
        match &self.kind {
            JsonErrorKind::Syntax(m) => write!(f, "invalid JSON batch: {m}"),
            JsonErrorKind::InvalidMethod => f.write_str("method is not an HTTP token"),
            JsonErrorKind::InvalidHeader => f.write_str("header name or value not allowed in HTTP"),
            JsonErrorKind::InvalidBody => f.write_str("body does not fit its media type"),
            JsonErrorKind::GroupNotAdjacent => f.write_str("members of an atomicity group are not adjacent"),
        }
    }
}

impl std::error::Error for JsonError {}

#[derive(serde::Deserialize)]
struct RequestDocument<'a> {
    #[serde(borrow)]
    requests: Vec<JsonRequest<'a>>,
}

#[derive(serde::Deserialize)]
struct JsonRequest<'a> {
    #[serde(default)]
    id: Option<String>,
    #[serde(default, rename = "atomicityGroup")]
    atomicity_group: Option<String>,
    method: String,
    url: String,
    #[serde(default)]
    headers: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, borrow)]
    body: Option<&'a RawValue>,
}

impl BatchRequest {
    /// Reads an OData 4.01 JSON batch request (`{"requests":[...]}`): `id` becomes the Content-ID, adjacent
    /// members of one `atomicityGroup` a changeset, `method` is read in any case. Bodies: the JSON text itself
    /// for `application/json` (and `+json`), the string for text, base64url (padding optional) otherwise.
    ///
    /// # Errors
    ///
    /// [`JsonError`], naming the request.
    ///
    /// # Example
    ///
    /// ```
    /// use odata_batch::BatchRequest;
    ///
    /// let json = r#"{"requests":[
    ///   {"id":"1","atomicityGroup":"g","method":"post","url":"People",
    ///    "headers":{"content-type":"application/json"},"body":{"Name":"A"}},
    ///   {"id":"2","atomicityGroup":"g","dependsOn":["1"],"method":"patch","url":"$1",
    ///    "headers":{"content-type":"application/json"},"body":{"Age":3}}]}"#;
    /// let batch = BatchRequest::from_json(json.as_bytes()).unwrap();
    /// assert_eq!(batch.changesets, 1);
    /// assert_eq!(&batch.items[0].body[..], br#"{"Name":"A"}"#);
    /// assert_eq!(batch.items[1].method, http::Method::PATCH);
    /// ```
    pub fn from_json(document: &[u8]) -> Result<Self, JsonError> {
        let doc: RequestDocument<'_> = serde_json::from_slice(document).map_err(|e| JsonError {
            kind: JsonErrorKind::Syntax(e.to_string()),
            item: None,
        })?;
        let mut batch = Self::new();
        let mut groups: Vec<String> = Vec::new();
        let mut last_group: Option<String> = None;
        for (i, r) in doc.requests.into_iter().enumerate() {
            let err = |kind| JsonError { kind, item: Some(i) };
            let method = http::Method::from_bytes(r.method.to_ascii_uppercase().as_bytes())
                .map_err(|_| err(JsonErrorKind::InvalidMethod))?;
            let mut headers = HeaderMap::new();
            for (name, value) in r.headers.iter().flatten() {
                let value = match value {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => continue,
                    other => other.to_string(),
                };
                let name =
                    http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| err(JsonErrorKind::InvalidHeader))?;
                let value = http::HeaderValue::from_str(&value).map_err(|_| err(JsonErrorKind::InvalidHeader))?;
                headers.append(name, value);
            }
            let body = match r.body {
                None => bytes::Bytes::new(),
                Some(raw) => body_from_json(&headers, raw).ok_or_else(|| err(JsonErrorKind::InvalidBody))?,
            };
            let changeset = match &r.atomicity_group {
                None => None,
                Some(g) if last_group.as_ref() == Some(g) => Some(groups.len() - 1),
                Some(g) if groups.contains(g) => return Err(err(JsonErrorKind::GroupNotAdjacent)),
                Some(g) => {
                    groups.push(g.clone());
                    Some(groups.len() - 1)
                }
            };
            last_group = r.atomicity_group;
            let mut item = crate::RequestItem::new(method, r.url).with_body(body);
            item.headers = headers;
            item.content_id = r.id;
            item.changeset = changeset;
            batch.items.push(item);
        }
        batch.changesets = groups.len();
        Ok(batch)
    }
}

/// A JSON `body` member as the bytes it stands for; `None` when it does not fit the media type.
fn body_from_json(headers: &HeaderMap, raw: &RawValue) -> Option<bytes::Bytes> {
    let text = raw.get();
    if text == "null" {
        return Some(bytes::Bytes::new());
    }
    let media_type = headers.get(http::header::CONTENT_TYPE).map(|v| v.as_bytes());
    let parsed = media_type.and_then(grammar::media_type);
    let (json, text_type) = match &parsed {
        Some(m) => (
            is_json_media_type(m.type_, m.subtype),
            is_text_media_type(m.type_, m.subtype),
        ),
        None => (false, false),
    };
    if json {
        return Some(bytes::Bytes::copy_from_slice(text.as_bytes()));
    }
    let string: String = serde_json::from_str(text).ok()?;
    if text_type {
        return Some(bytes::Bytes::from(string));
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(string.as_bytes()).ok().map(bytes::Bytes::from)
}
