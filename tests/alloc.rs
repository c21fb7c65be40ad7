//! No allocation per operation, no copy of bodies: a counting global allocator measures decoding.
#![allow(unsafe_code)] // a GlobalAlloc wrapper needs it; the library itself forbids unsafe code

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::{Bytes, BytesMut};
use odata_batch::{BatchDecoder, ChunkedInput, Event};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call unchanged to the system allocator; only counts on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// A response with `n` operations: 204s with Location, 200s with a JSON body, and changesets of four
/// (all changesets share one boundary, as servers that reuse it do).
fn response(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        if i % 10 == 0 && i + 4 <= n {
            out.extend_from_slice(
                b"--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_1\r\n\r\n",
            );
            for k in 0..4 {
                out.extend_from_slice(format!("--changesetresponse_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {}\r\n\r\nHTTP/1.1 204 No Content\r\nLocation: https://org/api/data/v9.2/accounts({})\r\nOData-Version: 4.0\r\n\r\n\r\n", k + 1, i + k).as_bytes());
            }
            out.extend_from_slice(b"--changesetresponse_1--\r\n");
            i += 4;
        } else {
            out.extend_from_slice(format!("--batchresponse_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{{\"value\":[{{\"id\":{i},\"name\":\"item {i}\"}}]}}\r\n").as_bytes());
            i += 1;
        }
    }
    out.extend_from_slice(b"--batchresponse_1--\r\n");
    out
}

/// Decodes from `Bytes`; returns (allocations during decoding, operations, bodies inside the input).
fn decode_counting(payload: Vec<u8>) -> (usize, usize, bool) {
    let input = Bytes::from(payload);
    let range = input.as_ptr() as usize..input.as_ptr() as usize + input.len();
    let mut rest = input.clone();
    let mut decoder = BatchDecoder::new("batchresponse_1").unwrap();
    let mut ops = 0;
    let mut inside = true;
    let before = allocations();
    while let Some(event) = decoder.decode_complete(&mut rest).unwrap() {
        match &event {
            Event::End => ops += 1,
            Event::Body(b) => {
                let p = b.as_ptr() as usize;
                inside &= range.contains(&p) && p + b.len() <= range.end;
            }
            _ => {}
        }
        drop(event);
    }
    (allocations() - before, ops, inside)
}

#[test]
fn decoding_allocates_a_constant_amount_whatever_the_operation_count() {
    let (small, small_ops, small_inside) = decode_counting(response(10));
    let (large, large_ops, large_inside) = decode_counting(response(1000));
    assert_eq!((small_ops, large_ops), (10, 1000));
    assert!(
        small_inside && large_inside,
        "a Body does not point into the input buffer"
    );
    // The constant: the finder for the batch boundary, the changeset finder built once and reused, the
    // `Bytes` promotion to a shared buffer on the first split, and the Content-ID table is not used for
    // responses.
    assert_eq!(small, large, "allocations grow with the number of operations");
    assert!(large <= 8, "{large} allocations to decode 1000 operations");
    eprintln!("allocations to decode a 1000-operation response: {large}");
}

#[test]
fn streaming_from_bytes_mut_allocates_a_constant_amount_too() {
    let count = |payload: Vec<u8>| {
        let mut decoder = BatchDecoder::new("batchresponse_1").unwrap();
        let mut buf = BytesMut::with_capacity(payload.len());
        let before = allocations();
        let mut ops = 0;
        for chunk in payload.chunks(16 * 1024) {
            buf.extend_from_slice(chunk);
            while let Some(e) = decoder.decode(&mut buf).unwrap() {
                ops += usize::from(e == Event::End);
            }
        }
        while let Some(e) = decoder.decode_eof(&mut buf).unwrap() {
            ops += usize::from(e == Event::End);
        }
        (allocations() - before, ops)
    };
    let (small, n_small) = count(response(10));
    let (large, n_large) = count(response(1000));
    assert_eq!((n_small, n_large), (10, 1000));
    assert_eq!(small, large, "allocations grow with the number of operations");
}

/// `Bytes` chunks through `ChunkedInput`: nothing per operation; at most one carry buffer per chunk boundary
/// (a head or delimiter cut by the boundary is copied into it, and events sliced from it that the caller keeps
/// keep it alive).
#[test]
fn streaming_bytes_chunks_allocates_at_most_once_per_chunk() {
    let count = |payload: Vec<u8>, chunk: usize| {
        let wire = Bytes::from(payload);
        let mut decoder = BatchDecoder::new("batchresponse_1").unwrap();
        let mut input = ChunkedInput::new();
        let chunks: Vec<Bytes> = (0..wire.len())
            .step_by(chunk)
            .map(|at| wire.slice(at..(at + chunk).min(wire.len())))
            .collect();
        let before = allocations();
        let mut ops = 0;
        for piece in &chunks {
            input.push(piece.clone());
            while let Some(e) = decoder.decode_chunked(&mut input).unwrap() {
                ops += usize::from(e == Event::End);
            }
        }
        while let Some(e) = decoder.decode_chunked_eof(&mut input).unwrap() {
            ops += usize::from(e == Event::End);
        }
        (allocations() - before, ops, chunks.len())
    };
    let mut seen = Vec::new();
    for chunk in [16 * 1024, 4096, 1000] {
        let (allocated, ops, chunks) = count(response(1000), chunk);
        seen.push(allocated);
        assert_eq!(ops, 1000);
        assert!(chunks < ops, "{chunks} chunks");
        assert!(
            allocated <= chunks + 2,
            "{allocated} allocations for {chunks} chunks of {chunk} bytes"
        );
        eprintln!("Bytes chunks of {chunk}: {allocated} allocations for {chunks} chunks, {ops} operations");
    }
    // Events dropped as they come leave the carry to be reused: then not even the chunk count matters.
    assert!(
        seen.iter().all(|&n| n == seen[0]),
        "allocations by chunk size: {seen:?}"
    );
}

/// A request of `n` POSTs with 1 KiB JSON bodies in `changesets` changesets, each with Content-IDs and `$n`
/// references.
fn request(n: usize, changesets: usize) -> odata_batch::BatchRequest {
    let mut batch = odata_batch::BatchRequest::builder();
    let per = n / changesets;
    let body = format!("{{\"description\":\"{}\"}}", "x".repeat(1000));
    for _ in 0..changesets {
        let mut cs = batch.changeset();
        let first = cs
            .post("accounts")
            .header("Content-Type", "application/json")
            .body(body.clone())
            .reference();
        for _ in 1..per {
            cs.post(format!("{first}/contact_customer_accounts"))
                .header("Content-Type", "application/json")
                .body(body.clone());
        }
    }
    batch.build().unwrap()
}

#[test]
fn encoding_allocates_the_same_for_10_and_1000_operations() {
    let mut options = odata_batch::EncodeOptions::new();
    options.seed(1);
    let count = |batch: &odata_batch::BatchRequest| {
        let before = allocations();
        let encoded = batch.encode_with(&options).unwrap();
        let n = allocations() - before;
        drop(encoded);
        n
    };
    let small = count(&request(10, 2));
    let large = count(&request(1000, 2));
    assert_eq!(small, large, "allocations grow with the number of operations");
    let twenty = count(&request(1000, 20));
    eprintln!("allocations to encode 1000 operations: {large} with 2 changesets, {twenty} with 20");
    // Per batch: output buffer, changeset grouping, Content-ID table, outer headers; per changeset: its
    // boundary and finder.
    assert!(
        twenty > large && twenty - large <= 18 * 10,
        "more than 10 allocations per extra changeset"
    );
}

/// Allocations to build the model of `payload` (read from `Bytes`, so no copy of the input): the items' own
/// (a header map is two, a Content-ID one), nothing per operation for reason phrases the status already
/// names or for the OData header names (`OData-Version`), which are static.
#[test]
fn the_model_allocates_only_for_header_maps_and_content_ids() {
    let count = |n: usize| {
        let payload = Bytes::from(response(n));
        let before = allocations();
        let batch = odata_batch::BatchResponse::decode("multipart/mixed; boundary=batchresponse_1", payload).unwrap();
        let n = allocations() - before;
        // Every operation has headers; those in changesets (four in ten) a Content-ID; every reason is the
        // canonical one (`OK`, `No Content`).
        let expected: usize = batch
            .items
            .iter()
            .map(|i| 2 + usize::from(i.content_id.is_some()))
            .sum();
        assert!(batch
            .items
            .iter()
            .all(|i| matches!(i.reason, std::borrow::Cow::Borrowed(_))));
        (n, expected)
    };
    let (small, small_items) = count(10);
    let (large, large_items) = count(1000);
    let extra = large - small;
    let items = large_items - small_items;
    eprintln!("model of 1000 operations: {large} allocations ({extra} more than for 10; the items need {items} more)");
    // The items' vector grows by doubling: a few more.
    assert!(
        extra >= items && extra <= items + 16,
        "{extra} more allocations for 990 more operations, whose header maps and Content-IDs need {items}"
    );
}

/// A JSON batch response of `n` items with two headers (one an OData header) and a JSON body each.
#[cfg(feature = "json")]
fn json_response(n: usize) -> Vec<u8> {
    let items: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"id":"{i}","status":200,"headers":{{"content-type":"application/json","odata-version":"4.0"}},"body":{{"value":[{{"id":{i}}}]}}}}"#
            )
        })
        .collect();
    format!(r#"{{"responses":[{}]}}"#, items.join(",")).into_bytes()
}

/// `from_json` on `Bytes` reads the document in place (bodies are views of it) and allocates per item only
/// what the model holds: the header map (two) and the id (one).
#[cfg(feature = "json")]
#[test]
fn reading_json_from_bytes_copies_nothing_and_allocates_only_the_items_own() {
    let count = |n: usize| {
        let document = Bytes::from(json_response(n));
        let range = document.as_ptr() as usize..document.as_ptr() as usize + document.len();
        let before = allocations();
        let batch = odata_batch::BatchResponse::from_json(&document).unwrap();
        let n = allocations() - before;
        assert!(batch.items.iter().all(|i| {
            let p = i.body.as_ptr() as usize;
            range.contains(&p) && p + i.body.len() <= range.end
        }));
        assert!(batch.items.iter().all(|i| i.reason == "OK" && i.headers.len() == 2));
        n
    };
    let small = count(10);
    let large = count(1000);
    eprintln!("from_json of 1000 items: {large} allocations ({small} for 10)");
    let per_item = 3 * 990;
    // The items' vector is reserved once from the first item's size; the ids' table grows by doubling (a few
    // dozen for a thousand ids). One allocation more per item would be 990 more.
    assert!(
        large - small >= per_item && large - small <= per_item + 32,
        "{} more allocations for 990 more items (their header maps and ids need {per_item})",
        large - small
    );
}
