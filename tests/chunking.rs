//! Streaming equals one-shot: every fixture (and every small corpus payload) split at every index, fed one
//! byte at a time, and cut off at every index.

mod common;

use bytes::BytesMut;
use common::fixtures::{Expect, FIXTURES};
use common::{decode_bytes_chunks, decode_chunked, decode_whole, lenient, normalize, strict};
use odata_batch::{BatchDecoderBuilder, DecodeErrorKind, Event};

/// Feeds `payload[..split]` then the rest, with `decode` in between, then `decode_eof`.
fn two_pieces(
    builder: &BatchDecoderBuilder,
    ct: &str,
    payload: &[u8],
    split: usize,
) -> Result<Vec<Event>, odata_batch::DecodeError> {
    let mut d = builder.build_for_content_type(ct).unwrap();
    let mut buf = BytesMut::from(&payload[..split]);
    let mut out = Vec::new();
    while let Some(e) = d.decode(&mut buf)? {
        out.push(e);
    }
    buf.extend_from_slice(&payload[split..]);
    while let Some(e) = d.decode(&mut buf)? {
        out.push(e);
    }
    while let Some(e) = d.decode_eof(&mut buf)? {
        out.push(e);
    }
    Ok(out)
}

fn assert_streaming_equals_one_shot(name: &str, builder: &BatchDecoderBuilder, ct: &str, payload: &[u8]) {
    let whole = decode_whole(builder, ct, payload).map(normalize);
    for split in 0..=payload.len() {
        let got = two_pieces(builder, ct, payload, split).map(normalize);
        assert_eq!(got, whole, "{name}: split at {split}");
    }
    let bytewise = decode_chunked(builder, ct, payload, &[1]).map(normalize);
    assert_eq!(bytewise, whole, "{name}: one byte at a time");
    let mixed = decode_chunked(builder, ct, payload, &[3, 1, 17, 2, 64]).map(normalize);
    assert_eq!(mixed, whole, "{name}: mixed chunks");
    // The same cuts as `Bytes` chunks read without copying ([`ChunkedInput`]).
    for split in 0..=payload.len() {
        let sizes = [split.max(1), payload.len()];
        let got = decode_bytes_chunks(builder, ct, payload, &sizes).map(normalize);
        assert_eq!(got, whole, "{name}: Bytes chunks split at {split}");
    }
    for sizes in [&[1][..], &[3, 1, 17, 2, 64], &[600, 5, 1100], &[2000, 1]] {
        let got = decode_bytes_chunks(builder, ct, payload, sizes).map(normalize);
        assert_eq!(got, whole, "{name}: Bytes chunks of {sizes:?}");
    }
}

#[test]
fn every_fixture_streams_like_one_shot_at_every_split() {
    for f in FIXTURES {
        assert_streaming_equals_one_shot(f.name, &lenient(), f.content_type, f.bytes);
        assert_streaming_equals_one_shot(f.name, &strict(), f.content_type, f.bytes);
    }
}

/// Whether `got` (normalised) is a correct beginning of `full` (normalised): equal events, the last body
/// possibly cut short.
fn is_event_prefix(got: &[Event], full: &[Event]) -> bool {
    if got.len() > full.len() {
        return false;
    }
    let Some((last, init)) = got.split_last() else {
        return true;
    };
    if init != &full[..init.len()] {
        return false;
    }
    match (last, &full[init.len()]) {
        (Event::Body(a), Event::Body(b)) => b.starts_with(a),
        (a, b) => a == b,
    }
}

/// End of the close delimiter `--boundary--` of the batch, after which a cut leaves a complete batch.
fn close_end(payload: &[u8], ct: &str) -> usize {
    let boundary = odata_batch::Boundary::from_content_type(ct).unwrap();
    let close = format!("--{boundary}--");
    payload
        .windows(close.len())
        .rposition(|w| w == close.as_bytes())
        .unwrap()
        + close.len()
}

#[test]
fn every_proper_prefix_gives_correct_events_then_need_more_and_truncation_at_eof() {
    for f in FIXTURES {
        for (builder, expect) in [(lenient(), f.lenient), (strict(), f.strict)] {
            if !matches!(expect, Expect::Ok(_)) {
                continue;
            }
            let full = normalize(decode_whole(&builder, f.content_type, f.bytes).unwrap());
            let complete_from = close_end(f.bytes, f.content_type);
            for cut in 0..f.bytes.len() {
                let prefix = &f.bytes[..cut];
                let mut d = builder.build_for_content_type(f.content_type).unwrap();
                let mut buf = BytesMut::from(prefix);
                let mut events = Vec::new();
                loop {
                    match d.decode(&mut buf) {
                        Ok(Some(e)) => events.push(e),
                        Ok(None) => break,
                        Err(e) => panic!("{}: prefix of {cut} bytes gave an error from decode: {e}", f.name),
                    }
                }
                let events = normalize(events);
                assert!(is_event_prefix(&events, &full), "{}: prefix {cut}: {events:?}", f.name);
                if cut >= complete_from {
                    continue; // The close delimiter is in: the batch is complete (lenient) or ends in epilogue.
                }
                let mut eof_result = Ok(None);
                for _ in 0..1000 {
                    eof_result = d.decode_eof(&mut buf);
                    if !matches!(eof_result, Ok(Some(_))) {
                        break;
                    }
                }
                let Err(err) = eof_result else {
                    // The one way a proper prefix is complete: it ends in a close delimiter (lenient reading
                    // accepts one without a line break), as when a body line `--boundary---` is cut short.
                    let close = format!(
                        "--{}--",
                        odata_batch::Boundary::from_content_type(f.content_type).unwrap()
                    );
                    assert!(
                        prefix.ends_with(close.as_bytes()),
                        "{}: prefix {cut} decoded as complete",
                        f.name
                    );
                    continue;
                };
                assert!(
                    matches!(
                        err.kind(),
                        DecodeErrorKind::Truncated | DecodeErrorKind::BoundaryNotFound | DecodeErrorKind::EmptyPayload
                    ),
                    "{}: prefix {cut}: {err}",
                    f.name
                );
                assert!(
                    err.offset() <= cut as u64,
                    "{}: prefix {cut}: offset past the input: {err}",
                    f.name
                );
            }
        }
    }
}

#[test]
fn small_corpus_payloads_stream_like_one_shot_at_every_split() {
    let Some(dir) = common::corpus_dir("corpus chunking test") else {
        return;
    };
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let mut n = 0;
    for entry in index["entries"].as_array().unwrap() {
        if entry["format"] != "multipart" || entry["size_bytes"].as_u64().unwrap() > 3000 {
            continue;
        }
        let name = entry["payload"].as_str().unwrap();
        let ct = entry["content_type"].as_str().unwrap();
        if odata_batch::Boundary::from_content_type(ct).is_err() {
            continue;
        }
        let payload = std::fs::read(dir.join(name)).unwrap();
        assert_streaming_equals_one_shot(name, &lenient(), ct, &payload);
        n += 1;
    }
    assert!(n > 50, "only {n} corpus payloads checked");
}

/// The part headers nearly every writer emits are recognised in one comparison when they arrive whole; a folded
/// line that goes on with their `Content-Transfer-Encoding` (tolerated folding) still makes the value something
/// else than `binary`, whether the head arrives whole or in pieces (found by the decode_split fuzz target).
#[test]
fn a_folded_line_after_the_canonical_part_headers_counts() {
    let payload = b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\tx\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\r\n--batch_1--\r\n";
    let ct = "multipart/mixed; boundary=batch_1";
    let whole = decode_whole(&lenient(), ct, payload).unwrap_err();
    assert_eq!(whole.kind(), DecodeErrorKind::UnsupportedTransferEncoding);
    assert_eq!(whole.offset(), 70);
    let strict_error = decode_whole(&strict(), ct, payload).unwrap_err();
    assert_eq!(strict_error.kind(), DecodeErrorKind::ObsoleteLineFolding);
    assert_streaming_equals_one_shot("folded canonical", &lenient(), ct, payload);
    assert_streaming_equals_one_shot("folded canonical", &strict(), ct, payload);
}

/// A caller that removes unconsumed input between two calls (a misuse: the decoder resumes a head where it
/// stopped) gets `InputRemoved` at the end of what is left, never a panic; whatever the cut and whatever is
/// removed, in every fixture.
#[test]
fn removing_unconsumed_input_is_an_error_not_a_panic() {
    for f in FIXTURES {
        for cut in 0..=f.bytes.len() {
            for keep in [0, 1, 2] {
                let mut d = lenient().build_for_content_type(f.content_type).unwrap();
                let mut buf = BytesMut::from(&f.bytes[..cut]);
                while let Ok(Some(_)) = d.decode(&mut buf) {}
                let before = buf.len();
                buf.truncate(keep.min(before));
                let mut result = d.decode(&mut buf);
                while let Ok(Some(_)) = result {
                    result = d.decode(&mut buf);
                }
                if let Err(e) = result {
                    if e.kind() == DecodeErrorKind::InputRemoved {
                        assert!(buf.len() < before, "{}: InputRemoved with nothing removed", f.name);
                        assert_eq!(e.offset(), d.consumed() + buf.len() as u64, "{}", f.name);
                    }
                }
                let _ = d.decode_eof(&mut buf);
            }
        }
    }
    // A head read in part, then taken away.
    let mut d = odata_batch::BatchDecoder::new("b").unwrap();
    let mut buf = BytesMut::from(&b"--b\r\nContent-Type: application/http\r\nContent-Transfer-Enc"[..]);
    assert_eq!(d.decode(&mut buf), Ok(None));
    buf.clear();
    let err = d.decode(&mut buf).unwrap_err();
    assert_eq!((err.kind(), err.offset()), (DecodeErrorKind::InputRemoved, 5));
    assert_eq!(d.decode(&mut buf).unwrap_err(), err, "the decoder stays failed");
}
