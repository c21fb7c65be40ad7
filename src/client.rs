//! Sending batches to an OData service over HTTP (feature `client`), on [reqwest].
//!
//! reqwest rather than hyper: it is what most Rust applications that call Dataverse, SharePoint or SAP already
//! use, it brings connection pooling, proxies, redirects and TLS configuration the application keeps control
//! of (pass its own `reqwest::Client`), and its `Response::chunk` gives the body piece by piece, which is all
//! the streaming decoder needs. hyper alone would leave each of those to the application.

use std::fmt;

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
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encode(e) => write!(f, "cannot write the batch: {e}"),
            Self::Json(e) => e.fmt(f),
            Self::Split(e) => write!(f, "cannot split the batch: {e}"),
            Self::Http(e) => write!(f, "HTTP request failed: {e}"),
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
            Self::Status { .. } => None,
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
        Self::Http(e)
    }
}

impl From<DecodeError> for ClientError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
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
/// client.header("authorization", "Bearer ...").max_per_batch(Some(BatchClient::DATAVERSE_MAX_PER_BATCH));
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
}

impl BatchClient {
    /// The most operations Dataverse / Dynamics 365 takes in one batch.
    pub const DATAVERSE_MAX_PER_BATCH: usize = 1000;
    /// The most operations Creatio takes in one batch.
    pub const CREATIO_MAX_PER_BATCH: usize = 100;

    /// A client for the service at `service_root` (the batch goes to `<service_root>/$batch`), with a default
    /// `reqwest::Client`.
    pub fn new(service_root: &str) -> Self {
        Self::with_http_client(reqwest::Client::new(), service_root)
    }

    /// A client that sends through `http` (its TLS, proxy, timeout and pool settings apply).
    pub fn with_http_client(http: reqwest::Client, service_root: &str) -> Self {
        Self {
            http,
            batch_url: format!("{}/$batch", service_root.trim_end_matches('/')),
            headers: HeaderMap::new(),
            options: EncodeOptions::new(),
            format: BatchFormat::Multipart,
            max_per_batch: None,
        }
    }

    /// Adds a header to every batch request (authorization, for example). An invalid name or value is
    /// ignored; use [`headers_mut`](Self::headers_mut) to handle that yourself.
    pub fn header(&mut self, name: &str, value: &str) -> &mut Self {
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            self.headers.append(n, v);
        }
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
        let split;
        let parts = match self.max_per_batch {
            Some(max) if batch.items.len() > max => {
                split = batch.split(max)?;
                &split[..]
            }
            _ => std::slice::from_ref(batch),
        };
        let mut all = BatchResponse::new();
        let total = parts.len();
        for (i, part) in parts.iter().enumerate() {
            let mut stream = self.send_streaming(part).await?;
            let mut response = BatchResponse::new();
            while let Some(item) = stream.next().await {
                response.items.push(item?);
            }
            response.changesets = stream.changesets();
            response.annotations = std::mem::take(&mut stream.annotations);
            response.next_link = stream.next_link.take();
            all.append(response);
            if total > 1 {
                progress(i + 1, total);
            }
        }
        Ok(all)
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
        let response = self
            .http
            .post(&self.batch_url)
            .headers(headers)
            .body(encoded.body)
            .send()
            .await?;
        let status = response.status();
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
            _ => {
                let body = response.bytes().await?;
                let message = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["error"]["message"].as_str().map(str::to_owned));
                return Err(ClientError::Status {
                    status,
                    content_type,
                    message,
                    body,
                });
            }
        };
        Ok(ResponseStream {
            response,
            reader,
            buf: BytesMut::new(),
            eof: false,
            done: false,
            annotations: Vec::new(),
            next_link: None,
        })
    }
}

enum Reader {
    Multipart(Box<BatchDecoder>, Assembler),
    /// The JSON reader, and the atomicity groups seen.
    Json(Box<JsonBatchReader>, usize),
}

/// The responses of one batch as they arrive (from [`BatchClient::send_streaming`]).
pub struct ResponseStream {
    response: reqwest::Response,
    reader: Reader,
    buf: BytesMut,
    eof: bool,
    done: bool,
    annotations: Vec<(String, String)>,
    next_link: Option<String>,
}

impl fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseStream")
            .field("status", &self.response.status())
            .field("buffered", &self.buf.len())
            .field("done", &self.done)
            .finish()
    }
}

impl ResponseStream {
    /// The HTTP status of the batch response.
    pub fn status(&self) -> StatusCode {
        self.response.status()
    }

    /// The headers of the batch response.
    pub fn headers(&self) -> &HeaderMap {
        self.response.headers()
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
        self.buf.len()
    }

    /// A JSON response's `@nextLink`, once it has been read.
    pub fn next_link(&self) -> Option<&str> {
        self.next_link.as_deref()
    }

    /// The next response, `None` after the last. A response cut off before its end is an error, never a
    /// shorter batch.
    ///
    /// # Errors
    ///
    /// The connection failed, or the response is malformed.
    pub async fn next(&mut self) -> Option<Result<ResponseItem, ClientError>> {
        if self.done {
            return None;
        }
        let result = self.next_inner().await;
        match &result {
            Ok(None) | Err(_) => self.done = true,
            Ok(Some(_)) => {}
        }
        result.transpose()
    }

    async fn next_inner(&mut self) -> Result<Option<ResponseItem>, ClientError> {
        loop {
            // Decode what is buffered first.
            match &mut self.reader {
                Reader::Multipart(decoder, assembler) => loop {
                    let event = if self.eof {
                        decoder.decode_eof(&mut self.buf)?
                    } else {
                        decoder.decode(&mut self.buf)?
                    };
                    match event {
                        None if self.eof => return Ok(None),
                        None => break,
                        Some(crate::Event::Finished) => return Ok(None),
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
                        None if self.eof => return Ok(None),
                        None => break,
                        Some(JsonEvent::Finished) => return Ok(None),
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
            // Then read more.
            match self.response.chunk().await? {
                Some(chunk) => self.buf.extend_from_slice(&chunk),
                None => self.eof = true,
            }
        }
    }
}
