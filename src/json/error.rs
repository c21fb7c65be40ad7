//! [`JsonError`] and [`JsonErrorKind`]: what a JSON batch document broke, and where.

use std::fmt;

use crate::rules::Rule;
use crate::{Excerpt, QuotedText};

/// Which rule a JSON batch document broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonErrorKind {
    /// Not valid JSON, or a member of the wrong JSON type (serde_json's message).
    Syntax(QuotedText),
    /// The document ends before its closing brackets: a cut-off stream, never a complete batch.
    Truncated,
    /// Something other than white space after the document.
    TrailingData,
    /// A required member is missing: `requests` / `responses` at the top, `id`, `method`, `url` in a request,
    /// `status` in a response.
    MissingMember(&'static str),
    /// A member the format does not define (annotations, names with `@`, are allowed at the top level only).
    UnknownMember(QuotedText),
    /// The same member twice in one object.
    DuplicateMember(QuotedText),
    /// The same header name twice (compared without case).
    DuplicateHeader(QuotedText),
    /// A header name that is not an HTTP token, or a value that is not a string (or `null`) or has a control
    /// character.
    InvalidHeader(QuotedText),
    /// A method that is not an HTTP token.
    InvalidMethod,
    /// A status that is not an integer from 100 to 999.
    InvalidStatus,
    /// A body that does not fit its media type: a non-string for text or binary, invalid base64url.
    InvalidBody,
    /// A body on a `GET` or `DELETE` request.
    BodyNotAllowed,
    /// An `id` or `atomicityGroup` that is empty or has characters outside `unreserved` (RFC 3986).
    InvalidId(QuotedText),
    /// An OData rule is broken: an `id` used by an earlier item ([`Rule::DuplicateContentId`]; ids are unique
    /// in the whole document), or the members of an atomicity group are not adjacent
    /// ([`Rule::ChangesetNotAdjacent`]; requests only, responses may come in any order).
    Rule(Rule),
    /// An `id` equal to an `atomicityGroup` of the document.
    IdEqualsGroup(QuotedText),
    /// A `dependsOn` entry that is neither an earlier request nor an earlier atomicity group (this includes
    /// the request itself and forward references).
    UnknownDependency(QuotedText),
    /// A `dependsOn` entry naming the request's own atomicity group.
    DependsOnOwnGroup(QuotedText),
    /// A `dependsOn` entry naming a request inside another atomicity group: the group must be named instead.
    DependsOnMemberOfOtherGroup(QuotedText),
    /// A `$id` reference in `url` or `if` to a request that `dependsOn` does not list (directly, or through
    /// its atomicity group).
    ReferenceNotInDependsOn(QuotedText),
    /// An item (or a top-level annotation) larger than [`JsonReadOptions::max_item_bytes`](crate::json::JsonReadOptions::max_item_bytes).
    ItemTooLarge {
        /// The maximum.
        max: usize,
    },
    /// A changeset of the model without members (writing only): JSON knows atomicity groups only by their
    /// members, so it would vanish. Carries the changeset's index.
    EmptyChangeset(usize),
    /// A JSON body nested deeper than the reader admits inside a batch document (writing only).
    NestingTooDeep {
        /// The deepest nesting a body may have.
        max: usize,
    },
    /// A batch of requests with a `next_link` (writing only): a request document has no `@nextLink`.
    NextLinkInRequest,
    /// More items than [`JsonReadOptions::max_operations`](crate::json::JsonReadOptions::max_operations) (reading) or the encoder's maximum (writing).
    TooManyOperations {
        /// The maximum.
        max: usize,
    },
}

impl fmt::Display for JsonErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(m) => write!(f, "invalid JSON batch: {}", m),
            Self::Truncated => f.write_str("the document is cut off before its end"),
            Self::TrailingData => f.write_str("data after the end of the document"),
            Self::MissingMember(m) => write!(f, "missing member \"{}\"", Excerpt(m.as_bytes())),
            Self::UnknownMember(m) => write!(f, "unknown member \"{}\"", m),
            Self::DuplicateMember(m) => write!(f, "member \"{}\" appears twice", m),
            Self::DuplicateHeader(h) => write!(f, "header \"{}\" appears twice", h),
            Self::InvalidHeader(h) => write!(f, "header \"{}\" is not a valid HTTP header", h),
            Self::InvalidMethod => f.write_str("method is not an HTTP token"),
            Self::InvalidStatus => f.write_str("status is not an integer from 100 to 999"),
            Self::InvalidBody => f.write_str("body does not fit its media type"),
            Self::BodyNotAllowed => f.write_str("GET and DELETE requests cannot have a body"),
            Self::InvalidId(id) => write!(f, "\"{}\" is not a valid id (1*unreserved)", id),
            Self::Rule(rule) => rule.fmt(f),
            Self::IdEqualsGroup(id) => write!(f, "\"{}\" is both an id and an atomicity group", id),
            Self::UnknownDependency(d) => write!(f, "dependsOn \"{}\" is not an earlier request or group", d),
            Self::DependsOnOwnGroup(d) => write!(f, "dependsOn \"{}\" names the request's own group", d),
            Self::DependsOnMemberOfOtherGroup(d) => {
                write!(
                    f,
                    "dependsOn \"{}\" is inside another atomicity group: name the group",
                    d
                )
            }
            Self::ReferenceNotInDependsOn(d) => {
                write!(f, "reference \"${}\" is not listed in dependsOn", d)
            }
            Self::TooManyOperations { max } => write!(f, "more than {max} operations"),
            Self::NextLinkInRequest => f.write_str("a batch of requests has no @nextLink"),
            Self::ItemTooLarge { max } => write!(f, "item larger than {max} bytes"),
            Self::NestingTooDeep { max } => write!(f, "JSON body nested deeper than {max} levels"),
            Self::EmptyChangeset(c) => write!(f, "changeset {c} has no members, which JSON cannot express"),
        }
    }
}

/// A JSON batch document that could not be read: the rule, the item (0-based) it concerns, and the byte
/// offset in the document where the offending value starts. It owns no heap memory (`Copy`; names from the
/// input are kept inline as [`QuotedText`]), so a hostile document cannot make an error large.
///
/// # Example
///
/// ```
/// use odata_batch::BatchRequest;
/// use odata_batch::json::JsonErrorKind;
///
/// let doc = r#"{"requests":[{"id":"1","method":"get","url":"A"},{"id":"1","method":"get","url":"B"}]}"#;
/// let err = BatchRequest::from_json(doc).unwrap_err();
/// assert_eq!(err.kind(), &JsonErrorKind::Rule(odata_batch::Rule::DuplicateContentId));
/// assert_eq!((err.item(), err.offset()), (Some(1), Some(55)));
/// assert_eq!(err.to_string(), "item 1 at byte 55: Content-ID defined twice");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonError {
    kind: JsonErrorKind,
    item: Option<usize>,
    offset: Option<u64>,
}

impl JsonError {
    pub(crate) fn new(kind: JsonErrorKind, item: Option<usize>, offset: Option<usize>) -> Self {
        Self {
            kind,
            item,
            offset: offset.map(|o| o as u64),
        }
    }

    /// What is wrong.
    pub fn kind(&self) -> &JsonErrorKind {
        &self.kind
    }

    /// The item (request or response, 0-based) it concerns, if one.
    pub fn item(&self) -> Option<usize> {
        self.item
    }

    /// Where in the document, in bytes from its start (as [`DecodeError::offset`](crate::DecodeError::offset)
    /// counts them in a multipart body), when known: writing errors concern the model, not a document.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.item, self.offset) {
            (Some(i), Some(o)) => write!(f, "item {i} at byte {o}: ")?,
            (Some(i), None) => write!(f, "item {i}: ")?,
            (None, Some(o)) => write!(f, "at byte {o}: ")?,
            (None, None) => {}
        }
        self.kind.fmt(f)
    }
}

impl std::error::Error for JsonError {}
