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
            assert_eq!(back, response, "response -> JSON -> response");
        }
        let _ = serde_json::to_vec(&response);
        if let Ok(encoded) = response.encode() {
            let back = BatchResponse::decode(&encoded.content_type, encoded.body).expect("encode output decodes");
            assert_eq!(back, response, "response -> multipart -> response");
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
            assert_eq!(back.items, request.items, "request -> multipart -> request");
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
