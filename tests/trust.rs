//! Issue 11: conversions are exact or refused with an error that names the loss; rules agree between the
//! readers and the writers.

use odata_batch::json::JsonErrorKind;
use odata_batch::{BatchRequest, BatchResponse, EncodeOptions};

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn json_body_without_content_type_stays_json_everywhere() {
    let doc = r#"{"requests":[{"id":"1","method":"post","url":"People","body":{"ID":1}}]}"#;
    let batch = BatchRequest::from_json(doc).unwrap();
    assert_eq!(batch.items[0].headers["content-type"], "application/json");
    let json = batch.to_json().unwrap();
    assert!(
        std::str::from_utf8(&json).unwrap().contains(r#""body":{"ID":1}"#),
        "{json:?}"
    );
    assert_eq!(BatchRequest::from_json(&json).unwrap(), batch);
    // The multipart form carries the media type too.
    let encoded = batch.encode_with(&EncodeOptions::new()).unwrap();
    let text = String::from_utf8(encoded.body.to_vec()).unwrap();
    assert!(
        text.contains("POST People HTTP/1.1\r\ncontent-type: application/json\r\n"),
        "{text}"
    );
    // The Serialize view is the same writer.
    assert_eq!(serde_json::to_vec(&batch).unwrap(), json.to_vec());
    // A string body without a content-type stays without one (base64url of bytes).
    let doc = r#"{"requests":[{"id":"1","method":"post","url":"People","body":"eyJJRCI6MX0"}]}"#;
    let batch = BatchRequest::from_json(doc).unwrap();
    assert!(batch.items[0].headers.get("content-type").is_none());
    assert_eq!(&batch.items[0].body[..], br#"{"ID":1}"#);
}

#[test]
fn json_writer_refuses_what_the_reader_refuses() {
    // The deepest body the reader admits inside a document is the deepest the writer writes.
    let mut deepest = None;
    for depth in 100..=130 {
        let doc = format!(
            r#"{{"responses":[{{"id":"1","status":200,"headers":{{"content-type":"application/json"}},"body":{}}}]}}"#,
            nested(depth)
        );
        if BatchResponse::from_json(&doc).is_ok() {
            deepest = Some(depth);
        }
    }
    let deepest = deepest.unwrap();
    for depth in [deepest, deepest + 1, deepest + 50] {
        let mut batch = BatchResponse::builder();
        batch
            .respond(http::StatusCode::OK)
            .header("content-type", "application/json")
            .body(nested(depth));
        let batch = batch.build().unwrap();
        match batch.to_json() {
            Ok(json) => {
                assert_eq!(depth, deepest);
                assert_eq!(BatchResponse::from_json(&json).unwrap(), batch);
            }
            Err(e) => {
                assert!(depth > deepest, "{depth}: {e}");
                assert!(matches!(e.kind(), JsonErrorKind::NestingTooDeep { .. }), "{e}");
                assert!(serde_json::to_vec(&batch).is_err(), "the Serialize view refuses too");
            }
        }
    }
}

#[test]
fn header_bytes_that_are_not_utf8_are_refused_not_reencoded() {
    let body = b"--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\nX-Name: caf\xe9\r\n\r\n\r\n--b--\r\n";
    let batch = BatchResponse::decode("multipart/mixed; boundary=b", &body[..]).unwrap();
    assert_eq!(batch.items[0].headers["x-name"].as_bytes(), b"caf\xe9");
    let err = batch.to_json().unwrap_err();
    assert_eq!(err.kind(), &JsonErrorKind::InvalidHeader("x-name".into()));
    assert_eq!(err.item(), Some(0));
    assert!(serde_json::to_vec(&batch).is_err());
    // Multipart carries the bytes exactly.
    let encoded = batch.encode().unwrap();
    let back = BatchResponse::decode(&encoded.content_type, encoded.body).unwrap();
    assert_eq!(back.items[0].headers["x-name"].as_bytes(), b"caf\xe9");
}

#[test]
fn method_case_is_kept_or_refused() {
    // Multipart methods are case-sensitive: `get` is not `GET`, and JSON (case-insensitive) cannot keep it.
    let body = "--b\r\nContent-Type: application/http\r\n\r\nget People HTTP/1.1\r\n\r\n\r\n--b--\r\n";
    let batch = BatchRequest::decode("multipart/mixed; boundary=b", body).unwrap();
    assert_eq!(batch.items[0].method.as_str(), "get");
    assert_eq!(batch.to_json().unwrap_err().kind(), &JsonErrorKind::InvalidMethod);
    let encoded = batch.encode().unwrap();
    assert!(std::str::from_utf8(&encoded.body)
        .unwrap()
        .contains("get People HTTP/1.1"));
    // JSON's lower-case names read as the upper-case methods (documented on from_json).
    let batch = BatchRequest::from_json(r#"{"requests":[{"id":"1","method":"get","url":"People"}]}"#).unwrap();
    assert_eq!(batch.items[0].method, http::Method::GET);
}

#[test]
fn both_spellings_of_next_link_are_one_member() {
    for doc in [
        r#"{"responses":[],"@nextLink":"a","@odata.nextLink":"b"}"#,
        r#"{"responses":[],"@odata.nextLink":"a","@nextLink":"a"}"#,
    ] {
        let err = BatchResponse::from_json(doc).unwrap_err();
        assert!(matches!(err.kind(), JsonErrorKind::DuplicateMember(_)), "{doc}: {err}");
    }
    assert_eq!(
        BatchResponse::from_json(r#"{"responses":[],"@odata.nextLink":"a"}"#)
            .unwrap()
            .next_link
            .as_deref(),
        Some("a")
    );
}

#[test]
fn lower_case_get_in_a_changeset_is_refused_by_writer_as_by_reader() {
    let mut batch = BatchRequest::builder();
    batch.changeset().push(odata_batch::RequestItem::new(
        http::Method::from_bytes(b"get").unwrap(),
        "People",
    ));
    let batch = batch.build().unwrap();
    assert_eq!(
        batch.encode().unwrap_err().kind(),
        odata_batch::EncodeErrorKind::Rule(odata_batch::Rule::MethodNotAllowedInChangeset)
    );
}

#[test]
fn operation_builder_json_reports_a_serialisation_failure() {
    struct Fails;
    impl serde::Serialize for Fails {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no"))
        }
    }
    let mut batch = BatchRequest::builder();
    batch.post("People").json(&Fails);
    let err = batch.build().unwrap_err();
    assert_eq!(err.kind(), odata_batch::EncodeErrorKind::InvalidJsonBody);
    assert_eq!(err.operation(), Some(0));
}

#[test]
fn error_messages_quote_bounded_escaped_excerpts() {
    // A 1 MB member name with control characters.
    let name = format!("\\u001b[2J{}", "n".repeat(1 << 20));
    let doc = format!(r#"{{"requests":[{{"id":"1","method":"get","url":"A","{name}":1}}]}}"#);
    let err = BatchRequest::from_json(&doc).unwrap_err();
    let message = err.to_string();
    assert!(message.len() < 400, "{} bytes", message.len());
    assert!(!message.contains('\u{1b}'), "{message}");
    assert!(message.contains(r"\u{1b}[2J"), "{message}");
    assert!(message.contains("more bytes"), "{message}");
    // A huge media type in a Content-Type.
    let ct = format!("application/{}", "x".repeat(1 << 20));
    let err = BatchResponse::decode(ct, "").unwrap_err();
    assert!(err.to_string().len() < 400);
    // A control character where JSON syntax expected something else.
    let err = BatchRequest::from_json("{\u{7}").unwrap_err();
    assert!(!err.to_string().contains('\u{7}'), "{err}");
}

/// Found by the `model` fuzz target: an empty changeset vanished on the way to JSON.
#[test]
fn an_empty_changeset_is_refused_by_json_not_dropped() {
    let body = "--b\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs--\r\n--b--\r\n";
    let batch = BatchResponse::decode("multipart/mixed; boundary=b", body).unwrap();
    assert_eq!((batch.items.len(), batch.changesets), (0, 1));
    assert_eq!(batch.to_json().unwrap_err().kind(), &JsonErrorKind::EmptyChangeset(0));
    assert!(serde_json::to_vec(&batch).is_err());
    assert_eq!(
        batch.encode().unwrap_err().kind(),
        odata_batch::EncodeErrorKind::EmptyChangeset
    );
}

/// Found by the `json_model` fuzz target: JSON keeps white space around a header value, multipart cannot.
#[test]
fn header_values_with_white_space_at_an_end_are_refused_by_multipart() {
    let doc = r#"{"requests":[{"id":"1","method":"get","url":"People","headers":{"x-a":"1 "}}]}"#;
    let batch = BatchRequest::from_json(doc).unwrap();
    assert_eq!(batch.items[0].headers["x-a"], "1 ");
    let err = batch.encode().unwrap_err();
    assert_eq!(
        (err.kind(), err.operation()),
        (odata_batch::EncodeErrorKind::InvalidHeader, Some(0))
    );
    assert_eq!(BatchRequest::from_json(batch.to_json().unwrap()).unwrap(), batch);
}

/// Issue 11, class 5: a UTF-8 byte order mark before a JSON batch document, whole or streamed.
#[test]
fn byte_order_mark_before_a_json_document() {
    let doc = "\u{feff}{\"responses\":[{\"id\":\"1\",\"status\":204}]}";
    let batch = BatchResponse::from_json(doc).unwrap();
    assert_eq!(batch.items[0].status, 204);
    // Streamed a byte at a time.
    let mut reader = odata_batch::json::JsonBatchReader::new(odata_batch::MessageKind::Response);
    let mut buf = bytes::BytesMut::new();
    let mut items = 0;
    for &b in doc.as_bytes() {
        buf.extend_from_slice(&[b]);
        while let Some(event) = reader.decode(&mut buf).unwrap() {
            items += usize::from(matches!(event, odata_batch::json::JsonEvent::Response(_)));
        }
    }
    while reader.decode_eof(&mut buf).unwrap().is_some() {}
    assert_eq!(items, 1);
    // Offsets count the mark; a mark anywhere else is an error.
    let err = BatchResponse::from_json("\u{feff}{\"responses\":[1]}").unwrap_err();
    assert_eq!(err.offset(), Some(17));
    assert!(BatchResponse::from_json(" \u{feff}{\"responses\":[]}").is_err());
    assert!(BatchResponse::from_json("\u{feff}\u{feff}{\"responses\":[]}").is_err());
    assert!(BatchResponse::from_json(&b"\xef\xbb"[..]).is_err());
}

/// Found by the `model` fuzz target: strict reading keeps a reason's trailing space, which lenient reading
/// trims; the encoder refuses to write it.
#[test]
fn reason_phrases_with_white_space_at_an_end_are_refused() {
    let body = "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK \r\n\r\nhi\r\n--b--\r\n";
    let mut strict = odata_batch::BatchDecoder::builder();
    strict.leniency(odata_batch::Leniency::strict());
    let batch = BatchResponse::decode_with(&strict, "multipart/mixed; boundary=b", body).unwrap();
    assert_eq!(batch.items[0].reason, "OK ");
    let err = batch.encode().unwrap_err();
    assert_eq!(
        (err.kind(), err.operation()),
        (odata_batch::EncodeErrorKind::InvalidReason, Some(0))
    );
    assert_eq!(
        BatchResponse::decode("multipart/mixed; boundary=b", body)
            .unwrap()
            .items[0]
            .reason,
        "OK"
    );
}
