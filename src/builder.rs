//! Building batches: constructors on the items, builders for batches and changesets, and encoding a whole
//! batch in one call.

use std::borrow::Cow;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, Method, StatusCode, Version};

use crate::boundary::{Boundary, BoundaryGenerator};
use crate::encoder::{content_type_for, BatchEncoder, BatchEncoderBuilder, EncodeError, EncodeErrorKind};
use crate::model::{Batch, Operation, RequestItem, ResponseItem};

impl RequestItem {
    /// A request outside any changeset, without Content-ID, headers or body; HTTP/1.1.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            changeset: None,
            content_id: None,
            method,
            url: url.into(),
            version: Some(Version::HTTP_11),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            depends_on: Vec::new(),
            condition: None,
        }
    }
}

impl From<http::Request<Bytes>> for RequestItem {
    /// The URL is the request's URI as written: absolute when it has a scheme, else its path and query.
    fn from(request: http::Request<Bytes>) -> Self {
        let (parts, body) = request.into_parts();
        let url = match parts.uri.scheme() {
            Some(_) => parts.uri.to_string(),
            None => parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.to_string(), |pq| pq.as_str().to_owned()),
        };
        Self {
            changeset: None,
            content_id: None,
            method: parts.method,
            url,
            version: Some(Version::HTTP_11),
            headers: parts.headers,
            body,
            depends_on: Vec::new(),
            condition: None,
        }
    }
}

impl ResponseItem {
    /// A response outside any changeset, with the canonical reason phrase; HTTP/1.1.
    pub fn new(status: StatusCode) -> Self {
        Self {
            changeset: None,
            content_id: None,
            status,
            reason: Cow::Borrowed(status.canonical_reason().unwrap_or_default()),
            version: Version::HTTP_11,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }
}

impl From<http::Response<Bytes>> for ResponseItem {
    fn from(response: http::Response<Bytes>) -> Self {
        let (parts, body) = response.into_parts();
        let mut item = Self::new(parts.status);
        item.headers = parts.headers;
        item.body = body;
        item
    }
}

/// Builds a [`BatchRequest`](crate::BatchRequest) or a [`BatchResponse`](crate::BatchResponse): operations and changesets, Content-IDs numbered for you
/// in changesets, `$n` references to them. The batch is the data; what building needs besides (the last
/// number given, the first header the builder could not accept) stays here, and [`build`](Self::build)
/// reports what was refused.
///
/// # Example
///
/// ```
/// use odata_batch::BatchRequest;
///
/// let mut builder = BatchRequest::builder();
/// builder.get("accounts?$select=name").header("Accept", "application/json");
/// let mut changeset = builder.changeset();
/// let account = changeset.post("accounts").body(r#"{"name":"A"}"#).reference();
/// changeset.post(format!("{account}/contact_customer_accounts")).body("{}");
/// let batch = builder.build()?;
/// assert_eq!((batch.items.len(), batch.changesets), (3, 1));
/// assert_eq!(batch.items[2].url, "$1/contact_customer_accounts");
///
/// // A header that cannot be sent is reported by `build`, naming the operation.
/// let mut builder = BatchRequest::builder();
/// builder.get("a").header("X-Bad", "line\nbreak");
/// let err = builder.build().unwrap_err();
/// assert_eq!((err.kind(), err.operation()), (odata_batch::EncodeErrorKind::InvalidHeader, Some(0)));
/// # Ok::<(), odata_batch::EncodeError>(())
/// ```
#[derive(Debug, Clone)]
pub struct BatchBuilder<O: Operation> {
    batch: Batch<O>,
    /// The first header or JSON body the builder could not accept.
    invalid: Option<EncodeError>,
    /// The highest numeric Content-ID given so far; automatic ids continue from it.
    last_id: u64,
}

impl<O: Operation> Default for BatchBuilder<O> {
    fn default() -> Self {
        Self {
            batch: Batch::default(),
            invalid: None,
            last_id: 0,
        }
    }
}

impl<O: Operation> BatchBuilder<O> {
    /// The batch as built so far.
    pub fn batch(&self) -> &Batch<O> {
        &self.batch
    }

    /// The batch.
    ///
    /// # Errors
    ///
    /// The first header (an invalid name, or a value with a control character) or JSON body (whose
    /// `Serialize` failed) the builder could not accept: [`EncodeErrorKind::InvalidHeader`] or
    /// [`EncodeErrorKind::InvalidJsonBody`], naming the operation.
    pub fn build(self) -> Result<Batch<O>, EncodeError> {
        match self.invalid {
            Some(e) => Err(e),
            None => Ok(self.batch),
        }
    }

    /// Adds an item, in changeset `changeset`, numbering its Content-ID when asked to.
    fn add(&mut self, mut item: O, changeset: Option<usize>, number: bool) -> usize {
        *item.changeset_mut() = changeset;
        match item.content_id() {
            Some(id) => self.note_id(id),
            None if number => {
                self.last_id += 1;
                *item.content_id_mut() = Some(self.last_id.to_string());
            }
            None => {}
        }
        self.batch.items.push(item);
        self.batch.items.len() - 1
    }

    fn note_id(&mut self, id: &str) {
        if let Ok(n) = id.parse::<u64>() {
            self.last_id = self.last_id.max(n);
        }
    }

    fn refuse(&mut self, kind: EncodeErrorKind, index: usize) {
        self.invalid.get_or_insert(EncodeError::new(kind, Some(index)));
    }

    /// Starts a changeset: operations added through the returned builder succeed or fail together.
    pub fn changeset(&mut self) -> ChangesetBuilder<'_, O> {
        ChangesetBuilder {
            builder: self,
            index: None,
        }
    }
}

macro_rules! request_methods {
    ($($name:ident => $method:ident,)*) => {$(
        #[doc = concat!("Adds a `", stringify!($method), "` request.")]
        pub fn $name(&mut self, url: impl Into<String>) -> OperationBuilder<'_, RequestItem> {
            self.push(RequestItem::new(Method::$method, url))
        }
    )*};
}

impl BatchBuilder<RequestItem> {
    /// Adds a request as it is, outside changesets.
    pub fn push(&mut self, item: RequestItem) -> OperationBuilder<'_, RequestItem> {
        let index = self.add(item, None, false);
        OperationBuilder { builder: self, index }
    }

    request_methods! { get => GET, post => POST, put => PUT, patch => PATCH, delete => DELETE, }
}

impl BatchBuilder<ResponseItem> {
    /// Adds a response as it is, outside changesets.
    pub fn push(&mut self, item: ResponseItem) -> OperationBuilder<'_, ResponseItem> {
        let index = self.add(item, None, false);
        OperationBuilder { builder: self, index }
    }

    /// Adds a response with this status outside changesets (also the shape of a failed changeset: one error
    /// response in its place).
    pub fn respond(&mut self, status: StatusCode) -> OperationBuilder<'_, ResponseItem> {
        self.push(ResponseItem::new(status))
    }
}

/// Sets details of the operation just added; returned by the batch and changeset builders.
///
/// # Example
///
/// ```
/// use odata_batch::BatchRequest;
///
/// let mut batch = BatchRequest::builder();
/// let mut changeset = batch.changeset();
/// let account = changeset.post("accounts").header("Content-Type", "application/json").body(r#"{"name":"A"}"#).reference();
/// changeset.post(format!("{account}/contact_customer_accounts")).body(r#"{"firstname":"B"}"#);
/// assert_eq!(account, "$1");
/// let batch = batch.build().unwrap();
/// assert_eq!(batch.items[1].url, "$1/contact_customer_accounts");
/// assert_eq!(batch.items[1].content_id.as_deref(), Some("2"));
/// ```
pub struct OperationBuilder<'a, O: Operation> {
    builder: &'a mut BatchBuilder<O>,
    index: usize,
}

impl<O: Operation> std::fmt::Debug for OperationBuilder<'_, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperationBuilder").field("index", &self.index).finish()
    }
}

impl<O: Operation> OperationBuilder<'_, O> {
    fn item(&mut self) -> &mut O {
        let index = self.index;
        &mut self.builder.batch.items[index]
    }

    /// Appends a header. An invalid name or value (CR, LF, NUL or another control character; a name that is
    /// not a token) is reported by `encode`, naming this operation.
    pub fn header(&mut self, name: &str, value: impl AsRef<[u8]>) -> &mut Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_ref()),
        ) {
            (Ok(name), Ok(value)) => {
                self.item().headers_mut().append(name, value);
            }
            _ => self.builder.refuse(EncodeErrorKind::InvalidHeader, self.index),
        }
        self
    }

    /// Sets the body.
    pub fn body(&mut self, body: impl Into<Bytes>) -> &mut Self {
        *self.item().body_mut() = body.into();
        self
    }

    /// Sets the body to `value` as JSON and `Content-Type: application/json` unless a Content-Type is set.
    /// When `value`'s `Serialize` implementation fails (a map with non-string keys, a custom error), `encode`
    /// reports [`EncodeErrorKind::InvalidJsonBody`] naming this operation, as it does for an invalid header.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn json(&mut self, value: &impl serde::Serialize) -> &mut Self {
        let Ok(body) = serde_json::to_vec(value) else {
            self.builder.refuse(EncodeErrorKind::InvalidJsonBody, self.index);
            return self;
        };
        let item = self.item();
        *item.body_mut() = Bytes::from(body);
        if !item.headers_mut().contains_key(CONTENT_TYPE) {
            item.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        self
    }

    /// Sets the Content-ID (replacing an automatic one).
    pub fn content_id(&mut self, id: impl Into<String>) -> &mut Self {
        let id = id.into();
        self.builder.note_id(&id);
        *self.item().content_id_mut() = Some(id);
        self
    }

    /// The `$id` reference to this operation, for a later URL or body (`@odata.bind`); numbers the operation
    /// if it has no Content-ID yet.
    pub fn reference(&mut self) -> String {
        if self.item().content_id_mut().is_none() {
            self.builder.last_id += 1;
            let id = self.builder.last_id.to_string();
            *self.item().content_id_mut() = Some(id);
        }
        format!("${}", self.item().content_id_mut().as_deref().unwrap_or_default())
    }
}

/// Adds operations to one changeset; returned by `changeset()`. The changeset exists once it has an
/// operation; every operation in it gets a Content-ID (numbered `1`, `2`, ... unless given).
#[derive(Debug)]
pub struct ChangesetBuilder<'a, O: Operation> {
    builder: &'a mut BatchBuilder<O>,
    index: Option<usize>,
}

impl<O: Operation> ChangesetBuilder<'_, O> {
    fn index(&mut self) -> usize {
        *self.index.get_or_insert_with(|| {
            self.builder.batch.changesets += 1;
            self.builder.batch.changesets - 1
        })
    }

    fn push_item(&mut self, item: O) -> OperationBuilder<'_, O> {
        let cs = self.index();
        let index = self.builder.add(item, Some(cs), true);
        OperationBuilder {
            builder: self.builder,
            index,
        }
    }
}

impl ChangesetBuilder<'_, RequestItem> {
    /// Adds a request as it is (its Content-ID numbered if it has none).
    pub fn push(&mut self, item: RequestItem) -> OperationBuilder<'_, RequestItem> {
        self.push_item(item)
    }

    request_methods! { get => GET, post => POST, put => PUT, patch => PATCH, delete => DELETE, }
}

impl ChangesetBuilder<'_, ResponseItem> {
    /// Adds a response as it is.
    pub fn push(&mut self, item: ResponseItem) -> OperationBuilder<'_, ResponseItem> {
        self.push_item(item)
    }

    /// Adds a response with this status.
    pub fn respond(&mut self, status: StatusCode) -> OperationBuilder<'_, ResponseItem> {
        self.push(ResponseItem::new(status))
    }
}

impl<O: Operation> Batch<O> {
    /// A builder for a batch: requests for clients, responses for servers, mocks and tests.
    ///
    /// # Example
    ///
    /// ```
    /// use http::StatusCode;
    /// use odata_batch::{BatchRequest, BatchResponse};
    ///
    /// let mut builder = BatchRequest::builder();
    /// builder.get("accounts?$select=name").header("Accept", "application/json");
    /// let batch = builder.build()?;
    /// let encoded = batch.encode()?;
    /// assert!(encoded.content_type.starts_with("multipart/mixed; boundary=batch_"));
    /// assert_eq!(BatchRequest::decode(&encoded.content_type, encoded.body)?, batch);
    ///
    /// let mut builder = BatchResponse::builder();
    /// builder.changeset().respond(StatusCode::CREATED).header("Location", "https://host/svc/People(1)");
    /// // A failed changeset: one error response in its place.
    /// builder.respond(StatusCode::BAD_REQUEST).header("Content-Type", "application/json").body(r#"{"error":{}}"#);
    /// let batch = builder.build()?;
    /// let encoded = batch.encode()?;
    /// assert_eq!(BatchResponse::decode(&encoded.content_type, encoded.body)?, batch);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> BatchBuilder<O> {
        BatchBuilder::default()
    }

    /// Encodes as multipart with default options: fresh boundaries, the reader's operation limit.
    ///
    /// # Errors
    ///
    /// An operation breaks a rule of [`EncodeErrorKind`]; the error names it.
    pub fn encode(&self) -> Result<EncodedBatch, EncodeError> {
        self.encode_with(&EncodeOptions::default())
    }

    /// Encodes as multipart with `options`.
    ///
    /// # Errors
    ///
    /// As for [`encode`](Self::encode).
    pub fn encode_with(&self, options: &EncodeOptions) -> Result<EncodedBatch, EncodeError> {
        O::check_for_multipart(&self.items, options.continue_on_error.is_some())?;
        encode_items(&self.items, self.changesets, options, |e, dst, item| {
            item.write_part(e, dst)
        })
    }
}

/// How a client asks the server to go on after a failed operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContinueOnError {
    /// `Prefer: odata.continue-on-error` (OData 4.0).
    OData40,
    /// `Prefer: continue-on-error` (OData 4.01).
    OData401,
}

/// Options for encoding a whole batch.
///
/// # Example
///
/// ```
/// use odata_batch::{BatchRequest, ContinueOnError, EncodeOptions};
///
/// let mut options = EncodeOptions::dataverse();
/// options.seed(42).continue_on_error(Some(ContinueOnError::OData40));
/// let mut batch = BatchRequest::builder();
/// batch.get("WhoAmI");
/// let batch = batch.build().unwrap();
/// let a = batch.encode_with(&options).unwrap();
/// let b = batch.encode_with(&options).unwrap();
/// assert_eq!(a.body, b.body); // seeded: the same boundaries every time
/// assert_eq!(a.headers["prefer"], "odata.continue-on-error");
/// ```
#[derive(Debug, Clone, Default)]
pub struct EncodeOptions {
    boundary: Option<Boundary>,
    seed: Option<u64>,
    /// Operation limit, Content-Length, reader limits: the encoder's own options.
    encoder: BatchEncoderBuilder,
    continue_on_error: Option<ContinueOnError>,
}

impl EncodeOptions {
    /// The most operations the encoder writes: the caller's maximum or the reader's limit.
    #[cfg(feature = "json")]
    pub(crate) fn max_operations_value(&self) -> usize {
        self.encoder.max_operations_value()
    }

    /// The continue-on-error preference asked for.
    #[cfg(feature = "json")]
    pub(crate) fn continue_on_error_form(&self) -> Option<ContinueOnError> {
        self.continue_on_error
    }

    /// Defaults: generated boundaries, no maximum.
    pub fn new() -> Self {
        Self::default()
    }

    /// At most 1000 operations, the Dataverse / Dynamics 365 limit.
    pub fn dataverse() -> Self {
        let mut options = Self::default();
        options.encoder.max_operations(Some(1000));
        options
    }

    /// At most 100 operations, the Creatio limit.
    pub fn creatio() -> Self {
        let mut options = Self::default();
        options.encoder.max_operations(Some(100));
        options
    }

    /// Uses this batch boundary instead of a generated one; a body that contains it is then an error
    /// ([`EncodeErrorKind::BodyContainsDelimiter`]) rather than a reason to pick another.
    pub fn boundary(&mut self, boundary: Boundary) -> &mut Self {
        self.boundary = Some(boundary);
        self
    }

    /// Generates boundaries from this seed, so that the output is the same on every run (for tests).
    pub fn seed(&mut self, seed: u64) -> &mut Self {
        self.seed = Some(seed);
        self
    }

    /// The encoder's own options: the most operations, `Content-Length` on parts, the Content-ID scope, the
    /// limits of the reader the batch is for ([`BatchEncoderBuilder`]).
    ///
    /// ```
    /// use odata_batch::{ContentIdScope, EncodeOptions};
    ///
    /// let mut options = EncodeOptions::dataverse();
    /// options.encoder().content_length(true).content_id_scope(ContentIdScope::Batch);
    /// ```
    pub fn encoder(&mut self) -> &mut BatchEncoderBuilder {
        &mut self.encoder
    }

    /// Asks the server to go on after a failed operation.
    ///
    /// `None` means stop at the first failed request, in both formats: multipart batches say nothing (that is
    /// their default) and JSON batches carry `Prefer: continue-on-error=false` (see [`crate::BatchFormat`]).
    pub fn continue_on_error(&mut self, form: Option<ContinueOnError>) -> &mut Self {
        self.continue_on_error = form;
        self
    }
}

/// An encoded batch: the body, its `Content-Type`, and a ready set of headers for the outer request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EncodedBatch {
    /// `multipart/mixed; boundary=...`
    pub content_type: String,
    /// The multipart body.
    pub body: Bytes,
    /// `Content-Type`, `OData-Version: 4.0`, `OData-MaxVersion: 4.01`, `Accept: multipart/mixed`, and `Prefer`
    /// when continue-on-error was asked for.
    pub headers: HeaderMap,
}

/// How many boundaries to try before giving up on bodies that contain all of them.
const BOUNDARY_TRIES: usize = 16;

/// Checks changeset adjacency, picks boundaries, and writes everything.
fn encode_items<T: Operation>(
    items: &[T],
    changesets: usize,
    options: &EncodeOptions,
    mut write: impl FnMut(&mut BatchEncoder, &mut Vec<u8>, &T) -> Result<(), EncodeError>,
) -> Result<EncodedBatch, EncodeError> {
    // Changesets as index ranges of adjacent members.
    let groups: Vec<(usize, usize)> = crate::rules::changeset_runs(items.iter().map(T::changeset))
        .map_err(|(rule, i)| EncodeError::new(EncodeErrorKind::Rule(rule), Some(i)))?
        .into_iter()
        .map(|run| (run.start, run.end))
        .collect();
    // A changeset of the model without members cannot be written (RFC 2046 wants a part), and leaving it out
    // would lose it.
    if groups.len() < changesets {
        return Err(EncodeError::new(EncodeErrorKind::EmptyChangeset, None));
    }
    let mut generator = options
        .seed
        .map_or_else(BoundaryGenerator::new, BoundaryGenerator::seeded);
    // Room for everything, so that the output (nearly) never reallocates: bodies, URLs and headers plus framing.
    let (mut size, mut id_bytes) = (groups.len() * 128 + 64, 0);
    for item in items {
        size += item.body().len() + item.estimated_head_len() + 192;
        id_bytes += item.content_id().map_or(0, str::len);
    }
    // Optimistic: write once; a body that contains a generated boundary (practically never) makes us pick
    // fresh boundaries and write again. A fixed batch boundary that a body contains is the caller's error.
    for _ in 0..BOUNDARY_TRIES {
        let outer = options.boundary.clone().unwrap_or_else(|| generator.next("batch_"));
        let mut encoder = options.encoder.build(outer);
        encoder.reserve_content_ids(items.len(), id_bytes);
        // A `Vec`, so that heads are assembled in place; it becomes the `Bytes` of the body without a copy.
        let mut out = Vec::with_capacity(size);
        match write_all(&mut encoder, &mut out, items, &groups, &mut generator, &mut write) {
            Ok(()) => return Ok(finish_encoded(&encoder, Bytes::from(out), options)),
            Err(e) if e.kind() == EncodeErrorKind::BodyContainsDelimiter => {
                let fixed_conflict = options
                    .boundary
                    .as_ref()
                    .zip(e.operation())
                    .is_some_and(|(b, i)| crate::encoder::body_conflicts(b, items[i].body()));
                if fixed_conflict {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(EncodeError::new(EncodeErrorKind::NoUsableBoundary, None))
}

/// Writes every item, opening and closing changesets at the group bounds.
fn write_all<T: Operation>(
    encoder: &mut BatchEncoder,
    out: &mut Vec<u8>,
    items: &[T],
    groups: &[(usize, usize)],
    generator: &mut BoundaryGenerator,
    write: &mut impl FnMut(&mut BatchEncoder, &mut Vec<u8>, &T) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let mut next_group = groups.iter().peekable();
    let mut open_until = None;
    for (i, item) in items.iter().enumerate() {
        if let Some(&&(start, end)) = next_group.peek() {
            if start == i {
                encoder.begin_changeset(out, &generator.next("changeset_"))?;
                open_until = Some(end);
                next_group.next();
            }
        }
        write(encoder, out, item)?;
        if open_until == Some(i + 1) {
            encoder.end_changeset(out)?;
            open_until = None;
        }
    }
    encoder.finish(out)
}

/// The encoded batch with its outer headers.
fn finish_encoded(encoder: &BatchEncoder, body: Bytes, options: &EncodeOptions) -> EncodedBatch {
    let content_type = content_type_for(encoder.boundary());
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_str(&content_type).expect("boundary characters are valid"),
    );
    headers.insert("odata-version", HeaderValue::from_static("4.0"));
    headers.insert("odata-maxversion", HeaderValue::from_static("4.01"));
    headers.insert(ACCEPT, HeaderValue::from_static("multipart/mixed"));
    match options.continue_on_error {
        Some(ContinueOnError::OData40) => {
            headers.insert("prefer", HeaderValue::from_static("odata.continue-on-error"));
        }
        Some(ContinueOnError::OData401) => {
            headers.insert("prefer", HeaderValue::from_static("continue-on-error"));
        }
        None => {}
    }
    EncodedBatch {
        content_type,
        body,
        headers,
    }
}
