//! Sending batches to an OData service over HTTP (feature `client`), on [reqwest].
//!
//! reqwest rather than hyper: it is what most Rust applications that call Dataverse, SharePoint or SAP already
//! use, it brings connection pooling, proxies, redirects and TLS configuration the application keeps control
//! of (pass its own `reqwest::Client`), and its `Response::chunk` gives the body piece by piece, which is all
//! the streaming decoder needs. hyper alone would leave each of those to the application.
//!
//! What the client does at the edges, and why:
//! - **Redirects are not followed.** A `$batch` POST that a server redirects may run at the new address, or
//!   (after a 301/302, which clients turn into a GET) not at all; either way the response would not be the
//!   batch's. A 3xx is [`ClientError::Redirect`] with its `Location`. A client of your own that follows
//!   redirects is caught too: a response from another URL than the one posted to is the same error.
//! - **Timeouts.** [`BatchClient::new`] connects within [`BatchClient::DEFAULT_CONNECT_TIMEOUT`]; every batch,
//!   request and whole response, must finish within [`BatchClient::timeout`] (default
//!   [`BatchClient::DEFAULT_TIMEOUT`]); running out is [`ClientError::Timeout`].
//! - **Retries, only of what did not run.** A whole-batch `429 Too Many Requests`, or `503 Service
//!   Unavailable` with `Retry-After` (the service-protection answers of Dataverse and SharePoint), means the
//!   service executed nothing: it is sent again after the time the service asks for (1 s when a 429 does not
//!   say), at most [`retries`](BatchClient::retries) times and [`max_retry_wait`](BatchClient::max_retry_wait)
//!   in all, then [`ClientError::GaveUp`]. Nothing else is retried: a connection that failed after the request
//!   went out, a timeout, a 5xx without `Retry-After` or any other status may follow a batch that ran, in part
//!   or whole, and running it twice could create every entity twice.
//! - **The service root may carry a query** (`https://host/sap/opu/odata4/svc?sap-client=100`): `$batch` goes
//!   into the path and the query is kept.

use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};

use crate::boundary::ContentTypeError;
use crate::decoder::BatchDecoder;
use crate::encoder::EncodeError;
use crate::error::DecodeError;
use crate::event::MessageKind;
use crate::json::{JsonBatchReader, JsonError, JsonEvent};
use crate::model::{Assembler, BatchFormat, BatchRequest, BatchResponse, ResponseItem};
use crate::split::SplitError;
use crate::EncodeOptions;
use crate::QuotedText;

/// Why sending a batch failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// The batch could not be written (a rule of [`EncodeErrorKind`](crate::EncodeErrorKind)).
    Encode(EncodeError),
    /// The batch could not be written as JSON, or the JSON response is malformed.
    Json(JsonError),
    /// The batch could not be split into batches the service takes.
    Split(SplitError),
    /// The connection or the HTTP exchange failed.
    Http(reqwest::Error),
    /// The service answered with something other than a batch: a whole-batch failure (a 4xx or 5xx with an
    /// OData error body), or a success status with another media type.
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// The response's `Content-Type`, if any.
        content_type: Option<String>,
        /// The OData error message (`error.message`) when the body is an OData JSON error.
        message: Option<String>,
        /// The response body, whole.
        body: Bytes,
    },
    /// The multipart response is malformed (or cut off).
    Decode(DecodeError),
    /// The service answered with a redirect (not followed: see the [module docs](self)), or a client of the
    /// application's own followed one.
    Redirect {
        /// The HTTP status (a 3xx, or the final status when the HTTP client followed the redirect).
        status: StatusCode,
        /// Where the service sent the batch: the `Location` header, or the URL that answered.
        location: Option<String>,
    },
    /// The connection or the whole exchange took longer than allowed ([`BatchClient::timeout`], or the
    /// connect timeout).
    Timeout(reqwest::Error),
    /// A header given to [`BatchClient::header`] is not a valid name or value.
    InvalidHeader(QuotedText),
    /// The response is compressed with this content coding, which the HTTP client did not undo: enable
    /// reqwest's `gzip` (or `brotli`, `deflate`, `zstd`) feature, which also asks services for it.
    ContentEncoding(QuotedText),
    /// The service kept answering `429` (or `503` with `Retry-After`) until the retries or the time allowed
    /// for them ran out.
    GaveUp {
        /// Requests sent, the first included.
        attempts: u32,
        /// Time spent waiting between them.
        waited: Duration,
        /// The last answer.
        last: Box<Self>,
    },
}

/// Writes `e` and each error it was caused by: "error sending request: connection refused".
fn write_chain(f: &mut fmt::Formatter<'_>, e: &dyn std::error::Error) -> fmt::Result {
    write!(f, "{e}")?;
    let mut source = e.source();
    while let Some(cause) = source {
        write!(f, ": {cause}")?;
        source = cause.source();
    }
    Ok(())
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encode(e) => write!(f, "cannot write the batch: {e}"),
            Self::Json(e) => e.fmt(f),
            Self::Split(e) => write!(f, "cannot split the batch: {e}"),
            Self::Http(e) => {
                write!(f, "HTTP request failed: ")?;
                write_chain(f, e)
            }
            Self::Timeout(e) => {
                write!(f, "timed out: ")?;
                write_chain(f, e)
            }
            Self::Redirect { status, location } => {
                write!(f, "the service redirected the batch ({status})")?;
                if let Some(l) = location {
                    write!(f, " to {}", crate::Excerpt(l.as_bytes()))?;
                }
                write!(f, "; redirects are not followed for $batch: use that service root")
            }
            Self::InvalidHeader(name) => write!(f, "invalid header \"{name}\""),
            Self::ContentEncoding(coding) => write!(
                f,
                "the response is compressed with {coding}, which the HTTP client does not undo (enable reqwest's feature for it)"
            ),
            Self::GaveUp { attempts, waited, last } => write!(
                f,
                "gave up after {attempts} attempts and {:.1} s of waiting: {last}",
                waited.as_secs_f64()
            ),
            Self::Status {
                status,
                content_type,
                message,
                ..
            } => {
                write!(f, "the service answered {status}")?;
                if let Some(m) = message {
                    write!(f, ": {}", crate::Excerpt(m.as_bytes()))?;
                } else if let Some(ct) = content_type {
                    write!(f, " with {} instead of a batch", crate::Excerpt(ct.as_bytes()))?;
                }
                Ok(())
            }
            Self::Decode(e) => write!(f, "malformed batch response: {e}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Encode(e) => Some(e),
            Self::Json(e) => Some(e),
            Self::Split(e) => Some(e),
            Self::Http(e) => Some(e),
            Self::Decode(e) => Some(e),
            Self::Timeout(e) => Some(e),
            Self::GaveUp { last, .. } => Some(last.as_ref()),
            Self::Status { .. } | Self::Redirect { .. } | Self::InvalidHeader(_) | Self::ContentEncoding(_) => None,
        }
    }
}

impl From<EncodeError> for ClientError {
    fn from(e: EncodeError) -> Self {
        Self::Encode(e)
    }
}

impl From<JsonError> for ClientError {
    fn from(e: JsonError) -> Self {
        Self::Json(e)
    }
}

impl From<SplitError> for ClientError {
    fn from(e: SplitError) -> Self {
        Self::Split(e)
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::Timeout(e)
        } else {
            Self::Http(e)
        }
    }
}

impl From<DecodeError> for ClientError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

/// What [`BatchClient::send_each`] hands over, in order.
#[derive(Debug)]
#[non_exhaustive]
pub enum Sent {
    /// The next response, its changeset numbered across all batches sent.
    Response(ResponseItem),
    /// A batch is complete (after its last response).
    Batch(BatchDone),
}

/// A batch [`BatchClient::send_each`] completed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchDone {
    /// Batches complete, this one included.
    pub sent: usize,
    /// Batches in all (more than one when the batch was split).
    pub total: usize,
    /// Changesets in all the responses so far.
    pub changesets: usize,
    /// This batch's top-level annotations (a JSON response's), as (name, JSON text).
    pub annotations: Vec<(String, String)>,
    /// This batch's `@nextLink` (a JSON response's).
    pub next_link: Option<String>,
}

/// Sends batches to `<service root>/$batch`.
///
/// # Example
///
/// ```no_run
/// use odata_batch::client::BatchClient;
/// use odata_batch::BatchRequest;
///
/// # #[allow(dead_code)]
/// # async fn run() -> Result<(), odata_batch::client::ClientError> {
/// let mut client = BatchClient::new("https://org.crm.dynamics.com/api/data/v9.2");
/// client.header("authorization", "Bearer ...")?.max_per_batch(Some(BatchClient::DATAVERSE_MAX_PER_BATCH));
/// let mut batch = BatchRequest::builder();
/// batch.get("accounts?$select=name&$top=3");
/// let batch = batch.build().unwrap();
/// let response = client.send(&batch).await?;
/// for item in &response.items {
///     println!("{} {}", item.status, String::from_utf8_lossy(&item.body));
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BatchClient {
    http: reqwest::Client,
    batch_url: String,
    headers: HeaderMap,
    options: EncodeOptions,
    format: BatchFormat,
    max_per_batch: Option<usize>,
    timeout: Option<Duration>,
    retries: u32,
    max_retry_wait: Duration,
    parallel: usize,
}

impl BatchClient {
    /// How long [`new`](Self::new)'s HTTP client waits for a connection.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
    /// How long a batch may take, request and whole response, unless [`timeout`](Self::timeout) says otherwise.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
    /// How many times a batch the service refused with 429 (or 503 and `Retry-After`) is sent again.
    pub const DEFAULT_RETRIES: u32 = 3;
    /// The most time spent waiting between those retries, in all.
    pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(120);

    /// The most operations Dataverse / Dynamics 365 takes in one batch.
    pub const DATAVERSE_MAX_PER_BATCH: usize = 1000;
    /// The most operations Creatio takes in one batch.
    pub const CREATIO_MAX_PER_BATCH: usize = 100;

    /// A client for the service at `service_root` (the batch goes to `<service_root>/$batch`; a query string
    /// on the root stays after `$batch`), with a `reqwest::Client` that follows no redirect and connects within
    /// [`DEFAULT_CONNECT_TIMEOUT`](Self::DEFAULT_CONNECT_TIMEOUT).
    ///
    /// ```
    /// use odata_batch::client::BatchClient;
    ///
    /// let client = BatchClient::new("https://host/sap/opu/odata4/svc/?sap-client=100");
    /// assert_eq!(client.batch_url(), "https://host/sap/opu/odata4/svc/$batch?sap-client=100");
    /// ```
    pub fn new(service_root: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Self::DEFAULT_CONNECT_TIMEOUT)
            .build()
            // Building fails only when the TLS backend cannot start; without TLS settings there is none to fail.
            .unwrap_or_default();
        Self::with_http_client(http, service_root)
    }

    /// A client that sends through `http` (its TLS, proxy, connect timeout and pool settings apply). Should it
    /// follow redirects, a redirected batch is still an error ([`ClientError::Redirect`]).
    pub fn with_http_client(http: reqwest::Client, service_root: &str) -> Self {
        Self {
            http,
            batch_url: batch_url(service_root),
            headers: HeaderMap::new(),
            options: EncodeOptions::new(),
            format: BatchFormat::Multipart,
            max_per_batch: None,
            timeout: Some(Self::DEFAULT_TIMEOUT),
            retries: Self::DEFAULT_RETRIES,
            max_retry_wait: Self::DEFAULT_MAX_RETRY_WAIT,
            parallel: 1,
        }
    }

    /// Adds a header to every batch request (authorization, for example).
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidHeader`] when `name` is not a header name or `value` not a header value; nothing
    /// is added.
    pub fn header(&mut self, name: &str, value: &str) -> Result<&mut Self, ClientError> {
        let invalid = || ClientError::InvalidHeader(QuotedText::new(name.as_bytes()));
        let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        let v = HeaderValue::from_str(value).map_err(|_| invalid())?;
        self.headers.append(n, v);
        Ok(self)
    }

    /// How long one batch may take, from connecting to the end of its response; `None` for no limit.
    /// Default: [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT).
    pub fn timeout(&mut self, timeout: Option<Duration>) -> &mut Self {
        self.timeout = timeout;
        self
    }

    /// How many times a batch refused with 429 (or 503 and `Retry-After`) is sent again; 0 for never.
    /// Default: [`DEFAULT_RETRIES`](Self::DEFAULT_RETRIES). See the [module docs](self) for what is retried.
    pub fn retries(&mut self, retries: u32) -> &mut Self {
        self.retries = retries;
        self
    }

    /// The most time spent waiting before retries, in all: a service that asks for longer is not waited for.
    /// Default: [`DEFAULT_MAX_RETRY_WAIT`](Self::DEFAULT_MAX_RETRY_WAIT).
    pub fn max_retry_wait(&mut self, max: Duration) -> &mut Self {
        self.max_retry_wait = max;
        self
    }

    /// The headers added to every batch request.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// How batches are written (boundaries, continue-on-error, limits). Default: [`EncodeOptions::new`].
    pub fn encode_options(&mut self, options: EncodeOptions) -> &mut Self {
        self.options = options;
        self
    }

    /// Multipart (default) or the JSON batch format.
    pub fn format(&mut self, format: BatchFormat) -> &mut Self {
        self.format = format;
        self
    }

    /// Send at most this many operations per batch: [`send`](Self::send) splits larger batches (see
    /// [`BatchRequest::split`]). Default: no maximum; presets [`Self::DATAVERSE_MAX_PER_BATCH`] and
    /// [`Self::CREATIO_MAX_PER_BATCH`].
    pub fn max_per_batch(&mut self, max: Option<usize>) -> &mut Self {
        self.max_per_batch = max;
        self
    }

    /// How many of the batches a split makes are in flight at once (Dataverse recommends parallel requests
    /// for throughput); responses still come back in request order, and a changeset is never cut. Default 1.
    /// More than one holds the responses of batches that finish before an earlier one.
    pub fn parallel(&mut self, batches: usize) -> &mut Self {
        self.parallel = batches.max(1);
        self
    }

    /// The URL batches go to.
    pub fn batch_url(&self) -> &str {
        &self.batch_url
    }

    /// Sends the batch (split into several when it has more operations than
    /// [`max_per_batch`](Self::max_per_batch)) and returns every response, in the original order.
    ///
    /// # Errors
    ///
    /// [`ClientError`]: the batch breaks a rule or cannot be split, the exchange failed, the service answered
    /// with something other than a batch, or the response is malformed.
    pub async fn send(&self, batch: &BatchRequest) -> Result<BatchResponse, ClientError> {
        self.send_with_progress(batch, |_, _| {}).await
    }

    /// Like [`send`](Self::send), calling `progress(sent, total)` after each batch when it was split.
    ///
    /// # Errors
    ///
    /// As for `send`; batches sent before a failure are not undone.
    pub async fn send_with_progress(
        &self,
        batch: &BatchRequest,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<BatchResponse, ClientError> {
        let mut all = BatchResponse::new();
        let ended = self
            .send_each(batch, |event| {
                match event {
                    Sent::Response(item) => all.items.push(item),
                    Sent::Batch(done) => {
                        all.changesets = done.changesets;
                        if !done.annotations.is_empty() {
                            all.annotations = done.annotations;
                        }
                        if done.next_link.is_some() {
                            all.next_link = done.next_link;
                        }
                        if done.total > 1 {
                            progress(done.sent, done.total);
                        }
                    }
                }
                ControlFlow::Continue(())
            })
            .await?;
        debug_assert!(ended.is_continue(), "the callback never stops");
        Ok(all)
    }

    /// Sends the batch (split as [`send`](Self::send) does, up to [`parallel`](Self::parallel) batches at
    /// once) and hands `each` every response as soon as it and all before it have arrived, in request order,
    /// with changesets numbered across the batches; then, after each batch, what it said besides its items.
    /// `each` returning [`ControlFlow::Break`] stops: nothing more is sent or read, and the result is `Break`.
    ///
    /// Memory: with one batch at a time (the default), one response at a time, as
    /// [`send_streaming`](Self::send_streaming); with several, the responses of batches that finished before an
    /// earlier one.
    ///
    /// # Errors
    ///
    /// As for `send`; batches sent before a failure are not undone.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::ops::ControlFlow;
    /// use odata_batch::client::{BatchClient, Sent};
    /// # #[allow(dead_code)]
    /// # async fn run(batch: odata_batch::BatchRequest) -> Result<(), odata_batch::client::ClientError> {
    /// let mut client = BatchClient::new("https://org.crm.dynamics.com/api/data/v9.2");
    /// client.max_per_batch(Some(100)).parallel(4);
    /// let mut failed = 0;
    /// let _ = client
    ///     .send_each(&batch, |sent| {
    ///         match sent {
    ///             Sent::Response(item) if item.status.as_u16() >= 400 => failed += 1,
    ///             Sent::Response(_) => {}
    ///             Sent::Batch(done) => eprintln!("batch {} of {} done", done.sent, done.total),
    ///             _ => {}
    ///         }
    ///         ControlFlow::Continue(())
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_each(
        &self,
        batch: &BatchRequest,
        mut each: impl FnMut(Sent) -> ControlFlow<()>,
    ) -> Result<ControlFlow<()>, ClientError> {
        let split;
        let parts = match self.max_per_batch {
            Some(max) if batch.items.len() > max => {
                split = batch.split(max)?;
                &split[..]
            }
            _ => std::slice::from_ref(batch),
        };
        let total = parts.len();
        let mut changesets = 0;
        if self.parallel <= 1 || total == 1 {
            for (i, part) in parts.iter().enumerate() {
                let mut stream = self.send_streaming(part).await?;
                while let Some(item) = stream.next().await {
                    let mut item = item?;
                    item.changeset = item.changeset.map(|c| c + changesets);
                    if each(Sent::Response(item)).is_break() {
                        return Ok(ControlFlow::Break(()));
                    }
                }
                changesets += stream.changesets();
                let done = BatchDone {
                    sent: i + 1,
                    total,
                    changesets,
                    annotations: std::mem::take(&mut stream.annotations),
                    next_link: stream.next_link.take(),
                };
                if each(Sent::Batch(done)).is_break() {
                    return Ok(ControlFlow::Break(()));
                }
            }
            return Ok(ControlFlow::Continue(()));
        }
        let collected = parts.iter().map(|part| async move {
            let mut stream = self.send_streaming(part).await?;
            let mut response = BatchResponse::new();
            while let Some(item) = stream.next().await {
                response.items.push(item?);
            }
            response.changesets = stream.changesets();
            response.annotations = std::mem::take(&mut stream.annotations);
            response.next_link = stream.next_link.take();
            Ok::<_, ClientError>(response)
        });
        let mut responses = futures_util::StreamExt::buffered(futures_util::stream::iter(collected), self.parallel);
        let mut sent = 0;
        while let Some(response) = futures_util::StreamExt::next(&mut responses).await {
            let response = response?;
            sent += 1;
            for mut item in response.items {
                item.changeset = item.changeset.map(|c| c + changesets);
                if each(Sent::Response(item)).is_break() {
                    return Ok(ControlFlow::Break(()));
                }
            }
            changesets += response.changesets;
            let done = BatchDone {
                sent,
                total,
                changesets,
                annotations: response.annotations,
                next_link: response.next_link,
            };
            if each(Sent::Batch(done)).is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    }

    /// Sends one batch as it is (no splitting) and returns its responses as they arrive: the body is read
    /// piece by piece and decoded as it comes, so memory holds one response (head and body) at a time plus
    /// what the caller keeps.
    ///
    /// # Errors
    ///
    /// [`ClientError`] before the first response: the batch breaks a rule, the exchange failed, or the service
    /// answered with something other than a batch. Later errors come from [`ResponseStream::next`].
    pub async fn send_streaming(&self, batch: &BatchRequest) -> Result<ResponseStream, ClientError> {
        let encoded = match self.format {
            BatchFormat::Multipart => batch.encode_with(&self.options)?,
            BatchFormat::Json => batch.encode_json(&self.options)?,
        };
        // The client's own headers replace the encoded ones of the same name.
        let mut headers = encoded.headers;
        for name in self.headers.keys() {
            headers.remove(name);
        }
        for (name, value) in &self.headers {
            headers.append(name.clone(), value.clone());
        }
        let response = self.post(headers, encoded.body).await?;
        let status = response.status();
        // reqwest removes the header when it decompresses; one still there means nobody will.
        if let Some(coding) = response.headers().get(http::header::CONTENT_ENCODING) {
            if !coding.as_bytes().eq_ignore_ascii_case(b"identity") {
                return Err(ClientError::ContentEncoding(QuotedText::new(coding.as_bytes())));
            }
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let reader = match content_type
            .as_deref()
            .map(|ct| (ct, BatchFormat::from_content_type(ct)))
        {
            Some((ct, Some(BatchFormat::Multipart))) if status.is_success() => {
                let mut builder = BatchDecoder::builder();
                builder.message_kind(MessageKind::Response);
                let decoder = builder
                    .build_for_content_type(ct.as_bytes())
                    .map_err(|e: ContentTypeError| ClientError::Status {
                        status,
                        content_type: Some(format!("{ct} ({e})")),
                        message: None,
                        body: Bytes::new(),
                    })?;
                Reader::Multipart(Box::new(decoder), Assembler::default())
            }
            Some((_, Some(BatchFormat::Json))) if status.is_success() => {
                Reader::Json(Box::new(JsonBatchReader::new(MessageKind::Response)), 0)
            }
            _ => return Err(status_error(response).await),
        };
        Ok(ResponseStream::new(response, reader))
    }
}

impl BatchClient {
    /// Posts the batch, again while the service answers that it ran nothing and asks to wait; the response
    /// that ends it.
    async fn post(&self, headers: HeaderMap, body: Bytes) -> Result<reqwest::Response, ClientError> {
        let mut attempts = 0;
        let mut waited = Duration::ZERO;
        loop {
            attempts += 1;
            let mut request = self
                .http
                .post(&self.batch_url)
                .headers(headers.clone())
                .body(body.clone());
            if let Some(timeout) = self.timeout {
                request = request.timeout(timeout);
            }
            let request = request.build()?;
            let posted_to = request.url().clone();
            let response = self.http.execute(request).await?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(http::header::LOCATION)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
                return Err(ClientError::Redirect { status, location });
            }
            if response.url() != &posted_to {
                let location = Some(response.url().to_string());
                return Err(ClientError::Redirect { status, location });
            }
            let retry_after = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| retry_after(v.as_bytes(), std::time::SystemTime::now()));
            let wait = match (status, retry_after) {
                (StatusCode::TOO_MANY_REQUESTS, wait) => wait.unwrap_or(Duration::from_secs(1)),
                (StatusCode::SERVICE_UNAVAILABLE, Some(wait)) => wait,
                _ => return Ok(response),
            };
            // A `Retry-After` of u64::MAX seconds must not overflow the sum: past the bound either way.
            let within = waited
                .checked_add(wait)
                .is_some_and(|total| total <= self.max_retry_wait);
            if attempts > self.retries || !within {
                let last = Box::new(status_error(response).await);
                return Err(ClientError::GaveUp { attempts, waited, last });
            }
            drop(response);
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }
}

/// The error for an answer that is not a batch, with the service's OData error message when it sent one.
async fn status_error(response: reqwest::Response) -> ClientError {
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(e) => return e.into(),
    };
    let message = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned));
    ClientError::Status {
        status,
        content_type,
        message,
        body,
    }
}

/// `<root>/$batch`, with the root's query string (if any) after `$batch` and its fragment dropped.
fn batch_url(service_root: &str) -> String {
    let root = service_root.split('#').next().unwrap_or_default();
    let (path, query) = match root.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (root, None),
    };
    let mut url = format!("{}/$batch", path.trim_end_matches('/'));
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// How long a `Retry-After` value asks to wait (RFC 9110 §10.2.3): delay seconds, or an HTTP date (IMF-fixdate,
/// the form senders must use) measured from `now`. `None` when it is neither.
fn retry_after(value: &[u8], now: std::time::SystemTime) -> Option<Duration> {
    let text = std::str::from_utf8(value).ok()?.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(text.parse().unwrap_or(u64::MAX)));
    }
    let at = imf_fixdate(text)?;
    let now = now.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Seconds since 1970 of an IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`.
fn imf_fixdate(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    // ASCII only: the fields below are sliced at fixed byte positions.
    if b.len() != 29 || !text.is_ascii() || &b[3..5] != b", " || &b[25..] != b" GMT" {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let s = &text[r];
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok()).flatten()
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == &text[8..11])? as u64 + 1;
    let (day, year) = (num(5..7)?, num(12..16)?);
    let (hour, minute, second) = (num(17..19)?, num(20..22)?, num(23..25)?);
    if !(1..=31).contains(&day) || year < 1970 || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), March-based years.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

enum Reader {
    Multipart(Box<BatchDecoder>, Assembler),
    /// The JSON reader, and the atomicity groups seen.
    Json(Box<JsonBatchReader>, usize),
}

/// The body of the batch response, read a chunk at a time: the response itself between reads, the read in
/// progress (which owns the response until it gives it back) while one runs.
enum Body {
    Idle(reqwest::Response),
    Reading(ChunkRead),
    Ended,
}

/// A read of the next chunk, which gives the response back with it.
type ChunkRead = Pin<Box<dyn Future<Output = (reqwest::Response, reqwest::Result<Option<Bytes>>)> + Send>>;

/// The responses of one batch as they arrive (from [`BatchClient::send_streaming`]): a
/// [`Stream`](futures_core::Stream) of items, or call [`next`](Self::next).
///
/// # Example
///
/// ```no_run
/// use futures_util::StreamExt as _;
/// # #[allow(dead_code)]
/// # async fn run(client: odata_batch::client::BatchClient, batch: odata_batch::BatchRequest)
/// #     -> Result<(), odata_batch::client::ClientError> {
/// let mut responses = client.send_streaming(&batch).await?;
/// while let Some(item) = responses.next().await {
///     let item = item?;
///     println!("{} ({} bytes)", item.status, item.body.len());
/// }
/// // Or as any stream: the statuses of another batch, in order.
/// let statuses: Vec<_> = client.send_streaming(&batch).await?.map(|r| r.map(|item| item.status)).collect().await;
/// # let _ = statuses;
/// # Ok(()) }
/// ```
pub struct ResponseStream {
    status: StatusCode,
    headers: HeaderMap,
    body: Body,
    reader: Reader,
    /// A JSON response's unread bytes.
    buf: BytesMut,
    /// A multipart response's unread chunks, read without copying them.
    chunks: crate::ChunkedInput,
    eof: bool,
    done: bool,
    annotations: Vec<(String, String)>,
    next_link: Option<String>,
}

impl fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseStream")
            .field("status", &self.status)
            .field("buffered", &self.buffered())
            .field("done", &self.done)
            .finish()
    }
}

impl ResponseStream {
    fn new(response: reqwest::Response, reader: Reader) -> Self {
        Self {
            status: response.status(),
            headers: response.headers().clone(),
            body: Body::Idle(response),
            reader,
            buf: BytesMut::new(),
            chunks: crate::ChunkedInput::new(),
            eof: false,
            done: false,
            annotations: Vec::new(),
            next_link: None,
        }
    }

    /// The HTTP status of the batch response.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers of the batch response.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Changesets (atomicity groups) begun so far.
    pub fn changesets(&self) -> usize {
        match &self.reader {
            Reader::Multipart(_, assembler) => assembler.changesets(),
            Reader::Json(_, groups) => *groups,
        }
    }

    /// Bytes received but not yet decoded (at most about one response head, plus a delimiter, or one JSON
    /// item).
    pub fn buffered(&self) -> usize {
        self.buf.len() + self.chunks.len()
    }

    /// A JSON response's top-level annotations read so far, as (name, JSON text).
    pub fn annotations(&self) -> &[(String, String)] {
        &self.annotations
    }

    /// A JSON response's `@nextLink`, once it has been read.
    pub fn next_link(&self) -> Option<&str> {
        self.next_link.as_deref()
    }

    /// The next response, `None` after the last. A response cut off before its end is an error, never a
    /// shorter batch. The same as [`StreamExt::next`](https://docs.rs/futures/latest/futures/stream/trait.StreamExt.html#method.next).
    ///
    /// # Errors
    ///
    /// The connection failed, or the response is malformed.
    pub async fn next(&mut self) -> Option<Result<ResponseItem, ClientError>> {
        std::future::poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut *self), cx)).await
    }

    /// Decodes what is buffered: the next item, or `None` when more bytes are needed (or, at the end of the
    /// body, when the batch is complete).
    fn decode_buffered(&mut self) -> Result<Option<ResponseItem>, ClientError> {
        match &mut self.reader {
            Reader::Multipart(decoder, assembler) => loop {
                let event = if self.eof {
                    decoder.decode_chunked_eof(&mut self.chunks)?
                } else {
                    decoder.decode_chunked(&mut self.chunks)?
                };
                match event {
                    None | Some(crate::Event::Finished) => return Ok(None),
                    Some(event) => {
                        if let Some(item) = assembler.push::<ResponseItem>(event) {
                            return Ok(Some(item));
                        }
                    }
                }
            },
            Reader::Json(reader, groups) => loop {
                let event = if self.eof {
                    reader.decode_eof(&mut self.buf)?
                } else {
                    reader.decode(&mut self.buf)?
                };
                match event {
                    None | Some(JsonEvent::Finished) => return Ok(None),
                    Some(JsonEvent::Response(item)) => {
                        if let Some(c) = item.changeset {
                            *groups = (*groups).max(c + 1);
                        }
                        return Ok(Some(item));
                    }
                    Some(JsonEvent::Annotation(name, value)) => self.annotations.push((name, value)),
                    Some(JsonEvent::NextLink(link)) => self.next_link = Some(link),
                    Some(JsonEvent::Request(_)) => {}
                }
            },
        }
    }

    /// Polls the body for its next chunk: `Some` with it, `None` at its end.
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, ClientError>> {
        loop {
            match std::mem::replace(&mut self.body, Body::Ended) {
                Body::Idle(mut response) => {
                    self.body = Body::Reading(Box::pin(async move {
                        let chunk = response.chunk().await;
                        (response, chunk)
                    }));
                }
                Body::Reading(mut read) => match read.as_mut().poll(cx) {
                    Poll::Pending => {
                        self.body = Body::Reading(read);
                        return Poll::Pending;
                    }
                    Poll::Ready((response, chunk)) => {
                        self.body = Body::Idle(response);
                        return Poll::Ready(chunk.map_err(ClientError::from));
                    }
                },
                Body::Ended => return Poll::Ready(Ok(None)),
            }
        }
    }
}

impl futures_core::Stream for ResponseStream {
    type Item = Result<ResponseItem, ClientError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            match this.decode_buffered() {
                Ok(Some(item)) => return Poll::Ready(Some(Ok(item))),
                Ok(None) if this.eof => {
                    this.done = true;
                    this.body = Body::Ended;
                    return Poll::Ready(None);
                }
                Ok(None) => {}
                Err(e) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
            }
            match this.poll_chunk(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(Some(chunk))) => match this.reader {
                    Reader::Multipart(..) => this.chunks.push(chunk),
                    Reader::Json(..) => this.buf.extend_from_slice(&chunk),
                },
                Poll::Ready(Ok(None)) => this.eof = true,
                Poll::Ready(Err(e)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_url_keeps_the_query_after_batch() {
        assert_eq!(batch_url("https://h/svc"), "https://h/svc/$batch");
        assert_eq!(batch_url("https://h/svc/"), "https://h/svc/$batch");
        assert_eq!(
            batch_url("https://h/svc?sap-client=100"),
            "https://h/svc/$batch?sap-client=100"
        );
        assert_eq!(batch_url("https://h/svc/?a=1&b=2#frag"), "https://h/svc/$batch?a=1&b=2");
        assert_eq!(batch_url("https://h/svc?"), "https://h/svc/$batch");
    }

    #[test]
    fn retry_after_as_seconds_or_an_http_date() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(retry_after(b"1", now), Some(Duration::from_secs(1)));
        assert_eq!(retry_after(b" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(b"Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::ZERO));
        assert_eq!(
            retry_after(b"Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(b"Mon, 07 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(86_400))
        );
        // In the past: no wait.
        assert_eq!(retry_after(b"Sat, 05 Nov 1994 08:49:37 GMT", now), Some(Duration::ZERO));
        for bad in [
            &b""[..],
            b"-1",
            b"1.5",
            b"soon",
            b"Sun, 06 Foo 1994 08:49:37 GMT",
            b"Sunday, 06-Nov-94 08:49:37 GMT",
        ] {
            assert_eq!(retry_after(bad, now), None, "{}", String::from_utf8_lossy(bad));
        }
        // Multi-byte characters where the fields are cut are not a date (and no panic).
        assert_eq!(retry_after("Sun, 0é Nov 1994 08:49:37 GMT".as_bytes(), now), None);
        assert_eq!(retry_after("Sun, 06 Nové1994 08:49:3 GMT".as_bytes(), now), None);
        assert_eq!(imf_fixdate("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(imf_fixdate("Tue, 29 Feb 2000 12:00:00 GMT"), Some(951_825_600));
        assert_eq!(imf_fixdate("Mon, 30 Nov 2026 00:00:00 GMT"), Some(1_795_996_800));
    }

    #[test]
    fn network_errors_show_their_cause() {
        let e = ClientError::GaveUp {
            attempts: 4,
            waited: Duration::from_millis(3500),
            last: Box::new(ClientError::Status {
                status: StatusCode::TOO_MANY_REQUESTS,
                content_type: None,
                message: Some("slow down".into()),
                body: Bytes::new(),
            }),
        };
        assert_eq!(
            e.to_string(),
            "gave up after 4 attempts and 3.5 s of waiting: the service answered 429 Too Many Requests: slow down"
        );
        assert!(std::error::Error::source(&e).is_some());
    }
}
