//! `tokio_util::codec::Decoder` over [`BatchDecoder`] (feature `tokio`).

use std::{fmt, io};

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use crate::boundary::Boundary;
use crate::decoder::BatchDecoder;
use crate::encoder::{BatchEncoder, EncodeError};
use crate::error::DecodeError;
use crate::event::Event;
use crate::event::MessageKind;
use crate::model::{Assembler, Operation, RequestItem, ResponseItem};

/// A [`BatchDecoder`] as a `tokio_util` codec, for `FramedRead` over any `AsyncRead` (a response body
/// stream, a socket, a file).
///
/// Once it has returned an error, the codec stays failed and returns the same error (the decoder's contract);
/// `FramedRead` then ends the stream.
///
/// # Example
///
/// ```
/// use futures_util::StreamExt;
/// use odata_batch::{BatchCodec, Event};
/// use tokio_util::codec::FramedRead;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let body: &[u8] = b"--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\nhi\r\n--b--\r\n";
/// let codec = BatchCodec::from_content_type("multipart/mixed; boundary=b").unwrap();
/// let events: Vec<Event> = FramedRead::new(body, codec).map(|e| e.unwrap()).collect().await;
/// assert!(matches!(events.last(), Some(Event::Finished)));
/// # });
/// ```
#[derive(Debug)]
pub struct BatchCodec {
    decoder: BatchDecoder,
}

impl BatchCodec {
    /// Wraps a configured decoder.
    pub fn new(decoder: BatchDecoder) -> Self {
        Self { decoder }
    }

    /// A codec with default settings for a `Content-Type` value.
    ///
    /// # Errors
    ///
    /// See [`Boundary::from_content_type`](crate::Boundary::from_content_type).
    pub fn from_content_type(content_type: impl AsRef<[u8]>) -> Result<Self, crate::ContentTypeError> {
        BatchDecoder::from_content_type(content_type).map(Self::new)
    }

    /// The decoder inside.
    pub fn decoder(&self) -> &BatchDecoder {
        &self.decoder
    }

    /// Unwraps the decoder.
    pub fn into_decoder(self) -> BatchDecoder {
        self.decoder
    }
}

impl From<BatchDecoder> for BatchCodec {
    fn from(decoder: BatchDecoder) -> Self {
        Self::new(decoder)
    }
}

/// An error from [`BatchCodec`] or the `Encoder` impl of [`BatchEncoder`]: the payload is malformed, an
/// operation breaks a writing rule, or the IO failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum CodecError {
    /// The payload is malformed.
    Decode(DecodeError),
    /// An operation breaks a writing rule; nothing of it was written.
    Encode(EncodeError),
    /// The underlying reader failed.
    Io(io::Error),
    /// A JSON batch document is malformed or breaks a rule of the format.
    #[cfg(feature = "json")]
    Json(crate::json::JsonError),
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode(e) => e.fmt(f),
            Self::Encode(e) => e.fmt(f),
            Self::Io(e) => write!(f, "batch IO failed: {e}"),
            #[cfg(feature = "json")]
            Self::Json(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CodecError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Decode(e) => Some(e),
            Self::Encode(e) => Some(e),
            Self::Io(e) => Some(e),
            #[cfg(feature = "json")]
            Self::Json(e) => Some(e),
        }
    }
}

impl From<io::Error> for CodecError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<EncodeError> for CodecError {
    fn from(e: EncodeError) -> Self {
        Self::Encode(e)
    }
}

impl From<DecodeError> for CodecError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

#[cfg(feature = "json")]
impl From<crate::json::JsonError> for CodecError {
    fn from(e: crate::json::JsonError) -> Self {
        Self::Json(e)
    }
}

/// The JSON batch reader as a `tokio_util` codec (features `json` and `tokio`): items as they complete, a
/// cut-off document an error at the end of the stream.
///
/// # Example
///
/// ```
/// use futures_util::StreamExt;
/// use odata_batch::json::{JsonBatchReader, JsonEvent};
/// use odata_batch::MessageKind;
/// use tokio_util::codec::FramedRead;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let body: &[u8] = br#"{"responses":[{"id":"1","status":204},{"id":"2","status":404}]}"#;
/// let events: Vec<_> = FramedRead::new(body, JsonBatchReader::new(MessageKind::Response)).collect().await;
/// assert_eq!(events.len(), 3);
/// assert!(matches!(events[2], Ok(JsonEvent::Finished)));
///
/// let cut: &[u8] = br#"{"responses":[{"id":"1","status":204},{"id":"2","#;
/// let events: Vec<_> = FramedRead::new(cut, JsonBatchReader::new(MessageKind::Response)).collect().await;
/// assert!(events[0].is_ok() && events[1].is_err());
/// # });
/// ```
#[cfg(feature = "json")]
impl Decoder for crate::json::JsonBatchReader {
    type Item = crate::json::JsonEvent;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, CodecError> {
        // The reader's own (inherent) method, not this trait's.
        Ok(Self::decode(self, src)?)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, CodecError> {
        Ok(Self::decode_eof(self, src)?)
    }
}

impl Decoder for BatchCodec {
    type Item = Event;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Event>, CodecError> {
        Ok(self.decoder.decode(src)?)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Event>, CodecError> {
        Ok(self.decoder.decode_eof(src)?)
    }
}

/// Owned, assembled operations as a `tokio_util` codec: [`RequestItem`]s or [`ResponseItem`]s (changeset and
/// Content-ID included, body whole) from a multipart batch or, with feature `json`, a JSON batch, for
/// `FramedRead` over any `AsyncRead`. Memory holds one operation at a time. [`BatchCodec`] stays for
/// zero-copy users who want the raw events.
///
/// A batch of the other role (responses read as requests) is an error
/// ([`DecodeErrorKind::UnexpectedMessageKind`](crate::DecodeErrorKind::UnexpectedMessageKind)), as is a batch
/// cut off before its end.
///
/// # Example
///
/// ```
/// use futures_util::StreamExt;
/// use odata_batch::{ItemCodec, ResponseItem};
/// use tokio_util::codec::FramedRead;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let body: &[u8] = b"--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n\
///     Content-Type: application/http\r\nContent-ID: 1\r\n\r\nHTTP/1.1 201 Created\r\n\r\n\r\n--c--\r\n--b--\r\n";
/// let codec = ItemCodec::<ResponseItem>::from_content_type("multipart/mixed; boundary=b").unwrap();
/// let items: Vec<ResponseItem> = FramedRead::new(body, codec).map(|r| r.unwrap()).collect().await;
/// assert_eq!((items[0].status.as_u16(), items[0].changeset, items[0].content_id.as_deref()), (201, Some(0), Some("1")));
///
/// // The same codec type reads JSON batches (feature `json`).
/// let json: &[u8] = br#"{"responses":[{"id":"1","status":204}]}"#;
/// let codec = ItemCodec::<ResponseItem>::from_content_type("application/json").unwrap();
/// let items: Vec<_> = FramedRead::new(json, codec).collect().await;
/// assert_eq!(items.len(), 1);
/// # });
/// ```
#[derive(Debug)]
pub struct ItemCodec<O: Operation> {
    source: Source,
    _operation: std::marker::PhantomData<fn() -> O>,
}

#[derive(Debug)]
enum Source {
    Multipart(Box<BatchDecoder>, Assembler),
    #[cfg(feature = "json")]
    Json(Box<crate::json::JsonBatchReader>, Vec<(String, String)>, Option<String>),
}

impl<O: Operation> ItemCodec<O> {
    /// Operations from a multipart batch read by `decoder` (its limits and leniency apply).
    pub fn multipart(decoder: BatchDecoder) -> Self {
        Self {
            source: Source::Multipart(Box::new(decoder), Assembler::default()),
            _operation: std::marker::PhantomData,
        }
    }

    /// Operations from a JSON batch read by `reader` (feature `json`); a reader of the other role finds
    /// nothing of this one's.
    #[cfg(feature = "json")]
    pub fn json(reader: crate::json::JsonBatchReader) -> Self {
        Self {
            source: Source::Json(Box::new(reader), Vec::new(), None),
            _operation: std::marker::PhantomData,
        }
    }

    /// A codec with default settings for a batch's `Content-Type`: `multipart/mixed` with its boundary, or
    /// (feature `json`) `application/json`.
    ///
    /// # Errors
    ///
    /// The `Content-Type` is not a multipart one with a valid boundary (nor, with feature `json`, JSON).
    pub fn from_content_type(content_type: impl AsRef<[u8]>) -> Result<Self, crate::ContentTypeError> {
        #[cfg(feature = "json")]
        if crate::BatchFormat::from_content_type(content_type.as_ref()) == Some(crate::BatchFormat::Json) {
            return Ok(Self::json(crate::json::JsonBatchReader::new(O::KIND)));
        }
        let mut builder = BatchDecoder::builder();
        builder.message_kind(O::KIND);
        builder.build_for_content_type(content_type).map(Self::multipart)
    }

    /// A JSON batch's top-level annotations read so far, as (name, JSON text); none for multipart.
    pub fn annotations(&self) -> &[(String, String)] {
        match &self.source {
            Source::Multipart(..) => &[],
            #[cfg(feature = "json")]
            Source::Json(_, annotations, _) => annotations,
        }
    }

    /// A JSON batch's `@nextLink`, once read.
    pub fn next_link(&self) -> Option<&str> {
        match &self.source {
            Source::Multipart(..) => None,
            #[cfg(feature = "json")]
            Source::Json(_, _, link) => link.as_deref(),
        }
    }

    fn next(&mut self, src: &mut BytesMut, eof: bool) -> Result<Option<O>, CodecError> {
        match &mut self.source {
            Source::Multipart(decoder, assembler) => loop {
                let event = if eof {
                    decoder.decode_eof(src)?
                } else {
                    decoder.decode(src)?
                };
                let Some(event) = event else { return Ok(None) };
                if let Event::Head(head) = &event {
                    if head.is_request() != (O::KIND == MessageKind::Request) {
                        let kind = crate::DecodeErrorKind::UnexpectedMessageKind;
                        return Err(DecodeError::new(kind, decoder.consumed()).into());
                    }
                }
                if let Some(item) = assembler.push::<O>(event) {
                    return Ok(Some(item));
                }
            },
            #[cfg(feature = "json")]
            Source::Json(reader, annotations, next_link) => loop {
                use crate::json::JsonEvent;
                let event = if eof {
                    reader.decode_eof(src)?
                } else {
                    reader.decode(src)?
                };
                // The reader reads one role; `Any` hands its item over as `O` without a copy.
                let item: Option<O> = match event {
                    None | Some(JsonEvent::Finished) => return Ok(None),
                    Some(JsonEvent::Request(r)) => as_operation(r),
                    Some(JsonEvent::Response(r)) => as_operation(r),
                    Some(JsonEvent::Annotation(name, value)) => {
                        annotations.push((name, value));
                        None
                    }
                    Some(JsonEvent::NextLink(link)) => {
                        *next_link = Some(link);
                        None
                    }
                };
                if item.is_some() {
                    return Ok(item);
                }
            },
        }
    }
}

/// `item` as an `O`, when it is one.
#[cfg(feature = "json")]
fn as_operation<T: 'static, O: 'static>(item: T) -> Option<O> {
    let mut slot = Some(item);
    (&mut slot as &mut dyn std::any::Any)
        .downcast_mut::<Option<O>>()
        .and_then(Option::take)
}

impl<O: Operation> Decoder for ItemCodec<O> {
    type Item = O;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<O>, CodecError> {
        self.next(src, false)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<O>, CodecError> {
        self.next(src, true)
    }
}

/// One step of writing a batch through `tokio_util::codec::FramedWrite` with a [`BatchEncoder`].
///
/// # Example
///
/// ```
/// use futures_util::SinkExt;
/// use odata_batch::{BatchEncoder, BatchPart, BatchRequest, Boundary, RequestItem};
/// use tokio_util::codec::FramedWrite;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let encoder = BatchEncoder::new(Boundary::new("batch_1").unwrap());
/// let mut sink = FramedWrite::new(Vec::new(), encoder);
/// sink.send(BatchPart::Request(RequestItem::new(http::Method::GET, "People"))).await.unwrap();
/// sink.send(BatchPart::Finish).await.unwrap();
/// let written = sink.into_inner();
/// let batch = BatchRequest::decode("multipart/mixed; boundary=batch_1", written).unwrap();
/// assert_eq!(batch.items[0].url, "People");
/// # });
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BatchPart {
    /// A request, in the open changeset if there is one.
    Request(RequestItem),
    /// A response, in the open changeset if there is one.
    Response(ResponseItem),
    /// Opens a changeset with this boundary.
    ChangesetStart(Boundary),
    /// Closes the open changeset.
    ChangesetEnd,
    /// Writes the close delimiter.
    Finish,
}

impl Encoder<BatchPart> for BatchEncoder {
    type Error = CodecError;

    fn encode(&mut self, part: BatchPart, dst: &mut BytesMut) -> Result<(), CodecError> {
        match part {
            BatchPart::Request(item) => self.request(dst, &item)?,
            BatchPart::Response(item) => self.response(dst, &item)?,
            BatchPart::ChangesetStart(boundary) => self.begin_changeset(dst, &boundary)?,
            BatchPart::ChangesetEnd => self.end_changeset(dst)?,
            BatchPart::Finish => self.finish(dst)?,
        }
        Ok(())
    }
}
