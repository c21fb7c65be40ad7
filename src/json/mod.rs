//! The OData 4.01 JSON batch format (feature `json`): reading, writing, validating and converting
//! `{"requests":[...]}` and `{"responses":[...]}` documents, on the same model as multipart.
//!
//! - **Reading**: [`BatchRequest::from_json`](crate::BatchRequest::from_json) / [`BatchResponse::from_json`](crate::BatchResponse::from_json) for whole documents,
//!   [`JsonBatchReader`] for documents that arrive in pieces (also a `tokio_util` `Decoder` with feature
//!   `tokio`). Every rule of the format is checked item by item ([`JsonErrorKind`] lists them), errors name the
//!   item and the byte offset, and a document cut off before its closing brackets is an error, never a
//!   shorter batch.
//! - **Writing**: [`BatchRequest::to_json`](crate::BatchRequest::to_json) / [`BatchResponse::to_json`](crate::BatchResponse::to_json) check the batch against the format and
//!   write it compactly; [`BatchRequest::encode_json`](crate::BatchRequest::encode_json) adds the outer headers. `BatchRequest` and
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

mod encode;
mod error;
mod item;
mod read;
mod rules;
mod scan;
mod write;

pub use error::{JsonError, JsonErrorKind};
pub use read::{JsonBatchReader, JsonDocument, JsonEvent, JsonReadOptions};
pub use write::ResponseDocumentWriter;

/// How a body of a given `Content-Type` is written in the JSON format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MediaClass {
    /// As the JSON value itself.
    pub(crate) json: bool,
    /// As a string of the text (else base64url).
    pub(crate) text: bool,
}

impl MediaClass {
    /// The class of a `Content-Type` value; one that is not a media type is neither JSON nor text.
    pub(crate) fn of(content_type: &[u8]) -> Self {
        match crate::grammar::media_type(content_type) {
            Some(m) => Self {
                json: is_json_media_type(m.type_, m.subtype),
                text: is_text_media_type(m.type_, m.subtype),
            },
            None => Self {
                json: false,
                text: false,
            },
        }
    }
}

/// Whether a media type is written as a JSON value.
fn is_json_media_type(type_: &[u8], subtype: &[u8]) -> bool {
    type_.eq_ignore_ascii_case(b"application")
        && (subtype.eq_ignore_ascii_case(b"json") || ends_with_ignore_case(subtype, b"+json"))
}

fn ends_with_ignore_case(s: &[u8], suffix: &[u8]) -> bool {
    s.len() >= suffix.len() && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Whether a media type is text, written as a string when it is UTF-8.
fn is_text_media_type(type_: &[u8], subtype: &[u8]) -> bool {
    type_.eq_ignore_ascii_case(b"text")
        || subtype.eq_ignore_ascii_case(b"xml")
        || ends_with_ignore_case(subtype, b"+xml")
        || subtype.eq_ignore_ascii_case(b"x-www-form-urlencoded")
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
}
