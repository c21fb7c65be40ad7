//! The OData 4.01 JSON batch format (feature `json`): reading, writing, validating and converting
//! `{"requests":[...]}` and `{"responses":[...]}` documents, on the same model as multipart.
//!
//! - **Reading**: [`BatchRequest::from_json`] / [`BatchResponse::from_json`] for whole documents,
//!   [`JsonBatchReader`] for documents that arrive in pieces (also a `tokio_util` `Decoder` with feature
//!   `tokio`). Every rule of the format is checked item by item ([`JsonErrorKind`] lists them), errors name the
//!   item and the byte offset, and a document cut off before its closing brackets is an error, never a
//!   shorter batch.
//! - **Writing**: [`BatchRequest::to_json`] / [`BatchResponse::to_json`] check the batch against the format and
//!   write it compactly; [`BatchRequest::encode_json`] adds the outer headers. `BatchRequest` and
//!   `BatchResponse` also implement `serde::Serialize` (the same document, unchecked), which is how the CLI
//!   shows a multipart batch as JSON.
//! - **Converting**: decode multipart, write JSON, or the other way round. Changesets are atomicity groups
//!   (named `changeset1`, `changeset2`, ... unless an id already uses the name), Content-IDs are ids (a request
//!   without one gets the smallest unused number), `$n` references are kept and the `dependsOn` they need is
//!   written. What multipart cannot carry is refused when writing multipart
//!   ([`Rule::ConditionNotExpressible`](crate::Rule::ConditionNotExpressible),
//!   [`Rule::DependencyNotExpressible`](crate::Rule::DependencyNotExpressible)).
//!   The formats' continue-on-error defaults differ; see [`BatchFormat`](crate::BatchFormat).
//!
//! How items are written:
//!
//! - `id` is the Content-ID; `atomicityGroup` is present exactly for the items of one changeset;
//! - `dependsOn` (requests) lists the model's [`depends_on`](crate::RequestItem::depends_on), plus the request
//!   or group a `$id` URL needs; `if` is the model's [`condition`](crate::RequestItem::condition);
//! - `headers` are the embedded HTTP headers, names in lower case; repeated headers are joined with `", "`
//!   (JSON has one value per name); reading, `null` gives an empty value;
//! - `body` by media type: the JSON value itself for `application/json` and `*/*+json` (byte for byte, not
//!   re-serialised; white space around the value is left out), a string for text (`text/*`, XML, form data),
//!   base64url without padding otherwise; absent when the body is empty. A JSON body that is the value
//!   `null` cannot be told from no body and is refused by `to_json`. Reading, a body without a
//!   `Content-Type` is JSON unless it is a string (then base64url), and standard base64 is accepted only
//!   with [`JsonReadOptions::standard_base64`].
//! - top-level annotations ([`BatchRequest::annotations`](crate::BatchRequest::annotations)) follow the item
//!   array, then `@nextLink` ([`BatchResponse::next_link`](crate::BatchResponse::next_link)).
//!
//! Reading is lenient in two places real services need: any method token is accepted (the format lists
//! `delete`, `get`, `patch`, `post`, `put`), and a `url` is kept as given (ODL accepts URLs that end in
//! ` HTTP/1.1`; writing such a URL to multipart is refused).
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

use http::HeaderMap;
use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct};

use crate::event::MessageKind;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::grammar;
use crate::model::{BatchRequest, BatchResponse};
use crate::rules::content_id_reference;

mod encode;
mod read;
mod scan;

pub use read::{JsonBatchReader, JsonError, JsonErrorKind, JsonEvent, JsonReadOptions};

/// How a body is written in JSON, borrowed from the model.
enum JsonBody<'a> {
    Json(&'a RawValue),
    Text(&'a str),
    Base64(&'a [u8]),
}

impl Serialize for JsonBody<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Json(raw) => raw.serialize(s),
            Self::Text(t) => s.serialize_str(t),
            Self::Base64(b) => s.collect_str(&base64::display::Base64Display::new(
                b,
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            )),
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

/// How `body` is written, and whether reading it back gives the same bytes (a JSON media type holding a JSON
/// value other than `null`, a text type holding UTF-8, anything else as base64url). `None` for no body.
fn json_body<'a>(headers: &HeaderMap, body: &'a [u8]) -> Option<(JsonBody<'a>, bool)> {
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
            // White space around the value does not survive a JSON document: it is left out.
            let trimmed = utf8.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
            if let Ok(raw) = serde_json::from_str::<&RawValue>(trimmed) {
                // `null` is no body in the JSON format: it cannot be told from none.
                return Some((JsonBody::Json(raw), raw.get() != "null"));
            }
        }
        if json || text_type {
            return Some((JsonBody::Text(utf8), text_type));
        }
    }
    Some((JsonBody::Base64(body), !json && !text_type))
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
                .map(|v| String::from_utf8_lossy(v.as_bytes()))
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

/// Top-level annotations, with their JSON text written as is.
fn serialize_annotations<M: SerializeMap>(map: &mut M, annotations: &[(String, String)]) -> Result<(), M::Error> {
    for (name, value) in annotations {
        let raw = RawValue::from_string(value.clone()).map_err(serde::ser::Error::custom)?;
        map.serialize_entry(name, &raw)?;
    }
    Ok(())
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
        if let Some((body, _)) = json_body(&r.headers, &r.body) {
            st.serialize_field("body", &body)?;
        }
        st.end()
    }
}

impl Serialize for BatchResponse {
    /// Serialises as `{"responses":[...]}` (see the [module docs](self)), then the annotations and
    /// `@nextLink`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        check_items(response_items(self)).map_err(serde::ser::Error::custom)?;
        check_changesets(self.changesets, self.items.iter().map(|i| i.changeset)).map_err(serde::ser::Error::custom)?;
        let ids: Vec<Option<&str>> = self.items.iter().map(|i| i.content_id.as_deref()).collect();
        let groups = group_names(self.changesets, &ids);
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(
            "responses",
            &ResponseList {
                list: &self.items,
                groups: &groups,
            },
        )?;
        serialize_annotations(&mut map, &self.annotations)?;
        if let Some(link) = &self.next_link {
            map.serialize_entry("@nextLink", link)?;
        }
        map.end()
    }
}

/// The ids of a request batch: each Content-ID, or for a request without one the smallest number not used.
fn request_ids(batch: &BatchRequest) -> Vec<std::borrow::Cow<'_, str>> {
    let used: std::collections::HashSet<&str> = batch.items.iter().filter_map(|i| i.content_id.as_deref()).collect();
    let mut next = 1usize;
    batch
        .items
        .iter()
        .map(|item| match &item.content_id {
            Some(id) => std::borrow::Cow::Borrowed(id.as_str()),
            None => loop {
                let candidate = next.to_string();
                next += 1;
                if !used.contains(candidate.as_str()) {
                    break std::borrow::Cow::Owned(candidate);
                }
            },
        })
        .collect()
}

/// The `dependsOn` names of request `index`: its own dependencies, then the one its `$id` URL implies when
/// that is not already listed (the earlier request, or its group when that is another one).
fn depends_on_names<'a>(
    batch: &'a BatchRequest,
    index: usize,
    ids: &'a [std::borrow::Cow<'a, str>],
    groups: &'a [String],
) -> Vec<&'a str> {
    let r = &batch.items[index];
    let mut names: Vec<&str> = r
        .depends_on
        .iter()
        .map(|d| match d {
            crate::Dependency::Request(id) => id.as_str(),
            crate::Dependency::Changeset(c) => groups.get(*c).map_or("", String::as_str),
        })
        .collect();
    if let Some(reference) = content_id_reference(r.url.as_bytes()) {
        let earlier = (0..index).rev().find(|&e| ids[e].as_bytes() == reference);
        if let Some(e) = earlier {
            let implied = match batch.items[e].changeset {
                Some(c) if batch.items[e].changeset != r.changeset => groups[c].as_str(),
                _ => &*ids[e],
            };
            let group_of_earlier = batch.items[e].changeset.map(|c| groups[c].as_str());
            if !names.contains(&implied) && !(group_of_earlier.is_some_and(|g| names.contains(&g))) {
                names.push(implied);
            }
        }
    }
    names
}

struct RequestJson<'a> {
    batch: &'a BatchRequest,
    index: usize,
    ids: &'a [std::borrow::Cow<'a, str>],
    groups: &'a [String],
}

impl Serialize for RequestJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = &self.batch.items[self.index];
        let group = r.changeset.map(|c| self.groups[c].as_str());
        let mut st = s.serialize_struct("request", 8)?;
        st.serialize_field("id", &self.ids[self.index])?;
        if let Some(g) = group {
            st.serialize_field("atomicityGroup", g)?;
        }
        let depends = depends_on_names(self.batch, self.index, self.ids, self.groups);
        if !depends.is_empty() {
            st.serialize_field("dependsOn", &depends)?;
        }
        if let Some(condition) = &r.condition {
            st.serialize_field("if", condition)?;
        }
        st.serialize_field("method", r.method.as_str())?;
        st.serialize_field("url", &r.url)?;
        st.serialize_field("headers", &JsonHeaders(&r.headers))?;
        if let Some((body, _)) = json_body(&r.headers, &r.body) {
            st.serialize_field("body", &body)?;
        }
        st.end()
    }
}

struct Requests<'a> {
    batch: &'a BatchRequest,
    ids: &'a [std::borrow::Cow<'a, str>],
    groups: &'a [String],
}

impl Serialize for Requests<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.batch.items.len()))?;
        for index in 0..self.batch.items.len() {
            seq.serialize_element(&RequestJson {
                batch: self.batch,
                index,
                ids: self.ids,
                groups: self.groups,
            })?;
        }
        seq.end()
    }
}

impl Serialize for BatchRequest {
    /// Serialises as `{"requests":[...]}` (see the [module docs](self)), then the annotations.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        check_items(request_items(self)).map_err(serde::ser::Error::custom)?;
        check_changesets(self.changesets, self.items.iter().map(|i| i.changeset)).map_err(serde::ser::Error::custom)?;
        let ids = request_ids(self);
        let id_refs: Vec<Option<&str>> = ids.iter().map(|i| Some(&**i)).collect();
        let groups = group_names(self.changesets, &id_refs);
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(
            "requests",
            &Requests {
                batch: self,
                ids: &ids,
                groups: &groups,
            },
        )?;
        serialize_annotations(&mut map, &self.annotations)?;
        map.end()
    }
}

/// The one home of the rules that decide whether an item survives the trip through JSON, used by `to_json`
/// and by the `Serialize` view alike: JSON media types hold JSON (not `null`, not nested deeper than the
/// reader admits), text is UTF-8, header values are UTF-8 (JSON strings cannot carry other bytes), and
/// request methods are upper case (the format's method names are case-insensitive, so a lower-case method
/// would come back upper-case).
fn check_items<'a>(
    items: impl Iterator<Item = (Option<&'a http::Method>, &'a HeaderMap, &'a [u8])>,
) -> Result<(), JsonError> {
    for (i, (method, headers, body)) in items.enumerate() {
        let fail = |kind| Err(JsonError::new(kind, Some(i), None));
        if method.is_some_and(|m| m.as_str().bytes().any(|b| b.is_ascii_lowercase())) {
            return fail(JsonErrorKind::InvalidMethod);
        }
        for (name, value) in headers {
            if std::str::from_utf8(value.as_bytes()).is_err() {
                return fail(JsonErrorKind::InvalidHeader(name.as_str().to_owned()));
            }
        }
        match json_body(headers, body) {
            Some((_, false)) => return fail(JsonErrorKind::InvalidBody),
            Some((JsonBody::Json(raw), true)) if !scan::fits_in_item(raw.get().as_bytes()) => {
                return fail(JsonErrorKind::NestingTooDeep {
                    max: scan::MAX_DEPTH - 1,
                })
            }
            _ => {}
        }
    }
    Ok(())
}

/// Every changeset of the model must have a member: JSON has atomicity groups only as members name them, so
/// an empty changeset would vanish.
fn check_changesets(changesets: usize, members: impl Iterator<Item = Option<usize>>) -> Result<(), JsonError> {
    let mut used = vec![false; changesets];
    for c in members.flatten() {
        if let Some(u) = used.get_mut(c) {
            *u = true;
        }
    }
    match used.iter().position(|u| !u) {
        Some(empty) => Err(JsonError::new(JsonErrorKind::EmptyChangeset(empty), None, None)),
        None => Ok(()),
    }
}

fn request_items(batch: &BatchRequest) -> impl Iterator<Item = (Option<&http::Method>, &HeaderMap, &[u8])> {
    batch.items.iter().map(|i| (Some(&i.method), &i.headers, &i.body[..]))
}

fn response_items(batch: &BatchResponse) -> impl Iterator<Item = (Option<&http::Method>, &HeaderMap, &[u8])> {
    batch.items.iter().map(|i| (None, &i.headers, &i.body[..]))
}

impl BatchRequest {
    /// Writes the batch as an OData 4.01 JSON batch request, after checking that it is one: ids (requests
    /// without a Content-ID get the smallest unused number) are `1*unreserved` and unique, `dependsOn` names
    /// earlier requests or groups, `$id` references are covered by `dependsOn` (added when missing), no body
    /// on `GET`/`DELETE`, JSON bodies are JSON and text bodies UTF-8. Changesets become atomicity groups named
    /// `changeset1`, `changeset2`, ...; repeated headers are joined with `", "`.
    ///
    /// Reading the result with [`from_json`](Self::from_json) gives this batch back (with the generated ids),
    /// except for what the JSON format has no place for, which is not kept: the HTTP version of the embedded
    /// request line, and white space around a JSON body (a JSON value has none). Everything else comes back
    /// exactly, or `to_json` refuses the batch naming the request: a body that does not fit its media type
    /// or is nested deeper than the reader admits, a header value that is not UTF-8, a method with lower-case
    /// letters (the format's method names are case-insensitive).
    ///
    /// # Errors
    ///
    /// [`JsonError`] naming the rule and the request.
    ///
    /// # Example
    ///
    /// ```
    /// use odata_batch::BatchRequest;
    ///
    /// let mut batch = BatchRequest::builder();
    /// let mut cs = batch.changeset();
    /// let person = cs.post("People").header("Content-Type", "application/json").body(r#"{"Name":"A"}"#).reference();
    /// cs.patch(person).header("Content-Type", "application/json").body(r#"{"Age":3}"#);
    /// let batch = batch.build().unwrap();
    /// let json = batch.to_json().unwrap();
    /// assert_eq!(
    ///     std::str::from_utf8(&json).unwrap(),
    ///     r#"{"requests":[{"id":"1","atomicityGroup":"changeset1","method":"POST","url":"People","headers":{"content-type":"application/json"},"body":{"Name":"A"}},{"id":"2","atomicityGroup":"changeset1","dependsOn":["1"],"method":"PATCH","url":"$1","headers":{"content-type":"application/json"},"body":{"Age":3}}]}"#
    /// );
    /// assert_eq!(BatchRequest::from_json(&json).unwrap(), batch);
    /// ```
    pub fn to_json(&self) -> Result<bytes::Bytes, JsonError> {
        check_items(request_items(self))?;
        check_changesets(self.changesets, self.items.iter().map(|i| i.changeset))?;
        let text =
            serde_json::to_vec(self).map_err(|e| JsonError::new(JsonErrorKind::Syntax(e.to_string()), None, None))?;
        // The rules are checked on what was written, by the reader that will read it.
        let mut options = JsonReadOptions::new();
        options.validate(true);
        read::check_document(MessageKind::Request, &options, &text)?;
        Ok(bytes::Bytes::from(text))
    }
}

impl BatchResponse {
    /// Writes the batch as an OData 4.01 JSON batch response (see the [module docs](self)), after checking
    /// that bodies survive the trip (JSON bodies are JSON not nested deeper than the reader admits, text is
    /// UTF-8), that header values are UTF-8 and that ids are `1*unreserved` and unique.
    ///
    /// Not kept, because the format has no place for them: the HTTP version and reason phrase of the status
    /// line, and white space around a JSON body; a header given several times is one member, its values
    /// joined with `", "`. Everything else reads back exactly with
    /// [`from_json`](Self::from_json).
    ///
    /// # Errors
    ///
    /// [`JsonError`] naming the rule and the response.
    ///
    /// # Example
    ///
    /// ```
    /// use odata_batch::BatchResponse;
    ///
    /// let mut batch = BatchResponse::builder();
    /// batch.respond(http::StatusCode::NO_CONTENT).content_id("1");
    /// let batch = batch.build().unwrap();
    /// assert_eq!(&batch.to_json().unwrap()[..], br#"{"responses":[{"id":"1","status":204,"headers":{}}]}"#);
    /// ```
    pub fn to_json(&self) -> Result<bytes::Bytes, JsonError> {
        check_items(response_items(self))?;
        check_changesets(self.changesets, self.items.iter().map(|i| i.changeset))?;
        let text =
            serde_json::to_vec(self).map_err(|e| JsonError::new(JsonErrorKind::Syntax(e.to_string()), None, None))?;
        // Ids are checked on what was written, by the reader that will read it.
        let mut options = JsonReadOptions::new();
        options.validate(true);
        read::check_document(MessageKind::Response, &options, &text)?;
        Ok(bytes::Bytes::from(text))
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
