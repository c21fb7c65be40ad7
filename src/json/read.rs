//! The document reader: a resumable scanner that finds each item of the `requests` / `responses` array as it
//! completes, maps it (`item.rs`) and checks the format's rules (`rules.rs`); whole documents in one call.

use std::ops::Range;

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::error::{JsonError, JsonErrorKind};
use super::item::{member_name, read_body, read_headers, string_value, Fields, HeaderNames};
use super::rules::{Member, Rules};
use super::scan::{Record, Scanner, SyntaxError};
use super::MediaClass;
use crate::event::MessageKind;
use crate::model::{AnyBatch, BatchRequest, BatchResponse, RequestItem, ResponseItem};
use crate::Excerpt;
use crate::QuotedText;

/// Settings for reading JSON batch documents.
///
/// # Example
///
/// ```
/// use odata_batch::json::JsonReadOptions;
/// use odata_batch::BatchResponse;
///
/// // Microsoft Graph writes binary bodies in standard base64 (`+`, `/`), not base64url.
/// let doc = r#"{"responses":[{"id":"1","status":200,"headers":{"content-type":"image/png"},"body":"+/8="}]}"#;
/// assert!(BatchResponse::from_json(doc).is_err());
/// let mut options = JsonReadOptions::new();
/// options.standard_base64(true);
/// let batch = BatchResponse::from_json_with(&options, doc).unwrap();
/// assert_eq!(&batch.items[0].body[..], &[0xfb, 0xff]);
/// ```
#[derive(Debug, Clone)]
pub struct JsonReadOptions {
    pub(super) standard_base64: bool,
    pub(super) validate: bool,
    pub(super) max_item_bytes: Option<usize>,
    pub(super) max_operations: usize,
}

impl Default for JsonReadOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl JsonReadOptions {
    /// Defaults: binary bodies in base64url only (padding optional), every rule of the format checked.
    pub fn new() -> Self {
        Self {
            standard_base64: false,
            validate: true,
            max_item_bytes: None,
            max_operations: crate::Limits::client().max_operations,
        }
    }

    /// Refuse a document with more items than this ([`JsonErrorKind::TooManyOperations`], at the first item
    /// too many). Default: [`Limits::client`](crate::Limits::client)'s `max_operations` (100 000), the same
    /// bound the multipart decoder and the encoders apply; a server reading untrusted requests lowers it, for
    /// example to [`Limits::server`](crate::Limits::server)'s 1000.
    ///
    /// ```
    /// use odata_batch::json::JsonReadOptions;
    /// use odata_batch::BatchRequest;
    /// use odata_batch::json::JsonErrorKind;
    ///
    /// let mut options = JsonReadOptions::new();
    /// options.max_operations(1);
    /// let doc = r#"{"requests":[{"id":"1","method":"get","url":"A"},{"id":"2","method":"get","url":"B"}]}"#;
    /// let err = BatchRequest::from_json_with(&options, doc).unwrap_err();
    /// assert_eq!((err.kind(), err.item()), (&JsonErrorKind::TooManyOperations { max: 1 }, Some(1)));
    /// ```
    pub fn max_operations(&mut self, max: usize) -> &mut Self {
        self.max_operations = max;
        self
    }

    /// Also accept binary bodies in standard base64 (`+` and `/`), as Microsoft Graph writes them.
    pub fn standard_base64(&mut self, on: bool) -> &mut Self {
        self.standard_base64 = on;
        self
    }

    /// Check the rules on ids, atomicity groups, `dependsOn` and references (default on). Off, only what the
    /// model needs is checked: JSON syntax, member names and types, headers, methods, statuses and bodies.
    pub fn validate(&mut self, on: bool) -> &mut Self {
        self.validate = on;
        self
    }

    /// Refuse an item (or top-level annotation) larger than this many bytes of JSON. A streaming reader keeps
    /// one item in memory, so this bounds its memory whatever the service sends. Default: no maximum (the
    /// largest item decides).
    ///
    /// ```
    /// use odata_batch::json::JsonReadOptions;
    /// use odata_batch::BatchResponse;
    /// use odata_batch::json::JsonErrorKind;
    ///
    /// let mut options = JsonReadOptions::new();
    /// options.max_item_bytes(Some(40));
    /// let doc = r#"{"responses":[{"id":"1","status":200,"body":{"a":"0123456789"}}]}"#;
    /// let err = BatchResponse::from_json_with(&options, doc).unwrap_err();
    /// assert_eq!((err.kind(), err.item(), err.offset()), (&JsonErrorKind::ItemTooLarge { max: 40 }, Some(0), Some(14)));
    /// ```
    pub fn max_item_bytes(&mut self, max: Option<usize>) -> &mut Self {
        self.max_item_bytes = max;
        self
    }
}

/// What a [`JsonBatchReader`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonEvent {
    /// A request, complete. Its `changeset` is the index of its atomicity group in the document.
    Request(RequestItem),
    /// A response, complete.
    Response(ResponseItem),
    /// A top-level annotation: its name and the JSON text of its value.
    Annotation(String, String),
    /// The `@nextLink` (or `@odata.nextLink`) of a partial response; in a request document it is an
    /// `Annotation`.
    NextLink(String),
    /// The document's closing brace: the batch is complete.
    Finished,
}

/// Where the scanner is in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the opening brace.
    Start,
    /// Before a member name (`first`: right after the opening brace, where `}` may come).
    Name { first: bool },
    /// After a member name, before the colon.
    Colon,
    /// After the colon of the item array's member, before `[`.
    ArrayOpen,
    /// In the item array, before an item or `]` (`first`: right after `[`), else before `,` or `]`.
    Element { first: bool },
    /// After a `,` in the item array: an item must follow.
    NextItem,
    /// In an item's object.
    Item,
    /// In the value of an annotation.
    Annotation,
    /// After a member's value, before `,` or `}`.
    AfterMember,
    /// After the closing brace.
    Done,
}

/// A streaming reader of JSON batch documents, requests or responses: feed it the document as it arrives
/// (in a `BytesMut`, like [`BatchDecoder`](crate::BatchDecoder)); it consumes what it has read and returns
/// each item as soon as its closing brace is in. Memory stays bounded by one item plus what the caller
/// buffers. A document that ends before its closing brackets is [`JsonErrorKind::Truncated`] at the end of
/// input, never a normal end: a service that fails after sending `200 OK` can only cut the stream.
///
/// # Example
///
/// ```
/// use bytes::BytesMut;
/// use odata_batch::json::{JsonBatchReader, JsonEvent};
/// use odata_batch::MessageKind;
///
/// let mut reader = JsonBatchReader::new(MessageKind::Response);
/// let mut buf = BytesMut::from(&br#"{"responses":[{"id":"1","status":200,"body":{"a":1}},{"id":"2","sta"#[..]);
/// let Some(JsonEvent::Response(first)) = reader.decode(&mut buf).unwrap() else { panic!() };
/// assert_eq!(&first.body[..], br#"{"a":1}"#);
/// assert_eq!(reader.decode(&mut buf).unwrap(), None); // the second item is not complete yet
/// buf.extend_from_slice(br#"tus":404}]}"#);
/// assert!(matches!(reader.decode(&mut buf).unwrap(), Some(JsonEvent::Response(r)) if r.status == 404));
/// assert_eq!(reader.decode_eof(&mut buf).unwrap(), Some(JsonEvent::Finished));
///
/// // Cut off: an error, not an end.
/// let mut reader = JsonBatchReader::new(MessageKind::Response);
/// let mut buf = BytesMut::from(&br#"{"responses":[{"id":"1","status":200}"#[..]);
/// assert!(reader.decode_eof(&mut buf).is_ok()); // the complete item
/// assert!(reader.decode_eof(&mut buf).is_err());
/// ```
#[derive(Debug)]
pub struct JsonBatchReader {
    kind: MessageKind,
    options: JsonReadOptions,
    state: State,
    /// Document bytes consumed before the buffer's first byte.
    base: usize,
    /// The value being read: a member name, an annotation's value or an item.
    value: Scanner,
    /// The member whose value comes next, and where its name started.
    member: Option<(String, usize)>,
    /// Top-level member names seen.
    names: Vec<String>,
    array_seen: bool,
    /// An `@nextLink` or `@odata.nextLink` was read (the two spellings of one member).
    next_link_seen: bool,
    items: usize,
    /// The length of the last item read, in bytes.
    last_item_len: usize,
    rules: Rules,
    failed: Option<JsonError>,
    /// The last `Content-Type` read and its class: the items of a batch mostly share one.
    last_media: (Vec<u8>, Option<MediaClass>),
    header_names: HeaderNames,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// What the reader reads from: the caller's `BytesMut` ([`JsonBatchReader::decode`]) or a whole document's
/// `Bytes` ([`BatchResponse::from_json`]), either consumed from the front.
trait Input: std::ops::Deref<Target = [u8]> {
    /// Drops the first `n` bytes.
    fn skip_front(&mut self, n: usize);
    /// Takes the first `n` bytes, sharing their memory.
    fn take(&mut self, n: usize) -> Bytes;
}

impl Input for BytesMut {
    fn skip_front(&mut self, n: usize) {
        self.advance(n);
    }
    fn take(&mut self, n: usize) -> Bytes {
        self.split_to(n).freeze()
    }
}

impl Input for Bytes {
    fn skip_front(&mut self, n: usize) {
        self.advance(n);
    }
    fn take(&mut self, n: usize) -> Bytes {
        self.split_to(n)
    }
}

/// A whole JSON batch document, as `from_json` takes it: `Bytes` (or a reference to it), and what can become
/// `Bytes` without a copy (`Vec<u8>`, `String`, `BytesMut`, `Box<[u8]>`, an owned `Cow`), are read in place,
/// their items' bodies and header values sharing the document's memory; borrowed text (`&str`, `&[u8]`,
/// `&String`, `&Vec<u8>`, `&BytesMut`, a borrowed `Cow`) is copied once.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use odata_batch::BatchResponse;
///
/// let body = Bytes::from_static(br#"{"responses":[{"id":"1","status":200,"body":{"a":1}}]}"#);
/// let batch = BatchResponse::from_json(&body)?; // no copy: the body below is a view of `body`
/// assert_eq!(batch.items[0].body.as_ptr(), body[44..].as_ptr());
/// let text = String::from(r#"{"responses":[{"id":"1","status":204}]}"#);
/// assert_eq!(BatchResponse::from_json(&text)?.items.len(), 1); // copied: `text` is only borrowed
/// # Ok::<(), odata_batch::json::JsonError>(())
/// ```
pub trait JsonDocument {
    /// The document as `Bytes`.
    fn into_bytes(self) -> Bytes;
}

impl JsonDocument for Bytes {
    fn into_bytes(self) -> Bytes {
        self
    }
}

impl JsonDocument for &Bytes {
    fn into_bytes(self) -> Bytes {
        self.clone()
    }
}

impl JsonDocument for Vec<u8> {
    fn into_bytes(self) -> Bytes {
        Bytes::from(self)
    }
}

impl JsonDocument for String {
    fn into_bytes(self) -> Bytes {
        Bytes::from(self)
    }
}

impl JsonDocument for BytesMut {
    fn into_bytes(self) -> Bytes {
        self.freeze()
    }
}

impl JsonDocument for Box<[u8]> {
    fn into_bytes(self) -> Bytes {
        Bytes::from(self)
    }
}

impl JsonDocument for std::borrow::Cow<'_, [u8]> {
    fn into_bytes(self) -> Bytes {
        match self {
            std::borrow::Cow::Owned(v) => Bytes::from(v),
            std::borrow::Cow::Borrowed(b) => Bytes::copy_from_slice(b),
        }
    }
}

impl JsonDocument for std::borrow::Cow<'_, str> {
    fn into_bytes(self) -> Bytes {
        match self {
            std::borrow::Cow::Owned(s) => Bytes::from(s),
            std::borrow::Cow::Borrowed(s) => Bytes::copy_from_slice(s.as_bytes()),
        }
    }
}

impl JsonDocument for &BytesMut {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self)
    }
}

impl JsonDocument for &[u8] {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self)
    }
}

impl<const N: usize> JsonDocument for &[u8; N] {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self)
    }
}

impl JsonDocument for &str {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self.as_bytes())
    }
}

impl JsonDocument for &Vec<u8> {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self)
    }
}

impl JsonDocument for &String {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self.as_bytes())
    }
}

impl JsonBatchReader {
    /// A reader of `kind` documents with default options.
    pub fn new(kind: MessageKind) -> Self {
        Self::with_options(kind, JsonReadOptions::new())
    }

    /// A reader of `kind` documents with these options.
    pub fn with_options(kind: MessageKind, options: JsonReadOptions) -> Self {
        Self {
            kind,
            options,
            state: State::Start,
            base: 0,
            value: Scanner::default(),
            member: None,
            names: Vec::new(),
            array_seen: false,
            next_link_seen: false,
            items: 0,
            last_item_len: 0,
            rules: Rules::default(),
            failed: None,
            last_media: (Vec::new(), None),
            header_names: HeaderNames::default(),
        }
    }

    /// Items read so far.
    pub fn items(&self) -> usize {
        self.items
    }

    /// The next event, or `None` when more input is needed.
    ///
    /// # Errors
    ///
    /// [`JsonError`]; the reader then keeps returning it.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<JsonEvent>, JsonError> {
        self.step(buf, false)
    }

    /// Like [`decode`](Self::decode), when no more input will come: what is left must complete the document.
    ///
    /// # Errors
    ///
    /// As for `read`, and [`JsonErrorKind::Truncated`] when the document is cut off.
    pub fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<JsonEvent>, JsonError> {
        self.step(buf, true)
    }

    fn array_name(&self) -> &'static str {
        match self.kind {
            MessageKind::Request => "requests",
            MessageKind::Response => "responses",
        }
    }

    fn fail(&mut self, kind: JsonErrorKind, item: Option<usize>, offset: usize) -> JsonError {
        let e = JsonError::new(kind, item, Some(offset));
        self.failed = Some(e);
        e
    }

    /// Drops leading white space; the first byte after it, if any.
    fn skip_ws(&mut self, buf: &mut impl Input) -> Option<u8> {
        let n = buf.iter().position(|&b| !is_ws(b)).unwrap_or(buf.len());
        buf.skip_front(n);
        self.base += n;
        buf.first().copied()
    }

    fn consume(&mut self, buf: &mut impl Input, n: usize) -> Bytes {
        self.base += n;
        self.value.reset();
        buf.take(n)
    }

    /// Drops `n` bytes of structure (a bracket, a comma, a colon, a byte order mark): like
    /// [`consume`](Self::consume) without making them a `Bytes` (whose count of owners would be raised and
    /// lowered again).
    fn skip(&mut self, buf: &mut impl Input, n: usize) {
        // Structure comes between values, when the scanner is ready for the next (reset after the last).
        debug_assert_eq!(self.value.scanned(), 0);
        self.base += n;
        buf.skip_front(n);
    }

    fn step(&mut self, buf: &mut impl Input, eof: bool) -> Result<Option<JsonEvent>, JsonError> {
        if let Some(e) = &self.failed {
            return Err(*e);
        }
        loop {
            let item = (self.state == State::Item).then_some(self.items);
            let Some(b) = self.skip_ws(buf) else {
                if !eof {
                    return Ok(None);
                }
                return match self.state {
                    State::Done => Ok(None),
                    _ => Err(self.fail(JsonErrorKind::Truncated, item, self.base)),
                };
            };
            let at = self.base;
            let unexpected = |what: &str| {
                JsonErrorKind::Syntax(QuotedText::display(format_args!(
                    "expected {what}, found '{}'",
                    std::ascii::escape_default(b)
                )))
            };
            match self.state {
                State::Start => {
                    // A UTF-8 byte order mark before the document is ignored (RFC 8259 §8.1 lets parsers).
                    if b == 0xef && at == 0 {
                        if buf.len() < 3 && !eof && b"\xef\xbb\xbf".starts_with(&buf[..]) {
                            return Ok(None);
                        }
                        if buf.starts_with(b"\xef\xbb\xbf") {
                            self.skip(buf, 3);
                            continue;
                        }
                    }
                    if b != b'{' {
                        return Err(self.fail(unexpected("'{' opening a batch document"), None, at));
                    }
                    self.skip(buf, 1);
                    self.state = State::Name { first: true };
                }
                State::Name { first } => {
                    if b == b'}' && first {
                        self.skip(buf, 1);
                        return self.finish(at).map(Some);
                    }
                    if b != b'"' {
                        return Err(self.fail(unexpected("a member name"), None, at));
                    }
                    let Some(len) = self.scan(buf, eof, Record::Nothing, None)? else {
                        return self.need_more(eof, None, buf.len());
                    };
                    self.check_size(len, None)?;
                    let raw = self.consume(buf, len);
                    let name: String = serde_json::from_slice(&raw)
                        .map_err(|e| self.fail(JsonErrorKind::Syntax(QuotedText::display(&e)), None, at))?;
                    if self.names.contains(&name) {
                        return Err(self.fail(
                            JsonErrorKind::DuplicateMember(QuotedText::new(name.as_bytes())),
                            None,
                            at,
                        ));
                    }
                    self.names.push(name.clone());
                    self.member = Some((name, at));
                    self.state = State::Colon;
                }
                State::Colon => {
                    if b != b':' {
                        return Err(self.fail(unexpected("':'"), None, at));
                    }
                    self.skip(buf, 1);
                    let (name, name_at) = self.member.clone().expect("a name precedes the colon");
                    if name == self.array_name() {
                        self.array_seen = true;
                        self.state = State::ArrayOpen;
                    } else if name.contains('@') {
                        self.state = State::Annotation;
                    } else {
                        return Err(self.fail(
                            JsonErrorKind::UnknownMember(QuotedText::new(name.as_bytes())),
                            None,
                            name_at,
                        ));
                    }
                }
                State::ArrayOpen => {
                    if b != b'[' {
                        return Err(self.fail(unexpected("'[' opening the item array"), None, at));
                    }
                    self.skip(buf, 1);
                    self.state = State::Element { first: true };
                }
                State::Element { first } => {
                    if b == b']' {
                        self.skip(buf, 1);
                        self.state = State::AfterMember;
                    } else if first {
                        self.state = State::Item;
                    } else if b == b',' {
                        self.skip(buf, 1);
                        self.state = State::NextItem;
                    } else {
                        return Err(self.fail(unexpected("',' or ']'"), None, at));
                    }
                }
                State::NextItem => {
                    if b == b']' {
                        return Err(self.fail(unexpected("an item after ','"), Some(self.items), at));
                    }
                    self.state = State::Item;
                }
                State::Item => {
                    let index = self.items;
                    if self.value.scanned() == 0 {
                        if b != b'{' {
                            return Err(self.fail(unexpected("an object for the item"), Some(index), at));
                        }
                        if index >= self.options.max_operations {
                            let max = self.options.max_operations;
                            return Err(self.fail(JsonErrorKind::TooManyOperations { max }, Some(index), at));
                        }
                    }
                    let Some(len) = self.scan(buf, eof, Record::Item, Some(index))? else {
                        return self.need_more(eof, Some(index), buf.len());
                    };
                    self.check_size(len, Some(index))?;
                    let raw = buf.take(len);
                    self.base += len;
                    self.items += 1;
                    self.last_item_len = len;
                    self.state = State::Element { first: false };
                    let mut items = ItemReader {
                        kind: self.kind,
                        options: &self.options,
                        rules: &mut self.rules,
                        last_media: &mut self.last_media,
                        header_names: &mut self.header_names,
                    };
                    let event = items.item(raw, index, at, &self.value);
                    self.value.reset();
                    return event.inspect_err(|e| self.failed = Some(*e)).map(Some);
                }
                State::Annotation => {
                    let Some(len) = self.scan(buf, eof, Record::Nothing, None)? else {
                        return self.need_more(eof, None, buf.len());
                    };
                    self.check_size(len, None)?;
                    let raw = self.consume(buf, len);
                    self.state = State::AfterMember;
                    let text = match std::str::from_utf8(&raw) {
                        Ok(text) => text.to_owned(),
                        Err(e) => {
                            let kind = JsonErrorKind::Syntax(QuotedText::from("invalid UTF-8"));
                            return Err(self.fail(kind, None, at + e.valid_up_to()));
                        }
                    };
                    let (name, name_at) = self.member.take().expect("a name precedes the value");
                    // `@nextLink` means more responses to fetch; in a request it is an annotation like any other.
                    if self.kind == MessageKind::Response && (name == "@nextLink" || name == "@odata.nextLink") {
                        // Both spellings name one link: a second is a duplicate member like any other.
                        if std::mem::replace(&mut self.next_link_seen, true) {
                            return Err(self.fail(
                                JsonErrorKind::DuplicateMember(QuotedText::new(name.as_bytes())),
                                None,
                                name_at,
                            ));
                        }
                        return match serde_json::from_str::<String>(&text) {
                            Ok(link) => Ok(Some(JsonEvent::NextLink(link))),
                            Err(_) => Err(self.fail(
                                JsonErrorKind::Syntax(QuotedText::display(format_args!(
                                    "{} is not a string",
                                    Excerpt(name.as_bytes())
                                ))),
                                None,
                                name_at,
                            )),
                        };
                    }
                    return Ok(Some(JsonEvent::Annotation(name, text)));
                }
                State::AfterMember => match b {
                    b',' => {
                        self.skip(buf, 1);
                        self.state = State::Name { first: false };
                    }
                    b'}' => {
                        self.skip(buf, 1);
                        return self.finish(at).map(Some);
                    }
                    _ => return Err(self.fail(unexpected("',' or '}'"), None, at)),
                },
                State::Done => {
                    return Err(self.fail(JsonErrorKind::TrailingData, None, at));
                }
            }
        }
    }

    /// Continues the scan of the value at the front of `buf` (see [`Scanner::scan`]); a syntax error is
    /// reported at its place in the document.
    ///
    /// The scan looks at no more than one byte past the largest value admitted, so that a value too large is
    /// refused as such whether it arrives whole or in pieces, whatever follows in it.
    fn scan(&mut self, buf: &[u8], eof: bool, record: Record, item: Option<usize>) -> Result<Option<usize>, JsonError> {
        let seen = self
            .options
            .max_item_bytes
            .map_or(buf.len(), |max| buf.len().min(max.saturating_add(1)));
        let eof = eof && seen == buf.len();
        self.value
            .scan(&buf[..seen], eof, record)
            .map_err(|SyntaxError { message, at }| {
                let kind = JsonErrorKind::Syntax(QuotedText::display(format_args!("expected {message}")));
                self.fail(kind, item, self.base + at)
            })
    }

    /// A value is still incomplete: wait for more input, unless it already exceeds the maximum or the input
    /// has ended.
    fn need_more(&mut self, eof: bool, item: Option<usize>, buffered: usize) -> Result<Option<JsonEvent>, JsonError> {
        if let Some(max) = self.options.max_item_bytes {
            if buffered > max {
                return Err(self.fail(JsonErrorKind::ItemTooLarge { max }, item, self.base));
            }
        }
        if eof {
            Err(self.fail(JsonErrorKind::Truncated, item, self.base))
        } else {
            Ok(None)
        }
    }

    /// Refuses a complete value larger than the maximum.
    fn check_size(&mut self, len: usize, item: Option<usize>) -> Result<(), JsonError> {
        match self.options.max_item_bytes {
            Some(max) if len > max => Err(self.fail(JsonErrorKind::ItemTooLarge { max }, item, self.base)),
            _ => Ok(()),
        }
    }

    fn finish(&mut self, at: usize) -> Result<JsonEvent, JsonError> {
        self.state = State::Done;
        if !self.array_seen {
            let name = self.array_name();
            return Err(self.fail(JsonErrorKind::MissingMember(name), None, at));
        }
        Ok(JsonEvent::Finished)
    }
}

/// What reading one item needs of the reader beside the item's scan: the format's rules across items and the
/// caches of what items repeat (borrowed from the reader's fields, so that the scan can be read at the same
/// time).
struct ItemReader<'a> {
    kind: MessageKind,
    options: &'a JsonReadOptions,
    rules: &'a mut Rules,
    /// See [`JsonBatchReader::last_media`].
    last_media: &'a mut (Vec<u8>, Option<MediaClass>),
    header_names: &'a mut HeaderNames,
}

impl ItemReader<'_> {
    /// The class of a `Content-Type` value, from the last one when it is the same.
    fn media_class(&mut self, content_type: &[u8]) -> MediaClass {
        match &self.last_media {
            (last, Some(class)) if last == content_type => *class,
            _ => {
                let class = MediaClass::of(content_type);
                self.last_media.0.clear();
                self.last_media.0.extend_from_slice(content_type);
                self.last_media.1 = Some(class);
                class
            }
        }
    }

    /// Reads one complete item, which `scanned` checked as JSON and split into its members in one pass.
    fn item(&mut self, raw: Bytes, index: usize, at: usize, scanned: &Scanner) -> Result<JsonEvent, JsonError> {
        let err = |kind, offset| JsonError::new(kind, Some(index), Some(offset));
        // The item must be UTF-8. Read in one pass and all ASCII, with its body last (as writers put it), only
        // the text before the body is made a `str`: the bulk, the body, needs no second look.
        let cut = match scanned.members().last() {
            Some(m) if scanned.is_ascii() && raw[m.name.clone()] == *b"\"body\"" => m.value.start,
            _ => raw.len(),
        };
        let text = std::str::from_utf8(&raw[..cut]).map_err(|e| {
            err(
                JsonErrorKind::Syntax(QuotedText::from("invalid UTF-8")),
                at + e.valid_up_to(),
            )
        })?;
        let members = scanned.members();
        let offset_of = |r: &Range<usize>| at + r.start;
        let mut fields = Fields::default();
        for m in members {
            let name = member_name(text, m);
            let slot = match (name.as_ref(), self.kind) {
                ("id", _) => &mut fields.id,
                ("atomicityGroup", _) => &mut fields.group,
                ("headers", _) => &mut fields.headers,
                ("body", _) => &mut fields.body,
                ("method", MessageKind::Request) => &mut fields.method,
                ("url", MessageKind::Request) => &mut fields.url,
                ("dependsOn", MessageKind::Request) => &mut fields.depends_on,
                ("if", MessageKind::Request) => &mut fields.condition,
                ("status", MessageKind::Response) => &mut fields.status,
                _ => {
                    return Err(err(
                        JsonErrorKind::UnknownMember(QuotedText::new(name.as_bytes())),
                        offset_of(&m.value),
                    ))
                }
            };
            if slot.replace(m.value.clone()).is_some() {
                return Err(err(
                    JsonErrorKind::DuplicateMember(QuotedText::new(name.as_bytes())),
                    offset_of(&m.value),
                ));
            }
        }
        let string = |v: &Option<Range<usize>>, name: &'static str| -> Result<Option<String>, JsonError> {
            match v {
                None => Ok(None),
                Some(r) => string_value(text, r.clone()).map(Some).ok_or_else(|| {
                    err(
                        JsonErrorKind::Syntax(QuotedText::display(format_args!("\"{name}\" must be a string"))),
                        offset_of(r),
                    )
                }),
            }
        };
        let id = string(&fields.id, "id")?;
        let group = string(&fields.group, "atomicityGroup")?;
        let item_at = at;
        let headers = match &fields.headers {
            None => HeaderMap::new(),
            Some(r) => read_headers(&raw, text, r.clone(), scanned.headers(), self.header_names)
                .map_err(|kind| err(kind, offset_of(r)))?,
        };
        let mut headers = headers;
        let media = headers
            .get(http::header::CONTENT_TYPE)
            .map(|v| self.media_class(v.as_bytes()));
        let body = match &fields.body {
            None => Bytes::new(),
            Some(r) => read_body(&raw, r.clone(), media, self.options).map_err(|kind| err(kind, offset_of(r)))?,
        };
        // A body that is a JSON value without a content-type is application/json, the format's default: the
        // model says so, so that it is written back as JSON and sent with its media type in multipart.
        if media.is_none()
            && fields
                .body
                .as_ref()
                .is_some_and(|r| !matches!(raw[r.start], b'"' | b'n'))
        {
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let at_of = |v: &Option<Range<usize>>| v.as_ref().map_or(item_at, offset_of);
        match self.kind {
            MessageKind::Request => {
                let Some(method_range) = &fields.method else {
                    return Err(err(JsonErrorKind::MissingMember("method"), item_at));
                };
                let method_text = string(&fields.method, "method")?.unwrap_or_default();
                let method = Method::from_bytes(method_text.to_ascii_uppercase().as_bytes())
                    .map_err(|_| err(JsonErrorKind::InvalidMethod, offset_of(method_range)))?;
                if fields.url.is_none() {
                    return Err(err(JsonErrorKind::MissingMember("url"), item_at));
                }
                let url = string(&fields.url, "url")?.unwrap_or_default();
                if id.is_none() {
                    return Err(err(JsonErrorKind::MissingMember("id"), item_at));
                }
                if !body.is_empty() && (method == Method::GET || method == Method::DELETE) {
                    return Err(err(JsonErrorKind::BodyNotAllowed, at_of(&fields.body)));
                }
                let depends = match &fields.depends_on {
                    None => Vec::new(),
                    Some(r) => serde_json::from_str::<Vec<String>>(&text[r.clone()]).map_err(|_| {
                        err(
                            JsonErrorKind::Syntax(QuotedText::from("\"dependsOn\" must be an array of strings")),
                            offset_of(r),
                        )
                    })?,
                };
                let condition = string(&fields.condition, "if")?;
                let (changeset, depends_on) = self
                    .rules
                    .request(
                        id.as_deref(),
                        group.as_deref(),
                        &depends,
                        &url,
                        condition.as_deref(),
                        self.options.validate,
                    )
                    .map_err(|(kind, which)| {
                        let at = match which {
                            Member::Id => at_of(&fields.id),
                            Member::Group => at_of(&fields.group),
                            Member::DependsOn => at_of(&fields.depends_on),
                            Member::Url => at_of(&fields.url),
                            Member::If => at_of(&fields.condition),
                        };
                        err(kind, at)
                    })?;
                let mut item = RequestItem::new(method, url);
                item.body = body;
                item.headers = headers;
                item.content_id = id;
                item.changeset = changeset;
                item.depends_on = depends_on;
                item.condition = condition;
                Ok(JsonEvent::Request(item))
            }
            MessageKind::Response => {
                let Some(status_range) = &fields.status else {
                    return Err(err(JsonErrorKind::MissingMember("status"), item_at));
                };
                let status = text[status_range.clone()]
                    .parse::<u16>()
                    .ok()
                    .and_then(|s| StatusCode::from_u16(s).ok())
                    .ok_or_else(|| err(JsonErrorKind::InvalidStatus, offset_of(status_range)))?;
                let changeset = self
                    .rules
                    .response(id.as_deref(), group.as_deref(), self.options.validate)
                    .map_err(|(kind, which)| {
                        let at = match which {
                            Member::Group => at_of(&fields.group),
                            _ => at_of(&fields.id),
                        };
                        err(kind, at)
                    })?;
                let mut item = ResponseItem::new(status);
                item.body = body;
                item.headers = headers;
                item.content_id = id;
                item.changeset = changeset;
                Ok(JsonEvent::Response(item))
            }
        }
    }
}

/// Reads a whole document for its rules only.
pub(crate) fn check_document(kind: MessageKind, options: &JsonReadOptions, document: &[u8]) -> Result<(), JsonError> {
    read_all(kind, options, Bytes::copy_from_slice(document), |_, _| {}).map(|_| ())
}

/// Reads a whole document.
///
/// `each` gets every event and, with the first item, a guess of how many items the document has (one more
/// than the bytes left over the first item's size, at most [`ITEMS_GUESSED`]), to reserve room for them at
/// once.
fn read_all(
    kind: MessageKind,
    options: &JsonReadOptions,
    mut buf: Bytes,
    mut each: impl FnMut(JsonEvent, usize),
) -> Result<usize, JsonError> {
    let mut reader = JsonBatchReader::with_options(kind, options.clone());
    loop {
        match reader.step(&mut buf, true)? {
            Some(JsonEvent::Finished) => {
                // Only white space may follow.
                if let Some(e) = reader.step(&mut buf, true).err() {
                    return Err(e);
                }
                return Ok(reader.rules.groups.len());
            }
            Some(event) => {
                let first_item = reader.items == 1 && matches!(event, JsonEvent::Request(_) | JsonEvent::Response(_));
                let guess = if first_item {
                    (1 + buf.len() / reader.last_item_len.max(1)).min(ITEMS_GUESSED)
                } else {
                    0
                };
                each(event, guess);
            }
            None => unreachable!("at the end of input the reader finishes or fails"),
        }
    }
}

/// The most items [`read_all`] guesses from the first: room for more than this is made as they come, so
/// that a small first item before large ones reserves little.
const ITEMS_GUESSED: usize = 1024;

impl BatchRequest {
    /// Reads an OData 4.01 JSON batch request (`{"requests":[...]}`) with default options, checking every rule
    /// of the format (see [`JsonErrorKind`]). `id` becomes the Content-ID, each `atomicityGroup` a changeset
    /// (by order of appearance), `dependsOn` and `if` are kept; `method` is read in any case and held upper
    /// case (the format's method names are case-insensitive). Bodies: the JSON text itself (not re-serialised)
    /// for `application/json` and `+json`, the string for text, base64url (padding optional) otherwise; `null`
    /// is no body. A body that is a JSON value (not a string) with no `content-type` header is
    /// `application/json`, the format's default, and the model gets that header, so that writing it again in
    /// either format keeps it JSON.
    ///
    /// # Errors
    ///
    /// [`JsonError`], naming the rule, the request and the byte offset.
    ///
    /// # Example
    ///
    /// ```
    /// use odata_batch::{BatchRequest, Dependency};
    ///
    /// let json = r#"{"requests":[
    ///   {"id":"1","atomicityGroup":"g","method":"post","url":"People",
    ///    "headers":{"content-type":"application/json"},"body":{"Name":"A"}},
    ///   {"id":"2","atomicityGroup":"g","dependsOn":["1"],"method":"patch","url":"$1",
    ///    "headers":{"content-type":"application/json"},"body":{"Age":3}},
    ///   {"id":"3","dependsOn":["g"],"method":"get","url":"People"}]}"#;
    /// let batch = BatchRequest::from_json(json).unwrap();
    /// assert_eq!(batch.changesets, 1);
    /// assert_eq!(&batch.items[0].body[..], br#"{"Name":"A"}"#);
    /// assert_eq!(batch.items[1].method, http::Method::PATCH);
    /// // The dependency its `$1` URL implies is left out of the model (writing JSON puts it back).
    /// assert!(batch.items[1].depends_on.is_empty());
    /// assert_eq!(batch.items[2].depends_on, [Dependency::Changeset(0)]);
    /// ```
    pub fn from_json(document: impl JsonDocument) -> Result<Self, JsonError> {
        Self::from_json_with(&JsonReadOptions::new(), document)
    }

    /// Like [`from_json`](Self::from_json), with options.
    ///
    /// # Errors
    ///
    /// As for `from_json`.
    pub fn from_json_with(options: &JsonReadOptions, document: impl JsonDocument) -> Result<Self, JsonError> {
        let mut batch = Self::new();
        batch.changesets = read_all(
            MessageKind::Request,
            options,
            document.into_bytes(),
            |event, guess| match event {
                JsonEvent::Request(item) => {
                    batch.items.reserve(guess);
                    batch.items.push(item);
                }
                JsonEvent::Annotation(name, value) => batch.annotations.push((name, value)),
                // The reader gives `NextLink` for responses only.
                JsonEvent::NextLink(_) | JsonEvent::Response(_) | JsonEvent::Finished => {}
            },
        )?;
        Ok(batch)
    }
}

impl BatchResponse {
    /// Reads an OData 4.01 JSON batch response (`{"responses":[...]}`) with default options. `@nextLink` goes
    /// to [`next_link`](Self::next_link), other top-level annotations to `annotations`. For a response that
    /// arrives over time, use [`JsonBatchReader`].
    ///
    /// # Errors
    ///
    /// [`JsonError`], naming the rule, the response and the byte offset. A document cut off before its end is
    /// [`JsonErrorKind::Truncated`].
    ///
    /// # Example
    ///
    /// ```
    /// use odata_batch::BatchResponse;
    ///
    /// let json = r#"{"responses":[{"id":"1","status":201,"headers":{"location":"People(1)"}}],
    ///                "@nextLink":"$batch?$skiptoken=2"}"#;
    /// let batch = BatchResponse::from_json(json).unwrap();
    /// assert_eq!(batch.items[0].headers["location"], "People(1)");
    /// assert_eq!(batch.next_link.as_deref(), Some("$batch?$skiptoken=2"));
    /// assert!(BatchResponse::from_json(&json[..40]).is_err());
    /// ```
    pub fn from_json(document: impl JsonDocument) -> Result<Self, JsonError> {
        Self::from_json_with(&JsonReadOptions::new(), document)
    }

    /// Like [`from_json`](Self::from_json), with options.
    ///
    /// # Errors
    ///
    /// As for `from_json`.
    pub fn from_json_with(options: &JsonReadOptions, document: impl JsonDocument) -> Result<Self, JsonError> {
        let mut batch = Self::new();
        batch.changesets = read_all(
            MessageKind::Response,
            options,
            document.into_bytes(),
            |event, guess| match event {
                JsonEvent::Response(item) => {
                    batch.items.reserve(guess);
                    batch.items.push(item);
                }
                JsonEvent::Annotation(name, value) => batch.annotations.push((name, value)),
                JsonEvent::NextLink(link) => batch.next_link = Some(link),
                JsonEvent::Request(_) | JsonEvent::Finished => {}
            },
        )?;
        Ok(batch)
    }
}

impl AnyBatch {
    /// Reads a JSON batch document of either kind, `{"requests":[...]}` or `{"responses":[...]}`, with default
    /// options: the document's member decides.
    ///
    /// # Errors
    ///
    /// As for [`BatchRequest::from_json`] and [`BatchResponse::from_json`].
    ///
    /// # Example
    ///
    /// ```
    /// use odata_batch::{AnyBatch, MessageKind};
    ///
    /// let batch = AnyBatch::from_json(r#"{"requests":[{"id":"1","method":"GET","url":"People"}]}"#)?;
    /// assert_eq!(batch.message_kind(), MessageKind::Request);
    /// # Ok::<(), odata_batch::json::JsonError>(())
    /// ```
    pub fn from_json(document: impl JsonDocument) -> Result<Self, JsonError> {
        Self::from_json_with(&JsonReadOptions::new(), document)
    }

    /// Like [`from_json`](Self::from_json), with options.
    ///
    /// # Errors
    ///
    /// As for `from_json`.
    pub fn from_json_with(options: &JsonReadOptions, document: impl JsonDocument) -> Result<Self, JsonError> {
        let document = document.into_bytes();
        // The response reader stops at the first member that only a request document has.
        match BatchResponse::from_json_with(options, &document) {
            Ok(batch) => Ok(Self::Response(batch)),
            Err(e) if matches!(e.kind(), JsonErrorKind::UnknownMember(m) if *m == "requests") => {
                BatchRequest::from_json_with(options, document).map(Self::Request)
            }
            Err(e) => Err(e),
        }
    }
}
