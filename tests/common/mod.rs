//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use bytes::{Bytes, BytesMut};
use odata_batch::{BatchDecoder, BatchDecoderBuilder, ChunkedInput, DecodeError, Event};

/// One operation as the tests compare it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// Method or status as text ("GET", "204").
    pub line: String,
    pub content_id: Option<String>,
    pub target: Option<String>,
    pub body: Vec<u8>,
}

/// A top-level item of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Op(Op),
    Changeset(Vec<Op>),
}

/// Decodes a whole payload in one call to `decode_eof` after another.
pub fn decode_whole(builder: &BatchDecoderBuilder, ct: &str, payload: &[u8]) -> Result<Vec<Event>, DecodeError> {
    let mut d = builder.build_for_content_type(ct).expect("content type");
    let mut buf = BytesMut::from(payload);
    let mut out = Vec::new();
    loop {
        match d.decode_eof(&mut buf)? {
            Some(e) => out.push(e),
            None => return Ok(out),
        }
    }
}

/// Decodes with `Bytes` input.
pub fn decode_complete(builder: &BatchDecoderBuilder, ct: &str, payload: &[u8]) -> Result<Vec<Event>, DecodeError> {
    let mut d = builder.build_for_content_type(ct).expect("content type");
    let mut input = Bytes::copy_from_slice(payload);
    let mut out = Vec::new();
    while let Some(e) = d.decode_complete(&mut input)? {
        out.push(e);
    }
    Ok(out)
}

/// Feeds the payload in the given chunk sizes (cycled), calling `decode` until it asks for more, then
/// `decode_eof` at the end. Guards against loops: every call must consume input or return an event.
pub fn decode_chunked(
    builder: &BatchDecoderBuilder,
    ct: &str,
    payload: &[u8],
    sizes: &[usize],
) -> Result<Vec<Event>, DecodeError> {
    let mut d = builder.build_for_content_type(ct).expect("content type");
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < payload.len() {
        let n = sizes[i % sizes.len()].max(1).min(payload.len() - pos);
        i += 1;
        buf.extend_from_slice(&payload[pos..pos + n]);
        pos += n;
        let mut idle = 0;
        loop {
            let before = buf.len();
            match d.decode(&mut buf)? {
                Some(e) => out.push(e),
                None => break,
            }
            // Events that consume nothing (End, ChangesetEnd, Finished) come at most three in a row.
            idle = if buf.len() == before { idle + 1 } else { 0 };
            assert!(idle <= 3, "decoder returned events without consuming input too often");
        }
    }
    let mut guard = 0;
    while let Some(e) = d.decode_eof(&mut buf)? {
        out.push(e);
        guard += 1;
        assert!(guard < 1_000_000, "decode_eof does not end");
    }
    Ok(out)
}

/// Like [`decode_chunked`], with the payload pushed as `Bytes` chunks into a [`ChunkedInput`] (slices of one
/// buffer, as a body stream yields them) and read with `decode_chunked`. Also checks that every event's bytes
/// are the payload's bytes at the decoder's offset.
pub fn decode_bytes_chunks(
    builder: &BatchDecoderBuilder,
    ct: &str,
    payload: &[u8],
    sizes: &[usize],
) -> Result<Vec<Event>, DecodeError> {
    let mut d = builder.build_for_content_type(ct).expect("content type");
    let wire = Bytes::copy_from_slice(payload);
    let mut input = ChunkedInput::new();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < payload.len() {
        let n = sizes[i % sizes.len()].max(1).min(payload.len() - pos);
        i += 1;
        input.push(wire.slice(pos..pos + n));
        pos += n;
        assert_eq!(input.len() as u64, pos as u64 - d.consumed(), "unconsumed input");
        let mut idle = 0;
        loop {
            let before = input.len();
            match d.decode_chunked(&mut input)? {
                Some(e) => out.push(e),
                None => break,
            }
            idle = if input.len() == before { idle + 1 } else { 0 };
            assert!(idle <= 3, "decoder returned events without consuming input too often");
            assert_eq!(input.len() as u64, pos as u64 - d.consumed(), "unconsumed input");
        }
    }
    let mut guard = 0;
    while let Some(e) = d.decode_chunked_eof(&mut input)? {
        out.push(e);
        guard += 1;
        assert!(guard < 1_000_000, "decode_chunked_eof does not end");
    }
    assert!(input.is_empty(), "a finished reading consumed everything");
    Ok(out)
}

/// Merges consecutive `Body` events so that chunked and one-shot results compare equal.
pub fn normalize(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    for e in events {
        if let Event::Body(b) = &e {
            if let Some(Event::Body(prev)) = out.last_mut() {
                let mut joined = BytesMut::from(&prev[..]);
                joined.extend_from_slice(b);
                *prev = joined.freeze();
                continue;
            }
        }
        out.push(e);
    }
    out
}

/// Checks the grammar of the event sequence and builds the structure.
pub fn structure(events: &[Event]) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut changeset: Option<Vec<Op>> = None;
    let mut current: Option<Op> = None;
    let mut finished = false;
    for e in events {
        assert!(!finished, "event after Finished: {e:?}");
        match e {
            Event::ChangesetStart(_) => {
                assert!(changeset.is_none() && current.is_none(), "ChangesetStart out of place");
                changeset = Some(Vec::new());
            }
            Event::ChangesetEnd => {
                assert!(current.is_none(), "ChangesetEnd inside an operation");
                parts.push(Part::Changeset(changeset.take().expect("ChangesetEnd without start")));
            }
            Event::Head(h) => {
                assert!(current.is_none(), "Head inside an operation");
                let (line, target) = match (h.request(), h.response()) {
                    (Some(r), _) => (r.method.to_string(), Some(String::from_utf8_lossy(r.url).into_owned())),
                    (_, Some(s)) => (s.status.to_string(), None),
                    _ => unreachable!(),
                };
                let content_id = h.content_id().map(|c| String::from_utf8_lossy(c).into_owned());
                current = Some(Op {
                    line,
                    content_id,
                    target,
                    body: Vec::new(),
                });
            }
            Event::Body(b) => current
                .as_mut()
                .expect("Body outside an operation")
                .body
                .extend_from_slice(b),
            Event::End => {
                let op = current.take().expect("End without Head");
                match changeset.as_mut() {
                    Some(cs) => cs.push(op),
                    None => parts.push(Part::Op(op)),
                }
            }
            Event::Finished => {
                assert!(changeset.is_none() && current.is_none(), "Finished inside an item");
                finished = true;
            }
            _ => unreachable!(),
        }
    }
    assert!(finished, "no Finished event");
    parts
}

/// Default (lenient) decoding.
pub fn lenient() -> BatchDecoderBuilder {
    BatchDecoder::builder()
}

/// Strict decoding.
pub fn strict() -> BatchDecoderBuilder {
    let mut b = BatchDecoder::builder();
    b.leniency(odata_batch::Leniency::strict());
    b
}

pub mod fixtures;

/// A compact text form of a structure: `GET#1 [POST#2 PATCH] 204`.
pub fn summary(parts: &[Part]) -> String {
    let op = |o: &Op| match &o.content_id {
        Some(c) => format!("{}#{c}", o.line),
        None => o.line.clone(),
    };
    parts
        .iter()
        .map(|p| match p {
            Part::Op(o) => op(o),
            Part::Changeset(ops) => format!("[{}]", ops.iter().map(op).collect::<Vec<_>>().join(" ")),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks a decode result against a fixture expectation.
pub fn check(fixture: &fixtures::Fixture, expect: fixtures::Expect, result: &Result<Vec<Event>, DecodeError>) {
    use fixtures::{Expect, Pos};
    match (expect, result) {
        (Expect::Ok(s), Ok(events)) => assert_eq!(summary(&structure(events)), s, "{}", fixture.name),
        (Expect::Err(kind, pos), Err(e)) => {
            let offset = match pos {
                Pos::End => fixture.bytes.len() as u64,
                Pos::At(marker, delta) => {
                    let at = find(fixture.bytes, marker.as_bytes())
                        .unwrap_or_else(|| panic!("{}: marker {marker:?} not in fixture", fixture.name));
                    (at as i64 + delta) as u64
                }
            };
            assert_eq!((e.kind(), e.offset()), (kind, offset), "{}: {e}", fixture.name);
        }
        (expect, got) => panic!("{}: expected {expect:?}, got {got:?}", fixture.name),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The shared conformance corpus (`../shared/corpus` beside the checkout). `None`, with a message naming
/// `test`, when it is absent; under `CI=true` its absence fails the test.
pub fn corpus_dir(test: &str) -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.join("index.json").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "../shared/corpus must be present under CI=true"
    );
    eprintln!("../shared/corpus not found beside the checkout: {test} skipped");
    None
}
