//! Runs every multipart payload of the shared conformance corpus (`../shared/corpus`, beside the checkout)
//! and checks it decodes, or fails, as its `meta.json` says.
//!
//! Rules:
//! - `success`, `spec-example`, `not-asserted`: the default (lenient) decoder accepts the payload, and the
//!   structure in `expected_structure` (part kinds, methods or statuses, Content-IDs) matches.
//! - `success-lenient-only`: lenient accepts, strict rejects.
//! - `error`: the strict decoder rejects it (the lenient one may accept what real servers send).
//! - Where the payload's expectation conflicts with this crate's documented rules, `OVERRIDES` says what
//!   we do instead and why; the test checks that.
//!
//! JSON-format payloads are the JSON reader's (`tests/json_corpus.rs` when it exists); this test counts
//! them and leaves them alone.

mod common;

use common::{decode_chunked, decode_whole, lenient, normalize, strict, structure, Op, Part};
use odata_batch::{BatchDecoderBuilder, Boundary, DecodeError, Event};
use serde_json::Value;

/// What we do where the corpus expectation and this crate's rules differ.
#[derive(Debug, Clone, Copy)]
#[allow(dead_code)] // the reasons are documentation, printed on failure via Debug
enum Override {
    /// Rejected by the default decoder (request validation or a rule that is never relaxed).
    Rejected(&'static str),
    /// Accepted by the default and the strict decoder: the rule the source enforces is not a framing rule.
    Accepted(&'static str),
    /// Accepted with request validation off; the default decoder rejects it.
    AcceptedWithoutValidation(&'static str),
}

const OVERRIDES: &[(&str, Override)] = &[
    (
        "olingo-odata2/duplicate-boundary-param-first-wins.request.http",
        Override::Rejected("two boundary parameters are refused (issue 2 rule 2); Olingo takes the first"),
    ),
    (
        "olingo-odata4/large-batch-lf.request.http",
        Override::AcceptedWithoutValidation("every changeset repeats Content-ID 1, which request validation refuses"),
    ),
    (
        "sap-cloud-sdk-js/serializer-two-changesets-same-boundary.request.http",
        Override::AcceptedWithoutValidation("the mocked UUIDs give every part the same Content-Id in one changeset"),
    ),
    (
        "olingo-odata4/absolute-path-other-host.request.http",
        Override::Accepted("Host/service-root matching needs the service root, which a codec does not know"),
    ),
    (
        "olingo-odata4/forbidden-header-authorization.request.http",
        Override::Accepted("which embedded headers a service forbids is the service's policy, not batch syntax"),
    ),
    (
        "go-odata/get-content-id-ref-inside-changeset-lf.request.http",
        Override::AcceptedWithoutValidation("GET inside a changeset is refused by request validation (issue 2 rule 6)"),
    ),
    (
        "go-odata/get-inside-changeset-lf.request.http",
        Override::AcceptedWithoutValidation("GET inside a changeset is refused by request validation (issue 2 rule 6)"),
    ),
    (
        "olingo-odata2/fit-unknown-content-id-reference.request.http",
        Override::AcceptedWithoutValidation(
            "a $n reference to an undefined Content-ID is refused by request validation",
        ),
    ),
    (
        "olingo-odata4/non-strict-missing-blank-lines.request.http",
        Override::Rejected(
            "no blank line after a part's headers is always refused: guessing where headers end invents data",
        ),
    ),
    (
        "odata-net/invalid-empty-changeset-then-headerless-part.request.http",
        Override::Rejected("the changeset is never closed before the next batch delimiter (UnclosedChangeset)"),
    ),
    (
        "odata-net/duplicate-content-id-no-close-delimiter.request.http",
        Override::Rejected("the batch has no close delimiter: truncated input is always an error"),
    ),
    (
        "odata-net/depends-on-ids-cross-changeset-refs.request.http",
        Override::Accepted("OData 4.01 lets a request reference any Content-ID defined earlier in the batch"),
    ),
];

fn check_op(name: &str, expected: &Value, op: &Op) -> Result<(), String> {
    if let Some(m) = expected.get("method").and_then(Value::as_str) {
        if !op.line.eq_ignore_ascii_case(m) {
            return Err(format!("{name}: method {} != expected {m}", op.line));
        }
    }
    if let Some(s) = expected.get("status").and_then(Value::as_u64) {
        if op.line != s.to_string() {
            return Err(format!("{name}: status {} != expected {s}", op.line));
        }
    }
    if let Some(c) = expected.get("content_id").and_then(Value::as_str) {
        if op.content_id.as_deref() != Some(c) {
            return Err(format!("{name}: content id {:?} != expected {c}", op.content_id));
        }
    }
    Ok(())
}

fn check_structure(name: &str, meta: &Value, parts: &[Part]) -> Result<(), String> {
    let Some(expected) = meta.get("expected_structure").filter(|v| !v.is_null()) else {
        return Ok(());
    };
    if let Some(n) = expected.get("top_level_parts").and_then(Value::as_u64) {
        if parts.len() as u64 != n {
            return Err(format!(
                "{name}: {} top-level parts, expected {n}: {parts:?}",
                parts.len()
            ));
        }
    }
    let Some(list) = expected.get("parts").and_then(Value::as_array) else {
        return Ok(());
    };
    if list.len() != parts.len() {
        return Err(format!("{name}: {} parts, expected {}", parts.len(), list.len()));
    }
    for (exp, got) in list.iter().zip(parts) {
        match (exp.get("type").and_then(Value::as_str), got) {
            (Some("operation"), Part::Op(op)) => check_op(name, exp, op)?,
            (Some("changeset"), Part::Changeset(got_ops)) => {
                let exp_ops = exp
                    .get("operations")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if exp_ops.len() != got_ops.len() {
                    return Err(format!(
                        "{name}: changeset has {} operations, expected {}",
                        got_ops.len(),
                        exp_ops.len()
                    ));
                }
                for (e, g) in exp_ops.iter().zip(got_ops) {
                    check_op(name, e, g)?;
                }
            }
            (t, g) => return Err(format!("{name}: part kind {t:?} != decoded {g:?}")),
        }
    }
    Ok(())
}

fn run(builder: &BatchDecoderBuilder, ct: &str, payload: &[u8]) -> Result<Vec<Part>, String> {
    if let Err(e) = Boundary::from_content_type(ct) {
        return Err(format!("content type: {e}"));
    }
    let events: Result<Vec<Event>, DecodeError> = decode_whole(builder, ct, payload);
    // The same payload fed in small pieces must give the same result.
    let chunked = decode_chunked(builder, ct, payload, &[7, 1, 64]);
    match (&events, &chunked) {
        (Ok(a), Ok(b)) => assert_eq!(normalize(a.clone()), normalize(b.clone()), "chunked decode differs"),
        (Err(a), Err(b)) => assert_eq!(a, b, "chunked decode fails differently"),
        _ => panic!("chunked and whole decoding disagree: {events:?} vs {chunked:?}"),
    }
    events.map(|e| structure(&e)).map_err(|e| e.to_string())
}

#[test]
fn corpus_multipart_payloads_decode_as_their_meta_says() {
    let Some(dir) = common::corpus_dir("corpus test") else {
        return;
    };
    let index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let mut failures = Vec::new();
    let (mut checked, mut json) = (0, 0);
    for entry in index["entries"].as_array().unwrap() {
        let payload_name = entry["payload"].as_str().unwrap();
        if entry["format"] != "multipart" {
            json += 1;
            continue;
        }
        checked += 1;
        let meta: Value =
            serde_json::from_slice(&std::fs::read(dir.join(entry["meta"].as_str().unwrap())).unwrap()).unwrap();
        let payload = std::fs::read(dir.join(payload_name)).unwrap();
        let ct = meta["content_type"].as_str().unwrap();
        let outcome = meta["expect"]["outcome"].as_str().unwrap();
        let lenient_result = run(&lenient(), ct, &payload);
        let strict_result = run(&strict(), ct, &payload);
        let mut unvalidated = lenient();
        unvalidated.validate_requests(false);
        let override_ = OVERRIDES.iter().find(|(n, _)| *n == payload_name).map(|(_, o)| *o);
        let verdict: Result<(), String> = match (override_, outcome) {
            (Some(Override::Rejected(_)), _) => match &lenient_result {
                Err(_) => Ok(()),
                Ok(p) => Err(format!("accepted, but we document rejecting it: {p:?}")),
            },
            (Some(Override::Accepted(_)), _) => lenient_result
                .as_ref()
                .map(|_| ())
                .map_err(|e| format!("rejected: {e}")),
            (Some(Override::AcceptedWithoutValidation(_)), _) => {
                match (&lenient_result, run(&unvalidated, ct, &payload)) {
                    (Err(_), Ok(_)) => Ok(()),
                    (a, b) => Err(format!("validation on: {a:?}; off: {b:?}")),
                }
            }
            (None, "success" | "spec-example" | "not-asserted" | "success-with-in-band-error") => match &lenient_result
            {
                Ok(parts) => check_structure(payload_name, &meta, parts),
                Err(e) => Err(format!("rejected: {e}")),
            },
            (None, "success-lenient-only") => match (&lenient_result, &strict_result) {
                (Ok(_), Err(_)) => Ok(()),
                (a, b) => Err(format!("lenient: {a:?}; strict: {b:?}")),
            },
            (None, "error" | "version-dependent") => match &strict_result {
                Err(_) => Ok(()),
                Ok(p) => Err(format!("strict decoder accepted it: {p:?}")),
            },
            (None, other) => Err(format!("unknown outcome {other}")),
        };
        if let Err(why) = verdict {
            failures.push(format!("{payload_name} ({outcome}): {why}"));
        }
    }
    eprintln!("corpus: {checked} multipart payloads checked, {json} JSON payloads left to the JSON reader");
    assert!(checked > 0, "no multipart payloads found");
    assert!(
        failures.is_empty(),
        "{} corpus payloads failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
