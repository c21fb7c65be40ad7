//! The writer: batches of the model as JSON batch documents (`Serialize`, `to_json`), after checking that
//! everything survives the trip.

use http::HeaderMap;
use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use super::error::{JsonError, JsonErrorKind};
use super::read::{self, JsonReadOptions};
use super::rules::Rules;
use super::{scan, MediaClass};
use crate::event::MessageKind;
use crate::model::{BatchRequest, BatchResponse};
use crate::rules::content_id_reference;
use crate::QuotedText;

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

/// How `body` is written, and whether reading it back gives the same bytes (a JSON media type holding a JSON
/// value other than `null`, a text type holding UTF-8, anything else as base64url). `None` for no body.
fn json_body<'a>(headers: &HeaderMap, body: &'a [u8]) -> Option<(JsonBody<'a>, bool)> {
    if body.is_empty() {
        return None;
    }
    let MediaClass { json, text: text_type } = headers.get(http::header::CONTENT_TYPE).map_or(
        MediaClass {
            json: false,
            text: false,
        },
        |v| MediaClass::of(v.as_bytes()),
    );
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
        .map(|i| group_name(i, |name| ids.contains(&Some(name))))
        .collect()
}

/// The atomicity group name of changeset `index`: `changeset<index + 1>`, with `_` appended while `is_id` says an
/// id has that name.
fn group_name(index: usize, is_id: impl Fn(&str) -> bool) -> String {
    let mut name = format!("changeset{}", index + 1);
    while is_id(&name) {
        name.push('_');
    }
    name
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
    /// Serialises as `{"responses":[...]}` (see the [module docs](crate::json)), then the annotations and
    /// `@nextLink`, after the checks of [`to_json`](BatchResponse::to_json).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let groups = check_response(self).map_err(serde::ser::Error::custom)?;
        ResponseDocument { batch: self, groups }.serialize(s)
    }
}

/// A checked response batch, written.
struct ResponseDocument<'a> {
    batch: &'a BatchResponse,
    groups: Vec<String>,
}

impl Serialize for ResponseDocument<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(
            "responses",
            &ResponseList {
                list: &self.batch.items,
                groups: &self.groups,
            },
        )?;
        serialize_annotations(&mut map, &self.batch.annotations)?;
        if let Some(link) = &self.batch.next_link {
            map.serialize_entry("@nextLink", link)?;
        }
        map.end()
    }
}

/// Everything a response batch must satisfy to be written; its atomicity group names.
fn check_response(batch: &BatchResponse) -> Result<Vec<String>, JsonError> {
    check_items(response_items(batch))?;
    check_changesets(batch.changesets, batch.items.iter().map(|i| i.changeset))?;
    let groups = response_groups(batch);
    check_response_rules(batch, &groups)?;
    Ok(groups)
}

/// The atomicity group names of a response batch's changesets.
fn response_groups(batch: &BatchResponse) -> Vec<String> {
    let ids: Vec<Option<&str>> = batch.items.iter().map(|i| i.content_id.as_deref()).collect();
    group_names(batch.changesets, &ids)
}

/// The format's rules on a response batch's ids and groups, checked by the reader's own [`Rules`] (responses
/// carry no `dependsOn`, so this is all a reader would refuse of them).
fn check_response_rules(batch: &BatchResponse, groups: &[String]) -> Result<(), JsonError> {
    let mut rules = Rules::default();
    for (i, item) in batch.items.iter().enumerate() {
        let group = item.changeset.and_then(|c| groups.get(c)).map(String::as_str);
        rules
            .response(item.content_id.as_deref(), group, true)
            .map_err(|(kind, _)| JsonError::new(kind, Some(i), None))?;
    }
    Ok(())
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
    /// Serialises as `{"requests":[...]}` (see the [module docs](crate::json)), then the annotations, after
    /// the checks of [`to_json`](BatchRequest::to_json) that need no reading back.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        check_request(self).map_err(serde::ser::Error::custom)?;
        RequestDocument(self).serialize(s)
    }
}

/// A checked request batch, written.
struct RequestDocument<'a>(&'a BatchRequest);

impl Serialize for RequestDocument<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let batch = self.0;
        let ids = request_ids(batch);
        let id_refs: Vec<Option<&str>> = ids.iter().map(|i| Some(&**i)).collect();
        let groups = group_names(batch.changesets, &id_refs);
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(
            "requests",
            &Requests {
                batch,
                ids: &ids,
                groups: &groups,
            },
        )?;
        serialize_annotations(&mut map, &batch.annotations)?;
        map.end()
    }
}

/// What a request batch must satisfy before it is written.
fn check_request(batch: &BatchRequest) -> Result<(), JsonError> {
    check_request_batch(batch)?;
    check_items(request_items(batch))?;
    check_changesets(batch.changesets, batch.items.iter().map(|i| i.changeset))
}

/// A request document has no `@nextLink` (a response's paging link): the batch's `next_link` would be lost.
fn check_request_batch(batch: &BatchRequest) -> Result<(), JsonError> {
    match batch.next_link {
        Some(_) => Err(JsonError::new(JsonErrorKind::NextLinkInRequest, None, None)),
        None => Ok(()),
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
                return fail(JsonErrorKind::InvalidHeader(QuotedText::new(name.as_str().as_bytes())));
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
        check_request(self)?;
        let text = serde_json::to_vec(&RequestDocument(self))
            .map_err(|e| JsonError::new(JsonErrorKind::Syntax(QuotedText::display(&e)), None, None))?;
        // The rules are checked on what was written, by the reader that will read it.
        let mut options = JsonReadOptions::new();
        options.validate(true);
        read::check_document(MessageKind::Request, &options, &text)?;
        Ok(bytes::Bytes::from(text))
    }
}

impl BatchResponse {
    /// Writes the batch as an OData 4.01 JSON batch response (see the [module docs](crate::json)), after checking
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
        let groups = check_response(self)?;
        serde_json::to_vec(&ResponseDocument { batch: self, groups })
            .map(bytes::Bytes::from)
            .map_err(|e| JsonError::new(JsonErrorKind::Syntax(QuotedText::display(&e)), None, None))
    }
}

/// Writes a JSON batch response document one response at a time, for responses that arrive as a stream
/// (from [`ResponseStream`](crate::client::ResponseStream) or a decoder): memory holds one response, not the
/// document. The bytes are those [`to_json`](BatchResponse::to_json) writes (compact) or `serde_json`'s
/// pretty printer writes of the same batch (pretty), and each response is checked as `to_json` checks it.
///
/// One difference, since later responses are not known yet: `to_json` names atomicity groups
/// `changeset1`, `changeset2`, ... and appends `_` to a name that an id of the batch already has; here only the
/// ids seen so far are avoided, and a later response whose id is a group name already written is refused
/// ([`JsonErrorKind::IdEqualsGroup`]) rather than written ambiguously.
///
/// # Example
///
/// ```
/// use odata_batch::json::ResponseDocumentWriter;
/// use odata_batch::BatchResponse;
///
/// let mut batch = BatchResponse::builder();
/// batch.changeset().respond(http::StatusCode::CREATED).content_id("1");
/// batch.respond(http::StatusCode::NOT_FOUND);
/// let batch = batch.build().unwrap();
///
/// let mut out = Vec::new();
/// let mut writer = ResponseDocumentWriter::new(false);
/// writer.begin(&mut out);
/// for item in &batch.items {
///     writer.response(&mut out, item).unwrap();
/// }
/// writer.finish(&mut out, &[], None).unwrap();
/// assert_eq!(out, batch.to_json().unwrap());
/// ```
#[derive(Debug, Default)]
pub struct ResponseDocumentWriter {
    pretty: bool,
    responses: usize,
    /// The name of each changeset index seen so far.
    groups: Vec<String>,
    /// The format's rules, which also know the ids written so far.
    rules: Rules,
}

impl ResponseDocumentWriter {
    /// A writer of compact JSON, or of indented JSON (`pretty`).
    pub fn new(pretty: bool) -> Self {
        Self {
            pretty,
            ..Self::default()
        }
    }

    /// Writes the start of the document.
    pub fn begin(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(if self.pretty {
            b"{\n  \"responses\": ["
        } else {
            b"{\"responses\":["
        });
    }

    /// Checks and writes the next response. Its `changeset` numbers the changesets of the whole document.
    ///
    /// # Errors
    ///
    /// What [`to_json`](BatchResponse::to_json) refuses of a response (with the response's position as its
    /// item), and an id equal to a group name already written ([`JsonErrorKind::IdEqualsGroup`]). Nothing is written then.
    pub fn response(&mut self, out: &mut Vec<u8>, item: &crate::model::ResponseItem) -> Result<(), JsonError> {
        let index = self.responses;
        let at = |e: JsonError| JsonError::new(*e.kind(), Some(index), None);
        check_items(std::iter::once((None, &item.headers, &item.body[..]))).map_err(at)?;
        if let Some(c) = item.changeset {
            while self.groups.len() <= c {
                let name = group_name(self.groups.len(), |name| self.rules.has_id(name));
                self.groups.push(name);
            }
        }
        let group = item.changeset.map(|c| self.groups[c].as_str());
        self.rules
            .response(item.content_id.as_deref(), group, true)
            .map_err(|(kind, _)| JsonError::new(kind, Some(index), None))?;
        let json = ResponseJson { item, group };
        let written = if self.pretty {
            serde_json::to_vec_pretty(&json)
        } else {
            serde_json::to_vec(&json)
        };
        let written =
            written.map_err(|e| JsonError::new(JsonErrorKind::Syntax(QuotedText::display(&e)), Some(index), None))?;
        if self.pretty {
            out.extend_from_slice(if index == 0 { b"\n" } else { b",\n" });
            for (k, line) in written.split(|&b| b == b'\n').enumerate() {
                if k > 0 {
                    out.push(b'\n');
                }
                out.extend_from_slice(b"    ");
                out.extend_from_slice(line);
            }
        } else {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&written);
        }
        self.responses += 1;
        Ok(())
    }

    /// Writes the end of the document, with the batch's top-level annotations (name, JSON text) and
    /// `@nextLink`.
    ///
    /// # Errors
    ///
    /// An annotation whose text is not JSON.
    pub fn finish(
        self,
        out: &mut Vec<u8>,
        annotations: &[(String, String)],
        next_link: Option<&str>,
    ) -> Result<(), JsonError> {
        let fail = |e: serde_json::Error| JsonError::new(JsonErrorKind::Syntax(QuotedText::display(&e)), None, None);
        out.extend_from_slice(match (self.pretty, self.responses) {
            (true, 0) | (false, _) => b"]",
            (true, _) => b"\n  ]",
        });
        let link = next_link.map(|l| ("@nextLink".to_owned(), serde_json::to_string(l).unwrap_or_default()));
        for (name, value) in annotations.iter().chain(link.as_ref()) {
            let raw = RawValue::from_string(value.clone()).map_err(fail)?;
            out.extend_from_slice(if self.pretty { b",\n  " } else { b"," });
            out.extend_from_slice(&serde_json::to_vec(name).map_err(fail)?);
            out.extend_from_slice(if self.pretty { b": " } else { b":" });
            out.extend_from_slice(raw.get().as_bytes());
        }
        out.extend_from_slice(if self.pretty { b"\n}" } else { b"}" });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_avoid_ids() {
        assert_eq!(
            group_names(2, &[Some("changeset1"), None]),
            vec!["changeset1_", "changeset2"]
        );
    }
}
