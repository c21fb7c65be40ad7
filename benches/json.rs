//! The JSON batch format next to multipart: reading and writing a 1000-item response with 1 KiB JSON bodies,
//! in both formats, from the same model.
//!
//! `cargo bench --bench json --features json`; `python3 benches/fractions.py` prints MB/s (the ceiling of each
//! group is a `memcpy` of the JSON document).
#![allow(missing_docs)] // criterion_group! generates an undocumented function

mod common;

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use common::{json_body, memcpy_ceiling};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use odata_batch::json::{JsonBatchReader, JsonEvent};
use odata_batch::{BatchResponse, EncodeOptions, MessageKind};

fn response() -> BatchResponse {
    let mut batch = BatchResponse::builder();
    for i in 0..1000 {
        batch
            .respond(http::StatusCode::OK)
            .content_id(format!("{i}"))
            .header("Content-Type", "application/json; odata.metadata=minimal")
            .header("OData-Version", "4.0")
            .body(json_body(i));
    }
    batch.build().unwrap()
}

// The baseline the JSON reader is measured against (shared with `examples/profile_json.rs`).
#[path = "common/serde_typed.rs"]
mod serde_typed;
use serde_typed::TypedResponses;

fn benches(c: &mut Criterion) {
    let batch = response();
    let json = batch.to_json().unwrap();
    let mut options = EncodeOptions::new();
    options.seed(7);
    let multipart = batch.encode_with(&options).unwrap();

    let mut g = c.benchmark_group("json_response");
    g.throughput(Throughput::Bytes(json.len() as u64));
    memcpy_ceiling(&mut g, json.len());
    g.bench_function("json_read", |b| {
        b.iter(|| assert_eq!(BatchResponse::from_json(black_box(&json)).unwrap().items.len(), 1000))
    });
    g.bench_function("json_read_streamed_16k", |b| {
        b.iter(|| {
            let mut reader = JsonBatchReader::new(MessageKind::Response);
            let mut buf = BytesMut::new();
            let mut n = 0;
            for chunk in json.chunks(16 * 1024) {
                buf.extend_from_slice(chunk);
                while let Some(e) = reader.decode(&mut buf).unwrap() {
                    n += usize::from(matches!(e, JsonEvent::Response(_)));
                }
            }
            while reader.decode_eof(&mut buf).unwrap().is_some() {}
            assert_eq!(n, 1000);
        })
    });
    // What a user would write without this crate: serde_json into typed structs, bodies kept as raw JSON.
    g.bench_function("serde_json_typed_raw_bodies", |b| {
        b.iter(|| {
            let doc: TypedResponses<'_> = serde_json::from_slice(black_box(&json)).unwrap();
            assert_eq!(doc.responses.len(), 1000);
            assert!(doc.responses.iter().all(|r| r.status == 200 && r.body.is_some()));
        })
    });
    g.bench_function("json_write", |b| {
        b.iter(|| assert_eq!(black_box(&batch).to_json().unwrap().len(), json.len()))
    });
    g.finish();

    // The same model in multipart, per byte of its own body.
    let mut g = c.benchmark_group("multipart_response_same_model");
    g.throughput(Throughput::Bytes(multipart.body.len() as u64));
    let body: Bytes = multipart.body.clone();
    memcpy_ceiling(&mut g, body.len());
    g.bench_function("multipart_read", |b| {
        b.iter(|| {
            let back = BatchResponse::decode(&multipart.content_type, black_box(body.clone())).unwrap();
            assert_eq!(back.items.len(), 1000);
        })
    });
    g.bench_function("multipart_write", |b| {
        b.iter(|| assert_eq!(black_box(&batch).encode_with(&options).unwrap().body.len(), body.len()))
    });
    g.finish();
}

criterion_group! {
    name = json;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = benches
}
criterion_main!(json);
