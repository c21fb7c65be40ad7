//! Runs every OData 4.01 JSON batch payload of the shared conformance corpus (`../shared/corpus`, beside the
//! checkout) and checks it reads, or fails, as its `meta.json` says.
//!
//! Rules: `success` → the default reader accepts it (whole, and streamed in 1-, 7- and 64-byte chunks with
//! the same items), and the structure in `expected_structure` (item count, atomicity groups, statuses by id,
//! `dependsOn` by id) matches; `error` → the default reader refuses it. Where the corpus and this crate's
//! documented rules differ, `OVERRIDES` says what we do and why, and the test checks that.
#![cfg(feature = "json")]

mod common;

use std::collections::BTreeMap;

use bytes::BytesMut;
use odata_batch::json::{JsonBatchReader, JsonEvent, JsonReadOptions};
use odata_batch::{BatchRequest, BatchResponse, Dependency, MessageKind};
use serde_json::Value;

#[derive(Debug, Clone, Copy)]
#[allow(dead_code)] // the reasons are documentation, printed on failure via Debug
enum Override {
    /// Refused by the default reader.
    Rejected(&'static str),
    /// Refused by default, accepted with standard base64 allowed (`JsonReadOptions::standard_base64`).
    StandardBase64(&'static str),
}

const OVERRIDES: &[(&str, Override)] = &[
    (
        "odata-net/json-response-atomicity-group.response.json",
        Override::Rejected("\"status\":0 is not an HTTP status; the model would have to invent one"),
    ),
    (
        "odata-net/json-single-response-status-0.response.json",
        Override::Rejected("\"status\":0 is not an HTTP status; the model would have to invent one"),
    ),
    (
        "msgraph-sdk-dotnet-core/graph-409-and-base64-image.response.json",
        Override::StandardBase64("Microsoft Graph writes binary bodies in standard base64, the format says base64url"),
    ),
    (
        "msgraph-sdk-dotnet-core/graph-depends-on-base64-png-unicode-escapes.request.json",
        Override::StandardBase64("Microsoft Graph writes binary bodies in standard base64, the format says base64url"),
    ),
];

/// What the structure check needs of a batch of either kind.
#[derive(Debug, PartialEq)]
struct Shape {
    items: usize,
    groups: usize,
    statuses: BTreeMap<String, u16>,
    depends_on: BTreeMap<String, Vec<String>>,
}

fn read(kind: MessageKind, options: &JsonReadOptions, payload: &[u8]) -> Result<Shape, String> {
    match kind {
        MessageKind::Request => BatchRequest::from_json_with(options, payload)
            .map(|b| Shape {
                items: b.items.len(),
                groups: b.changesets,
                statuses: BTreeMap::new(),
                depends_on: b
                    .items
                    .iter()
                    .filter(|i| !i.depends_on.is_empty())
                    .map(|i| {
                        let deps = i
                            .depends_on
                            .iter()
                            .map(|d| match d {
                                Dependency::Request(id) => id.clone(),
                                Dependency::Changeset(c) => format!("group {c}"),
                            })
                            .collect();
                        (i.content_id.clone().unwrap(), deps)
                    })
                    .collect(),
            })
            .map_err(|e| e.to_string()),
        MessageKind::Response => BatchResponse::from_json_with(options, payload)
            .map(|b| Shape {
                items: b.items.len(),
                groups: b.changesets,
                statuses: b
                    .items
                    .iter()
                    .filter_map(|i| Some((i.content_id.clone()?, i.status.as_u16())))
                    .collect(),
                depends_on: BTreeMap::new(),
            })
            .map_err(|e| e.to_string()),
    }
}

/// The events of a streamed read in chunks of `size`, or the error.
fn streamed(
    kind: MessageKind,
    options: &JsonReadOptions,
    payload: &[u8],
    size: usize,
) -> Result<Vec<JsonEvent>, String> {
    let mut reader = JsonBatchReader::with_options(kind, options.clone());
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    for chunk in payload.chunks(size) {
        buf.extend_from_slice(chunk);
        while let Some(e) = reader.decode(&mut buf).map_err(|e| e.to_string())? {
            events.push(e);
        }
    }
    loop {
        match reader.decode_eof(&mut buf).map_err(|e| e.to_string())? {
            Some(e) => events.push(e),
            None => return Ok(events),
        }
    }
}

fn check_shape(meta: &Value, shape: &Shape) -> Result<(), String> {
    let expected = &meta["expected_structure"];
    for key in ["requests", "responses"] {
        if let Some(n) = expected.get(key).and_then(Value::as_u64) {
            if shape.items as u64 != n {
                return Err(format!("{} items, expected {n}", shape.items));
            }
        }
    }
    if let Some(n) = expected.get("atomicity_groups").and_then(Value::as_u64) {
        if shape.groups as u64 != n {
            return Err(format!("{} atomicity groups, expected {n}", shape.groups));
        }
    }
    if let Some(statuses) = expected.get("statuses").and_then(Value::as_object) {
        let want: BTreeMap<String, u16> = statuses
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap() as u16))
            .collect();
        if want != shape.statuses {
            return Err(format!("statuses {:?}, expected {want:?}", shape.statuses));
        }
    }
    if let Some(deps) = expected.get("depends_on").and_then(Value::as_object) {
        let want: BTreeMap<String, Vec<String>> = deps
            .iter()
            .map(|(k, v)| {
                let list = v
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_str().unwrap().to_owned())
                    .collect();
                (k.clone(), list)
            })
            .collect();
        if want != shape.depends_on {
            return Err(format!("dependsOn {:?}, expected {want:?}", shape.depends_on));
        }
    }
    Ok(())
}

#[test]
fn every_json_corpus_payload_reads_or_fails_as_its_meta_says() {
    let Some(dir) = common::corpus_dir("JSON corpus test") else {
        return;
    };
    let index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for entry in index["entries"].as_array().unwrap() {
        if entry["format"] != "json" {
            continue;
        }
        checked += 1;
        let name = entry["payload"].as_str().unwrap();
        let meta: Value =
            serde_json::from_slice(&std::fs::read(dir.join(entry["meta"].as_str().unwrap())).unwrap()).unwrap();
        let payload = std::fs::read(dir.join(name)).unwrap();
        let kind = match meta["kind"].as_str().unwrap() {
            "request" => MessageKind::Request,
            _ => MessageKind::Response,
        };
        let outcome = meta["expect"]["outcome"].as_str().unwrap();
        let defaults = JsonReadOptions::new();
        let mut base64 = JsonReadOptions::new();
        base64.standard_base64(true);
        let override_ = OVERRIDES.iter().find(|(n, _)| *n == name).map(|(_, o)| *o);
        let options = match override_ {
            Some(Override::StandardBase64(_)) => &base64,
            _ => &defaults,
        };
        let result = read(kind, options, &payload);
        // Streaming gives what one-shot gives, in any chunking.
        let whole = streamed(kind, options, &payload, payload.len().max(1));
        for size in [1, 7, 64] {
            let chunked = streamed(kind, options, &payload, size);
            if chunked != whole {
                failures.push(format!("{name}: {size}-byte chunks differ: {chunked:?} vs {whole:?}"));
            }
        }
        if whole.is_ok() != result.is_ok() {
            failures.push(format!("{name}: streaming {whole:?} vs one-shot {result:?}"));
        }
        let verdict = match (override_, outcome) {
            (Some(Override::Rejected(_)), _) => match &result {
                Err(_) => Ok(()),
                Ok(shape) => Err(format!("accepted, but we document refusing it: {shape:?}")),
            },
            (Some(Override::StandardBase64(_)), _) => match (&result, read(kind, &defaults, &payload)) {
                (Ok(shape), Err(_)) => check_shape(&meta, shape),
                (a, b) => Err(format!("with standard base64: {a:?}; without: {b:?}")),
            },
            (None, "success") => match &result {
                Ok(shape) => check_shape(&meta, shape),
                Err(e) => Err(format!("refused: {e}")),
            },
            (None, "error") => match &result {
                Err(_) => Ok(()),
                Ok(shape) => Err(format!("accepted: {shape:?}")),
            },
            (None, other) => Err(format!("unknown outcome {other}")),
        };
        if let Err(why) = verdict {
            failures.push(format!("{name} ({outcome}): {why}"));
        }
    }
    eprintln!("JSON corpus: {checked} payloads checked");
    assert!(checked > 0, "no JSON payloads found");
    assert!(
        failures.is_empty(),
        "{} JSON corpus payloads failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
