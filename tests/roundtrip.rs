//! The encoder: byte-exact output for the service shapes, every validation rule (with nothing written past
//! the refused operation), and proptest round trips (model -> encode -> decode, whole and chunked).

mod common;

use bytes::{Bytes, BytesMut};
use common::{decode_chunked, decode_whole, lenient, normalize};
use http::{Method, StatusCode};
use odata_batch::{
    BatchEncoder, BatchRequest, BatchResponse, Boundary, BoundaryGenerator, ContinueOnError, EncodeErrorKind,
    EncodeOptions, RequestItem, ResponseItem,
};
use proptest::prelude::*;

fn b(s: &str) -> Boundary {
    Boundary::new(s).unwrap()
}

fn req(method: Method, url: &str) -> RequestItem {
    RequestItem::new(method, url)
}

/// Fixture shorthand: an item with this body or this header appended (the fields are public).
trait With: Sized {
    fn with_body(self, body: impl Into<bytes::Bytes>) -> Self;
    fn with_header(self, name: http::HeaderName, value: http::HeaderValue) -> Self;
}

macro_rules! impl_with {
    ($($item:ty),*) => {$(
        impl With for $item {
            fn with_body(mut self, body: impl Into<bytes::Bytes>) -> Self {
                self.body = body.into();
                self
            }
            fn with_header(mut self, name: http::HeaderName, value: http::HeaderValue) -> Self {
                self.headers.append(name, value);
                self
            }
        }
    )*};
}
impl_with!(RequestItem, odata_batch::ResponseItem);

fn with_id(mut item: RequestItem, id: &str) -> RequestItem {
    item.content_id = Some(id.into());
    item
}

fn header(item: RequestItem, name: &'static str, value: &'static str) -> RequestItem {
    item.with_header(
        http::header::HeaderName::from_static(name),
        http::HeaderValue::from_static(value),
    )
}

#[test]
fn dataverse_request_is_byte_exact() {
    let mut e = BatchEncoder::new(b("batch_AAA123"));
    let mut out = BytesMut::new();
    e.request(
        &mut out,
        &header(
            req(Method::GET, "accounts?$select=name&$top=3"),
            "accept",
            "application/json",
        ),
    )
    .unwrap();
    e.begin_changeset(&mut out, &b("changeset_BBB456")).unwrap();
    let create = header(
        req(Method::POST, "accounts"),
        "content-type",
        "application/json; type=entry",
    )
    .with_body(r#"{"name":"Sample Account"}"#);
    e.request(&mut out, &with_id(create, "1")).unwrap();
    let contact = header(
        req(Method::POST, "$1/contact_customer_accounts"),
        "content-type",
        "application/json; type=entry",
    )
    .with_body(r#"{"firstname":"Jane"}"#);
    e.request(&mut out, &with_id(contact, "2")).unwrap();
    e.end_changeset(&mut out).unwrap();
    e.finish(&mut out).unwrap();
    let expected = concat!(
        "--batch_AAA123\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "\r\n",
        "GET accounts?$select=name&$top=3 HTTP/1.1\r\n",
        "accept: application/json\r\n",
        "\r\n",
        "\r\n",
        "--batch_AAA123\r\n",
        "Content-Type: multipart/mixed; boundary=changeset_BBB456\r\n",
        "\r\n",
        "--changeset_BBB456\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "Content-ID: 1\r\n",
        "\r\n",
        "POST accounts HTTP/1.1\r\n",
        "content-type: application/json; type=entry\r\n",
        "\r\n",
        "{\"name\":\"Sample Account\"}\r\n",
        "--changeset_BBB456\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "Content-ID: 2\r\n",
        "\r\n",
        "POST $1/contact_customer_accounts HTTP/1.1\r\n",
        "content-type: application/json; type=entry\r\n",
        "\r\n",
        "{\"firstname\":\"Jane\"}\r\n",
        "--changeset_BBB456--\r\n",
        "--batch_AAA123--\r\n",
    );
    assert_eq!(String::from_utf8_lossy(&out), expected);
    assert_eq!(e.content_type(), "multipart/mixed; boundary=batch_AAA123");
}

#[test]
fn dataverse_response_is_byte_exact() {
    let mut e = BatchEncoder::new(b("batchresponse_c1bd45c1"));
    let mut out = BytesMut::new();
    e.begin_changeset(&mut out, &b("changesetresponse_ff83b4f1")).unwrap();
    let mut created = ResponseItem::new(StatusCode::NO_CONTENT)
        .with_header(
            http::header::HeaderName::from_static("odata-version"),
            http::HeaderValue::from_static("4.0"),
        )
        .with_header(
            http::header::HeaderName::from_static("odata-entityid"),
            http::HeaderValue::from_static("https://org.crm.dynamics.com/api/data/v9.2/accounts(1)"),
        );
    created.content_id = Some("1".into());
    e.response(&mut out, &created).unwrap();
    e.end_changeset(&mut out).unwrap();
    let failed = ResponseItem::new(StatusCode::BAD_REQUEST)
        .with_header(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json; odata.metadata=minimal"),
        )
        .with_body(r#"{"error":{"code":"0x0","message":"bad"}}"#);
    e.response(&mut out, &failed).unwrap();
    e.finish(&mut out).unwrap();
    let expected = concat!(
        "--batchresponse_c1bd45c1\r\n",
        "Content-Type: multipart/mixed; boundary=changesetresponse_ff83b4f1\r\n",
        "\r\n",
        "--changesetresponse_ff83b4f1\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "Content-ID: 1\r\n",
        "\r\n",
        "HTTP/1.1 204 No Content\r\n",
        "odata-version: 4.0\r\n",
        "odata-entityid: https://org.crm.dynamics.com/api/data/v9.2/accounts(1)\r\n",
        "\r\n",
        "\r\n",
        "--changesetresponse_ff83b4f1--\r\n",
        "--batchresponse_c1bd45c1\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "\r\n",
        "HTTP/1.1 400 Bad Request\r\n",
        "content-type: application/json; odata.metadata=minimal\r\n",
        "\r\n",
        "{\"error\":{\"code\":\"0x0\",\"message\":\"bad\"}}\r\n",
        "--batchresponse_c1bd45c1--\r\n",
    );
    assert_eq!(String::from_utf8_lossy(&out), expected);
}

#[test]
fn creatio_and_sharepoint_shapes_are_byte_exact() {
    // Creatio: OData 4 verbose JSON, Content-ID per changeset operation, a PATCH on the created entity.
    let mut e = BatchEncoder::new(b("batch_a1"));
    let mut out = BytesMut::new();
    e.begin_changeset(&mut out, &b("changeset_b2")).unwrap();
    let create = header(
        req(Method::POST, "/0/odata/Contact"),
        "content-type",
        "application/json;odata=verbose",
    )
    .with_body(r#"{"Name":"Ann"}"#);
    e.request(&mut out, &with_id(create, "1")).unwrap();
    let patch = header(
        req(Method::PATCH, "$1"),
        "content-type",
        "application/json;odata=verbose",
    )
    .with_body(r#"{"JobTitle":"CEO"}"#);
    e.request(&mut out, &with_id(patch, "2")).unwrap();
    e.end_changeset(&mut out).unwrap();
    e.finish(&mut out).unwrap();
    let expected = "--batch_a1\r\nContent-Type: multipart/mixed; boundary=changeset_b2\r\n\r\n\
--changeset_b2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n\
POST /0/odata/Contact HTTP/1.1\r\ncontent-type: application/json;odata=verbose\r\n\r\n{\"Name\":\"Ann\"}\r\n\
--changeset_b2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 2\r\n\r\n\
PATCH $1 HTTP/1.1\r\ncontent-type: application/json;odata=verbose\r\n\r\n{\"JobTitle\":\"CEO\"}\r\n\
--changeset_b2--\r\n--batch_a1--\r\n";
    assert_eq!(String::from_utf8_lossy(&out), expected);

    // SharePoint: absolute URLs, a changeset answered by unwrapped responses.
    let mut e = BatchEncoder::new(b("batch_e3b6819b"));
    let mut out = BytesMut::new();
    let get = header(
        req(
            Method::GET,
            "https://contoso.sharepoint.com/_api/Web/Lists/getByTitle('News')/items",
        ),
        "accept",
        "application/json;odata=verbose",
    );
    e.request(&mut out, &get).unwrap();
    e.finish(&mut out).unwrap();
    let expected = "--batch_e3b6819b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
GET https://contoso.sharepoint.com/_api/Web/Lists/getByTitle('News')/items HTTP/1.1\r\n\
accept: application/json;odata=verbose\r\n\r\n\r\n--batch_e3b6819b--\r\n";
    assert_eq!(String::from_utf8_lossy(&out), expected);

    let mut e = BatchEncoder::new(b("batchresponse_8ad8e9f6"));
    let mut out = BytesMut::new();
    e.response(&mut out, &ResponseItem::new(StatusCode::NO_CONTENT))
        .unwrap();
    let created = ResponseItem::new(StatusCode::CREATED)
        .with_header(http::header::ETAG, http::HeaderValue::from_static("\"1\""))
        .with_body(r#"{"d":{"Title":"New"}}"#);
    e.response(&mut out, &created).unwrap();
    e.finish(&mut out).unwrap();
    let expected =
        "--batchresponse_8ad8e9f6\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
HTTP/1.1 204 No Content\r\n\r\n\r\n\
--batchresponse_8ad8e9f6\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
HTTP/1.1 201 Created\r\netag: \"1\"\r\n\r\n{\"d\":{\"Title\":\"New\"}}\r\n--batchresponse_8ad8e9f6--\r\n";
    assert_eq!(String::from_utf8_lossy(&out), expected);
    let back = BatchResponse::decode("multipart/mixed; boundary=batchresponse_8ad8e9f6", out.freeze()).unwrap();
    assert_eq!(back.items[1].body, Bytes::from_static(br#"{"d":{"Title":"New"}}"#));
}

/// Writes `good`, then tries `bad`: the error must name the rule and the operation, and the output must be
/// exactly what it was after `good`.
fn refused(encoder: &mut BatchEncoder, out: &mut BytesMut, bad: &RequestItem, kind: EncodeErrorKind) {
    let before = out.clone();
    let err = encoder.request(out, bad).unwrap_err();
    assert_eq!(err.kind(), kind, "{bad:?}");
    assert_eq!(err.operation(), Some(encoder.operations()));
    assert_eq!(*out, before, "bytes written for a refused operation");
}

#[test]
fn every_validation_rule_refuses_before_writing() {
    let mut e = BatchEncoder::builder()
        .max_operations(Some(3))
        .content_id_scope(odata_batch::ContentIdScope::Batch)
        .build(b("batch_1"));
    let mut out = BytesMut::new();
    e.request(&mut out, &with_id(req(Method::POST, "People"), "1")).unwrap();
    for url in [
        "People\r\nGET /admin HTTP/1.1",
        "People\n",
        "Peo\0ple",
        "People Orders",
        "",
    ] {
        refused(&mut e, &mut out, &req(Method::GET, url), EncodeErrorKind::InvalidUrl);
    }
    refused(
        &mut e,
        &mut out,
        &with_id(req(Method::GET, "x"), "a\r\nb"),
        EncodeErrorKind::InvalidContentId,
    );
    refused(
        &mut e,
        &mut out,
        &with_id(req(Method::POST, "People"), "1"),
        EncodeErrorKind::Rule(odata_batch::Rule::DuplicateContentId),
    );
    refused(
        &mut e,
        &mut out,
        &req(Method::GET, "$2/Orders"),
        EncodeErrorKind::Rule(odata_batch::Rule::UnknownContentIdReference),
    );
    refused(
        &mut e,
        &mut out,
        &req(Method::GET, "$10"),
        EncodeErrorKind::Rule(odata_batch::Rule::UnknownContentIdReference),
    );
    e.request(&mut out, &req(Method::GET, "$1/Orders")).unwrap();
    e.request(&mut out, &req(Method::GET, "$metadata")).unwrap();
    refused(
        &mut e,
        &mut out,
        &req(Method::GET, "People"),
        EncodeErrorKind::TooManyOperations { max: 3 },
    );

    let mut e = BatchEncoder::new(b("batch_1"));
    let mut out = BytesMut::new();
    e.begin_changeset(&mut out, &b("changeset_1")).unwrap();
    refused(
        &mut e,
        &mut out,
        &req(Method::GET, "People"),
        EncodeErrorKind::Rule(odata_batch::Rule::MethodNotAllowedInChangeset),
    );
    refused(
        &mut e,
        &mut out,
        &req(Method::HEAD, "People"),
        EncodeErrorKind::Rule(odata_batch::Rule::MethodNotAllowedInChangeset),
    );
    let smuggle = req(Method::POST, "People")
        .with_body("{}\r\n--changeset_1\r\nContent-Type: application/http\r\n\r\nDELETE People(1) HTTP/1.1\r\n\r\n");
    refused(&mut e, &mut out, &smuggle, EncodeErrorKind::BodyContainsDelimiter);
    let outer = req(Method::POST, "People").with_body("x\n--batch_1--");
    refused(&mut e, &mut out, &outer, EncodeErrorKind::BodyContainsDelimiter);
    // A line that only starts with the delimiter: a reader matching by prefix would split there.
    let lookalike = req(Method::POST, "People").with_body("a\r\n--changeset_1X");
    refused(&mut e, &mut out, &lookalike, EncodeErrorKind::BodyContainsDelimiter);
    let lookalike = req(Method::POST, "People").with_body("--batch_1 garbage");
    refused(&mut e, &mut out, &lookalike, EncodeErrorKind::BodyContainsDelimiter);
    // Framing headers that disagree with what is written.
    let length = req(Method::POST, "People").with_body("{}").with_header(
        http::HeaderName::from_static("content-length"),
        http::HeaderValue::from_static("3"),
    );
    refused(&mut e, &mut out, &length, EncodeErrorKind::ContentLengthMismatch);
    let length = req(Method::POST, "People").with_body("{}").with_header(
        http::HeaderName::from_static("content-length"),
        http::HeaderValue::from_static("99999999999999999999999"),
    );
    refused(&mut e, &mut out, &length, EncodeErrorKind::ContentLengthMismatch);
    let chunked = req(Method::POST, "People").with_header(
        http::HeaderName::from_static("transfer-encoding"),
        http::HeaderValue::from_static("chunked"),
    );
    refused(&mut e, &mut out, &chunked, EncodeErrorKind::TransferEncodingInPart);
    let mut other_id = req(Method::POST, "People").with_header(
        http::HeaderName::from_static("content-id"),
        http::HeaderValue::from_static("9"),
    );
    other_id.content_id = Some("8".into());
    refused(&mut e, &mut out, &other_id, EncodeErrorKind::ContentIdMismatch);
    // Text that is not at a line start, or a true length, is fine.
    e.request(
        &mut out,
        &req(Method::POST, "People")
            .with_body("a --changeset_1 b\r\n-changeset_1X")
            .with_header(
                http::HeaderName::from_static("content-length"),
                http::HeaderValue::from_static("32"),
            ),
    )
    .unwrap();
    assert_eq!(
        e.begin_changeset(&mut out, &b("c")).unwrap_err().kind(),
        EncodeErrorKind::NestedChangeset
    );
    assert_eq!(
        e.finish(&mut out).unwrap_err().kind(),
        EncodeErrorKind::UnclosedChangeset
    );
    e.end_changeset(&mut out).unwrap();
    assert_eq!(
        e.end_changeset(&mut out).unwrap_err().kind(),
        EncodeErrorKind::NoOpenChangeset
    );
    assert_eq!(
        e.begin_changeset(&mut out, &b("batch_1_x")).unwrap_err().kind(),
        EncodeErrorKind::BoundaryConflict
    );
    assert_eq!(
        e.begin_changeset(&mut out, &b("batch")).unwrap_err().kind(),
        EncodeErrorKind::BoundaryConflict
    );
    e.begin_changeset(&mut out, &b("changeset_2")).unwrap();
    assert_eq!(
        e.end_changeset(&mut out).unwrap_err().kind(),
        EncodeErrorKind::EmptyChangeset
    );
    let mut done = BatchEncoder::new(b("batch_1"));
    let mut out = BytesMut::new();
    done.finish(&mut out).unwrap();
    assert_eq!(&out[..], b"--batch_1--\r\n");
    assert_eq!(
        done.request(&mut out, &req(Method::GET, "x")).unwrap_err().kind(),
        EncodeErrorKind::Finished
    );
    let mut mixed = BatchEncoder::new(b("batch_1"));
    mixed.request(&mut out, &req(Method::GET, "x")).unwrap();
    let before = out.clone();
    let err = mixed
        .response(&mut out, &ResponseItem::new(StatusCode::OK))
        .unwrap_err();
    assert_eq!(err.kind(), EncodeErrorKind::MixedRequestResponse);
    assert_eq!(out, before);
}

#[test]
fn builder_rules_and_presets() {
    // Header names and values are checked when added, reported at encode with the operation.
    let mut batch = BatchRequest::builder();
    batch.get("People");
    batch.get("People").header("X-Evil", "a\r\nGET /x HTTP/1.1");
    let err = batch.build().unwrap_err();
    assert_eq!((err.kind(), err.operation()), (EncodeErrorKind::InvalidHeader, Some(1)));
    let mut batch = BatchRequest::builder();
    batch.get("People").header("Bad Name", "x");
    assert_eq!(batch.build().unwrap_err().kind(), EncodeErrorKind::InvalidHeader);
    let mut batch = BatchRequest::builder();
    batch.get("People").header("X-Nul", "a\0b");
    assert_eq!(batch.build().unwrap_err().kind(), EncodeErrorKind::InvalidHeader);

    // Presets: Dataverse 1000, Creatio 100, default none.
    let mut batch = BatchRequest::builder();
    for i in 0..101 {
        batch.get(format!("People({i})"));
    }
    assert_eq!(
        batch.batch().encode_with(&EncodeOptions::creatio()).unwrap_err().kind(),
        EncodeErrorKind::TooManyOperations { max: 100 }
    );
    assert!(batch.batch().encode_with(&EncodeOptions::dataverse()).is_ok());
    for i in 0..900 {
        batch.get(format!("People({i})"));
    }
    let batch = batch.build().unwrap();
    assert_eq!(
        batch.encode_with(&EncodeOptions::dataverse()).unwrap_err().kind(),
        EncodeErrorKind::TooManyOperations { max: 1000 }
    );
    assert!(batch.encode().is_ok());

    // Changeset members must be adjacent.
    let mut batch = BatchRequest::builder();
    batch.changeset().post("A");
    batch.get("B");
    let mut item = RequestItem::new(Method::POST, "C");
    item.changeset = Some(0);
    let mut batch = batch.build().unwrap();
    batch.items.push(item);
    assert_eq!(
        batch.encode().unwrap_err().kind(),
        EncodeErrorKind::Rule(odata_batch::Rule::ChangesetNotAdjacent)
    );

    // Continue-on-error in both forms, and the ready set of outer headers.
    let mut batch = BatchRequest::builder();
    batch.get("People");
    let mut options = EncodeOptions::new();
    options.continue_on_error(Some(ContinueOnError::OData401));
    let batch = batch.build().unwrap();
    let encoded = batch.encode_with(&options).unwrap();
    assert_eq!(encoded.headers["prefer"], "continue-on-error");
    assert_eq!(encoded.headers["odata-version"], "4.0");
    assert_eq!(encoded.headers["odata-maxversion"], "4.01");
    assert_eq!(encoded.headers["accept"], "multipart/mixed");
    assert_eq!(encoded.headers["content-type"], encoded.content_type.as_str());

    // Content-Length on request: added for bodies, not duplicated.
    let mut batch = BatchRequest::builder();
    batch.post("People").body("{}");
    let mut options = EncodeOptions::new();
    options.encoder().content_length(true);
    let batch = batch.build().unwrap();
    let encoded = batch.encode_with(&options).unwrap();
    let back = BatchRequest::decode(&encoded.content_type, encoded.body).unwrap();
    assert_eq!(back.items[0].headers["content-length"], "2");
}

#[test]
fn generated_boundaries_avoid_bodies_and_fixed_ones_refuse() {
    let first = BoundaryGenerator::seeded(9).next("batch_");
    let mut batch = BatchRequest::builder();
    batch
        .post("Files")
        .body(format!("\r\n--{first}\r\nnot a delimiter for the next one"));
    let mut options = EncodeOptions::new();
    options.seed(9);
    let batch = batch.build().unwrap();
    let encoded = batch.encode_with(&options).unwrap();
    assert!(
        !encoded.content_type.contains(first.as_str()),
        "kept a boundary that a body contains"
    );
    assert_eq!(
        BatchRequest::decode(&encoded.content_type, encoded.body).unwrap().items,
        batch.items
    );

    let mut fixed = EncodeOptions::new();
    fixed.boundary(first.clone());
    assert_eq!(
        batch.encode_with(&fixed).unwrap_err().kind(),
        EncodeErrorKind::BodyContainsDelimiter
    );

    // A body line that only starts with the generated boundary also makes the encoder pick another, and a
    // fixed one refuse: readers matching by prefix would split there.
    let mut batch = BatchRequest::builder();
    batch.post("Files").body(format!("x\n--{first}XYZ and more"));
    let batch = batch.build().unwrap();
    let encoded = batch.encode_with(&options).unwrap();
    assert!(!encoded.content_type.contains(first.as_str()));
    let mut strict = odata_batch::BatchDecoder::builder();
    strict.leniency(odata_batch::Leniency::strict());
    let events = decode_whole(&strict, &encoded.content_type, &encoded.body).unwrap();
    assert_eq!(
        normalize(events),
        normalize(decode_whole(&lenient(), &encoded.content_type, &encoded.body).unwrap())
    );
    assert_eq!(
        BatchRequest::decode(&encoded.content_type, encoded.body).unwrap().items,
        batch.items
    );
    assert_eq!(
        batch.encode_with(&fixed).unwrap_err().kind(),
        EncodeErrorKind::BodyContainsDelimiter
    );

    // Fresh per batch and per changeset; never a prefix of one another.
    let mut batch = BatchRequest::builder();
    batch.changeset().post("A");
    batch.changeset().post("B");
    let batch = batch.build().unwrap();
    let e1 = batch.encode().unwrap();
    let e2 = batch.encode().unwrap();
    assert_ne!(e1.content_type, e2.content_type);
    let text = String::from_utf8_lossy(&e1.body).into_owned();
    let boundaries: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("Content-Type: multipart/mixed; boundary="))
        .collect();
    assert_eq!(boundaries.len(), 2);
    assert_ne!(boundaries[0], boundaries[1]);
    let outer = e1.content_type.trim_start_matches("multipart/mixed; boundary=");
    for cs in &boundaries {
        assert!(!cs.starts_with(outer) && !outer.starts_with(cs));
    }
}

#[test]
fn http_conversions_into_items() {
    let request = http::Request::post("/odata/People")
        .header("content-type", "application/json")
        .body(Bytes::from_static(b"{}"))
        .unwrap();
    let item = RequestItem::from(request);
    assert_eq!(
        (item.method.clone(), item.url.as_str(), &item.body[..]),
        (Method::POST, "/odata/People", &b"{}"[..])
    );
    let absolute = http::Request::get("https://host/svc/People?$top=1")
        .body(Bytes::new())
        .unwrap();
    assert_eq!(RequestItem::from(absolute).url, "https://host/svc/People?$top=1");
    let response = http::Response::builder()
        .status(201)
        .header("location", "x")
        .body(Bytes::new())
        .unwrap();
    let item = ResponseItem::from(response);
    assert_eq!((item.status, &*item.reason), (StatusCode::CREATED, "Created"));
    let mut batch = BatchResponse::builder();
    batch.push(item);
    let batch = batch.build().unwrap();
    let encoded = batch.encode().unwrap();
    assert_eq!(
        BatchResponse::decode(&encoded.content_type, encoded.body).unwrap(),
        batch
    );
}

// ---- property round trips ----------------------------------------------------------------------------------

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..120),
        prop::collection::vec(
            prop::sample::select(vec![
                &b"\r\n"[..],
                b"\n",
                b"\r",
                b"--",
                b"--batch_",
                b"--changeset_",
                b"x",
                b"{}",
                b" "
            ]),
            0..20
        )
        .prop_map(|parts| parts.concat()),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    prop::collection::vec(
        (
            prop::sample::select(vec!["content-type", "accept", "if-match", "x-custom", "odata-version"]),
            "[!-~]([ -~]{0,16}[!-~])?",
        ),
        0..3,
    )
}

fn apply_headers<T>(
    mut item: T,
    hs: &[(&'static str, String)],
    put: impl Fn(&mut T, http::HeaderName, http::HeaderValue),
) -> T {
    for (name, value) in hs {
        put(
            &mut item,
            http::HeaderName::from_static(name),
            http::HeaderValue::from_str(value).unwrap(),
        );
    }
    item
}

#[derive(Debug, Clone)]
struct OpSpec {
    method: Method,
    path: String,
    reference: Option<prop::sample::Index>,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    with_id: bool,
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
        headers(),
        body(),
        any::<bool>(),
    )
        .prop_map(|(method, path, reference, headers, body, with_id)| OpSpec {
            method,
            path,
            reference,
            headers,
            body,
            with_id,
        })
}

/// Top-level entries: an operation, or a changeset of one to four.
fn entries() -> impl Strategy<Value = Vec<Vec<OpSpec>>> {
    prop::collection::vec(
        prop_oneof![op(false).prop_map(|o| vec![o]), prop::collection::vec(op(true), 1..4)],
        0..8,
    )
}

fn build_request(entries: &[Vec<OpSpec>], changeset_flags: &[bool]) -> BatchRequest {
    let mut batch = BatchRequest::builder();
    let mut ids: Vec<String> = Vec::new();
    let mut n = 0;
    for (entry, &is_cs) in entries
        .iter()
        .zip(changeset_flags.iter().chain(std::iter::repeat(&false)))
    {
        let changeset = (is_cs || entry.len() > 1)
            && entry
                .iter()
                .all(|o| o.method != Method::GET && o.method != Method::HEAD);
        let mut items = Vec::new();
        for spec in entry {
            let url = match (&spec.reference, ids.is_empty()) {
                (Some(ix), false) => format!("${}/{}", ids[ix.index(ids.len())], spec.path),
                _ => spec.path.clone(),
            };
            let mut item = apply_headers(RequestItem::new(spec.method.clone(), url), &spec.headers, |i, n, v| {
                i.headers.append(n, v);
            })
            .with_body(spec.body.clone());
            if spec.with_id || changeset {
                n += 1;
                item.content_id = Some(format!("id{n}"));
            }
            items.push(item);
        }
        // Ids become visible to later entries only.
        ids.extend(items.iter().filter_map(|i| i.content_id.clone()));
        if changeset {
            let mut cs = batch.changeset();
            for item in items {
                cs.push(item);
            }
        } else {
            for item in items {
                batch.push(item);
            }
        }
    }
    batch.build().unwrap()
}

fn build_response(entries: &[Vec<OpSpec>], statuses: &[u16]) -> BatchResponse {
    let mut batch = BatchResponse::builder();
    let mut k = 0;
    for entry in entries {
        let make = |spec: &OpSpec, k: usize| {
            let status = StatusCode::from_u16(statuses[k % statuses.len()]).unwrap();
            let mut item = apply_headers(ResponseItem::new(status), &spec.headers, |i, n, v| {
                i.headers.append(n, v);
            })
            .with_body(spec.body.clone());
            if spec.with_id {
                item.content_id = Some(format!("r{k}"));
            }
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
    batch.build().unwrap()
}

proptest! {
    #[test]
    fn requests_round_trip_whole_and_chunked(entries in entries(), flags in prop::collection::vec(any::<bool>(), 8), seed in any::<u64>(), sizes in prop::collection::vec(1usize..50, 1..6)) {
        let batch = build_request(&entries, &flags);
        let mut options = EncodeOptions::new();
        options.seed(seed);
        let encoded = batch.encode_with(&options).unwrap();
        let back = BatchRequest::decode(&encoded.content_type, encoded.body.clone()).unwrap();
        prop_assert_eq!(&back, &batch);
        let whole = decode_whole(&lenient(), &encoded.content_type, &encoded.body).map(normalize);
        let chunked = decode_chunked(&lenient(), &encoded.content_type, &encoded.body, &sizes).map(normalize);
        prop_assert_eq!(chunked, whole);
        let strict = decode_whole(&common::strict(), &encoded.content_type, &encoded.body);
        prop_assert!(strict.is_ok(), "strict reading refuses what the encoder wrote: {:?}", strict);
    }

    #[test]
    fn responses_round_trip_whole_and_chunked(entries in entries(), statuses in prop::collection::vec(prop::sample::select(vec![200u16, 201, 204, 400, 404, 412, 500]), 1..4), seed in any::<u64>(), sizes in prop::collection::vec(1usize..50, 1..6)) {
        let batch = build_response(&entries, &statuses);
        let mut options = EncodeOptions::new();
        options.seed(seed);
        let encoded = batch.encode_with(&options).unwrap();
        let back = BatchResponse::decode(&encoded.content_type, encoded.body.clone()).unwrap();
        prop_assert_eq!(&back, &batch);
        let whole = decode_whole(&lenient(), &encoded.content_type, &encoded.body).map(normalize);
        let chunked = decode_chunked(&lenient(), &encoded.content_type, &encoded.body, &sizes).map(normalize);
        prop_assert_eq!(chunked, whole);
    }
}

/// Found by the `roundtrip` fuzz target: an operation with more headers than the reader admits was written,
/// and the default decoder refused it. The encoder now refuses heads beyond the reader's limits.
#[test]
fn heads_beyond_the_readers_limits_are_refused_unless_the_reader_admits_them() {
    let mut builder = BatchRequest::builder();
    let mut op = builder.get("People");
    for i in 0..300 {
        op.header(&format!("x-h{i}"), "v");
    }
    let batch = builder.build().unwrap();
    let err = batch.encode().unwrap_err();
    assert_eq!(
        (err.kind(), err.operation()),
        (EncodeErrorKind::TooManyHeaders { max: 256 }, Some(0))
    );
    let mut limits = odata_batch::Limits::default();
    limits.max_headers = 400;
    let mut options = EncodeOptions::new();
    options.encoder().reader_limits(limits);
    let encoded = batch.encode_with(&options).unwrap();
    let mut reader = odata_batch::BatchDecoder::builder();
    reader.limits(limits);
    assert_eq!(
        BatchRequest::decode_with(&reader, &encoded.content_type, encoded.body)
            .unwrap()
            .items,
        batch.items
    );

    let mut batch = BatchRequest::builder();
    batch.get(format!("People?$filter={}", "a".repeat(300 * 1024)));
    let batch = batch.build().unwrap();
    assert_eq!(
        batch.encode().unwrap_err().kind(),
        EncodeErrorKind::HeadTooLarge { max: 256 * 1024 }
    );
    let mut e = BatchEncoder::builder()
        .reader_limits(odata_batch::Limits::server())
        .build(b("batch_1"));
    let mut out = BytesMut::new();
    refused(
        &mut e,
        &mut out,
        &req(Method::GET, &"x".repeat(81 * 1024)),
        EncodeErrorKind::HeadTooLarge { max: 80 * 1024 },
    );
    e.request(&mut out, &req(Method::GET, &"x".repeat(64 * 1024))).unwrap();
}

/// The encoder never writes a batch that the decoder's default limits refuse (issue 11, class 4).
#[test]
fn encoder_default_maximum_is_the_decoders_default_limit() {
    let limits = odata_batch::Limits::default();
    let mut batch = BatchRequest::builder();
    for i in 0..=limits.max_operations {
        batch.get(format!("People({i})"));
    }
    let mut batch = batch.build().unwrap();
    let err = batch.encode().unwrap_err();
    assert_eq!(
        err.kind(),
        EncodeErrorKind::TooManyOperations {
            max: limits.max_operations
        }
    );
    assert_eq!(err.operation(), Some(limits.max_operations));
    // A larger caller maximum is capped at the reader's limit; a lower reader limit wins too.
    let mut options = EncodeOptions::new();
    options.encoder().max_operations(Some(usize::MAX));
    assert_eq!(
        batch.encode_with(&options).unwrap_err().kind(),
        EncodeErrorKind::TooManyOperations {
            max: limits.max_operations
        }
    );
    batch.items.pop();
    let encoded = batch.encode().unwrap();
    assert_eq!(
        BatchRequest::decode(&encoded.content_type, encoded.body)
            .unwrap()
            .items
            .len(),
        limits.max_operations
    );

    // Per changeset: the reader's changeset limit.
    let mut reader = odata_batch::Limits::default();
    reader.max_changeset_operations = 2;
    let mut e = BatchEncoder::builder().reader_limits(reader).build(b("batch_1"));
    let mut out = BytesMut::new();
    e.begin_changeset(&mut out, &b("cs_1")).unwrap();
    e.request(&mut out, &req(Method::POST, "A")).unwrap();
    e.request(&mut out, &req(Method::POST, "B")).unwrap();
    assert_eq!(
        e.request(&mut out, &req(Method::POST, "C")).unwrap_err().kind(),
        EncodeErrorKind::TooManyChangesetOperations { max: 2 }
    );
}

/// The scope of Content-ID uniqueness is one setting, the same for the encoder, the model's encoding and the
/// decoder: what one refuses the others refuse, what one admits the others read back.
#[test]
fn content_id_scope_is_one_setting_for_writer_and_reader() {
    use odata_batch::{BatchDecoder, ContentIdScope, EncodeOptions, Rule};
    // Id "1" in two changesets and twice outside them: OData 4.0 admits it, 4.01 does not.
    let mut batch = BatchRequest::builder();
    batch.changeset().post("A").content_id("1");
    batch.changeset().post("A").content_id("1");
    batch.post("B").content_id("x");
    batch.post("$1/B").content_id("x");
    let batch = batch.build().unwrap();
    for scope in [ContentIdScope::Changeset, ContentIdScope::Batch] {
        let mut options = EncodeOptions::new();
        options.seed(7).encoder().content_id_scope(scope);
        let encoded = batch.encode_with(&options);
        let mut reader = BatchDecoder::builder();
        reader.content_id_scope(scope);
        // The same bytes, written without the writer's check, for the reader.
        let mut lenient = EncodeOptions::new();
        lenient.seed(7).encoder().content_id_scope(ContentIdScope::Changeset);
        let bytes = batch.encode_with(&lenient).unwrap();
        let read = BatchRequest::decode_with(&reader, &bytes.content_type, bytes.body.clone());
        match scope {
            ContentIdScope::Changeset => {
                assert_eq!(encoded.unwrap().body, bytes.body);
                assert_eq!(read.unwrap().items, batch.items);
            }
            ContentIdScope::Batch => {
                let err = encoded.unwrap_err();
                assert_eq!(
                    (err.kind(), err.operation()),
                    (EncodeErrorKind::Rule(Rule::DuplicateContentId), Some(1))
                );
                let err = read.unwrap_err();
                let err = err.decode_error().unwrap();
                assert_eq!(err.kind(), odata_batch::DecodeErrorKind::Rule(Rule::DuplicateContentId));
                let second = bytes
                    .body
                    .windows(14)
                    .enumerate()
                    .filter(|(_, w)| w == b"Content-ID: 1\r")
                    .nth(1)
                    .unwrap()
                    .0;
                assert_eq!(err.offset(), (second + 12) as u64, "the offset of the second id");
            }
        }
    }
    // Within one changeset every scope refuses.
    let mut twice = BatchRequest::builder();
    let mut cs = twice.changeset();
    cs.post("A").content_id("1");
    cs.post("A").content_id("1");
    let twice = twice.build().unwrap();
    let err = twice.encode().unwrap_err();
    assert_eq!(err.kind(), EncodeErrorKind::Rule(odata_batch::Rule::DuplicateContentId));
}

/// `AnyBatch` decodes a multipart batch without being told its role: the first part decides, the decoder's
/// fixed kind overrides, and the request rules still apply to requests.
#[test]
fn any_batch_takes_its_role_from_the_parts() {
    use odata_batch::{AnyBatch, BatchDecoder, DecodeErrorKind, MessageKind, Rule};
    let ct = "multipart/mixed; boundary=b";
    let part = |line: &str| format!("--b\r\nContent-Type: application/http\r\n\r\n{line}\r\n\r\n\r\n");
    // A changeset first: its start event comes before the head that decides.
    let requests = format!(
        "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nPOST A HTTP/1.1\r\n\r\n{{}}\r\n--c--\r\n{}--b--\r\n",
        part("GET $1/B HTTP/1.1")
    );
    let AnyBatch::Request(batch) = AnyBatch::decode(ct, requests.clone()).unwrap() else {
        panic!("requests")
    };
    assert_eq!(batch, BatchRequest::decode(ct, requests.clone()).unwrap());
    assert_eq!(
        (batch.items.len(), batch.changesets, batch.items[0].changeset),
        (2, 1, Some(0))
    );
    let responses = format!("{}{}--b--\r\n", part("HTTP/1.1 200 OK"), part("HTTP/1.1 404 Not Found"));
    let any = AnyBatch::decode(ct, responses.clone()).unwrap();
    assert_eq!(any.message_kind(), MessageKind::Response);
    assert_eq!(
        any,
        AnyBatch::Response(BatchResponse::decode(ct, responses.clone()).unwrap())
    );
    // No parts: an empty batch of requests.
    assert_eq!(
        AnyBatch::decode(ct, "--b--\r\n").unwrap(),
        AnyBatch::Request(BatchRequest::new())
    );
    // A fixed kind wins; parts of the other kind are an error where they start.
    let mut builder = BatchDecoder::builder();
    builder.message_kind(MessageKind::Request);
    let err = AnyBatch::decode_with(&builder, ct, responses).unwrap_err();
    assert_eq!(
        err.decode_error().unwrap().kind(),
        DecodeErrorKind::UnexpectedMessageKind
    );
    // Mixed roles, and the request rules, are refused as by the typed decoders.
    let mixed = format!("{}{}--b--\r\n", part("GET A HTTP/1.1"), part("HTTP/1.1 200 OK"));
    let err = AnyBatch::decode(ct, mixed).unwrap_err();
    assert_eq!(
        err.decode_error().unwrap().kind(),
        DecodeErrorKind::MixedRequestResponse
    );
    let forward = format!("{}--b--\r\n", part("GET $1 HTTP/1.1"));
    let err = AnyBatch::decode(ct, forward).unwrap_err();
    assert_eq!(
        err.decode_error().unwrap().kind(),
        DecodeErrorKind::Rule(Rule::UnknownContentIdReference)
    );
    assert!(AnyBatch::decode("text/plain", "x")
        .unwrap_err()
        .non_batch_media_type()
        .is_some());
}
