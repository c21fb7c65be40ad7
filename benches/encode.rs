//! Encoding throughput: the project's 1000-operation request (POSTs with 1 KiB JSON bodies in 20 changesets,
//! with Content-IDs and `$n` references) and a 1000-operation response (1 KiB JSON bodies), next to a `memcpy`
//! of the same number of bytes (the ceiling).
//!
//! `cargo bench --bench encode`; `python3 benches/fractions.py` prints MB/s and the fraction of the ceiling.
#![allow(missing_docs)] // criterion_group! generates an undocumented function

mod common;

use std::hint::black_box;

use bytes::BytesMut;
use common::{json_body, memcpy_ceiling};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use odata_batch::{BatchEncoder, BatchRequest, BatchResponse, Boundary, EncodeOptions};

fn request() -> BatchRequest {
    let mut batch = BatchRequest::new();
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
    batch
}

fn response() -> BatchResponse {
    let mut batch = BatchResponse::new();
    for i in 0..1000 {
        batch
            .respond(http::StatusCode::OK)
            .header("Content-Type", "application/json; odata.metadata=minimal")
            .header("OData-Version", "4.0")
            .body(json_body(i));
    }
    batch
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
    g.bench_function("encoder_stream", |b| {
        b.iter(|| {
            out.clear();
            let mut e = BatchEncoder::new(boundaries[0].clone());
            for (c, chunk) in batch.items.chunks(50).enumerate() {
                e.begin_changeset(&mut out, &boundaries[c + 1]).unwrap();
                for item in chunk {
                    e.request(&mut out, item).unwrap();
                }
                e.end_changeset(&mut out).unwrap();
            }
            e.finish(&mut out).unwrap();
            assert_eq!(e.operations(), 1000);
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
    g.finish();
}

criterion_group! {
    name = encode;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = benches
}
criterion_main!(encode);
