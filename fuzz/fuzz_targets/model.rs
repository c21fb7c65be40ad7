//! The owned model on arbitrary bytes: `decode_with` under lenient and strict reading and both limit presets,
//! then every conversion the model offers. Nothing may panic; where the API promises an identity, it holds.
//! The first bytes pick the settings and the boundary; the rest is the payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odata_batch::{BatchDecoder, BatchRequest, BatchResponse, EncodeOptions, Leniency, Limits};

fn builder(flags: u8, boundary: &str) -> Option<BatchDecoder> {
    let mut b = BatchDecoder::builder();
    b.leniency(if flags & 1 == 0 { Leniency::lenient() } else { Leniency::strict() });
    b.limits(if flags & 2 == 0 { Limits::client() } else { Limits::server() });
    b.build(boundary).ok()
}

/// What encoding documents it does not carry: the version of start lines (always written as HTTP/1.1) and an
/// empty reason phrase (written as the canonical one).
fn written_request(mut batch: BatchRequest) -> BatchRequest {
    for item in &mut batch.items {
        item.version = Some(http::Version::HTTP_11);
    }
    batch
}

fn written_response(mut batch: BatchResponse) -> BatchResponse {
    for item in &mut batch.items {
        item.version = http::Version::HTTP_11;
        if item.reason.is_empty() {
            item.reason = item.status.canonical_reason().unwrap_or("").into();
        }
    }
    batch
}

/// What JSON documents it does not carry: the version and the reason phrase of status lines.
fn json_response(mut batch: BatchResponse) -> BatchResponse {
    for item in &mut batch.items {
        item.version = http::Version::HTTP_11;
        item.reason = item.status.canonical_reason().unwrap_or("").into();
        // Repeated headers are joined with ", " (a JSON object has each name once).
        let mut joined = http::HeaderMap::new();
        for name in item.headers.keys() {
            let values: Vec<&[u8]> = item.headers.get_all(name).iter().map(|v| v.as_bytes()).collect();
            let value = http::HeaderValue::from_bytes(&values.join(&b", "[..])).expect("joined valid values");
            joined.insert(name.clone(), value);
        }
        item.headers = joined;
        // White space around a JSON body is not kept either (applied to both sides of the comparison).
        let json = item.headers.get("content-type").is_some_and(|v| v.as_bytes().to_ascii_lowercase().windows(4).any(|w| w == b"json"));
        if json {
            let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
            let start = item.body.iter().position(|b| !ws(b)).unwrap_or(item.body.len());
            let end = item.body.iter().rposition(|b| !ws(b)).map_or(start, |i| i + 1);
            item.body = item.body.slice(start..end);
        }
    }
    batch
}

fn content_type(boundary: &str) -> String {
    format!("multipart/mixed; boundary=\"{boundary}\"")
}

fuzz_target!(|input: &[u8]| {
    let Some((&flags, rest)) = input.split_first() else { return };
    let Some((&blen, rest)) = rest.split_first() else { return };
    let blen = usize::from(blen % 8).min(rest.len());
    let (boundary, payload) = rest.split_at(blen);
    let Ok(boundary) = std::str::from_utf8(boundary) else { return };
    if builder(flags, boundary).is_none() {
        // Also try reading the Content-Type value itself, valid or not.
        let _ = BatchResponse::decode(boundary, payload.to_vec());
        return;
    }
    let ct = content_type(boundary);
    let mut b = BatchDecoder::builder();
    b.leniency(if flags & 1 == 0 { Leniency::lenient() } else { Leniency::strict() });
    b.limits(if flags & 2 == 0 { Limits::client() } else { Limits::server() });
    let probe = std::str::from_utf8(payload).unwrap_or("$1");

    if let Ok(response) = BatchResponse::decode_with(&b, &ct, payload.to_vec()) {
        let ids = response.content_id_map();
        let _ = ids.resolve(probe);
        let _ = ids.resolve(&format!("${probe}"));
        for (id, _) in ids.iter() {
            let _ = ids.resolve(&format!("${id}/x"));
        }
        if let Ok(json) = response.to_json() {
            let back = BatchResponse::from_json(&json).expect("to_json output reads back");
            assert_eq!(json_response(back), json_response(response.clone()), "response -> JSON -> response");
        }
        let _ = serde_json::to_vec(&response);
        if let Ok(encoded) = response.encode() {
            let back = BatchResponse::decode(&encoded.content_type, encoded.body).expect("encode output decodes");
            assert_eq!(written_response(back), written_response(response.clone()), "response -> multipart -> response");
        }
        for item in &response.items {
            let _ = http::Response::<bytes::Bytes>::from(item.clone());
        }
    }
    if let Ok(request) = BatchRequest::decode_with(&b, &ct, payload.to_vec()) {
        if let Ok(json) = request.to_json() {
            let back = BatchRequest::from_json(&json).expect("to_json output reads back");
            assert_eq!(back.items.len(), request.items.len());
        }
        let _ = serde_json::to_vec(&request);
        if let Ok(encoded) = request.encode_with(&EncodeOptions::new()) {
            let back = BatchRequest::decode(&encoded.content_type, encoded.body).expect("encode output decodes");
            assert_eq!(written_request(back.clone()).items, written_request(request.clone()).items, "request -> multipart -> request");
            assert_eq!(back.changesets, request.changesets, "request -> multipart -> request");
        }
        let max = usize::from(flags >> 4) + 1;
        if let Ok(parts) = request.split(max) {
            let total: usize = parts.iter().map(|p| p.items.len()).sum();
            assert_eq!(total, request.items.len(), "split keeps every operation");
        }
        for item in &request.items {
            let _ = item.resolve_url("https://example.org/svc/");
            let _ = item.clone().into_http("https://example.org/svc/");
        }
    }
});
