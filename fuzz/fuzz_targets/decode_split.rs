//! The first bytes choose chunk sizes; the rest is the payload. Fed in those chunks, the decoder must give
//! exactly the one-shot result: the same events (bodies joined) or the same error at the same offset, both
//! through a `BytesMut` buffer and as `Bytes` chunks through `ChunkedInput`.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use odata_batch::{BatchDecoder, ChunkedInput, DecodeError, Event, Leniency};

fn join_bodies(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    for e in events {
        if let (Event::Body(b), Some(Event::Body(prev))) = (&e, out.last_mut()) {
            let mut joined = BytesMut::from(&prev[..]);
            joined.extend_from_slice(b);
            *prev = joined.freeze();
            continue;
        }
        out.push(e);
    }
    out
}

fn one_shot(leniency: Leniency, data: &[u8]) -> Result<Vec<Event>, DecodeError> {
    let mut d = BatchDecoder::builder().leniency(leniency).build("batch_1").unwrap();
    let mut input = Bytes::copy_from_slice(data);
    let mut out = Vec::new();
    while let Some(e) = d.decode_complete(&mut input)? {
        out.push(e);
    }
    Ok(out)
}

fn chunked(leniency: Leniency, sizes: &[u8], data: &[u8]) -> Result<Vec<Event>, DecodeError> {
    let mut d = BatchDecoder::builder().leniency(leniency).build("batch_1").unwrap();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let (mut pos, mut i) = (0, 0);
    while pos < data.len() {
        let n = (usize::from(sizes[i % sizes.len()]) % 64 + 1).min(data.len() - pos);
        i += 1;
        buf.extend_from_slice(&data[pos..pos + n]);
        pos += n;
        let mut idle = 0;
        while let Some(e) = d.decode(&mut buf)? {
            out.push(e);
            idle += 1;
            assert!(idle <= 4 * data.len() + 8, "no progress");
        }
    }
    let mut guard = 0;
    while let Some(e) = d.decode_eof(&mut buf)? {
        out.push(e);
        guard += 1;
        assert!(guard <= 4 * data.len() + 8, "decode_eof does not end");
    }
    Ok(out)
}

/// The same through [`ChunkedInput`]: `Bytes` chunks of 1 to 64 bytes (size bytes below 128) or of 1 to
/// 2033 bytes in steps of 16 (the others), so that chunks also outgrow the carry's first copy.
fn bytes_chunked(leniency: Leniency, sizes: &[u8], data: &[u8]) -> Result<Vec<Event>, DecodeError> {
    let mut d = BatchDecoder::builder().leniency(leniency).build("batch_1").unwrap();
    let wire = Bytes::copy_from_slice(data);
    let mut input = ChunkedInput::new();
    let mut out = Vec::new();
    let (mut pos, mut i) = (0, 0);
    while pos < data.len() {
        let s = usize::from(sizes[i % sizes.len()]);
        let n = if s < 128 { s % 64 + 1 } else { (s - 128) * 16 + 1 }.min(data.len() - pos);
        i += 1;
        input.push(wire.slice(pos..pos + n));
        pos += n;
        let mut idle = 0;
        while let Some(e) = d.decode_chunked(&mut input)? {
            out.push(e);
            idle += 1;
            assert!(idle <= 4 * data.len() + 8, "no progress");
        }
        assert_eq!(input.len() as u64, pos as u64 - d.consumed(), "unconsumed input");
    }
    let mut guard = 0;
    while let Some(e) = d.decode_chunked_eof(&mut input)? {
        out.push(e);
        guard += 1;
        assert!(guard <= 4 * data.len() + 8, "decode_chunked_eof does not end");
    }
    Ok(out)
}

fuzz_target!(|input: &[u8]| {
    let Some((&n, rest)) = input.split_first() else { return };
    let n = usize::from(n % 8) + 1;
    if rest.len() < n {
        return;
    }
    let (sizes, data) = rest.split_at(n);
    for leniency in [Leniency::lenient(), Leniency::strict()] {
        let whole = one_shot(leniency, data).map(join_bodies);
        let split = chunked(leniency, sizes, data).map(join_bodies);
        assert_eq!(whole, split);
        let bytes = bytes_chunked(leniency, sizes, data).map(join_bodies);
        assert_eq!(whole, bytes);
    }
});
