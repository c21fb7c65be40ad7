//! Issue 11: reading and writing agree. Every multipart payload of the shared corpus that decodes goes
//! decode -> JSON -> model -> multipart -> decode, and comes back the same; a step that cannot carry
//! something refuses with an error that names the item.

mod common;

use odata_batch::json::JsonErrorKind;
use odata_batch::{BatchRequest, BatchResponse, EncodeOptions};
use serde_json::Value;

/// What a trip through JSON may change, per item, as `to_json` documents: the fields JSON does not have
/// (the HTTP version of the embedded start line, a response's reason phrase) and white space around a JSON
/// body (a JSON value has none).
fn comparable_request(mut batch: BatchRequest) -> BatchRequest {
    for item in &mut batch.items {
        item.version = None;
        item.body = trim_json(&item.headers, &item.body);
    }
    batch
}

fn comparable_response(mut batch: BatchResponse) -> BatchResponse {
    for item in &mut batch.items {
        item.version = http::Version::HTTP_11;
        item.reason = "".into();
        item.body = trim_json(&item.headers, &item.body);
    }
    batch
}

fn trim_json(headers: &http::HeaderMap, body: &bytes::Bytes) -> bytes::Bytes {
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
    if !json {
        return body.clone();
    }
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = body.iter().position(|b| !ws(b)).unwrap_or(body.len());
    let end = body.iter().rposition(|b| !ws(b)).map_or(start, |i| i + 1);
    body.slice(start..end)
}

#[test]
fn decode_json_multipart_decode_is_the_identity_or_a_named_refusal() {
    let Some(dir) = common::corpus_dir("corpus_roundtrip") else {
        return;
    };
    let index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let (mut identical, mut refused, mut undecodable) = (0, 0, 0);
    for entry in index["entries"].as_array().unwrap() {
        if entry["format"] != "multipart" {
            continue;
        }
        let path = entry["payload"].as_str().unwrap();
        let payload = std::fs::read(dir.join(path)).unwrap();
        let ct = entry["content_type"].as_str().unwrap();
        if entry["kind"] == "request" {
            let Ok(batch) = BatchRequest::decode(ct, payload) else {
                undecodable += 1;
                continue;
            };
            let json = match batch.to_json() {
                Ok(json) => json,
                Err(e) => {
                    let named = e.item().is_some() || matches!(e.kind(), JsonErrorKind::EmptyChangeset(_));
                    assert!(named, "{path}: refusal names no item or changeset: {e}");
                    eprintln!("{path}: {e}");
                    refused += 1;
                    continue;
                }
            };
            let from_json = BatchRequest::from_json(&json).unwrap_or_else(|e| panic!("{path}: {e}"));
            let encoded = match from_json.encode_with(&EncodeOptions::new()) {
                Ok(encoded) => encoded,
                Err(e) => {
                    assert!(e.operation().is_some(), "{path}: refusal names no operation: {e}");
                    refused += 1;
                    continue;
                }
            };
            let back =
                BatchRequest::decode(&encoded.content_type, encoded.body).unwrap_or_else(|e| panic!("{path}: {e}"));
            let (a, b) = (comparable_request(batch), comparable_request(back));
            for (x, y) in a.items.iter().zip(&b.items) {
                let mut y = y.clone();
                // JSON gives every request an id; a request without a Content-ID gets a generated one.
                if x.content_id.is_none() {
                    y.content_id = None;
                }
                y.depends_on.clone_from(&x.depends_on);
                assert_eq!(x, &y, "{path}");
            }
            assert_eq!(a.items.len(), b.items.len(), "{path}");
            identical += 1;
        } else {
            let Ok(batch) = BatchResponse::decode(ct, payload) else {
                undecodable += 1;
                continue;
            };
            let json = match batch.to_json() {
                Ok(json) => json,
                Err(e) => {
                    let named = e.item().is_some() || matches!(e.kind(), JsonErrorKind::EmptyChangeset(_));
                    assert!(named, "{path}: refusal names no item or changeset: {e}");
                    eprintln!("{path}: {e}");
                    refused += 1;
                    continue;
                }
            };
            let from_json = BatchResponse::from_json(&json).unwrap_or_else(|e| panic!("{path}: {e}"));
            let encoded = match from_json.encode() {
                Ok(encoded) => encoded,
                Err(e) => {
                    assert!(e.operation().is_some(), "{path}: refusal names no operation: {e}");
                    refused += 1;
                    continue;
                }
            };
            let back =
                BatchResponse::decode(&encoded.content_type, encoded.body).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(
                comparable_response(batch).items,
                comparable_response(back).items,
                "{path}"
            );
            identical += 1;
        }
    }
    eprintln!(
        "corpus round trip: {identical} identical, {refused} refused with a named item, {undecodable} not decodable"
    );
    assert!(identical > 50, "too few payloads made the trip: {identical}");
}
