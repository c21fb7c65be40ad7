//! Property round trips through the JSON batch format: model → JSON → model is the identity, and
//! model → multipart → JSON → multipart → model is the identity for every model both formats express.
#![cfg(feature = "json")]

use bytes::BytesMut;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use odata_batch::json::{JsonBatchReader, JsonEvent};
use odata_batch::{BatchRequest, BatchResponse, Dependency, EncodeOptions, MessageKind, RequestItem, ResponseItem};
use proptest::prelude::*;

/// A body and the Content-Type that says how JSON carries it.
#[derive(Debug, Clone)]
enum BodySpec {
    None,
    Json(String),
    Text(String),
    Binary(Vec<u8>),
}

fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i32>().prop_map(|n| n.to_string()),
        ".{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(("[a-z@.]{1,6}", inner), 0..4).prop_map(|members| {
                let mut seen = std::collections::HashSet::new();
                let body: Vec<String> = members
                    .into_iter()
                    .filter(|(k, _)| seen.insert(k.clone()))
                    .map(|(k, v)| format!("{}:{v}", serde_json::to_string(&k).unwrap()))
                    .collect();
                format!("{{{}}}", body.join(","))
            }),
        ]
    })
}

fn body_spec() -> impl Strategy<Value = BodySpec> {
    prop_oneof![
        Just(BodySpec::None),
        // A JSON body `null` is no body in the JSON format (to_json refuses it).
        json_value()
            .prop_filter("null is no body", |v| v != "null")
            .prop_map(BodySpec::Json),
        // Text with line breaks and things that look like delimiters.
        prop::collection::vec(
            prop_oneof![
                Just("\r\n".to_owned()),
                Just("\n".to_owned()),
                Just("--batch_".to_owned()),
                Just("--changeset_".to_owned()),
                Just("\"".to_owned()),
                ".{0,6}"
            ],
            1..8
        )
        .prop_map(|p| BodySpec::Text(p.concat())),
        prop::collection::vec(any::<u8>(), 1..80).prop_map(BodySpec::Binary),
    ]
}

fn other_headers() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    prop::collection::vec(
        (
            prop::sample::select(vec!["accept", "if-match", "x-custom", "odata-version", "prefer"]),
            "[!-~]([ -~]{0,16}[!-~])?",
        ),
        0..3,
    )
}

/// Headers (unique names: JSON has one value per name) and the body with its Content-Type.
fn apply(headers: &mut http::HeaderMap, extra: &[(&'static str, String)], body: &BodySpec) -> bytes::Bytes {
    for (name, value) in extra {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_str(value).unwrap());
    }
    let (content_type, bytes) = match body {
        BodySpec::None => (None, bytes::Bytes::new()),
        BodySpec::Json(v) => (Some("application/json"), bytes::Bytes::from(v.clone())),
        BodySpec::Text(t) => (Some("text/plain; charset=utf-8"), bytes::Bytes::from(t.clone())),
        BodySpec::Binary(b) => (Some("application/octet-stream"), bytes::Bytes::from(b.clone())),
    };
    if let Some(ct) = content_type {
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    bytes
}

#[derive(Debug, Clone)]
struct OpSpec {
    method: Method,
    path: String,
    reference: Option<prop::sample::Index>,
    extra_dependency: Option<prop::sample::Index>,
    headers: Vec<(&'static str, String)>,
    body: BodySpec,
}

fn op(in_changeset: bool) -> impl Strategy<Value = OpSpec> {
    let methods = if in_changeset {
        vec![Method::POST, Method::PUT, Method::PATCH, Method::DELETE]
    } else {
        vec![Method::GET, Method::POST, Method::DELETE, Method::PATCH]
    };
    (
        prop::sample::select(methods),
        "[A-Za-z][A-Za-z0-9()/=&.,'-]{0,24}",
        prop::option::of(any::<prop::sample::Index>()),
        prop::option::of(any::<prop::sample::Index>()),
        other_headers(),
        body_spec(),
    )
        .prop_map(|(method, path, reference, extra_dependency, headers, body)| {
            // JSON allows no body on GET and DELETE.
            let body = if method == Method::GET || method == Method::DELETE {
                BodySpec::None
            } else {
                body
            };
            OpSpec {
                method,
                path,
                reference,
                extra_dependency,
                headers,
                body,
            }
        })
}

fn entries() -> impl Strategy<Value = Vec<Vec<OpSpec>>> {
    prop::collection::vec(
        prop_oneof![op(false).prop_map(|o| vec![o]), prop::collection::vec(op(true), 1..4)],
        0..8,
    )
}

/// A request model. With `json_only`, items also get `dependsOn` entries beyond what their URL implies, and
/// some an `if` condition (which multipart cannot carry).
fn build_request(entries: &[Vec<OpSpec>], json_only: bool) -> BatchRequest {
    let mut batch = BatchRequest::builder();
    // (id, group) of every earlier request.
    let mut earlier: Vec<(String, Option<usize>)> = Vec::new();
    let mut n = 0;
    for entry in entries {
        let group = (entry.len() > 1).then_some(batch.batch().changesets);
        let mut items = Vec::new();
        for spec in entry {
            n += 1;
            let id = format!("id{n}");
            let as_dependency = |(id, g): &(String, Option<usize>)| match g {
                Some(g) if Some(*g) != group => Dependency::Changeset(*g),
                _ => Dependency::Request(id.clone()),
            };
            let (url, implied) = match &spec.reference {
                Some(ix) if !earlier.is_empty() => {
                    let target = &earlier[ix.index(earlier.len())];
                    (format!("${}/{}", target.0, spec.path), Some(as_dependency(target)))
                }
                _ => (spec.path.clone(), None),
            };
            let mut item = RequestItem::new(spec.method.clone(), url);
            item.body = apply(&mut item.headers, &spec.headers, &spec.body);
            item.content_id = Some(id.clone());
            if json_only {
                if let Some(ix) = &spec.extra_dependency {
                    if !earlier.is_empty() {
                        let dependency = as_dependency(&earlier[ix.index(earlier.len())]);
                        // Not the one the URL implies (the model leaves that one out).
                        if implied.as_ref() != Some(&dependency) {
                            item.depends_on.push(dependency);
                        }
                    }
                }
                if spec.path.len() % 3 == 0 {
                    item.condition = Some(format!("{} eq 1", spec.path.len()));
                }
            }
            items.push(item);
        }
        for item in &items {
            earlier.push((item.content_id.clone().unwrap(), group));
        }
        match group {
            Some(_) => {
                let mut cs = batch.changeset();
                for item in items {
                    cs.push(item);
                }
            }
            None => {
                for item in items {
                    batch.push(item);
                }
            }
        }
    }
    let mut batch = batch.build().unwrap();
    if json_only && n % 2 == 1 {
        batch
            .annotations
            .push(("@odata.context".into(), "\"$metadata\"".into()));
    }
    batch
}

fn build_response(entries: &[Vec<OpSpec>], statuses: &[u16], json_only: bool) -> BatchResponse {
    let mut batch = BatchResponse::builder();
    let mut k = 0;
    for entry in entries {
        let make = |spec: &OpSpec, k: usize| {
            let mut item = ResponseItem::new(StatusCode::from_u16(statuses[k % statuses.len()]).unwrap());
            item.body = apply(&mut item.headers, &spec.headers, &spec.body);
            item.content_id = Some(format!("r{k}"));
            item
        };
        if entry.len() > 1 {
            let mut cs = batch.changeset();
            for spec in entry {
                cs.push(make(spec, k));
                k += 1;
            }
        } else {
            for spec in entry {
                batch.push(make(spec, k));
                k += 1;
            }
        }
    }
    let mut batch = batch.build().unwrap();
    if json_only && k % 2 == 1 {
        batch.next_link = Some("$batch?$skiptoken=x".into());
        batch.annotations.push(("@a.b".into(), "[1,{\"c\":null}]".into()));
    }
    batch
}

/// Streams a response document in chunks of the given sizes, collecting the items.
fn stream_items(doc: &[u8], sizes: &[usize]) -> Vec<ResponseItem> {
    let mut reader = JsonBatchReader::new(MessageKind::Response);
    let mut buf = BytesMut::new();
    let mut items = Vec::new();
    let mut rest = doc;
    let mut k = 0;
    while !rest.is_empty() {
        let n = sizes[k % sizes.len()].min(rest.len());
        k += 1;
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        while let Some(e) = reader.decode(&mut buf).unwrap() {
            if let JsonEvent::Response(r) = e {
                items.push(r);
            }
        }
    }
    while let Some(e) = reader.decode_eof(&mut buf).unwrap() {
        if let JsonEvent::Response(r) = e {
            items.push(r);
        }
    }
    items
}

proptest! {
    #[test]
    fn requests_model_json_model(entries in entries()) {
        let batch = build_request(&entries, true);
        let json = batch.to_json().unwrap();
        let back = BatchRequest::from_json(&json).unwrap();
        prop_assert_eq!(&back, &batch);
        // And JSON -> model -> JSON gives the same document.
        prop_assert_eq!(back.to_json().unwrap(), json);
    }

    #[test]
    fn responses_model_json_model(entries in entries(), statuses in prop::collection::vec(prop::sample::select(vec![200u16, 201, 204, 400, 404, 424, 500]), 1..4), sizes in prop::collection::vec(1usize..40, 1..5)) {
        let batch = build_response(&entries, &statuses, true);
        let json = batch.to_json().unwrap();
        let back = BatchResponse::from_json(&json).unwrap();
        prop_assert_eq!(&back, &batch);
        prop_assert_eq!(stream_items(&json, &sizes), batch.items);
    }

    /// The streaming writer writes, response by response, the bytes `to_json` writes of the whole batch
    /// (compact), and serde_json's pretty printer (pretty).
    #[test]
    fn the_streaming_writer_writes_what_the_batch_writer_writes(entries in entries(), statuses in prop::collection::vec(prop::sample::select(vec![200u16, 201, 204, 400, 404, 424, 500]), 1..4)) {
        let batch = build_response(&entries, &statuses, true);
        for pretty in [false, true] {
            let mut out = Vec::new();
            let mut writer = odata_batch::json::ResponseDocumentWriter::new(pretty);
            writer.begin(&mut out);
            for item in &batch.items {
                writer.response(&mut out, item).unwrap();
            }
            writer.finish(&mut out, &batch.annotations, batch.next_link.as_deref()).unwrap();
            let expected = if pretty { serde_json::to_vec_pretty(&batch).unwrap() } else { batch.to_json().unwrap().to_vec() };
            prop_assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&expected), "pretty {}", pretty);
        }
    }

    #[test]
    fn requests_multipart_json_multipart(entries in entries(), seed in any::<u64>()) {
        let batch = build_request(&entries, false);
        let mut options = EncodeOptions::new();
        options.seed(seed);
        let first = batch.encode_with(&options).unwrap();
        let decoded = BatchRequest::decode(&first.content_type, first.body).unwrap();
        let json = decoded.to_json().unwrap();
        let from_json = BatchRequest::from_json(&json).unwrap();
        let second = from_json.encode_with(&options).unwrap();
        let back = BatchRequest::decode(&second.content_type, second.body).unwrap();
        prop_assert_eq!(back, batch);
    }

    #[test]
    fn responses_multipart_json_multipart(entries in entries(), statuses in prop::collection::vec(prop::sample::select(vec![200u16, 201, 204, 400, 404, 424, 500]), 1..4), seed in any::<u64>()) {
        let batch = build_response(&entries, &statuses, false);
        let mut options = EncodeOptions::new();
        options.seed(seed);
        let first = batch.encode_with(&options).unwrap();
        let decoded = BatchResponse::decode(&first.content_type, first.body).unwrap();
        let json = decoded.to_json().unwrap();
        let from_json = BatchResponse::from_json(&json).unwrap();
        let second = from_json.encode_with(&options).unwrap();
        let back = BatchResponse::decode(&second.content_type, second.body).unwrap();
        prop_assert_eq!(back, batch);
    }
}

#[test]
fn multipart_refuses_what_it_cannot_carry() {
    use odata_batch::{ContinueOnError, EncodeErrorKind};
    let mut batch = BatchRequest::builder();
    batch.post("A").content_id("1");
    let mut conditional = RequestItem::new(Method::DELETE, "A(1)");
    conditional.condition = Some("$1/x eq 1".into());
    conditional.depends_on.push(Dependency::Request("1".into()));
    batch.push(conditional);
    let batch = batch.build().unwrap();
    let err = batch.encode().unwrap_err();
    assert_eq!(
        (err.kind(), err.operation()),
        (
            EncodeErrorKind::Rule(odata_batch::Rule::ConditionNotExpressible),
            Some(1)
        )
    );

    // A dependency on an earlier request holds in multipart (requests run in order and stop at a failure)...
    let mut batch = BatchRequest::builder();
    batch.post("A").content_id("1");
    let mut dependent = RequestItem::new(Method::POST, "B");
    dependent.depends_on.push(Dependency::Request("1".into()));
    batch.push(dependent);
    let batch = batch.build().unwrap();
    assert!(batch.encode().is_ok());
    // ... but not with continue-on-error, unless both are in one changeset.
    let mut options = EncodeOptions::new();
    options.continue_on_error(Some(ContinueOnError::OData401));
    let err = batch.encode_with(&options).unwrap_err();
    assert_eq!(
        (err.kind(), err.operation()),
        (
            EncodeErrorKind::Rule(odata_batch::Rule::DependencyNotExpressible),
            Some(1)
        )
    );
    let mut batch = BatchRequest::builder();
    let mut cs = batch.changeset();
    cs.post("A").content_id("1");
    let mut dependent = RequestItem::new(Method::POST, "B");
    dependent.depends_on.push(Dependency::Request("1".into()));
    cs.push(dependent);
    let batch = batch.build().unwrap();
    assert!(batch.encode_with(&options).is_ok());
    // A dependency on nothing earlier is refused.
    let mut batch = BatchRequest::builder();
    let mut dependent = RequestItem::new(Method::POST, "B");
    dependent.depends_on.push(Dependency::Changeset(0));
    batch.push(dependent);
    let batch = batch.build().unwrap();
    assert_eq!(
        batch.encode().unwrap_err().kind(),
        EncodeErrorKind::Rule(odata_batch::Rule::DependencyNotExpressible)
    );
}

#[test]
fn json_batches_state_continue_on_error_explicitly() {
    use odata_batch::{BatchFormat, ContinueOnError};
    let mut builder = BatchRequest::builder();
    builder.get("People");
    let mut options = EncodeOptions::new();
    let batch = builder.batch();
    assert_eq!(
        batch.encode_json(&options).unwrap().headers["prefer"],
        "odata.continue-on-error=false"
    );
    assert!(batch.encode_with(&options).unwrap().headers.get("prefer").is_none());
    assert!(!BatchFormat::Multipart.continue_on_error_default());
    options.continue_on_error(Some(ContinueOnError::OData401));
    assert_eq!(
        batch.encode_json(&options).unwrap().headers["prefer"],
        "continue-on-error"
    );
    assert_eq!(
        batch.encode_with(&options).unwrap().headers["prefer"],
        "continue-on-error"
    );
    let mut options = EncodeOptions::creatio();
    options.continue_on_error(None);
    for _ in 0..100 {
        builder.get("People");
    }
    assert_eq!(
        builder.batch().encode_json(&options).unwrap_err().kind(),
        &odata_batch::json::JsonErrorKind::TooManyOperations { max: 100 }
    );
}
