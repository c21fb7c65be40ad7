//! The tokio-util codec under `FramedRead`, over a reader that returns bursts of pseudo-random sizes and
//! sometimes is not ready.
#![cfg(feature = "tokio")]

mod common;

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use common::fixtures::{Expect, FIXTURES};
use common::{decode_whole, lenient, normalize};
use futures_util::StreamExt;
use odata_batch::{BatchCodec, CodecError, Event};
use tokio::io::{AsyncRead, ReadBuf};
use tokio_util::codec::{Decoder, FramedRead};

/// Returns `data` in bursts whose sizes come from a small deterministic generator; every third read is
/// `Pending` first.
struct Bursts {
    data: Vec<u8>,
    pos: usize,
    state: u64,
    reads: u64,
}

impl Bursts {
    fn new(data: &[u8], seed: u64) -> Self {
        Self {
            data: data.to_vec(),
            pos: 0,
            state: seed | 1,
            reads: 0,
        }
    }
}

impl AsyncRead for Bursts {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        self.reads += 1;
        if self.reads.is_multiple_of(3) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.state = self
            .state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let burst = (self.state >> 33) as usize % 97 + 1;
        let n = burst.min(buf.remaining()).min(self.data.len() - self.pos);
        let pos = self.pos;
        buf.put_slice(&self.data[pos..pos + n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

async fn framed(data: &[u8], ct: &str, seed: u64) -> Result<Vec<Event>, String> {
    let codec = BatchCodec::from_content_type(ct).unwrap();
    let mut stream = FramedRead::new(Bursts::new(data, seed), codec);
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(e) => events.push(e),
            Err(CodecError::Decode(e)) => return Err(e.to_string()),
            Err(e) => return Err(format!("io: {e}")),
        }
    }
    Ok(events)
}

#[tokio::test]
async fn framed_read_over_bursts_equals_one_shot_for_every_fixture() {
    for f in FIXTURES {
        let whole = decode_whole(&lenient(), f.content_type, f.bytes)
            .map(normalize)
            .map_err(|e| e.to_string());
        for seed in [1, 7, 42] {
            let got = framed(f.bytes, f.content_type, seed).await.map(normalize);
            assert_eq!(got, whole, "{} seed {seed}", f.name);
        }
        if let Expect::Ok(_) = f.lenient {
            assert!(whole.is_ok());
        }
    }
}

#[test]
fn codec_forwards_to_the_decoder_by_hand() {
    let mut codec = BatchCodec::from_content_type("multipart/mixed; boundary=b").unwrap();
    let mut buf = BytesMut::from(&b"--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\nhi"[..]);
    assert!(matches!(codec.decode(&mut buf), Ok(Some(Event::Head(_)))));
    assert!(matches!(codec.decode(&mut buf), Ok(Some(Event::Body(_)))));
    assert!(matches!(codec.decode(&mut buf), Ok(None)));
    // The input ends without a close delimiter: an error, never a silent end.
    assert!(matches!(codec.decode_eof(&mut buf), Err(CodecError::Decode(_))));
    assert!(codec.decoder().message_kind().is_some());
}

#[tokio::test]
async fn framed_write_encodes_what_the_decoder_reads_back() {
    use futures_util::SinkExt;
    use odata_batch::{BatchEncoder, BatchPart, BatchRequest, Boundary, EncodeErrorKind, RequestItem};
    use tokio_util::codec::FramedWrite;

    let mut sink = FramedWrite::new(Vec::new(), BatchEncoder::new(Boundary::new("batch_1").unwrap()));
    sink.send(BatchPart::Request(RequestItem::new(http::Method::GET, "People")))
        .await
        .unwrap();
    sink.send(BatchPart::ChangesetStart(Boundary::new("changeset_1").unwrap()))
        .await
        .unwrap();
    for i in 0..3 {
        let mut item = RequestItem::new(http::Method::POST, "People");
        item.body = format!("{{\"n\":{i}}}").into();
        item.content_id = Some((i + 1).to_string());
        sink.send(BatchPart::Request(item)).await.unwrap();
    }
    // A refused part is an error; the stream stays usable and nothing of it was written.
    let err = sink
        .send(BatchPart::Request(RequestItem::new(http::Method::GET, "x")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, CodecError::Encode(e) if e.kind() == EncodeErrorKind::Rule(odata_batch::Rule::MethodNotAllowedInChangeset))
    );
    sink.send(BatchPart::ChangesetEnd).await.unwrap();
    sink.send(BatchPart::Finish).await.unwrap();
    let written = sink.into_inner();
    let batch = BatchRequest::decode("multipart/mixed; boundary=batch_1", written).unwrap();
    assert_eq!(batch.items.len(), 4);
    assert_eq!(batch.changesets, 1);
    assert_eq!(&batch.items[3].body[..], b"{\"n\":2}");
}

/// Reads every operation `ItemCodec` yields from `data` arriving in bursts.
async fn items<O: odata_batch::Operation>(
    data: &[u8],
    ct: &str,
    seed: u64,
) -> (Vec<Result<O, String>>, FramedRead<Bursts, odata_batch::ItemCodec<O>>) {
    let codec = odata_batch::ItemCodec::<O>::from_content_type(ct).unwrap();
    let mut framed = FramedRead::new(Bursts::new(data, seed), codec);
    let mut out = Vec::new();
    while let Some(item) = framed.next().await {
        out.push(item.map_err(|e| e.to_string()));
    }
    (out, framed)
}

#[tokio::test]
async fn item_codec_yields_what_one_shot_decoding_gives_multipart_and_json() {
    use odata_batch::{BatchRequest, BatchResponse, RequestItem, ResponseItem};
    let ct = "multipart/mixed; boundary=b";
    let responses = "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nHTTP/1.1 201 Created\r\nLocation: http://x/People(1)\r\n\r\n\r\n--c\r\nContent-Type: application/http\r\nContent-ID: 2\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--c--\r\n--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\na body that is\r\nlonger than a burst\r\n--b--\r\n";
    let whole = BatchResponse::decode(ct, responses).unwrap();
    let requests = "--b\r\nContent-Type: application/http\r\nContent-ID: 7\r\n\r\nPOST People HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\r\n--b\r\nContent-Type: application/http\r\n\r\nGET $7 HTTP/1.1\r\n\r\n\r\n--b--\r\n";
    let whole_requests = BatchRequest::decode(ct, requests).unwrap();
    for seed in 1..20 {
        let (got, _) = items::<ResponseItem>(responses.as_bytes(), ct, seed).await;
        let got: Vec<ResponseItem> = got.into_iter().map(Result::unwrap).collect();
        assert_eq!(got, whole.items, "seed {seed}");
        let (got, _) = items::<RequestItem>(requests.as_bytes(), ct, seed).await;
        let got: Vec<RequestItem> = got.into_iter().map(Result::unwrap).collect();
        assert_eq!(got, whole_requests.items, "seed {seed}");
    }
}

/// JSON: the same items as `from_json`, and the annotations and next link through the codec.
#[cfg(feature = "json")]
#[tokio::test]
async fn item_codec_reads_json_batches() {
    use odata_batch::{BatchResponse, ResponseItem};
    let responses = "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nHTTP/1.1 201 Created\r\n\r\n\r\n--c--\r\n--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n";
    let whole = BatchResponse::decode("multipart/mixed; boundary=b", responses).unwrap();
    let json = whole.to_json().unwrap();
    let mut with_extras = json[..json.len() - 1].to_vec();
    with_extras.extend_from_slice(br#","@odata.context":"$metadata","@nextLink":"more"}"#);
    for seed in 1..10 {
        let (got, framed) = items::<ResponseItem>(&with_extras, "application/json", seed).await;
        let got: Vec<ResponseItem> = got.into_iter().map(Result::unwrap).collect();
        assert_eq!(got, BatchResponse::from_json(&json).unwrap().items);
        assert_eq!(
            framed.decoder().annotations(),
            [("@odata.context".to_owned(), "\"$metadata\"".to_owned())]
        );
        assert_eq!(framed.decoder().next_link(), Some("more"));
    }
}

#[tokio::test]
async fn item_codec_refuses_the_other_role_and_a_cut_batch() {
    use odata_batch::{RequestItem, ResponseItem};
    let ct = "multipart/mixed; boundary=b";
    let responses = "--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\nok\r\n--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n\r\n--b--\r\n";
    // Responses read as requests: an error at the first part, never a panic.
    let (got, _) = items::<RequestItem>(responses.as_bytes(), ct, 3).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].as_ref().unwrap_err().contains("request"), "{got:?}");
    // The same with a decoder that would take either role.
    let decoder = odata_batch::BatchDecoder::new("b").unwrap();
    let mut framed = FramedRead::new(
        Bursts::new(responses.as_bytes(), 5),
        odata_batch::ItemCodec::<RequestItem>::multipart(decoder),
    );
    assert!(framed.next().await.unwrap().is_err());
    // Cut off: the complete operations, then an error.
    let cut = &responses.as_bytes()[..responses.len() - 12];
    let (got, _) = items::<ResponseItem>(cut, ct, 7).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].is_ok() && got[1].is_err());
    #[cfg(feature = "json")]
    {
        let cut_json = br#"{"responses":[{"id":"1","status":200},{"id":"2""#;
        let (got, _) = items::<ResponseItem>(cut_json, "application/json", 7).await;
        assert!(got[0].is_ok() && got[1].is_err());
    }
}
