//! The owned model: [`BatchRequest`] and [`BatchResponse`], decoded in one call, with `http` conversions.

use std::borrow::Cow;
use std::fmt;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode, Version};

use crate::boundary::ContentTypeError;
use crate::decoder::{BatchDecoder, BatchDecoderBuilder};
use crate::encoder::{BatchEncoder, EncodeError, EncodeErrorKind, RequestPart, ResponsePart};
use crate::error::DecodeError;
use crate::event::{Event, Head, Headers, MessageKind};
use crate::rules::{content_id_reference, DependsOn, MultipartDependencies, Rule};

/// Why a whole batch could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchError {
    /// The `Content-Type` is not a usable `multipart/mixed` batch. For a client, the most common case is
    /// [`ContentTypeError::NotMultipartMixed`]: the server answered the whole batch with an error, typically
    /// `application/json` carrying an OData error, which the caller can read from the body it holds.
    ContentType(ContentTypeError),
    /// The body is not a well-formed batch.
    Decode(DecodeError),
}

impl BatchError {
    /// The decoding error, if that is what this is.
    pub fn decode_error(&self) -> Option<&DecodeError> {
        match self {
            Self::Decode(e) => Some(e),
            Self::ContentType(_) => None,
        }
    }

    /// The media type of a response that is not a multipart batch (for example `application/json`).
    pub fn non_batch_media_type(&self) -> Option<&str> {
        match self {
            Self::ContentType(ContentTypeError::NotMultipartMixed { media_type }) => Some(media_type),
            _ => None,
        }
    }
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ContentType(e) => e.fmt(f),
            Self::Decode(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for BatchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::ContentType(e) => Some(e),
            Self::Decode(e) => Some(e),
        }
    }
}

impl From<ContentTypeError> for BatchError {
    fn from(e: ContentTypeError) -> Self {
        Self::ContentType(e)
    }
}

impl From<DecodeError> for BatchError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

/// One request of a batch, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestItem {
    /// Index of the changeset this request belongs to (0 for the batch's first changeset), or `None` outside
    /// changesets.
    pub changeset: Option<usize>,
    /// The `Content-ID` (from the MIME part headers, else from the embedded headers).
    pub content_id: Option<String>,
    /// The method.
    pub method: Method,
    /// The request target as written (relative, absolute path, absolute URL, or a `$n` reference). Bytes
    /// that are not UTF-8 are percent-encoded.
    pub url: String,
    /// The HTTP version of the request line; `None` when the line had none. A version other than 0.9, 1.0,
    /// 1.1 and 2.0 reads as 1.1.
    ///
    /// Not carried through conversions: the encoder writes `HTTP/1.1` on every request line (one form, the
    /// version OData batches use), so an encoded batch decodes with `Some(Version::HTTP_11)` here, and the JSON
    /// format has no version (`from_json` gives `None`).
    pub version: Option<Version>,
    /// The embedded HTTP headers (MIME part headers are framing and are not kept).
    pub headers: HeaderMap,
    /// The body, sharing memory with the decoded payload.
    pub body: Bytes,
    /// What this request waits for (the JSON format's `dependsOn`): earlier requests by Content-ID, or earlier
    /// changesets. Empty for multipart batches, whose requests run in order. The dependency that a `$id` URL
    /// implies is not listed: writing JSON adds it, reading JSON leaves it out, so both directions agree.
    pub depends_on: Vec<Dependency>,
    /// The JSON format's `if` member: an expression the service evaluates before running the request, kept as
    /// given. Multipart cannot carry it.
    pub condition: Option<String>,
}

/// The two wire formats of a batch. They differ in one default that matters: when continue-on-error is not
/// asked for, a multipart service stops at the first failed request, while the JSON format lets a service go
/// on (requests run independently unless `dependsOn` says otherwise). This crate never leaves that to the
/// default: [`EncodeOptions::continue_on_error`](crate::EncodeOptions::continue_on_error) set to `None` means
/// *stop* in both formats, and a JSON batch then carries `Prefer: odata.continue-on-error=false`, so that the same
/// model behaves the same in either format.
///
/// # Example
///
/// ```
/// use odata_batch::BatchFormat;
///
/// assert_eq!(BatchFormat::from_content_type("application/json;charset=utf-8"), Some(BatchFormat::Json));
/// assert_eq!(BatchFormat::from_content_type("Multipart/Mixed; boundary=b"), Some(BatchFormat::Multipart));
/// assert_eq!(BatchFormat::from_content_type("multipart/mixed;boundary=batch:m39/x=y"), Some(BatchFormat::Multipart));
/// assert!(!BatchFormat::Multipart.continue_on_error_default());
/// assert!(BatchFormat::Json.continue_on_error_default());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchFormat {
    /// `multipart/mixed` (OData 4.0 and 4.01).
    Multipart,
    /// `application/json` (OData 4.01).
    Json,
}

impl BatchFormat {
    /// Whether a service continues after a failed request when the batch does not say (multipart: no,
    /// JSON: yes).
    pub fn continue_on_error_default(self) -> bool {
        matches!(self, Self::Json)
    }

    /// The format a `Content-Type` value names; `None` for anything else. Only the media type decides: an
    /// unquoted boundary with RFC 2046 characters (SAP CAP's `boundary=batch:m39/x=y`) is still multipart.
    pub fn from_content_type(content_type: impl AsRef<[u8]>) -> Option<Self> {
        let m = crate::grammar::media_type_with(content_type.as_ref(), true)?;
        if m.type_.eq_ignore_ascii_case(b"multipart") && m.subtype.eq_ignore_ascii_case(b"mixed") {
            Some(Self::Multipart)
        } else if m.type_.eq_ignore_ascii_case(b"application") && m.subtype.eq_ignore_ascii_case(b"json") {
            Some(Self::Json)
        } else {
            None
        }
    }
}

/// An entry of a request's `dependsOn` (JSON batch format).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dependency {
    /// An earlier request, by its Content-ID (the JSON `id`).
    Request(String),
    /// An earlier changeset (atomicity group), by its index in the batch: names of atomicity groups are
    /// presentation only, written as `changeset1`, `changeset2`, ... unless an id already uses the name.
    Changeset(usize),
}

/// One response of a batch, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseItem {
    /// Index of the changeset this response belongs to, or `None` outside changesets.
    pub changeset: Option<usize>,
    /// The `Content-ID` (from the MIME part headers, else from the embedded headers).
    pub content_id: Option<String>,
    /// The status code.
    pub status: StatusCode,
    /// The reason phrase as written; may be empty. Bytes that are not UTF-8 are read as ISO-8859-1 (and so
    /// written back as UTF-8).
    ///
    /// Empty, it is written as the status's canonical reason (`OK` for 200), which decoding then reads; the
    /// JSON format has no reason (`from_json` gives the canonical one).
    ///
    /// A reason equal to the status's canonical one (`No Content` for 204, the case as written) is borrowed
    /// from static text: responses that say the usual thing cost no allocation for it. Any text can be
    /// set:
    ///
    /// ```
    /// use odata_batch::ResponseItem;
    ///
    /// let mut item = ResponseItem::new(http::StatusCode::OK);
    /// assert_eq!(item.reason, "OK");
    /// item.reason = format!("All {} fine", 3).into();
    /// item.reason = "Fine".into();
    /// ```
    pub reason: Cow<'static, str>,
    /// The HTTP version of the status line (a version other than 0.9, 1.0, 1.1 and 2.0 reads as 1.1).
    ///
    /// Not carried through conversions: the encoder writes `HTTP/1.1` on every status line, and the JSON
    /// format has no version (`from_json` gives 1.1).
    pub version: Version,
    /// The embedded HTTP headers.
    pub headers: HeaderMap,
    /// The body, sharing memory with the decoded payload.
    pub body: Bytes,
}

/// A batch: its operations in order, how many changesets they form, and what a JSON batch document carries
/// besides. One type for both roles: [`BatchRequest`] (`Batch<RequestItem>`) and [`BatchResponse`]
/// (`Batch<ResponseItem>`) share decoding, encoding, the JSON format and building; what only one role has
/// (splitting requests, mapping the Content-IDs of responses) is on that alias.
///
/// # Example
///
/// ```
/// use odata_batch::{BatchRequest, BatchResponse};
///
/// let body = "--batch_1\r\n\
///     Content-Type: multipart/mixed; boundary=changeset_1\r\n\r\n\
///     --changeset_1\r\n\
///     Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n\
///     POST Customers HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"Name\":\"A\"}\r\n\
///     --changeset_1\r\n\
///     Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 2\r\n\r\n\
///     POST $1/Orders HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{}\r\n\
///     --changeset_1--\r\n\
///     --batch_1--\r\n";
/// let batch = BatchRequest::decode("multipart/mixed; boundary=batch_1", body).unwrap();
/// assert_eq!(batch.items.len(), 2);
/// assert_eq!(batch.items[1].url, "$1/Orders");
/// assert_eq!(batch.items[1].changeset, Some(0));
/// assert_eq!(&batch.items[0].body[..], br#"{"Name":"A"}"#);
///
/// // A whole-batch failure is a typed error that names the media type.
/// let err = BatchResponse::decode("application/json", r#"{"error":{}}"#).unwrap_err();
/// assert_eq!(err.non_batch_media_type(), Some("application/json"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Batch<O: Operation> {
    /// The operations in order.
    pub items: Vec<O>,
    /// Number of changesets (including empty ones).
    pub changesets: usize,
    /// Top-level annotations of a JSON batch document (`"@odata.context"` and the like) other than a
    /// response's `@nextLink`: name and the value's JSON text, in document order. Multipart has none.
    pub annotations: Vec<(String, String)>,
    /// A JSON batch response's `@nextLink`: the service has not finished, and the remaining responses are to be
    /// fetched from this URL. `None` for complete responses, for multipart, and for requests (whose JSON
    /// writer refuses one: [`JsonErrorKind::NextLinkInRequest`](crate::json::JsonErrorKind)).
    pub next_link: Option<String>,
}

impl<O: Operation> Default for Batch<O> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            changesets: 0,
            annotations: Vec::new(),
            next_link: None,
        }
    }
}

/// A batch of requests, as a client sends it and a server reads it.
pub type BatchRequest = Batch<RequestItem>;

/// A batch of responses, as a server returns it and a client reads it.
pub type BatchResponse = Batch<ResponseItem>;

/// An operation of a batch: [`RequestItem`] or [`ResponseItem`]. Sealed: the crate's readers and writers know
/// exactly these two.
pub trait Operation: sealed::Sealed + Clone + fmt::Debug + PartialEq + Eq + 'static {}

impl Operation for RequestItem {}
impl Operation for ResponseItem {}

pub(crate) mod sealed {
    use bytes::Bytes;
    use http::HeaderMap;

    use crate::encoder::{BatchEncoder, EncodeError};
    use crate::event::{Head, MessageKind};

    /// What the crate's readers and writers need from an operation.
    pub trait Sealed: Sized {
        /// The role.
        const KIND: MessageKind;
        /// The operation a decoded head and body stand for.
        fn from_head(head: &Head, changeset: Option<usize>, body: Bytes) -> Self;
        fn changeset(&self) -> Option<usize>;
        fn changeset_mut(&mut self) -> &mut Option<usize>;
        fn content_id(&self) -> Option<&str>;
        fn content_id_mut(&mut self) -> &mut Option<String>;
        fn headers_mut(&mut self) -> &mut HeaderMap;
        fn body(&self) -> &Bytes;
        fn body_mut(&mut self) -> &mut Bytes;
        /// About the bytes of the head beyond the fixed framing: URL or reason, Content-ID, headers.
        fn estimated_head_len(&self) -> usize;
        /// What multipart cannot carry of these operations, refused before anything is written.
        fn check_for_multipart(_items: &[Self], _continue_on_error: bool) -> Result<(), EncodeError> {
            Ok(())
        }
        /// Writes the operation at the end of `out`.
        fn write_part(&self, encoder: &mut BatchEncoder, out: &mut Vec<u8>) -> Result<(), EncodeError>;
    }
}

macro_rules! sealed_accessors {
    () => {
        #[inline]
        fn changeset(&self) -> Option<usize> {
            self.changeset
        }
        #[inline]
        fn changeset_mut(&mut self) -> &mut Option<usize> {
            &mut self.changeset
        }
        #[inline]
        fn content_id(&self) -> Option<&str> {
            self.content_id.as_deref()
        }
        #[inline]
        fn content_id_mut(&mut self) -> &mut Option<String> {
            &mut self.content_id
        }
        #[inline]
        fn headers_mut(&mut self) -> &mut HeaderMap {
            &mut self.headers
        }
        #[inline]
        fn body(&self) -> &Bytes {
            &self.body
        }
        #[inline]
        fn body_mut(&mut self) -> &mut Bytes {
            &mut self.body
        }
    };
}

impl sealed::Sealed for RequestItem {
    const KIND: MessageKind = MessageKind::Request;
    sealed_accessors!();

    #[inline]
    fn estimated_head_len(&self) -> usize {
        estimated_head_len(&self.headers, self.content_id.as_deref()) + self.url.len() + self.method.as_str().len()
    }

    /// The JSON-only fields: multipart carries `dependsOn` by order alone, and no `if` at all.
    fn check_for_multipart(items: &[Self], continue_on_error: bool) -> Result<(), EncodeError> {
        if items.iter().all(|i| i.condition.is_none() && i.depends_on.is_empty()) {
            return Ok(());
        }
        let mut dependencies = MultipartDependencies::default();
        for (i, item) in items.iter().enumerate() {
            let depends_on = item.depends_on.iter().map(|d| match d {
                Dependency::Request(id) => DependsOn::Request(id),
                Dependency::Changeset(c) => DependsOn::Changeset(*c),
            });
            dependencies
                .next(
                    item.content_id.as_deref(),
                    item.changeset,
                    depends_on,
                    item.condition.is_some(),
                    continue_on_error,
                )
                .map_err(|rule| EncodeError::new(EncodeErrorKind::Rule(rule), Some(i)))?;
        }
        Ok(())
    }

    #[inline(always)]
    fn write_part(&self, encoder: &mut BatchEncoder, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        encoder.request_in_place(out, self.part())
    }

    fn from_head(head: &Head, changeset: Option<usize>, body: Bytes) -> Self {
        let line = head.request().expect("decoder enforces requests");
        Self {
            changeset,
            content_id: head.content_id().map(text),
            method: Method::from_bytes(line.method.as_bytes()).expect("validated token"),
            url: url_text(line.url),
            version: line.version.map(version),
            headers: header_map(head, head.headers()),
            body,
            depends_on: Vec::new(),
            condition: None,
        }
    }
}

impl sealed::Sealed for ResponseItem {
    const KIND: MessageKind = MessageKind::Response;
    sealed_accessors!();

    #[inline]
    fn estimated_head_len(&self) -> usize {
        estimated_head_len(&self.headers, self.content_id.as_deref()) + self.reason.len()
    }

    #[inline(always)]
    fn write_part(&self, encoder: &mut BatchEncoder, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        encoder.response_in_place(out, self.into())
    }

    fn from_head(head: &Head, changeset: Option<usize>, body: Bytes) -> Self {
        let line = head.response().expect("decoder enforces responses");
        Self {
            changeset,
            content_id: head.content_id().map(text),
            status: StatusCode::from_u16(line.status).expect("three digits from 100"),
            reason: reason_text(line.status, line.reason),
            version: version(line.version),
            headers: header_map(head, head.headers()),
            body,
        }
    }
}

/// Headers are estimated rather than summed, so that sizing does not walk every header of every item a second
/// time. An underestimate only makes the output grow once.
#[inline]
fn estimated_head_len(headers: &HeaderMap, content_id: Option<&str>) -> usize {
    headers.len() * 48 + content_id.map_or(0, |c| c.len() + 14)
}

fn version(v: &str) -> Version {
    match v {
        "HTTP/1.0" => Version::HTTP_10,
        "HTTP/2.0" => Version::HTTP_2,
        "HTTP/0.9" => Version::HTTP_09,
        _ => Version::HTTP_11,
    }
}

/// Header text: UTF-8 when it is, else each byte as the ISO-8859-1 character (obs-text's historic charset).
pub(crate) fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// A reason phrase as text ([`text`]): borrowed from static text when it is the status's canonical reason
/// as written.
fn reason_text(status: u16, bytes: &[u8]) -> Cow<'static, str> {
    match StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()) {
        Some(canonical) if canonical.as_bytes() == bytes => Cow::Borrowed(canonical),
        _ => Cow::Owned(text(bytes)),
    }
}

/// A request target as text: UTF-8 when it is, else with the non-ASCII bytes percent-encoded.
fn url_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() * 2);
            for &b in bytes {
                if b.is_ascii() {
                    out.push(char::from(b));
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            out
        }
    }
}

/// Header names OData services send on every operation that `http` has no constant for. Made from static
/// text, they cost no allocation to make and no count of owners to copy or drop.
static ODATA_HEADER_NAMES: [HeaderName; 9] = [
    HeaderName::from_static("odata-version"),
    HeaderName::from_static("odata-maxversion"),
    HeaderName::from_static("odata-entityid"),
    HeaderName::from_static("odata-isolation"),
    HeaderName::from_static("prefer"),
    HeaderName::from_static("preference-applied"),
    HeaderName::from_static("content-id"),
    HeaderName::from_static("dataserviceversion"),
    HeaderName::from_static("maxdataserviceversion"),
];

/// The header name written as `bytes` (any case), `None` when it is no valid name: every reader's way from
/// text to `HeaderName`, so that the OData headers come out static whichever format they were read from.
///
/// `http` makes its standard names (`content-type`, `location`) without allocating; this adds the OData ones.
pub(crate) fn header_name(bytes: &[u8]) -> Option<HeaderName> {
    ODATA_HEADER_NAMES
        .iter()
        .find(|known| known.as_str().len() == bytes.len() && known.as_str().as_bytes().eq_ignore_ascii_case(bytes))
        .cloned()
        .or_else(|| HeaderName::from_bytes(bytes).ok())
}

fn header_map(head: &Head, headers: Headers<'_>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for h in headers {
        // The decoder validated names as tokens and values as field-value bytes, which `http` accepts.
        let Some(name) = header_name(h.name().as_bytes()) else {
            continue;
        };
        let value = match h.value_unfolded() {
            Cow::Borrowed(v) => HeaderValue::from_maybe_shared(head.raw().slice_ref(v)),
            Cow::Owned(v) => HeaderValue::from_bytes(&v),
        };
        if let Ok(value) = value {
            map.append(name, value);
        }
    }
    map
}

/// Turns decoder events into items, one at a time: the state between a `Head` and its `End`.
#[derive(Debug, Default)]
pub(crate) struct Assembler {
    changesets: usize,
    changeset: Option<usize>,
    head: Option<Head>,
    body_parts: Vec<Bytes>,
}

impl Assembler {
    /// Takes one event; gives the item it completes, if any.
    pub(crate) fn push<T: sealed::Sealed>(&mut self, event: Event) -> Option<T> {
        match event {
            Event::ChangesetStart(_) => {
                self.changeset = Some(self.changesets);
                self.changesets += 1;
            }
            Event::ChangesetEnd => self.changeset = None,
            Event::Head(h) => self.head = Some(h),
            Event::Body(b) => self.body_parts.push(b),
            Event::End => {
                let h = self.head.take().expect("End follows Head");
                let body = match self.body_parts.len() {
                    0 => Bytes::new(),
                    1 => self.body_parts.pop().expect("one part"),
                    _ => {
                        let mut all = BytesMut::new();
                        self.body_parts.drain(..).for_each(|b| all.extend_from_slice(&b));
                        all.freeze()
                    }
                };
                return Some(T::from_head(&h, self.changeset, body));
            }
            Event::Finished => {}
        }
        None
    }

    /// Changesets begun so far.
    pub(crate) fn changesets(&self) -> usize {
        self.changesets
    }
}

/// Runs the decoder over a whole payload and builds the items.
fn decode_items<T: sealed::Sealed>(
    builder: &BatchDecoderBuilder,
    content_type: &[u8],
    body: Bytes,
) -> Result<(Vec<T>, usize), BatchError> {
    let mut builder = builder.clone();
    builder.message_kind(T::KIND);
    let mut decoder = builder.build_for_content_type(content_type)?;
    assemble(&mut decoder, body.clone(), &body, None)
}

/// Decodes the rest of `input` into items, after `first` (an event already taken from the decoder).
fn assemble<T: sealed::Sealed>(
    decoder: &mut BatchDecoder,
    mut input: Bytes,
    original: &Bytes,
    first: Option<Vec<Event>>,
) -> Result<(Vec<T>, usize), BatchError> {
    let mut items = Vec::new();
    let mut assembler = Assembler::default();
    for event in first.into_iter().flatten() {
        items.extend(assembler.push::<T>(event));
    }
    loop {
        let event = decoder
            .decode_complete(&mut input)
            .map_err(|e| e.with_line_from(original))?;
        match event {
            Some(Event::Finished) | None => return Ok((items, assembler.changesets())),
            Some(event) => items.extend(assembler.push::<T>(event)),
        }
    }
}

/// A batch of requests or of responses, decoded without knowing which beforehand: the decoder's
/// [`message_kind`](BatchDecoderBuilder::message_kind) decides when set, else the first part (a batch without
/// parts is an empty batch of requests). The JSON format's counterpart is `AnyBatch::from_json` (feature
/// `json`); [`BatchFormat::from_content_type`] tells which of the two a `Content-Type` calls for.
///
/// # Example
///
/// ```
/// use odata_batch::AnyBatch;
///
/// let body = "--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--b--\r\n";
/// match AnyBatch::decode("multipart/mixed; boundary=b", body)? {
///     AnyBatch::Response(batch) => assert_eq!(batch.items[0].status, 204),
///     AnyBatch::Request(_) => unreachable!("the first part is a response"),
/// }
/// # Ok::<(), odata_batch::BatchError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyBatch {
    /// A batch of requests.
    Request(BatchRequest),
    /// A batch of responses.
    Response(BatchResponse),
}

impl AnyBatch {
    /// Decodes a whole multipart batch body with default settings.
    ///
    /// # Errors
    ///
    /// As for [`BatchResponse::decode`], and the request rules when the parts are requests.
    pub fn decode(content_type: impl AsRef<[u8]>, body: impl Into<Bytes>) -> Result<Self, BatchError> {
        Self::decode_with(&BatchDecoder::builder(), content_type, body)
    }

    /// Like [`decode`](Self::decode), with the settings of `builder`.
    ///
    /// # Errors
    ///
    /// As for `decode`.
    pub fn decode_with(
        builder: &BatchDecoderBuilder,
        content_type: impl AsRef<[u8]>,
        body: impl Into<Bytes>,
    ) -> Result<Self, BatchError> {
        let body = body.into();
        let mut decoder = builder.build_for_content_type(content_type.as_ref())?;
        let mut input = body.clone();
        // Events up to the first head, which tells the role (or the decoder's fixed kind does).
        let mut first = Vec::new();
        let kind = loop {
            if let Some(kind) = decoder.message_kind() {
                break kind;
            }
            match decoder
                .decode_complete(&mut input)
                .map_err(|e| e.with_line_from(&body))?
            {
                Some(Event::Head(head)) => {
                    let kind = if head.request().is_some() {
                        MessageKind::Request
                    } else {
                        MessageKind::Response
                    };
                    first.push(Event::Head(head));
                    break kind;
                }
                Some(Event::Finished) | None => break MessageKind::Request,
                Some(event) => first.push(event),
            }
        };
        Ok(match kind {
            MessageKind::Request => {
                let (items, changesets) = assemble(&mut decoder, input, &body, Some(first))?;
                Self::Request(BatchRequest {
                    items,
                    changesets,
                    ..BatchRequest::default()
                })
            }
            MessageKind::Response => {
                let (items, changesets) = assemble(&mut decoder, input, &body, Some(first))?;
                Self::Response(BatchResponse {
                    items,
                    changesets,
                    ..BatchResponse::default()
                })
            }
        })
    }

    /// Whether this is a batch of requests or of responses.
    pub fn message_kind(&self) -> MessageKind {
        match self {
            Self::Request(_) => MessageKind::Request,
            Self::Response(_) => MessageKind::Response,
        }
    }
}

impl<O: Operation> Batch<O> {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes a whole multipart batch body with default settings (lenient reading; for requests, the
    /// request rules checked).
    ///
    /// # Errors
    ///
    /// [`BatchError::ContentType`] when `content_type` is not `multipart/mixed` with a valid boundary (see
    /// [`BatchError::non_batch_media_type`]); [`BatchError::Decode`] (with the line number filled in) when
    /// the body is malformed, holds operations of the other role, or breaks a request rule.
    pub fn decode(content_type: impl AsRef<[u8]>, body: impl Into<Bytes>) -> Result<Self, BatchError> {
        Self::decode_with(&BatchDecoder::builder(), content_type, body)
    }

    /// Like [`decode`](Self::decode), with the settings of `builder`.
    ///
    /// # Errors
    ///
    /// As for `decode`.
    pub fn decode_with(
        builder: &BatchDecoderBuilder,
        content_type: impl AsRef<[u8]>,
        body: impl Into<Bytes>,
    ) -> Result<Self, BatchError> {
        let (items, changesets) = decode_items(builder, content_type.as_ref(), body.into())?;
        Ok(Self {
            items,
            changesets,
            ..Self::default()
        })
    }
}

impl RequestItem {
    /// The target as an absolute URL: absolute URLs are kept, absolute paths are put on the service root's
    /// scheme and authority, and relative targets (`People(1)`, `$1/Orders`) are appended to the service root.
    /// Spaces (which lenient reading accepts) are percent-encoded.
    ///
    /// # Example
    ///
    /// ```
    /// # let body = "--b\r\nContent-Type: application/http\r\n\r\nGET People(1) HTTP/1.1\r\n\r\n\r\n--b--\r\n";
    /// # let item = odata_batch::BatchRequest::decode("multipart/mixed; boundary=b", body).unwrap().items.remove(0);
    /// assert_eq!(item.resolve_url("https://host/service/"), "https://host/service/People(1)");
    /// assert_eq!(item.resolve_url("https://host/service"), "https://host/service/People(1)");
    /// ```
    pub fn resolve_url(&self, service_root: &str) -> String {
        let url = self.url.replace(' ', "%20");
        if url.contains("://") {
            return url;
        }
        if url.starts_with('/') {
            let authority_end = service_root
                .find("://")
                .and_then(|i| service_root[i + 3..].find('/').map(|j| i + 3 + j))
                .unwrap_or(service_root.len());
            return format!("{}{url}", &service_root[..authority_end]);
        }
        format!("{}/{url}", service_root.trim_end_matches('/'))
    }

    /// Converts into an `http::Request` whose URI is [`resolve_url`](Self::resolve_url) against
    /// `service_root` (an `http::Uri` cannot hold the relative targets batches use).
    ///
    /// # Errors
    ///
    /// The resolved URL is not a valid URI.
    pub fn into_http(self, service_root: &str) -> Result<http::Request<Bytes>, http::Error> {
        let uri = self.resolve_url(service_root);
        let mut builder = http::Request::builder().method(self.method).uri(uri);
        if let Some(v) = self.version {
            builder = builder.version(v);
        }
        let mut request = builder.body(self.body)?;
        *request.headers_mut() = self.headers;
        Ok(request)
    }
}

impl RequestItem {
    /// The part the encoder writes, without the JSON-only fields (checked by the caller).
    #[inline]
    pub(crate) fn part(&self) -> RequestPart<'_> {
        RequestPart {
            method: &self.method,
            url: &self.url,
            content_id: self.content_id.as_deref(),
            headers: &self.headers,
            body: &self.body,
        }
    }
}

impl<'a> TryFrom<&'a RequestItem> for RequestPart<'a> {
    type Error = EncodeError;

    /// Refuses a request with an `if` condition ([`Rule::ConditionNotExpressible`]) or a `dependsOn`
    /// ([`Rule::DependencyNotExpressible`]): one part cannot show that what it depends on comes earlier.
    /// [`BatchRequest::encode_with`] checks `dependsOn` against the whole batch instead.
    #[inline]
    fn try_from(item: &'a RequestItem) -> Result<Self, EncodeError> {
        if item.condition.is_some() {
            return Err(Rule::ConditionNotExpressible.into());
        }
        if !item.depends_on.is_empty() {
            return Err(Rule::DependencyNotExpressible.into());
        }
        Ok(item.part())
    }
}

impl<'a> From<&'a ResponseItem> for ResponsePart<'a> {
    #[inline]
    fn from(item: &'a ResponseItem) -> Self {
        ResponsePart {
            status: item.status,
            reason: &item.reason,
            content_id: item.content_id.as_deref(),
            headers: &item.headers,
            body: &item.body,
        }
    }
}

impl From<ResponseItem> for http::Response<Bytes> {
    /// The reason phrase is dropped: `http::Response` has none of its own.
    fn from(item: ResponseItem) -> Self {
        let mut response = Self::new(item.body);
        *response.status_mut() = item.status;
        *response.version_mut() = item.version;
        *response.headers_mut() = item.headers;
        response
    }
}

/// Where each Content-ID of a response batch points: the `OData-EntityId` its response returned, else its
/// `Location`. Resolves `$n`-prefixed URLs against it.
///
/// # Example
///
/// ```
/// use odata_batch::BatchResponse;
///
/// let body = "--b\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\n\
///     HTTP/1.1 204 No Content\r\nOData-EntityId: https://org/api/data/v9.2/accounts(7)\r\n\r\n\r\n--b--\r\n";
/// let batch = BatchResponse::decode("multipart/mixed; boundary=b", body).unwrap();
/// let ids = batch.content_id_map();
/// assert_eq!(ids.get("1"), Some("https://org/api/data/v9.2/accounts(7)"));
/// assert_eq!(ids.resolve("$1/contact_customer_accounts").as_deref(), Some("https://org/api/data/v9.2/accounts(7)/contact_customer_accounts"));
/// assert_eq!(ids.resolve("accounts"), None); // not a reference
/// assert_eq!(ids.resolve("$2"), None); // unknown id
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentIdMap {
    entries: Vec<(String, String)>,
    /// Entry index by Content-ID (the last entry with that id, as the server answered it last): one hash
    /// lookup per `get`, so resolving every id of a batch is linear.
    index: std::collections::HashMap<String, usize>,
}

impl ContentIdMap {
    fn new(entries: Vec<(String, String)>) -> Self {
        let index = entries.iter().enumerate().map(|(i, (id, _))| (id.clone(), i)).collect();
        Self { entries, index }
    }

    /// The URL the operation with this Content-ID created or addressed (the last one, when a Content-ID
    /// appears in several changesets).
    pub fn get(&self, content_id: &str) -> Option<&str> {
        self.index.get(content_id).map(|&i| self.entries[i].1.as_str())
    }

    /// Replaces a leading `$id` (or `/$id`) reference with the URL it stands for. `None` when `url` is not a
    /// reference or the id is unknown.
    pub fn resolve(&self, url: &str) -> Option<String> {
        let id = content_id_reference(url.as_bytes())?;
        let id = std::str::from_utf8(id).ok()?;
        let base = self.get(id)?;
        let skip = url.find('$')? + 1 + id.len();
        Some(format!("{base}{}", &url[skip..]))
    }

    /// The (Content-ID, URL) pairs in response order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(a, b)| (a.as_str(), b.as_str()))
    }
}

impl BatchResponse {
    /// Maps each Content-ID to the `OData-EntityId` (else `Location`) its response returned.
    pub fn content_id_map(&self) -> ContentIdMap {
        let entries = self
            .items
            .iter()
            .filter_map(|item| {
                let id = item.content_id.clone()?;
                let url = item
                    .headers
                    .get("odata-entityid")
                    .or_else(|| item.headers.get(http::header::LOCATION))?;
                Some((id, text(url.as_bytes())))
            })
            .collect();
        ContentIdMap::new(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odata_header_names_are_the_static_ones_in_any_case() {
        for written in [
            "OData-Version",
            "odata-version",
            "ODATA-VERSION",
            "OData-EntityId",
            "Prefer",
            "Content-ID",
        ] {
            let name = header_name(written.as_bytes()).unwrap();
            assert_eq!(name.as_str(), written.to_ascii_lowercase());
            assert!(ODATA_HEADER_NAMES.contains(&name), "{written}");
        }
        // Standard names come from `http`, others are made; neither is in the list.
        assert_eq!(header_name(b"Content-Type"), Some(http::header::CONTENT_TYPE));
        assert_eq!(header_name(b"OData-Versions").unwrap().as_str(), "odata-versions");
        assert_eq!(header_name(b"X-OData-Version").unwrap().as_str(), "x-odata-version");
        assert!(header_name(b"OData Version").is_none());
        assert!(header_name(b"").is_none());
    }

    #[test]
    fn canonical_reasons_are_borrowed_and_others_kept_as_written() {
        assert!(matches!(reason_text(204, b"No Content"), Cow::Borrowed("No Content")));
        assert!(matches!(reason_text(200, b"OK"), Cow::Borrowed("OK")));
        // Another case, other words, white space, an unknown status: kept as written.
        for (status, written) in [
            (204, &b"no content"[..]),
            (200, b"Fine"),
            (200, b"OK "),
            (200, b""),
            (299, b"OK"),
        ] {
            let reason = reason_text(status, written);
            assert!(matches!(reason, Cow::Owned(_)), "{status} {written:?}");
            assert_eq!(reason.as_bytes(), written);
        }
        assert_eq!(reason_text(200, b"caf\xe9"), "café");
    }
}
