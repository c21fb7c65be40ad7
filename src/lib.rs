//! Streaming, zero-copy reader for OData `$batch` payloads.
//!
//! Crate docs are completed in the crate README; see [`BatchDecoder`].
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

mod boundary;
#[cfg(feature = "tokio")]
mod codec;
mod decoder;
mod error;
mod event;
mod grammar;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub mod json;
mod leniency;
mod limits;
mod model;

pub use boundary::{Boundary, MAX_BOUNDARY_LEN};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use codec::{BatchCodec, CodecError};
pub use decoder::{BatchDecoder, BatchDecoderBuilder, MessageKind};
pub use error::{ContentTypeError, DecodeError, ErrorKind, Limit};
pub use event::{ChangesetHead, Event, Head, Header, Headers, RequestLine, StatusLine};
pub use leniency::Leniency;
pub use limits::Limits;
pub use model::{BatchError, BatchRequest, BatchResponse, RequestItem, ResponseItem};
