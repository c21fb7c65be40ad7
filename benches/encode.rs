//! Encoding throughput: the project's 1000-operation request (POSTs with 1 KiB JSON bodies in 20 changesets,
//! with Content-IDs and `$n` references) and a 1000-operation response (1 KiB JSON bodies), next to a `memcpy`
//! of the same number of bytes (the ceiling).
//!
//! Each group also has `unchecked_writer`: the same bytes written with plain `put_slice` calls and no rule checked
//! (no validation, no Content-ID table, no delimiter scan), asserted byte-equal to the encoder's output. It
//! is what a hand-written client does, and it shows in every run what the checks cost and how fast the machine
//! was: on a contended machine it slows down as much as the encoder while `memcpy` does not.
//!
//! `cargo bench --bench encode`; `python3 benches/fractions.py` prints MB/s and the fraction of the ceiling.
#![allow(missing_docs)] // criterion_group! generates an undocumented function

mod common;

use std::hint::black_box;

use bytes::{BufMut, BytesMut};
use common::{json_body, memcpy_ceiling};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use odata_batch::{BatchEncoder, BatchRequest, BatchResponse, Boundary, EncodeOptions, RequestItem, ResponseItem};

const PART_HEADERS: &[u8] = b"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n";

/// `\r\n--boundary\r\n` and the part headers: what starts every part, computed once per boundary (the
/// first part of a multipart body leaves out the CRLF).
fn part_prefix(boundary: &str) -> Vec<u8> {
    [b"\r\n--".as_slice(), boundary.as_bytes(), b"\r\n", PART_HEADERS].concat()
}

/// One part as the encoder lays it out, without a single check: delimiter line, part headers, Content-ID,
/// start line, headers, blank line, body.
fn unchecked_part(
    out: &mut BytesMut,
    first: bool,
    prefix: &[u8],
    content_id: Option<&str>,
    start_line: &[&[u8]],
    headers: &http::HeaderMap,
    body: &[u8],
) {
    out.put_slice(if first { &prefix[2..] } else { prefix });
    if let Some(id) = content_id {
        out.put_slice(b"Content-ID: ");
        out.put_slice(id.as_bytes());
        out.put_slice(b"\r\n");
    }
    out.put_slice(b"\r\n");
    for piece in start_line {
        out.put_slice(piece);
    }
    for (name, value) in headers {
        out.put_slice(name.as_str().as_bytes());
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }
    out.put_slice(b"\r\n");
    out.put_slice(body);
}

/// The request of [`request`] in changesets of 50, boundaries as given, no checks.
fn unchecked_request(out: &mut BytesMut, items: &[RequestItem], boundaries: &[Boundary]) {
    let outer = boundaries[0].as_str();
    for (c, chunk) in items.chunks(50).enumerate() {
        let inner = boundaries[c + 1].as_str();
        let prefix = part_prefix(inner);
        if c > 0 {
            out.put_slice(b"\r\n");
        }
        out.put_slice(b"--");
        out.put_slice(outer.as_bytes());
        out.put_slice(b"\r\nContent-Type: multipart/mixed; boundary=");
        out.put_slice(inner.as_bytes());
        out.put_slice(b"\r\n\r\n");
        for (k, item) in chunk.iter().enumerate() {
            let line: [&[u8]; 4] = [
                item.method.as_str().as_bytes(),
                b" ",
                item.url.as_bytes(),
                b" HTTP/1.1\r\n",
            ];
            unchecked_part(
                out,
                k == 0,
                &prefix,
                item.content_id.as_deref(),
                &line,
                &item.headers,
                &item.body,
            );
        }
        close_delimiter(out, inner, b"");
    }
    close_delimiter(out, outer, b"\r\n");
}

/// `\r\n--boundary--`, then `end`.
fn close_delimiter(out: &mut BytesMut, boundary: &str, end: &[u8]) {
    out.put_slice(b"\r\n--");
    out.put_slice(boundary.as_bytes());
    out.put_slice(b"--");
    out.put_slice(end);
}

/// A response batch with `boundary`, no checks (statuses with their canonical reason).
fn unchecked_response(out: &mut BytesMut, items: &[ResponseItem], boundary: &str) {
    let prefix = part_prefix(boundary);
    for (k, item) in items.iter().enumerate() {
        let reason = item.status.canonical_reason().unwrap_or("");
        let line: [&[u8]; 5] = [
            b"HTTP/1.1 ",
            item.status.as_str().as_bytes(),
            b" ",
            reason.as_bytes(),
            b"\r\n",
        ];
        unchecked_part(
            out,
            k == 0,
            &prefix,
            item.content_id.as_deref(),
            &line,
            &item.headers,
            &item.body,
        );
    }
    close_delimiter(out, boundary, b"\r\n");
}

fn request() -> BatchRequest {
    let mut batch = BatchRequest::builder();
    for c in 0..20 {
        let mut cs = batch.changeset();
        let first = cs
            .post("accounts")
            .header("Content-Type", "application/json;type=entry")
            .body(json_body(c * 50))
            .reference();
        for k in 1..50 {
            cs.post(format!("{first}/contact_customer_accounts"))
                .header("Content-Type", "application/json;type=entry")
                .body(json_body(c * 50 + k));
        }
    }
    batch.build().unwrap()
}

fn response() -> BatchResponse {
    let mut batch = BatchResponse::builder();
    for i in 0..1000 {
        batch
            .respond(http::StatusCode::OK)
            .header("Content-Type", "application/json; odata.metadata=minimal")
            .header("OData-Version", "4.0")
            .body(json_body(i));
    }
    batch.build().unwrap()
}

fn benches(c: &mut Criterion) {
    let mut options = EncodeOptions::new();
    options.seed(7);

    let batch = request();
    let len = batch.encode_with(&options).unwrap().body.len();
    let mut g = c.benchmark_group("encode_request");
    g.throughput(Throughput::Bytes(len as u64));
    memcpy_ceiling(&mut g, len);
    g.bench_function("model_encode", |b| {
        b.iter(|| assert_eq!(black_box(&batch).encode_with(&options).unwrap().body.len(), len))
    });
    // Operation by operation into one reused buffer: what a streaming sender does.
    let boundaries: Vec<Boundary> = (0..21)
        .map(|i| Boundary::new(format!("b{i:02}_0123456789abcdef0123456789abcdef")).unwrap())
        .collect();
    let mut out = BytesMut::with_capacity(len + 4096);
    let stream = |out: &mut BytesMut| {
        out.clear();
        let mut e = BatchEncoder::new(boundaries[0].clone());
        for (c, chunk) in batch.items.chunks(50).enumerate() {
            e.begin_changeset(out, &boundaries[c + 1]).unwrap();
            for item in chunk {
                e.request(out, item).unwrap();
            }
            e.end_changeset(out).unwrap();
        }
        e.finish(out).unwrap();
        assert_eq!(e.operations(), 1000);
    };
    stream(&mut out);
    let encoded = out.clone().freeze();
    out.clear();
    unchecked_request(&mut out, &batch.items, &boundaries);
    assert!(
        out[..] == encoded[..],
        "the unchecked writer writes the encoder's bytes"
    );
    g.bench_function("encoder_stream", |b| b.iter(|| stream(&mut out)));
    g.bench_function("unchecked_writer", |b| {
        b.iter(|| {
            out.clear();
            unchecked_request(&mut out, &black_box(&batch).items, &boundaries);
            assert_eq!(out.len(), encoded.len());
        })
    });
    g.finish();

    let batch = response();
    let len = batch.encode_with(&options).unwrap().body.len();
    let mut g = c.benchmark_group("encode_response");
    g.throughput(Throughput::Bytes(len as u64));
    memcpy_ceiling(&mut g, len);
    g.bench_function("model_encode", |b| {
        b.iter(|| assert_eq!(black_box(&batch).encode_with(&options).unwrap().body.len(), len))
    });
    let encoded = batch.encode_with(&options).unwrap();
    let boundary = Boundary::from_content_type(&encoded.content_type).unwrap();
    let mut out = BytesMut::with_capacity(len + 4096);
    unchecked_response(&mut out, &batch.items, boundary.as_str());
    assert!(
        out[..] == encoded.body[..],
        "the unchecked writer writes the encoder's bytes"
    );
    g.bench_function("unchecked_writer", |b| {
        b.iter(|| {
            out.clear();
            unchecked_response(&mut out, &black_box(&batch).items, boundary.as_str());
            assert_eq!(out.len(), len);
        })
    });
    g.finish();
}

criterion_group! {
    name = encode;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = benches
}
criterion_main!(encode);
