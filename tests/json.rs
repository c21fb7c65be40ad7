//! The OData 4.01 JSON batch format: one test per rule of the reader, per body rule, streaming and
//! truncation, and the writer's round trips.
#![cfg(feature = "json")]

use bytes::BytesMut;
use odata_batch::json::JsonErrorKind;
use odata_batch::json::{JsonBatchReader, JsonEvent, JsonReadOptions};
use odata_batch::{BatchRequest, BatchResponse, Dependency, MessageKind};

/// The error kind, item and offset of reading a request document.
fn refused(doc: &str) -> (JsonErrorKind, Option<usize>, Option<u64>) {
    let e = BatchRequest::from_json(doc).unwrap_err();
    (*e.kind(), e.item(), e.offset())
}

fn at(doc: &str, needle: &str) -> Option<u64> {
    Some(doc.find(needle).unwrap_or_else(|| panic!("{needle} not in {doc}")) as u64)
}

#[test]
fn ids_must_be_unique() {
    let doc = r#"{"requests":[{"id":"a","method":"get","url":"A"},{"id":"a","method":"get","url":"B"}]}"#;
    assert_eq!(
        refused(doc),
        (
            JsonErrorKind::Rule(odata_batch::Rule::DuplicateContentId),
            Some(1),
            at(doc, r#""a","method":"get","url":"B""#)
        )
    );
}

#[test]
fn ids_must_not_equal_an_atomicity_group_in_either_order() {
    let doc = r#"{"requests":[{"id":"g","method":"get","url":"A"},{"id":"2","atomicityGroup":"g","method":"post","url":"B"}]}"#;
    assert_eq!(
        refused(doc),
        (
            JsonErrorKind::IdEqualsGroup("g".into()),
            Some(1),
            at(doc, r#""g","method":"post""#)
        )
    );
    let doc = r#"{"requests":[{"id":"1","atomicityGroup":"g","method":"post","url":"B"},{"id":"g","method":"get","url":"A"}]}"#;
    assert_eq!(
        refused(doc),
        (
            JsonErrorKind::IdEqualsGroup("g".into()),
            Some(1),
            at(doc, r#""g","method":"get""#)
        )
    );
    let doc = r#"{"requests":[{"id":"x","atomicityGroup":"x","method":"post","url":"B"}]}"#;
    assert_eq!(refused(doc).0, JsonErrorKind::IdEqualsGroup("x".into()));
}

#[test]
fn ids_and_groups_are_unreserved_characters() {
    let doc = r#"{"requests":[{"id":"a b","method":"get","url":"A"}]}"#;
    assert_eq!(
        refused(doc),
        (JsonErrorKind::InvalidId("a b".into()), Some(0), at(doc, r#""a b""#))
    );
    let doc = r#"{"requests":[{"id":"1","atomicityGroup":"g/1","method":"post","url":"A"}]}"#;
    assert_eq!(
        refused(doc),
        (JsonErrorKind::InvalidId("g/1".into()), Some(0), at(doc, r#""g/1""#))
    );
    let doc = r#"{"requests":[{"id":"","method":"get","url":"A"}]}"#;
    assert_eq!(refused(doc).0, JsonErrorKind::InvalidId("".into()));
    let ok = r#"{"requests":[{"id":"A-z.0_9~","atomicityGroup":"69028f2c-f57b","method":"post","url":"A"}]}"#;
    assert!(BatchRequest::from_json(ok).is_ok());
}

#[test]
fn members_of_a_group_are_adjacent() {
    let doc = r#"{"requests":[{"id":"1","atomicityGroup":"g","method":"post","url":"A"},{"id":"2","method":"get","url":"B"},{"id":"3","atomicityGroup":"g","method":"post","url":"C"}]}"#;
    assert_eq!(
        refused(doc),
        (
            JsonErrorKind::Rule(odata_batch::Rule::ChangesetNotAdjacent),
            Some(2),
            at(doc, r#""g","method":"post","url":"C""#)
        )
    );
}

#[test]
fn responses_of_one_group_may_come_apart() {
    // A service may run groups in parallel and answer in any order.
    let doc = r#"{"responses":[{"id":"1","atomicityGroup":"g","status":201},{"id":"3","status":200},{"id":"2","atomicityGroup":"g","status":201}]}"#;
    let batch = BatchResponse::from_json(doc).unwrap();
    let groups: Vec<Option<usize>> = batch.items.iter().map(|i| i.changeset).collect();
    assert_eq!((groups, batch.changesets), (vec![Some(0), None, Some(0)], 1));
    // Multipart cannot say that: writing it refuses with a rule.
    assert_eq!(
        batch.encode().unwrap_err().kind(),
        odata_batch::EncodeErrorKind::Rule(odata_batch::Rule::ChangesetNotAdjacent)
    );
}

#[test]
fn depends_on_names_only_earlier_requests_or_groups() {
    let forward =
        r#"{"requests":[{"id":"1","dependsOn":["2"],"method":"get","url":"A"},{"id":"2","method":"get","url":"B"}]}"#;
    assert_eq!(
        refused(forward),
        (
            JsonErrorKind::UnknownDependency("2".into()),
            Some(0),
            at(forward, "[\"2\"]")
        )
    );
    let itself = r#"{"requests":[{"id":"1","dependsOn":["1"],"method":"get","url":"A"}]}"#;
    assert_eq!(refused(itself).0, JsonErrorKind::UnknownDependency("1".into()));
    let own = r#"{"requests":[{"id":"1","atomicityGroup":"g","method":"post","url":"A"},{"id":"2","atomicityGroup":"g","dependsOn":["g"],"method":"post","url":"B"}]}"#;
    assert_eq!(refused(own).0, JsonErrorKind::DependsOnOwnGroup("g".into()));
    let member = r#"{"requests":[{"id":"1","atomicityGroup":"g","method":"post","url":"A"},{"id":"2","dependsOn":["1"],"method":"get","url":"B"}]}"#;
    assert_eq!(
        refused(member).0,
        JsonErrorKind::DependsOnMemberOfOtherGroup("1".into())
    );
    // Naming the group is the way, and a member of the same group may be named.
    let ok = r#"{"requests":[{"id":"1","atomicityGroup":"g","method":"post","url":"A"},{"id":"2","atomicityGroup":"g","dependsOn":["1"],"method":"post","url":"B"},{"id":"3","dependsOn":["g"],"method":"get","url":"C"}]}"#;
    let batch = BatchRequest::from_json(ok).unwrap();
    assert_eq!(batch.items[1].depends_on, [Dependency::Request("1".into())]);
    assert_eq!(batch.items[2].depends_on, [Dependency::Changeset(0)]);
}

#[test]
fn a_reference_in_the_url_must_be_in_depends_on() {
    let doc = r#"{"requests":[{"id":"1","method":"post","url":"A"},{"id":"2","method":"get","url":"$1/Orders"}]}"#;
    assert_eq!(
        refused(doc),
        (
            JsonErrorKind::ReferenceNotInDependsOn("1".into()),
            Some(1),
            at(doc, "\"$1/Orders\"")
        )
    );
    // Through the group of the referenced request.
    let ok = r#"{"requests":[{"id":"1","atomicityGroup":"g","method":"post","url":"A"},{"id":"2","dependsOn":["g"],"method":"get","url":"$1/Orders"}]}"#;
    assert!(BatchRequest::from_json(ok).is_ok());
    // System resources are not references.
    for url in [
        "$metadata",
        "$batch",
        "$crossjoin(A,B)",
        "$all",
        "$entity?$id=A(1)",
        "$root/A",
        "$id",
    ] {
        let doc = format!(r#"{{"requests":[{{"id":"1","method":"get","url":"{url}"}}]}}"#);
        assert!(BatchRequest::from_json(&doc).is_ok(), "{url}");
    }
}

#[test]
fn the_if_member_is_kept_and_its_references_checked() {
    let doc = r#"{"requests":[{"id":"1","method":"get","url":"A(1)"},{"id":"2","dependsOn":["1"],"if":"$1/Price gt 10","method":"delete","url":"A(1)"}]}"#;
    let batch = BatchRequest::from_json(doc).unwrap();
    assert_eq!(batch.items[1].condition.as_deref(), Some("$1/Price gt 10"));
    assert_eq!(batch.items[1].depends_on, [Dependency::Request("1".into())]);
    let doc = r#"{"requests":[{"id":"1","method":"get","url":"A(1)"},{"id":"2","if":"$1/Price gt 10","method":"delete","url":"A(1)"}]}"#;
    assert_eq!(
        refused(doc),
        (
            JsonErrorKind::ReferenceNotInDependsOn("1".into()),
            Some(1),
            at(doc, "\"$1/Price")
        )
    );
    let json = BatchRequest::from_json(r#"{"requests":[{"id":"1","method":"get","url":"A(1)"},{"id":"2","dependsOn":["1"],"if":"$1/Price gt 10","method":"delete","url":"A(1)"}]}"#)
        .unwrap()
        .to_json()
        .unwrap();
    assert!(std::str::from_utf8(&json)
        .unwrap()
        .contains(r#""dependsOn":["1"],"if":"$1/Price gt 10""#));
}

#[test]
fn validation_can_be_turned_off_but_structure_is_still_checked() {
    let doc = r#"{"requests":[{"id":"a b","method":"post","url":"A"},{"id":"2","method":"get","url":"$9"}]}"#;
    let mut options = JsonReadOptions::new();
    options.validate(false);
    assert_eq!(BatchRequest::from_json_with(&options, doc).unwrap().items.len(), 2);
    let bad = r#"{"requests":[{"id":"1","method":"get","url":"A","url":"B"}]}"#;
    assert!(BatchRequest::from_json_with(&options, bad).is_err());
}

#[test]
fn member_rules() {
    let doc = r#"{"requests":[{"id":"1","method":"get","url":"A","URL":"B"}]}"#;
    assert_eq!(
        refused(doc),
        (JsonErrorKind::UnknownMember("URL".into()), Some(0), at(doc, "\"B\""))
    );
    let doc = r#"{"requests":[{"id":"1","method":"get","url":"A","id":"2"}]}"#;
    assert_eq!(
        refused(doc),
        (JsonErrorKind::DuplicateMember("id".into()), Some(0), at(doc, "\"2\""))
    );
    let doc = r#"{"requests":[{"id":"1","method":"get","url":"A","headers":{"Accept":"a","accept":"b"}}]}"#;
    assert_eq!(refused(doc).0, JsonErrorKind::DuplicateHeader("accept".into()));
    let doc = r#"{"requests":[{"id":"1","method":"get","url":"A","headers":{"x":"a\r\nb"}}]}"#;
    assert_eq!(refused(doc).0, JsonErrorKind::InvalidHeader("x".into()));
    let doc = r#"{"requests":[{"id":"1","method":"get","url":"A","headers":{"x":1}}]}"#;
    assert_eq!(refused(doc).0, JsonErrorKind::InvalidHeader("x".into()));
    for (doc, member) in [
        (r#"{"requests":[{"method":"get","url":"A"}]}"#, "id"),
        (r#"{"requests":[{"id":"1","url":"A"}]}"#, "method"),
        (r#"{"requests":[{"id":"1","method":"get"}]}"#, "url"),
        (r#"{}"#, "requests"),
    ] {
        assert_eq!(refused(doc).0, JsonErrorKind::MissingMember(member), "{doc}");
    }
    let doc = r#"{"requests":[{"id":"1","method":"g e t","url":"A"}]}"#;
    assert_eq!(refused(doc).0, JsonErrorKind::InvalidMethod);
    // Method in any case; member order free.
    let doc = r#"{"requests":[{"url":"A","body":{"a":1},"headers":{"content-type":"application/json"},"method":"pAtCh","id":"1"}]}"#;
    let batch = BatchRequest::from_json(doc).unwrap();
    assert_eq!(batch.items[0].method, http::Method::PATCH);
    assert_eq!(&batch.items[0].body[..], br#"{"a":1}"#);
    // Top level: the other role's array, a duplicate array, trailing data.
    assert_eq!(
        refused(r#"{"responses":[]}"#).0,
        JsonErrorKind::UnknownMember("responses".into())
    );
    assert_eq!(
        refused(r#"{"requests":[],"requests":[]}"#).0,
        JsonErrorKind::DuplicateMember("requests".into())
    );
    assert_eq!(
        refused(r#"{"requests":[]} x"#),
        (JsonErrorKind::TrailingData, None, Some(16))
    );
    assert!(matches!(refused(r#"{"requests":[1]}"#).0, JsonErrorKind::Syntax(_)));
    assert!(matches!(
        refused(r#"{"requests":[{"id":"1","method":"get","url":"A"},]}"#).0,
        JsonErrorKind::Syntax(_)
    ));
    assert!(matches!(refused("[]").0, JsonErrorKind::Syntax(_)));
    let status = BatchResponse::from_json(r#"{"responses":[{"id":"1","status":99}]}"#).unwrap_err();
    assert_eq!(status.kind(), &JsonErrorKind::InvalidStatus);
    let status = BatchResponse::from_json(r#"{"responses":[{"id":"1"}]}"#).unwrap_err();
    assert_eq!(status.kind(), &JsonErrorKind::MissingMember("status"));
}

#[test]
fn top_level_annotations_and_next_link_are_kept() {
    let doc = r#"{"@odata.context":"$metadata#x","responses":[{"id":"1","status":200}],"@nextLink":"next?page=2","@a.b":{"c":[1,2]}}"#;
    let batch = BatchResponse::from_json(doc).unwrap();
    assert_eq!(batch.next_link.as_deref(), Some("next?page=2"));
    assert_eq!(
        batch.annotations,
        [
            ("@odata.context".to_owned(), r#""$metadata#x""#.to_owned()),
            ("@a.b".to_owned(), r#"{"c":[1,2]}"#.to_owned())
        ]
    );
    let json = batch.to_json().unwrap();
    assert_eq!(BatchResponse::from_json(&json).unwrap(), batch);
    assert_eq!(
        std::str::from_utf8(&json).unwrap(),
        r#"{"responses":[{"id":"1","status":200,"headers":{}}],"@odata.context":"$metadata#x","@a.b":{"c":[1,2]},"@nextLink":"next?page=2"}"#
    );
}

fn one_body(content_type: Option<&str>, body: &str) -> Result<bytes::Bytes, JsonErrorKind> {
    let headers = content_type.map_or(String::new(), |ct| format!(r#","headers":{{"content-type":"{ct}"}}"#));
    let doc = format!(r#"{{"requests":[{{"id":"1","method":"post","url":"A"{headers},"body":{body}}}]}}"#);
    BatchRequest::from_json(&doc)
        .map(|b| b.items[0].body.clone())
        .map_err(|e| *e.kind())
}

#[test]
fn bodies_by_media_type() {
    // JSON and +json, with parameters: the JSON text itself, byte for byte.
    let value = r#"{"a" : [1, 2.50, "\u00e9"], "b":null}"#;
    assert_eq!(
        one_body(Some("application/json;odata.metadata=minimal"), value).unwrap(),
        value.as_bytes()
    );
    assert_eq!(
        one_body(Some("application/problem+JSON"), "[1]").unwrap(),
        "[1]".as_bytes()
    );
    assert_eq!(
        one_body(Some("application/json"), r#""just a string""#).unwrap(),
        r#""just a string""#.as_bytes()
    );
    // Text: the string, exactly.
    assert_eq!(
        one_body(Some("text/plain; charset=utf-8"), r#""line\r\none \"q\" é""#).unwrap(),
        "line\r\none \"q\" é".as_bytes()
    );
    assert_eq!(
        one_body(Some("text/plain"), "1").unwrap_err(),
        JsonErrorKind::InvalidBody
    );
    // Anything else: base64url, padding optional; standard base64 only when allowed.
    assert_eq!(
        one_body(Some("application/octet-stream"), r#""AQIDBAUGBwgJAA==""#).unwrap(),
        &[1u8, 2, 3, 4, 5, 6, 7, 8, 9, 0][..]
    );
    assert_eq!(one_body(Some("image/png"), r#""-_8""#).unwrap(), &[0xfb, 0xff][..]);
    assert_eq!(
        one_body(Some("image/png"), r#""+/8=""#).unwrap_err(),
        JsonErrorKind::InvalidBody
    );
    assert_eq!(
        one_body(Some("image/png"), "{}").unwrap_err(),
        JsonErrorKind::InvalidBody
    );
    // null: no body. No Content-Type: a JSON value is JSON, a string is base64url.
    assert!(one_body(Some("application/json"), "null").unwrap().is_empty());
    assert_eq!(one_body(None, r#"{"x":1}"#).unwrap(), r#"{"x":1}"#.as_bytes());
    assert_eq!(one_body(None, r#""AAE""#).unwrap(), &[0u8, 1][..]);
    // A body on GET or DELETE.
    let doc = r#"{"requests":[{"id":"1","method":"delete","url":"A","body":{"a":1}}]}"#;
    assert_eq!(
        refused(doc),
        (JsonErrorKind::BodyNotAllowed, Some(0), at(doc, "{\"a\""))
    );
    assert!(BatchRequest::from_json(r#"{"requests":[{"id":"1","method":"get","url":"A","body":null}]}"#).is_ok());
}

#[test]
fn bodies_round_trip_through_the_writer() {
    let binary: Vec<u8> = (0..=255).collect();
    let mut batch = BatchRequest::builder();
    batch
        .post("Bin")
        .header("Content-Type", "application/octet-stream")
        .body(binary.clone());
    batch
        .post("Text")
        .header("Content-Type", "text/plain")
        .body("a\r\n\"b\"\u{1}é");
    batch
        .post("Json")
        .header("Content-Type", "application/json")
        .body(r#"{"a":[1,2.50]}"#);
    batch.post("None").body(vec![0u8, 1, 2]);
    let mut batch = batch.build().unwrap();
    let json = batch.to_json().unwrap();
    let back = BatchRequest::from_json(&json).unwrap();
    // Requests without a Content-ID get the smallest unused numbers as ids.
    for (i, item) in batch.items.iter_mut().enumerate() {
        item.content_id = Some((i + 1).to_string());
    }
    assert_eq!(back, batch);
    assert_eq!(&back.items[0].body[..], &binary[..]);
    // Binary is base64url without padding.
    assert!(std::str::from_utf8(&json).unwrap().contains(r#""body":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn-AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq-wsbKztLW2t7i5uru8vb6_wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t_g4eLj5OXm5-jp6uvs7e7v8PHy8_T19vf4-fr7_P3-_w""#));
    // Bodies that would not survive: not JSON under a JSON type, not UTF-8 under a text type.
    let mut bad = BatchRequest::builder();
    bad.post("A")
        .header("Content-Type", "application/json")
        .body("{not json");
    let bad = bad.build().unwrap();
    assert_eq!(bad.to_json().unwrap_err().kind(), &JsonErrorKind::InvalidBody);
    let mut bad = BatchRequest::builder();
    bad.post("A").header("Content-Type", "text/plain").body(vec![0xffu8]);
    let bad = bad.build().unwrap();
    assert_eq!(bad.to_json().unwrap_err().kind(), &JsonErrorKind::InvalidBody);
}

fn response_document(n: usize) -> String {
    let mut doc = String::from(r#"{"@odata.context":"x","responses":["#);
    for i in 0..n {
        if i > 0 {
            doc.push(',');
        }
        let group = if (100..110).contains(&i) {
            r#","atomicityGroup":"g1""#
        } else {
            ""
        };
        doc.push_str(&format!(
            r#"{{"id":"{i}"{group},"status":200,"headers":{{"content-type":"application/json"}},"body":{{"n":{i},"text":"{}\"}}\\"}}}}"#,
            "x".repeat(1000)
        ));
    }
    doc.push_str(r#"],"@nextLink":"more"}"#);
    doc
}

fn stream(doc: &[u8], size: usize) -> Vec<JsonEvent> {
    let mut reader = JsonBatchReader::new(MessageKind::Response);
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    let mut largest = 0;
    for chunk in doc.chunks(size) {
        buf.extend_from_slice(chunk);
        while let Some(e) = reader.decode(&mut buf).unwrap() {
            events.push(e);
        }
        largest = largest.max(buf.len());
    }
    while let Some(e) = reader.decode_eof(&mut buf).unwrap() {
        events.push(e);
    }
    // Memory: what stays buffered is at most one item (about 1.1 KiB here) plus one chunk.
    assert!(
        largest <= 1200 + size,
        "{largest} bytes buffered with {size}-byte chunks"
    );
    events
}

#[test]
fn a_thousand_item_response_streams_the_same_in_any_chunking() {
    let doc = response_document(1000);
    let whole = stream(doc.as_bytes(), doc.len());
    assert_eq!(whole.len(), 1000 + 3);
    assert_eq!(whole[0], JsonEvent::Annotation("@odata.context".into(), "\"x\"".into()));
    assert_eq!(whole[1001], JsonEvent::NextLink("more".into()));
    assert_eq!(whole[1002], JsonEvent::Finished);
    let JsonEvent::Response(r) = &whole[105] else { panic!() };
    assert_eq!((r.content_id.as_deref(), r.changeset), (Some("104"), Some(0)));
    assert!(r.body.starts_with(br#"{"n":104,"#));
    for size in [1, 64, 16 * 1024] {
        assert_eq!(stream(doc.as_bytes(), size), whole, "{size}-byte chunks");
    }
    let batch = BatchResponse::from_json(&doc).unwrap();
    assert_eq!(batch.items.len(), 1000);
    assert_eq!(
        batch.to_json().map(|j| BatchResponse::from_json(j).unwrap()).unwrap(),
        batch
    );
}

#[test]
fn truncation_anywhere_is_an_error_never_an_end() {
    let doc = r#"{"@a":[1,{"b":"}"}],"responses":[{"id":"1","status":200,"headers":{"content-type":"text/plain"},"body":"a\"]}"},{"id":"2","status":204}]}"#;
    assert_eq!(BatchResponse::from_json(doc).unwrap().items.len(), 2);
    for cut in 0..doc.len() {
        let prefix = &doc.as_bytes()[..cut];
        let err = BatchResponse::from_json(prefix).unwrap_err();
        assert!(
            matches!(err.kind(), JsonErrorKind::Truncated | JsonErrorKind::Syntax(_)),
            "cut at {cut}: {err}"
        );
        // Streamed, the complete items come out, then the error.
        let mut reader = JsonBatchReader::new(MessageKind::Response);
        let mut buf = BytesMut::from(prefix);
        let outcome = loop {
            match reader.decode_eof(&mut buf) {
                Ok(Some(JsonEvent::Finished)) => break Ok(()),
                Ok(Some(_)) => continue,
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        assert!(outcome.is_err(), "cut at {cut} read as complete");
    }
    // Only white space after the end changes nothing.
    assert!(BatchResponse::from_json(format!("{doc} \r\n")).is_ok());
}

#[test]
fn a_maximum_item_size_bounds_memory_whole_or_streamed() {
    let doc = response_document(3);
    let mut options = JsonReadOptions::new();
    options.max_item_bytes(Some(2000));
    assert_eq!(BatchResponse::from_json_with(&options, &doc).unwrap().items.len(), 3);
    options.max_item_bytes(Some(1000));
    let whole = BatchResponse::from_json_with(&options, &doc).unwrap_err();
    assert_eq!(
        (whole.kind(), whole.item()),
        (&JsonErrorKind::ItemTooLarge { max: 1000 }, Some(0))
    );
    // Streamed in small chunks: the same error, before more than the maximum plus one chunk is buffered.
    let mut reader = JsonBatchReader::with_options(MessageKind::Response, options.clone());
    let mut buf = BytesMut::new();
    let mut outcome = None;
    for chunk in doc.as_bytes().chunks(64) {
        buf.extend_from_slice(chunk);
        assert!(buf.len() <= 1000 + 64);
        match reader.decode(&mut buf) {
            Ok(_) => {}
            Err(e) => {
                outcome = Some(e);
                break;
            }
        }
    }
    assert_eq!(outcome, Some(whole));
}

#[test]
fn a_next_link_in_a_request_is_an_annotation_kept_with_its_name() {
    let doc = r#"{"requests":[{"id":"1","method":"get","url":"A"}],"@odata.nextLink":"x"}"#;
    let batch = BatchRequest::from_json(doc).unwrap();
    assert_eq!(batch.annotations, [("@odata.nextLink".to_owned(), "\"x\"".to_owned())]);
    assert!(std::str::from_utf8(&batch.to_json().unwrap())
        .unwrap()
        .ends_with(r#""@odata.nextLink":"x"}"#));
}

#[test]
fn any_batch_reads_either_json_document() {
    use odata_batch::AnyBatch;
    let requests = r#"{"@odata.context":"x","requests":[{"id":"1","method":"GET","url":"People"}]}"#;
    assert_eq!(
        AnyBatch::from_json(requests).unwrap(),
        AnyBatch::Request(BatchRequest::from_json(requests).unwrap())
    );
    let responses = r#"{"responses":[{"id":"1","status":204}],"@nextLink":"next"}"#;
    assert_eq!(
        AnyBatch::from_json(responses).unwrap(),
        AnyBatch::Response(BatchResponse::from_json(responses).unwrap())
    );
    // Errors are the reader's, with their position.
    let err = AnyBatch::from_json(r#"{"requests":[{"id":"1","method":"GET"}]}"#).unwrap_err();
    assert_eq!(
        (err.kind(), err.item()),
        (&JsonErrorKind::MissingMember("url"), Some(0))
    );
    let err = AnyBatch::from_json(r#"{"error":{"message":"no"}}"#).unwrap_err();
    assert_eq!(err.kind(), &JsonErrorKind::UnknownMember("error".into()));
    let err = AnyBatch::from_json(r#"{"responses":[],"requests":[]}"#).unwrap_err();
    assert_eq!(err.kind(), &JsonErrorKind::UnknownMember("responses".into()));
}

#[test]
fn a_request_batch_with_a_next_link_is_refused_not_dropped() {
    let mut batch = BatchRequest::from_json(r#"{"requests":[{"id":"1","method":"GET","url":"People"}]}"#).unwrap();
    assert_eq!(batch.next_link, None);
    batch.next_link = Some("next".into());
    assert_eq!(batch.to_json().unwrap_err().kind(), &JsonErrorKind::NextLinkInRequest);
    assert!(serde_json::to_string(&batch).is_err());
    // A response keeps it.
    let response = BatchResponse::from_json(r#"{"responses":[],"@nextLink":"next"}"#).unwrap();
    assert_eq!(response.next_link.as_deref(), Some("next"));
    assert_eq!(BatchResponse::from_json(response.to_json().unwrap()).unwrap(), response);
}

/// A response batch's ids are checked by the reader's own rules when written, in `to_json` and in the
/// `Serialize` view alike.
#[test]
fn response_writer_checks_ids_with_the_readers_rules() {
    let mut builder = BatchResponse::builder();
    builder.respond(http::StatusCode::OK).content_id("a");
    builder.respond(http::StatusCode::OK).content_id("a");
    let batch = builder.build().unwrap();
    let err = batch.to_json().unwrap_err();
    assert_eq!(
        (err.kind(), err.item()),
        (&JsonErrorKind::Rule(odata_batch::Rule::DuplicateContentId), Some(1))
    );
    assert!(serde_json::to_string(&batch)
        .unwrap_err()
        .to_string()
        .contains("Content-ID defined twice"));
    let mut builder = BatchResponse::builder();
    builder.respond(http::StatusCode::OK).content_id("a b");
    let err = builder.build().unwrap().to_json().unwrap_err();
    assert_eq!(
        (err.kind(), err.item()),
        (&JsonErrorKind::InvalidId("a b".into()), Some(0))
    );
    // What the writer accepts, the reader reads back.
    let mut builder = BatchResponse::builder();
    builder
        .changeset()
        .respond(http::StatusCode::CREATED)
        .content_id("changeset1");
    builder.respond(http::StatusCode::OK).content_id("x");
    let batch = builder.build().unwrap();
    assert_eq!(BatchResponse::from_json(batch.to_json().unwrap()).unwrap(), batch);
}

/// Errors own no heap memory: names from the input are quoted inline, bounded, whatever their length.
#[test]
fn json_errors_are_copy_and_bounded() {
    fn copy<T: Copy>(_: &T) {}
    let name = "n".repeat(100_000);
    let doc = format!(r#"{{"requests":[{{"id":"1","method":"GET","url":"A","{name}":1}}]}}"#);
    let err = BatchRequest::from_json(&doc).unwrap_err();
    copy(&err);
    let JsonErrorKind::UnknownMember(quoted) = err.kind() else {
        panic!("{err}")
    };
    assert_eq!(
        (quoted.original_len(), quoted.as_bytes().len()),
        (100_000, odata_batch::QuotedText::CAPACITY)
    );
    assert!(!quoted.is_whole() && *quoted != name.as_str());
    assert!(err.offset().is_some_and(|o| o <= doc.len() as u64));
    assert!(
        err.to_string().ends_with(&format!(
            "… ({} more bytes)\"",
            100_000 - odata_batch::QuotedText::CAPACITY
        )),
        "{err}"
    );
    // A short one compares equal to its text.
    let err = BatchRequest::from_json(r#"{"requests":[{"id":"1","method":"GET","url":"A","x-y":1}]}"#).unwrap_err();
    assert_eq!(err.kind(), &JsonErrorKind::UnknownMember("x-y".into()));
}

/// Reads `doc` streamed in `size`-byte chunks without end of input; the error, and how many bytes had been
/// fed when it came.
fn first_error_streamed(
    doc: &str,
    size: usize,
    options: &JsonReadOptions,
) -> Option<(JsonErrorKind, Option<u64>, usize)> {
    let mut reader = JsonBatchReader::with_options(MessageKind::Request, options.clone());
    let mut buf = BytesMut::new();
    let mut fed = 0;
    for chunk in doc.as_bytes().chunks(size) {
        buf.extend_from_slice(chunk);
        fed += chunk.len();
        loop {
            match reader.decode(&mut buf) {
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(e) => return Some((*e.kind(), e.offset(), fed)),
            }
        }
    }
    None
}

#[test]
fn a_broken_item_is_refused_at_the_breaking_byte_before_it_ends() {
    // The missing comma is found as soon as its bytes arrive, though the item (a large body) is far from
    // complete: the reader does not buffer the rest of the item to find out.
    let tail = format!(r#","body":{{"text":"{}"}}}}]}}"#, "x".repeat(10_000));
    let doc = format!(r#"{{"requests":[{{"id":"1","method":"POST" "url":"People"{tail}"#);
    let (kind, offset, fed) = first_error_streamed(&doc, 16, &JsonReadOptions::new()).unwrap();
    assert_eq!(
        kind,
        JsonErrorKind::Syntax(odata_batch::QuotedText::from("expected ',' or '}'"))
    );
    assert_eq!(offset, at(&doc, r#""url""#));
    assert!(fed < 64, "refused only after {fed} bytes");
    // Whole, the same error at the same place.
    assert_eq!(refused(&doc), (kind, Some(0), offset));

    // A control character in a string, an invalid escape, a bad number: each at its byte, streamed or whole.
    for (doc, needle) in [
        (
            "{\"requests\":[{\"id\":\"a\u{1}b\",\"method\":\"GET\",\"url\":\"x\"}]}",
            "\u{1}",
        ),
        (r#"{"requests":[{"id":"1","method":"GET","url":"x\q"}]}"#, r#"\q"#),
        (r#"{"requests":[{"id":"1","method":"GET","url":"x","n":01}]}"#, "1}"),
        (r#"{"requests":[{"id":"1","method":"GET","url":"x","n":-}]}"#, "}]"),
    ] {
        let (kind, offset, _) = first_error_streamed(doc, 1, &JsonReadOptions::new()).unwrap();
        assert!(matches!(kind, JsonErrorKind::Syntax(_)), "{doc}: {kind}");
        assert_eq!(offset, at(doc, needle), "{doc}");
        assert_eq!(refused(doc), (kind, Some(0), offset), "{doc}");
    }
}

#[test]
fn too_many_operations_is_refused_at_the_extra_items_first_byte() {
    let item = r#"{"id":"1","method":"GET","url":"People"}"#;
    let extra = format!(
        r#"{{"id":"2","method":"POST","url":"People","body":{{"text":"{}"}}}}"#,
        "x".repeat(5_000)
    );
    let doc = format!(r#"{{"requests":[{item},{extra}]}}"#);
    let mut options = JsonReadOptions::new();
    options.max_operations(1);
    let (kind, offset, fed) = first_error_streamed(&doc, 8, &options).unwrap();
    assert_eq!(kind, JsonErrorKind::TooManyOperations { max: 1 });
    assert_eq!(offset, at(&doc, r#"{"id":"2""#));
    assert!(fed < item.len() + 32, "refused only after {fed} bytes");
}

#[test]
fn an_item_too_large_is_refused_as_such_whole_or_streamed_whatever_follows_in_it() {
    let mut options = JsonReadOptions::new();
    options.max_item_bytes(Some(100));
    let early = format!(
        r#"{{"requests":[{{"id":"1" "method":"POST","url":"a","body":"{}"}}]}}"#,
        "x".repeat(500)
    );
    let late = format!(
        r#"{{"requests":[{{"id":"1","method":"POST","url":"a","body":"{}\q"}}]}}"#,
        "x".repeat(500)
    );
    for size in [1, 7, 64, 4096] {
        // A syntax error within the admitted size is a syntax error, at its byte.
        let (kind, offset, _) = first_error_streamed(&early, size, &options).unwrap();
        assert!(matches!(kind, JsonErrorKind::Syntax(_)), "{size}: {kind}");
        assert_eq!(offset, at(&early, r#""method""#));
        // One beyond it: the item is too large, wherever the bytes were cut.
        let (kind, offset, _) = first_error_streamed(&late, size, &options).unwrap();
        assert_eq!(kind, JsonErrorKind::ItemTooLarge { max: 100 }, "{size}");
        assert_eq!(offset, at(&late, r#"{"id""#));
    }
    let whole = BatchRequest::from_json_with(&options, &early).unwrap_err();
    assert!(matches!(whole.kind(), JsonErrorKind::Syntax(_)));
    let whole = BatchRequest::from_json_with(&options, &late).unwrap_err();
    assert_eq!(*whole.kind(), JsonErrorKind::ItemTooLarge { max: 100 });
}

#[test]
fn the_streaming_writer_refuses_what_it_cannot_write_unambiguously() {
    use odata_batch::json::ResponseDocumentWriter;
    use odata_batch::ResponseItem;
    // An id that is a group name already written: refused, naming the response.
    let mut first = ResponseItem::new(http::StatusCode::CREATED);
    first.changeset = Some(0);
    let mut later = ResponseItem::new(http::StatusCode::OK);
    later.content_id = Some("changeset1".into());
    let mut out = Vec::new();
    let mut writer = ResponseDocumentWriter::new(false);
    writer.begin(&mut out);
    writer.response(&mut out, &first).unwrap();
    let written = out.len();
    let e = writer.response(&mut out, &later).unwrap_err();
    assert_eq!(e.item(), Some(1));
    assert!(
        matches!(e.kind(), JsonErrorKind::IdEqualsGroup(id) if *id == "changeset1"),
        "{e}"
    );
    assert_eq!(out.len(), written, "nothing written for a refused response");
    // An id seen before the group: the group's name steps aside, as the batch writer's does.
    let mut out = Vec::new();
    let mut writer = ResponseDocumentWriter::new(false);
    writer.begin(&mut out);
    writer.response(&mut out, &later).unwrap();
    writer.response(&mut out, &first).unwrap();
    writer.finish(&mut out, &[], None).unwrap();
    assert!(String::from_utf8_lossy(&out).contains(r#""atomicityGroup":"changeset1_""#));
    // A JSON body that is not JSON cannot be written as JSON.
    let mut bad = ResponseItem::new(http::StatusCode::OK);
    bad.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    bad.body = "{not json".into();
    let mut writer = ResponseDocumentWriter::new(true);
    let mut out = Vec::new();
    writer.begin(&mut out);
    assert_eq!(
        *writer.response(&mut out, &bad).unwrap_err().kind(),
        JsonErrorKind::InvalidBody
    );
}

/// Every byte of an item must be UTF-8, the body's too (most items are read without a second look at an
/// ASCII body): invalid bytes in a JSON body, a text body or a header are refused where they start, in one
/// read and in a read in small pieces; UTF-8 beyond ASCII is kept byte for byte.
#[test]
fn items_must_be_utf8_wherever_the_bytes_are() {
    let doc = |headers: &[u8], body: &[u8]| {
        let mut d = br#"{"responses":[{"id":"1","status":200,"headers":{"#.to_vec();
        d.extend_from_slice(headers);
        d.extend_from_slice(br#"},"body":"#);
        d.extend_from_slice(body);
        d.extend_from_slice(b"}]}");
        d
    };
    let json: &[u8] = br#""content-type":"application/json""#;
    let text: &[u8] = br#""content-type":"text/plain""#;
    let long_bad = [&b"{\"a\":\""[..], &[b'x'; 40], b"\xe9\"}"].concat();
    // Header members, body, what the body reads as (`None`: refused).
    type Case<'a> = (&'a [u8], Vec<u8>, Option<&'a [u8]>);
    let cases: [Case<'_>; 6] = [
        (json, long_bad, None),
        (
            json,
            b"{\"a\":\"caf\xc3\xa9\"}".to_vec(),
            Some(b"{\"a\":\"caf\xc3\xa9\"}"),
        ),
        (text, b"\"caf\xc3\xa9\"".to_vec(), Some(b"caf\xc3\xa9")),
        (json, b"{\"a\":\"x\xff\"}".to_vec(), None),
        (text, b"\"x\xc3\"".to_vec(), None),
        (
            b"\"content-type\":\"application/json\",\"x-a\":\"v\xff\"",
            br#"{"a":1}"#.to_vec(),
            None,
        ),
    ];
    for (headers, body, expected) in cases {
        let d = doc(headers, &body);
        let read = BatchResponse::from_json(&d);
        let mut reader = odata_batch::json::JsonBatchReader::new(odata_batch::MessageKind::Response);
        let mut buf = bytes::BytesMut::new();
        let mut pieces = Vec::new();
        let mut piecewise = Ok(());
        for chunk in d.chunks(7) {
            buf.extend_from_slice(chunk);
            loop {
                match reader.decode(&mut buf) {
                    Ok(Some(odata_batch::json::JsonEvent::Response(item))) => pieces.push(item.body),
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => {
                        piecewise = Err(e);
                        break;
                    }
                }
            }
            if piecewise.is_err() {
                break;
            }
        }
        match expected {
            Some(bytes) => {
                assert_eq!(&read.unwrap().items[0].body[..], bytes);
                assert_eq!(piecewise.map(|()| &pieces[0][..]).unwrap(), bytes);
            }
            None => {
                let e = read.unwrap_err();
                assert_eq!(
                    e.kind(),
                    &JsonErrorKind::Syntax("invalid UTF-8".into()),
                    "{}",
                    String::from_utf8_lossy(&d)
                );
                let first_bad = std::str::from_utf8(&d).unwrap_err().valid_up_to();
                assert_eq!(e.offset(), Some(first_bad as u64));
                assert_eq!(piecewise.unwrap_err().kind(), e.kind());
            }
        }
    }
}

/// A caller that removes unconsumed input between two calls (a misuse of the streaming reader) gets an error or
/// a reading of what is left, never a panic: every cut of a request document, three truncations each.
#[test]
fn removing_unconsumed_input_never_panics() {
    let full = br#"{"requests":[{"id":"1","method":"POST","url":"accounts","headers":{"content-type":"application/json"},"body":{"name":"x"}},{"id":"2","method":"GET","url":"accounts"}]}"#;
    for cut in 1..full.len() {
        for keep in [0usize, 1, 5] {
            let mut reader = JsonBatchReader::new(MessageKind::Request);
            let mut buf = BytesMut::from(&full[..cut]);
            while let Ok(Some(_)) = reader.decode(&mut buf) {}
            buf.truncate(keep.min(buf.len()));
            while let Ok(Some(_)) = reader.decode(&mut buf) {}
            while let Ok(Some(_)) = reader.decode_eof(&mut buf) {}
        }
    }
}

/// Where a body lies: inside `range` (the memory of the document given) or elsewhere (a copy).
fn within(range: &std::ops::Range<usize>, body: &[u8]) -> bool {
    let p = body.as_ptr() as usize;
    !body.is_empty() && range.contains(&p) && p + body.len() <= range.end
}

#[test]
fn documents_given_away_or_shared_are_read_in_place_and_borrowed_ones_copied() {
    use bytes::Bytes;
    let doc = r#"{"responses":[{"id":"1","status":200,"headers":{"content-type":"application/json"},"body":{"a":[1,2]}},{"id":"2","status":201,"body":{"b":"x"}}]}"#;
    let expected = BatchResponse::from_json(doc).unwrap();
    assert_eq!(&expected.items[0].body[..], br#"{"a":[1,2]}"#);
    let span = |b: &[u8]| b.as_ptr() as usize..b.as_ptr() as usize + b.len();

    // Given away or shared: the bodies are views of the document's own memory.
    let vec = doc.as_bytes().to_vec();
    let range = span(&vec);
    let read = BatchResponse::from_json(vec).unwrap();
    assert!(read.items.iter().all(|i| within(&range, &i.body)), "Vec<u8>");
    assert_eq!(read, expected);
    let string = doc.to_owned();
    let range = span(string.as_bytes());
    let read = BatchResponse::from_json(string).unwrap();
    assert!(read.items.iter().all(|i| within(&range, &i.body)), "String");
    assert_eq!(read, expected);
    let bytes = Bytes::copy_from_slice(doc.as_bytes());
    let range = span(&bytes);
    for read in [
        BatchResponse::from_json(&bytes).unwrap(),
        BatchResponse::from_json(bytes.clone()).unwrap(),
    ] {
        assert!(read.items.iter().all(|i| within(&range, &i.body)), "Bytes");
        assert_eq!(read, expected);
    }
    let buf = BytesMut::from(doc.as_bytes());
    let range = span(&buf);
    let read = BatchResponse::from_json(buf).unwrap();
    assert!(read.items.iter().all(|i| within(&range, &i.body)), "BytesMut");
    assert_eq!(read, expected);

    let boxed: Box<[u8]> = doc.as_bytes().into();
    let range = span(&boxed);
    let read = BatchResponse::from_json(boxed).unwrap();
    assert!(read.items.iter().all(|i| within(&range, &i.body)), "Box<[u8]>");
    assert_eq!(read, expected);
    let owned: std::borrow::Cow<'_, str> = std::borrow::Cow::Owned(doc.to_owned());
    let range = span(owned.as_bytes());
    let read = BatchResponse::from_json(owned).unwrap();
    assert!(read.items.iter().all(|i| within(&range, &i.body)), "Cow::Owned");
    assert_eq!(read, expected);

    // Borrowed: copied once, so the batch owns its memory and outlives the text.
    let buf = BytesMut::from(doc.as_bytes());
    let string = doc.to_owned();
    let vec = doc.as_bytes().to_vec();
    let array: &[u8; 8] = b"{\"a\":1}x";
    for (read, range, what) in [
        (BatchResponse::from_json(doc), span(doc.as_bytes()), "&str"),
        (BatchResponse::from_json(doc.as_bytes()), span(doc.as_bytes()), "&[u8]"),
        (BatchResponse::from_json(&string), span(string.as_bytes()), "&String"),
        (BatchResponse::from_json(&vec), span(&vec), "&Vec<u8>"),
        (BatchResponse::from_json(&buf), span(&buf), "&BytesMut"),
        (
            BatchResponse::from_json(std::borrow::Cow::Borrowed(doc)),
            span(doc.as_bytes()),
            "Cow::Borrowed",
        ),
    ] {
        let read = read.unwrap();
        assert!(read.items.iter().all(|i| !within(&range, &i.body)), "{what}");
        assert_eq!(read, expected, "{what}");
    }
    // Any form reads to the same error, at the same place.
    let e = BatchResponse::from_json(array).unwrap_err();
    assert_eq!(
        (e.kind(), e.offset()),
        (&JsonErrorKind::UnknownMember("a".into()), Some(1))
    );
    let e2 = BatchResponse::from_json(Bytes::from_static(array)).unwrap_err();
    assert_eq!(e, e2);
}

#[test]
fn a_small_first_item_before_large_ones_reads_the_same() {
    // The room reserved for items is guessed from the first item's size (at most 1024 items): a tiny first
    // item followed by large ones, or one item alone, reads as any other document.
    let large = format!(
        r#"{{"id":"2","status":200,"body":{{"text":"{}"}}}}"#,
        "x".repeat(100_000)
    );
    for n in [0usize, 1, 2, 50] {
        let mut items = vec![r#"{"id":"1","status":204}"#.to_owned()];
        items.extend((0..n).map(|k| large.replace(r#""id":"2""#, &format!(r#""id":"x{k}""#))));
        let doc = format!(r#"{{"responses":[{}]}}"#, items.join(","));
        let read = BatchResponse::from_json(doc.clone()).unwrap();
        assert_eq!(read.items.len(), n + 1);
        assert!(read.items[1..].iter().all(|i| i.body.len() == 100_011));
        let mut reader = JsonBatchReader::new(MessageKind::Response);
        let mut buf = BytesMut::from(doc.as_bytes());
        let mut streamed = Vec::new();
        while let Some(event) = reader.decode_eof(&mut buf).unwrap() {
            if let JsonEvent::Response(item) = event {
                streamed.push(item);
            }
        }
        assert_eq!(streamed, read.items);
    }
}
