//! Decoding throughput on 1000-operation batches, whole and streamed in 64 B and 16 KiB chunks, next to a
//! plain `memmem` scan of the same bytes for the delimiter (the ceiling).
//!
//! `cargo bench --bench decode`; every measured closure asserts the operation count, so a broken decoder
//! cannot look fast.

#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use memchr::memmem;
use odata_batch::{BatchDecoder, Event};

const B: &str = "batchresponse_5f0d2c6e-3a41-4b8e-9c77-1e2d3c4b5a69";
const CS: &str = "changesetresponse_8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d";

fn part(out: &mut String, boundary: &str, head: &str, body: &str) {
    out.push_str("--");
    out.push_str(boundary);
    out.push_str("\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    out.push_str(head);
    out.push_str("\r\n");
    out.push_str(body);
    out.push_str("\r\n");
}

fn json_body(n: usize, size: usize) -> String {
    let mut s =
        format!("{{\"@odata.context\":\"$metadata#accounts/$entity\",\"accountid\":\"{n:08}\",\"description\":\"");
    while s.len() < size - 2 {
        s.push_str("lorem ipsum ");
    }
    s.truncate(size - 2);
    s.push_str("\"}");
    s
}

/// 1000 responses 204 No Content with Location and OData-EntityId.
fn responses_204() -> (Vec<u8>, usize) {
    let mut s = String::new();
    for i in 0..1000 {
        let url = format!("https://org.crm.dynamics.com/api/data/v9.2/accounts(00000000-0000-0000-0000-{i:012})");
        part(
            &mut s,
            B,
            "",
            &format!("HTTP/1.1 204 No Content\r\nOData-Version: 4.0\r\nLocation: {url}\r\nOData-EntityId: {url}\r\n"),
        );
    }
    s.push_str(&format!("--{B}--\r\n"));
    (s.into_bytes(), 1000)
}

/// 1000 responses 200 with a 1 KiB JSON body.
fn responses_json_1k() -> (Vec<u8>, usize) {
    let mut s = String::new();
    for i in 0..1000 {
        part(&mut s, B, "", &format!("HTTP/1.1 200 OK\r\nContent-Type: application/json; odata.metadata=minimal\r\nOData-Version: 4.0\r\n\r\n{}", json_body(i, 1024)));
    }
    s.push_str(&format!("--{B}--\r\n"));
    (s.into_bytes(), 1000)
}

/// 100 responses with a 100 KiB body each.
fn responses_100k() -> (Vec<u8>, usize) {
    let mut s = String::new();
    for i in 0..100 {
        part(
            &mut s,
            B,
            "",
            &format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}",
                json_body(i, 100 * 1024)
            ),
        );
    }
    s.push_str(&format!("--{B}--\r\n"));
    (s.into_bytes(), 100)
}

/// 1000 responses 201 in 100 changesets of 10.
fn responses_changesets() -> (Vec<u8>, usize) {
    let mut s = String::new();
    for c in 0..100 {
        s.push_str(&format!(
            "--{B}\r\nContent-Type: multipart/mixed; boundary={CS}\r\n\r\n"
        ));
        for k in 0..10 {
            part(&mut s, CS, &format!("Content-ID: {}\r\n", k + 1), &format!("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nLocation: https://x/svc/People({c}{k})\r\n\r\n{{\"ID\":{c}{k},\"Name\":\"n\"}}"));
        }
        s.push_str(&format!("--{CS}--\r\n"));
    }
    s.push_str(&format!("--{B}--\r\n"));
    (s.into_bytes(), 1000)
}

/// 1000 responses whose 1 KiB bodies are dense with near-miss delimiters (`\r\n--` + the boundary minus its
/// last character).
fn responses_near_miss() -> (Vec<u8>, usize) {
    let near = format!("\r\n--{}", &B[..B.len() - 1]);
    let mut body = String::new();
    while body.len() + near.len() < 1024 {
        body.push_str(&near);
    }
    let mut s = String::new();
    for _ in 0..1000 {
        part(
            &mut s,
            B,
            "",
            &format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n{body}"),
        );
    }
    s.push_str(&format!("--{B}--\r\n"));
    (s.into_bytes(), 1000)
}

const REQUEST_BOUNDARY: &str = "batch_3f1e2d4c-5b6a-4789-9a0b-1c2d3e4f5a6b";
const REQUEST_CHANGESET: &str = "changeset_0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

/// The project's 1000-operation request (the same shape as the encode bench): 20 changesets of 50 POSTs with
/// 1 KiB JSON bodies, Content-IDs, and `$n` references to the first operation of each changeset.
fn request() -> (Vec<u8>, usize) {
    let (rb, cs) = (REQUEST_BOUNDARY, REQUEST_CHANGESET);
    let mut s = String::new();
    let mut id = 0;
    for _ in 0..20 {
        s.push_str(&format!(
            "--{rb}\r\nContent-Type: multipart/mixed; boundary={cs}\r\n\r\n"
        ));
        let first = id + 1;
        for k in 0..50 {
            id += 1;
            let target = if k == 0 {
                "accounts".to_string()
            } else {
                format!("${first}/contact_customer_accounts")
            };
            let head = format!("Content-ID: {id}\r\n");
            let op = format!(
                "POST {target} HTTP/1.1\r\nContent-Type: application/json;type=entry\r\n\r\n{}",
                json_body(id, 1024)
            );
            part(&mut s, cs, &head, &op);
        }
        s.push_str(&format!("--{cs}--\r\n"));
    }
    s.push_str(&format!("--{rb}--\r\n"));
    (s.into_bytes(), 1000)
}

/// A GET-heavy 1000-operation request: 20 changesets of 25 POSTs with 256-byte bodies, then 500 bodiless GETs.
/// Small operations: per-operation costs dominate.
fn request_mixed() -> (Vec<u8>, usize) {
    let (rb, cs) = (REQUEST_BOUNDARY, REQUEST_CHANGESET);
    let mut s = String::new();
    let mut id = 0;
    for _ in 0..20 {
        s.push_str(&format!(
            "--{rb}\r\nContent-Type: multipart/mixed; boundary={cs}\r\n\r\n"
        ));
        for k in 0..25 {
            id += 1;
            let target = if k == 0 {
                "accounts".to_string()
            } else {
                format!("${}/contact_customer_accounts", id - k)
            };
            let op = format!(
                "POST {target} HTTP/1.1\r\nContent-Type: application/json;type=entry\r\n\r\n{}",
                json_body(id, 256)
            );
            part(&mut s, cs, &format!("Content-ID: {id}\r\n"), &op);
        }
        s.push_str(&format!("--{cs}--\r\n"));
    }
    for i in 0..500 {
        let op = format!("GET accounts(00000000-0000-0000-0000-{i:012})?$select=name,accountnumber HTTP/1.1\r\nAccept: application/json\r\n\r\n");
        part(&mut s, rb, "", &op);
    }
    s.push_str(&format!("--{rb}--\r\n"));
    (s.into_bytes(), 1000)
}

fn decode_whole(boundary: &str, input: &Bytes) -> usize {
    let mut d = BatchDecoder::new(boundary).unwrap();
    let mut rest = input.clone();
    let mut ops = 0;
    while let Some(e) = d.decode_complete(&mut rest).unwrap() {
        ops += usize::from(e == Event::End);
        black_box(&e);
    }
    ops
}

fn decode_chunked(boundary: &str, input: &[u8], chunk: usize) -> usize {
    let mut d = BatchDecoder::new(boundary).unwrap();
    let mut buf = BytesMut::with_capacity(chunk * 2 + 64 * 1024);
    let mut ops = 0;
    for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        while let Some(e) = d.decode(&mut buf).unwrap() {
            ops += usize::from(e == Event::End);
            black_box(&e);
        }
    }
    while let Some(e) = d.decode_eof(&mut buf).unwrap() {
        ops += usize::from(e == Event::End);
    }
    ops
}

/// `boundaries`: the batch boundary first, then the changeset boundary if the payload has changesets. The
/// ceiling scans the payload once per boundary, as finding every delimiter of a batch with changesets
/// requires (the decoder searches both, the batch's to catch a changeset that is never closed).
fn bench_group(c: &mut Criterion, name: &str, boundaries: &[&str], (payload, ops): (Vec<u8>, usize)) {
    let boundary = boundaries[0];
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(payload.len() as u64));
    let needles: Vec<String> = boundaries.iter().map(|b| format!("\n--{b}")).collect();
    let finders: Vec<memmem::Finder<'_>> = needles.iter().map(|n| memmem::Finder::new(n.as_bytes())).collect();
    let delimiters: usize = finders.iter().map(|f| f.find_iter(&payload).count()).sum();
    g.bench_function("memmem_ceiling", |b| {
        b.iter(|| {
            let n: usize = finders.iter().map(|f| f.find_iter(black_box(&payload)).count()).sum();
            assert_eq!(n, delimiters);
        })
    });
    let input = Bytes::from(payload.clone());
    g.bench_function("whole", |b| {
        b.iter(|| assert_eq!(decode_whole(boundary, black_box(&input)), ops))
    });
    for chunk in [64, 16 * 1024] {
        g.bench_with_input(BenchmarkId::new("chunks", chunk), &chunk, |b, &chunk| {
            b.iter(|| assert_eq!(decode_chunked(boundary, black_box(&payload), chunk), ops))
        });
    }
    g.finish();
}

/// A head whose one header line of `size` bytes arrives a byte at a time: the work must grow with the size,
/// not with its square (issue 11). Returns the events decoded.
fn head_bytewise(size: usize) -> Vec<u8> {
    let mut payload = format!(
        "--{B}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\nX-Long: "
    )
    .into_bytes();
    payload.resize(payload.len() + size, b'a');
    payload.extend_from_slice(format!("\r\n\r\n\r\n--{B}--\r\n").as_bytes());
    payload
}

fn feed_bytewise(payload: &[u8]) -> usize {
    let mut decoder = BatchDecoder::new(B).unwrap();
    let mut buf = BytesMut::with_capacity(payload.len());
    let mut events = 0;
    for &b in payload {
        buf.extend_from_slice(&[b]);
        while decoder.decode(&mut buf).unwrap().is_some() {
            events += 1;
        }
    }
    events
}

/// Sizes four times apart in one group: linear work shows as times four times apart (issue 11).
fn linear(c: &mut Criterion) {
    let mut g = c.benchmark_group("linear_head_bytewise");
    for size in [50_000, 200_000] {
        let payload = head_bytewise(size);
        g.throughput(Throughput::Bytes(payload.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(size), &payload, |b, p| {
            b.iter(|| feed_bytewise(p))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("linear_content_id_resolve");
    for ids in [5_000usize, 20_000] {
        let mut batch = odata_batch::BatchResponse::builder();
        for i in 0..ids {
            batch
                .respond(http::StatusCode::CREATED)
                .content_id(i.to_string())
                .header("Location", format!("https://x/People({i})"));
        }
        let batch = batch.build().unwrap();
        let map = batch.content_id_map();
        let refs: Vec<String> = (0..ids).map(|i| format!("${i}/Friends")).collect();
        g.throughput(Throughput::Elements(ids as u64));
        g.bench_with_input(BenchmarkId::from_parameter(ids), &refs, |b, refs| {
            b.iter(|| refs.iter().filter_map(|r| map.resolve(r)).count())
        });
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_group(c, "decode_204_location", &[B], responses_204());
    bench_group(c, "decode_json_1k", &[B], responses_json_1k());
    bench_group(c, "decode_100k_bodies", &[B], responses_100k());
    bench_group(c, "decode_changesets", &[B, CS], responses_changesets());
    bench_group(c, "decode_near_miss", &[B], responses_near_miss());
    bench_group(c, "decode_request", &[REQUEST_BOUNDARY, REQUEST_CHANGESET], request());
    bench_group(
        c,
        "decode_request_mixed_gets",
        &[REQUEST_BOUNDARY, REQUEST_CHANGESET],
        request_mixed(),
    );
}

criterion_group! {
    name = decode;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = benches, linear
}
criterion_main!(decode);
