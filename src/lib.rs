//! Streaming, zero-copy reader and writer for OData `$batch` payloads.
//!
//! An OData batch is a `multipart/mixed` body: each part is an embedded HTTP message
//! (`Content-Type: application/http`), or a *changeset*, a nested `multipart/mixed` whose operations succeed
//! or fail together. Inside a changeset, `Content-ID: 1` names an operation and `$1` refers to what it
//! created.
//!
//! ```text
//! --batch_1                                        <- delimiter
//! Content-Type: multipart/mixed; boundary=cs_1     <- MIME part headers of a changeset
//!
//! --cs_1
//! Content-Type: application/http                   <- MIME part headers of an operation
//! Content-Transfer-Encoding: binary
//! Content-ID: 1
//!
//! POST Customers HTTP/1.1                          <- embedded request line
//! Content-Type: application/json                   <- embedded headers
//!
//! {"Name":"A"}                                     <- body
//! --cs_1--                                         <- changeset close delimiter
//! --batch_1--                                      <- batch close delimiter
//! ```
//!
//! # The sans-IO contract
//!
//! [`BatchDecoder`] does no IO, reads no clock and keeps no input: bytes in, [`Event`]s out, with the
//! `tokio_util::codec::Decoder` signature. It gives the same events whether the input arrives at once or one
//! byte at a time; heads and bodies are `Bytes` split off the caller's buffer without copying; body bytes are
//! released as soon as they cannot be the start of a delimiter, so memory stays bounded by one head plus one
//! delimiter whatever the body sizes; and it allocates nothing per operation (request validation keeps a table
//! of Content-IDs, which grows amortised). A batch that ends before its
//! close delimiter is an error ([`DecodeErrorKind::Truncated`]), never a silent success.
//!
//! # Example: decode a response in one call
//!
//! ```
//! use odata_batch::BatchResponse;
//!
//! let body = "--batchresponse_1\r\n\
//!     Content-Type: multipart/mixed; boundary=changesetresponse_1\r\n\r\n\
//!     --changesetresponse_1\r\n\
//!     Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n\
//!     HTTP/1.1 201 Created\r\nLocation: https://host/svc/Customers(7)\r\n\r\n\r\n\
//!     --changesetresponse_1--\r\n\
//!     --batchresponse_1--\r\n";
//! let batch = BatchResponse::decode("multipart/mixed; boundary=batchresponse_1", body)?;
//! let created = &batch.items[0];
//! assert_eq!((created.status.as_u16(), created.changeset, created.content_id.as_deref()), (201, Some(0), Some("1")));
//! assert_eq!(created.headers["location"], "https://host/svc/Customers(7)");
//! # Ok::<(), odata_batch::BatchError>(())
//! ```
//!
//! # Example: stream events
//!
//! ```
//! use bytes::BytesMut;
//! use odata_batch::{BatchDecoder, Event};
//!
//! let mut decoder = BatchDecoder::from_content_type("multipart/mixed; boundary=b")?;
//! let mut buf = BytesMut::new();
//! let mut body = Vec::new();
//! for chunk in [&b"--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\nhel"[..], b"lo\r\n--b--\r\n"] {
//!     buf.extend_from_slice(chunk); // what a socket read would append
//!     while let Some(event) = decoder.decode(&mut buf)? {
//!         if let Event::Body(bytes) = event {
//!             body.extend_from_slice(&bytes);
//!         }
//!     }
//! }
//! assert!(decoder.is_finished());
//! assert_eq!(body, b"hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With the `tokio` feature, `BatchCodec` does the same under `tokio_util::codec::FramedRead`.
//!
//! # Example: build and encode a changeset
//!
//! ```
//! use odata_batch::{BatchRequest, EncodeOptions};
//!
//! let mut builder = BatchRequest::builder();
//! let mut changeset = builder.changeset();
//! let account = changeset.post("accounts").header("Content-Type", "application/json").body(r#"{"name":"A"}"#).reference();
//! changeset.post(format!("{account}/contact_customer_accounts")).header("Content-Type", "application/json").body("{}");
//! let batch = builder.build()?; // refuses a header that cannot be sent, naming the operation
//! let encoded = batch.encode_with(&EncodeOptions::dataverse())?;
//! assert!(encoded.content_type.starts_with("multipart/mixed; boundary=batch_"));
//! assert_eq!(encoded.headers["odata-version"], "4.0");
//! // What the encoder writes, the decoder reads back identically.
//! assert_eq!(BatchRequest::decode(&encoded.content_type, encoded.body)?.items, batch.items);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The encoder refuses what a server would misread, before a byte of the operation is written: CR, LF or NUL
//! in a URL or header (which would smuggle an extra operation into the batch), `GET` in a changeset,
//! duplicate Content-IDs (within the [`ContentIdScope`]), a `$n` reference to an id not defined earlier, a
//! changeset whose members are apart ([`Rule`]), more operations than the configured
//! maximum, a body that contains the delimiter ([`EncodeErrorKind`]). [`BatchEncoder`] writes operation by
//! operation, for batches too large to hold.
//!
//! # Crate features
//!
//! | feature | adds |
//! | --- | --- |
//! | `json` | `serde::Serialize` for [`BatchRequest`] and [`BatchResponse`] in the OData 4.01 JSON batch format, and `BatchRequest::from_json` (module `json`) |
//! | `tokio` | `BatchCodec` (raw events) and `ItemCodec` (owned, assembled operations; JSON batches too with `json`), `tokio_util::codec::Decoder`s, and `tokio_util::codec::Encoder<BatchPart>` for [`BatchEncoder`]; `json::JsonBatchReader` under `FramedRead` with `json` |
//! | `client` | `client::BatchClient` on reqwest: posts batches to `<service root>/$batch`, streams the responses (`ResponseStream` is a `futures_core::Stream`), splits, runs split batches in parallel in order, retries what did not run, times out, follows no redirect; implies `json`. TLS and compression are the application's choice, through its own reqwest features |
//!
//! # Reading is lenient, and says how
//!
//! By default the decoder accepts what real servers send, each deviation a named setting of [`Leniency`]
//! that [`Leniency::strict`] turns off: LF-only and mixed line endings, transport padding, preamble and
//! epilogue, a close delimiter without a final line break, obsolete header folding, a missing
//! `Content-Transfer-Encoding`, an embedded head that runs into the next delimiter, unencoded spaces in
//! request targets, malformed `Content-Length`, trailing spaces on start lines; and what a reader matching
//! boundaries by prefix or taking the last of two headers would read differently, which a validating server
//! must refuse: lines that start like a delimiter, text after a close delimiter, overlapping boundaries,
//! conflicting duplicate headers and Content-IDs, a `Content-Length` that disagrees with the body, an
//! embedded `Transfer-Encoding`; also a space before a header's colon and SAP CAP's unquoted boundaries. It
//! never accepts what would lose or invent data: see [`DecodeErrorKind`]. Every error carries the byte offset where
//! it was found.
//!
//! # Conversions are exact or refused
//!
//! Decoding, encoding, the JSON format and the `http` conversions either carry everything, or refuse with an
//! error that names what they cannot carry. The few losses that are not refused are documented on the field
//! they concern ([`RequestItem::version`], [`ResponseItem::reason`], [`ResponseItem::version`],
//! [`RequestItem::url`]) or on `to_json`.
//!
//! Decoding a batch of requests also checks the OData request rules (`GET` in a changeset, duplicate
//! Content-IDs, `$n` references to undefined ids); see [`BatchDecoderBuilder::validate_requests`]. Every
//! reader and writer checks them with the same functions and reports a broken one as the same [`Rule`];
//! [`AnyBatch`] decodes a batch whose role is not known beforehand.
//!
//! # Limits and untrusted input
//!
//! Every bound is in [`Limits`], finite by default (the table is there). The defaults suit a client reading
//! its own server. A server decoding requests from the internet should use [`Limits::server`] (or tighter)
//! and [`Leniency::strict`]: memory per decoder is then bounded by the head limit plus one delimiter, plus the
//! Content-ID table (at most the operation limit times the head limit).
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

mod boundary;
mod builder;
pub mod capture;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
#[cfg(feature = "tokio")]
mod codec;
mod decoder;
mod encoder;
mod error;
mod event;
mod excerpt;
mod grammar;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub mod json;
mod leniency;
mod limits;
mod model;
mod rules;
mod split;

pub use boundary::{Boundary, BoundaryGenerator, ContentTypeError, MAX_BOUNDARY_LEN};
pub use builder::{BatchBuilder, ChangesetBuilder, ContinueOnError, EncodeOptions, EncodedBatch, OperationBuilder};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use codec::{BatchCodec, BatchPart, CodecError, ItemCodec};
pub use decoder::{BatchDecoder, BatchDecoderBuilder, ChunkedInput};
pub use encoder::{BatchEncoder, BatchEncoderBuilder, EncodeError, EncodeErrorKind, RequestPart, ResponsePart};
pub use error::{DecodeError, DecodeErrorKind, Limit};
pub use event::{ChangesetHead, Event, Head, Header, Headers, MessageKind, RequestLine, StatusLine};
pub use excerpt::{Excerpt, QuotedText};
pub use leniency::Leniency;
pub use limits::Limits;
pub use model::{
    AnyBatch, Batch, BatchError, BatchFormat, BatchRequest, BatchResponse, ContentIdMap, Dependency, Operation,
    RequestItem, ResponseItem,
};
pub use rules::{ContentIdScope, Rule};
pub use split::SplitError;

/// The README's examples, compiled and run as doc tests (they use every feature).
#[cfg(all(doctest, feature = "json", feature = "client", feature = "tokio"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
