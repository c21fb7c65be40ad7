//! Hand-written fixtures (tests/common/fixtures.rs): every tolerance, every refusal with its offset, every
//! request rule, and the Dataverse, SharePoint and Creatio shapes, decoded lenient and strict.

mod common;

use bytes::{Bytes, BytesMut};
use common::fixtures::FIXTURES;
use common::{check, decode_complete, decode_whole, lenient, strict};
use odata_batch::{BatchDecoder, BatchResponse, DecodeErrorKind, Event, Leniency, Limit, Limits};

#[test]
fn every_fixture_decodes_as_expected_lenient_and_strict() {
    for f in FIXTURES {
        check(f, f.lenient, &decode_whole(&lenient(), f.content_type, f.bytes));
        check(f, f.lenient, &decode_complete(&lenient(), f.content_type, f.bytes));
        check(f, f.strict, &decode_whole(&strict(), f.content_type, f.bytes));
    }
}

#[test]
fn request_validation_can_be_turned_off() {
    let mut builder = lenient();
    builder.validate_requests(false);
    for name in [
        "get-in-changeset",
        "head-in-changeset",
        "duplicate-content-id-in-changeset",
        "reference-to-undefined-id",
        "reference-10-is-not-1",
    ] {
        let f = FIXTURES.iter().find(|f| f.name == name).unwrap();
        assert!(decode_whole(&builder, f.content_type, f.bytes).is_ok(), "{name}");
    }
}

fn fixture(name: &str) -> &'static common::fixtures::Fixture {
    FIXTURES.iter().find(|f| f.name == name).unwrap()
}

#[test]
fn bodies_are_exact_and_lookalikes_stay_in_the_body() {
    let f = fixture("delimiter-lookalikes-stay-in-body");
    let events = decode_whole(&lenient(), f.content_type, f.bytes).unwrap();
    let body: Vec<u8> = events
        .iter()
        .filter_map(|e| if let Event::Body(b) = e { Some(b.to_vec()) } else { None })
        .flatten()
        .collect();
    assert_eq!(
        body,
        b"mid --batch_1 line\r\n--batch_1X\r\n--batch_1-\r\n--batch_1---\r\n-batch_1\r\n--batch_"
    );

    let f = fixture("mixed-line-endings");
    let events = decode_whole(&lenient(), f.content_type, f.bytes).unwrap();
    assert!(events.contains(&Event::Body(Bytes::from_static(b"body"))));
}

#[test]
fn heads_expose_start_lines_headers_and_content_ids() {
    let f = fixture("creatio-request-content-id-inside");
    let events = decode_whole(&lenient(), f.content_type, f.bytes).unwrap();
    let heads: Vec<_> = events
        .iter()
        .filter_map(|e| if let Event::Head(h) = e { Some(h) } else { None })
        .collect();
    assert_eq!(heads.len(), 2);
    assert_eq!(heads[0].content_id(), Some(&b"1"[..]));
    assert_eq!(heads[0].part_headers().get("content-id"), None);
    assert_eq!(heads[0].headers().get("prefer"), Some(&b"return=representation"[..]));
    let r = heads[1].request().unwrap();
    assert_eq!((r.method, r.url, r.version), ("PATCH", &b"$1"[..], Some("HTTP/1.1")));
    assert!(heads[1].response().is_none());
    let names: Vec<_> = heads[1].headers().map(|h| h.name()).collect();
    assert_eq!(names, ["Content-ID", "Content-Type"]);
    assert_eq!(heads[1].part_headers().count(), 2);
    let Some(Event::ChangesetStart(cs)) = events.first() else {
        panic!()
    };
    assert_eq!(cs.boundary(), "changeset_b2");

    let f = fixture("obsolete-folding");
    let events = decode_whole(&lenient(), f.content_type, f.bytes).unwrap();
    let Some(Event::Head(h)) = events.first() else { panic!() };
    let folded = h.headers().find(|h| h.name() == "X-Long").unwrap();
    assert_eq!(folded.value(), b"first\r\n second");
    assert_eq!(&*folded.value_unfolded(), b"first second");
    let s = h.response().unwrap();
    assert_eq!((s.version, s.status, s.reason), ("HTTP/1.1", 200, &b"OK"[..]));
}

#[test]
fn decoder_stays_failed_after_an_error() {
    let f = fixture("header-line-without-colon");
    let mut d = BatchDecoder::from_content_type(f.content_type).unwrap();
    let mut buf = BytesMut::from(f.bytes);
    let err = loop {
        match d.decode_eof(&mut buf) {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("no error"),
            Err(e) => break e,
        }
    };
    assert_eq!(d.decode(&mut BytesMut::from(&b"--batch_1--\r\n"[..])), Err(err.clone()));
    assert_eq!(d.decode_eof(&mut buf), Err(err));
}

#[test]
fn empty_buffer_calls_are_harmless() {
    let mut d = BatchDecoder::new("batch_1").unwrap();
    let mut buf = BytesMut::new();
    for _ in 0..3 {
        assert_eq!(d.decode(&mut buf), Ok(None));
    }
    buf.extend_from_slice(b"--batch_1--\r\n");
    assert_eq!(d.decode(&mut buf), Ok(Some(Event::Finished)));
    assert_eq!(d.decode(&mut buf), Ok(None));
    assert_eq!(d.decode_eof(&mut buf), Ok(None));
    assert!(d.is_finished());
}

fn limited(limits: Limits, ct: &str, payload: &[u8]) -> Result<Vec<Event>, odata_batch::DecodeError> {
    let mut b = BatchDecoder::builder();
    b.limits(limits);
    decode_whole(&b, ct, payload)
}

fn op(cid: usize) -> String {
    format!("--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {cid}\r\n\r\nPOST People HTTP/1.1\r\n\r\n{{}}\r\n")
}

#[test]
fn limits_are_enforced_with_their_values() {
    let ct = "multipart/mixed; boundary=batch_1";
    let three = format!("{}{}{}--batch_1--\r\n", op(1), op(2), op(3));
    let mut l = Limits::default();
    l.max_operations = 2;
    let e = limited(l, ct, three.as_bytes()).unwrap_err();
    assert_eq!(
        e.kind(),
        DecodeErrorKind::LimitExceeded {
            limit: Limit::Operations,
            max: 2
        }
    );
    assert_eq!(e.offset(), three.rfind("--batch_1\r\n").unwrap() as u64 + 11);
    l.max_operations = 3;
    assert!(limited(l, ct, three.as_bytes()).is_ok());

    let cs = "--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n".to_string()
        + &op(1).replace("--batch_1", "--cs")
        + &op(2).replace("--batch_1", "--cs")
        + "--cs--\r\n--batch_1--\r\n";
    let mut l = Limits::default();
    l.max_changeset_operations = 1;
    let e = limited(l, ct, cs.as_bytes()).unwrap_err();
    assert_eq!(
        e.kind(),
        DecodeErrorKind::LimitExceeded {
            limit: Limit::ChangesetOperations,
            max: 1
        }
    );

    let mut l = Limits::default();
    l.max_headers = 2;
    let e = limited(l, ct, three.as_bytes()).unwrap_err();
    assert_eq!(
        e.kind(),
        DecodeErrorKind::LimitExceeded {
            limit: Limit::Headers,
            max: 2
        }
    );
    assert_eq!(e.offset(), three.find("Content-ID").unwrap() as u64);

    let mut l = Limits::default();
    l.max_body_bytes = Some(1);
    let e = limited(l, ct, three.as_bytes()).unwrap_err();
    assert_eq!(
        e.kind(),
        DecodeErrorKind::LimitExceeded {
            limit: Limit::BodyBytes,
            max: 1
        }
    );
    assert_eq!(e.offset(), three.find("{}").unwrap() as u64 + 1);

    let mut l = Limits::default();
    l.max_head_bytes = 100;
    let e = limited(l, ct, three.as_bytes()).unwrap_err();
    assert_eq!(
        e.kind(),
        DecodeErrorKind::LimitExceeded {
            limit: Limit::HeadBytes,
            max: 100
        }
    );
}

#[test]
fn default_head_limit_admits_a_64_kib_url_and_server_preset_too() {
    let url = format!("accounts?fetchXml={}", "a".repeat(64 * 1024));
    let payload = format!("--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET {url} HTTP/1.1\r\n\r\n\r\n--batch_1--\r\n");
    for limits in [Limits::client(), Limits::server()] {
        let events = limited(limits, "multipart/mixed; boundary=batch_1", payload.as_bytes()).unwrap();
        let Some(Event::Head(h)) = events.first() else { panic!() };
        assert_eq!(h.request().unwrap().url, url.as_bytes());
    }
}

#[test]
fn strict_preset_turns_every_tolerance_off() {
    let s = Leniency::strict();
    let l = Leniency::lenient();
    assert_eq!(Leniency::default(), l);
    assert!(!s.bare_lf && !s.transport_padding && !s.preamble_epilogue && !s.close_without_line_end);
    assert!(!s.obs_fold && !s.missing_transfer_encoding && !s.unterminated_head && !s.spaces_in_url);
    assert!(!s.invalid_content_length && !s.trailing_whitespace);
    assert!(l.bare_lf && l.transport_padding && l.preamble_epilogue && l.close_without_line_end);
    assert!(l.obs_fold && l.missing_transfer_encoding && l.unterminated_head && l.spaces_in_url);
    assert!(l.invalid_content_length && l.trailing_whitespace);
}

#[test]
fn model_decodes_in_one_call_with_changeset_indexes_and_http_conversions() {
    let f = fixture("dataverse-response");
    let batch = BatchResponse::decode(f.content_type, Bytes::from_static(f.bytes)).unwrap();
    assert_eq!(batch.changesets, 1);
    assert_eq!(batch.items.len(), 2);
    assert_eq!(batch.items[0].changeset, Some(0));
    assert_eq!(batch.items[0].content_id.as_deref(), Some("1"));
    assert_eq!(
        batch.items[0].headers["location"],
        "https://org.crm.dynamics.com/api/data/v9.2/accounts(1)"
    );
    assert_eq!(batch.items[1].changeset, None);
    assert_eq!(batch.items[1].reason, "Bad Request");
    let response: http::Response<Bytes> = batch.items[1].clone().into();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.body(),
        &Bytes::from_static(b"{\"error\":{\"code\":\"0x0\",\"message\":\"bad\"}}")
    );

    let f = fixture("spaces-in-target");
    let batch = odata_batch::BatchRequest::decode(f.content_type, Bytes::from_static(f.bytes)).unwrap();
    assert_eq!(batch.items[0].url, "Products?$filter=Name eq 'W'");
    let request: http::Request<Bytes> = batch.items[0].clone().into_http("https://h/svc/").unwrap();
    assert_eq!(request.uri(), "https://h/svc/Products?$filter=Name%20eq%20'W'");
    assert_eq!(
        batch.items[0].resolve_url("https://h/svc"),
        "https://h/svc/Products?$filter=Name%20eq%20'W'"
    );
    let f2 = fixture("reference-to-earlier-changeset-and-system-resources");
    let b2 = odata_batch::BatchRequest::decode(f2.content_type, Bytes::from_static(f2.bytes)).unwrap();
    assert_eq!(b2.items[4].resolve_url("https://h/svc/"), "https://h/$all");
    assert_eq!(request.method(), http::Method::GET);

    // The wrong kind of batch for the call is refused.
    let d = fixture("dataverse-response");
    let e = odata_batch::BatchRequest::decode(d.content_type, Bytes::from_static(d.bytes)).unwrap_err();
    assert_eq!(e.decode_error().unwrap().kind(), DecodeErrorKind::UnexpectedMessageKind);
    let e = BatchResponse::decode(f.content_type, Bytes::from_static(f.bytes)).unwrap_err();
    assert_eq!(e.decode_error().unwrap().kind(), DecodeErrorKind::UnexpectedMessageKind);
}

#[test]
fn whole_batch_failure_is_typed_with_the_media_type() {
    let e = BatchResponse::decode("application/json;odata.metadata=minimal", "{\"error\":{}}").unwrap_err();
    assert_eq!(e.non_batch_media_type(), Some("application/json"));
    assert!(e.decode_error().is_none());
}

#[test]
fn display_has_offset_and_line() {
    let f = fixture("status-line-without-code");
    let e = BatchResponse::decode(f.content_type, Bytes::from_static(f.bytes)).unwrap_err();
    let d = e.decode_error().unwrap();
    assert_eq!(d.line(), Some(5));
    assert_eq!(
        e.to_string(),
        format!("invalid status line at byte {} (line 5)", d.offset())
    );
}

#[test]
fn tiny_limits_give_the_same_result_whole_and_chunked() {
    // The fast path for canonical part headers must respect limits below its own size.
    for (head, headers, body) in [
        (40, 256, None),
        (100, 1, None),
        (66, 2, None),
        (67, 2, None),
        (4096, 256, Some(1)),
    ] {
        let mut limits = Limits::default();
        limits.max_head_bytes = head;
        limits.max_headers = headers;
        limits.max_body_bytes = body;
        let mut b = BatchDecoder::builder();
        b.limits(limits);
        for f in FIXTURES {
            let whole = decode_whole(&b, f.content_type, f.bytes).map(common::normalize);
            let bytewise = common::decode_chunked(&b, f.content_type, f.bytes, &[1]).map(common::normalize);
            assert_eq!(whole, bytewise, "{} with head {head}, headers {headers}", f.name);
        }
    }
}

#[test]
fn errors_come_in_stream_order_whole_or_chunked() {
    // A body over the limit that also runs into the batch's delimiter inside an unclosed changeset: the
    // limit is hit first in the stream, so it is the error, however the input arrives.
    let payload = b"--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\n0123456789\r\n--batch_1--\r\n";
    let mut limits = Limits::default();
    limits.max_body_bytes = Some(4);
    let mut b = BatchDecoder::builder();
    b.limits(limits);
    let ct = "multipart/mixed; boundary=batch_1";
    let whole = decode_whole(&b, ct, payload).unwrap_err();
    let bytewise = common::decode_chunked(&b, ct, payload, &[1]).unwrap_err();
    assert_eq!(whole, bytewise);
    assert_eq!(
        whole.kind(),
        DecodeErrorKind::LimitExceeded {
            limit: Limit::BodyBytes,
            max: 4
        }
    );
    let body_at = payload.windows(10).position(|w| w == b"0123456789").unwrap() as u64;
    assert_eq!(whole.offset(), body_at + 4);
}

/// Issue 11, class 1: a start line directly followed by a delimiter panicked in the model's conversion.
#[test]
fn model_decode_of_a_start_line_that_runs_into_a_delimiter() {
    use odata_batch::BatchRequest;
    for nl in ["\r\n", "\n"] {
        let part = format!("--b{nl}Content-Type: application/http{nl}Content-Transfer-Encoding: binary{nl}{nl}");
        let response = format!("{part}HTTP/1.1 204 No Content{nl}--b--{nl}");
        let decoded = BatchResponse::decode("multipart/mixed; boundary=b", response).unwrap();
        assert_eq!(decoded.items.len(), 1);
        assert_eq!(decoded.items[0].status, 204);
        assert!(decoded.items[0].headers.is_empty());
        assert!(decoded.items[0].body.is_empty());

        let request = format!("{part}GET x HTTP/1.1{nl}{part}GET y HTTP/1.1{nl}--b--{nl}");
        let decoded = BatchRequest::decode("multipart/mixed; boundary=b", request).unwrap();
        let urls: Vec<_> = decoded.items.iter().map(|i| i.url.as_str()).collect();
        assert_eq!(urls, ["x", "y"]);
        assert!(decoded.items.iter().all(|i| i.headers.is_empty() && i.body.is_empty()));
    }
}

/// Issue 11, class 5: what real servers send, read by the one-call decoders' lenient default.
#[test]
fn real_servers_quirks_decode_leniently() {
    // SAP CAP: an unquoted boundary with RFC 2046 characters.
    let body = "--batch:m39/x=y\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\nName : value\r\n\r\n{}\r\n--batch:m39/x=y--\r\n";
    let decoded = BatchResponse::decode("multipart/mixed;boundary=batch:m39/x=y", body).unwrap();
    assert_eq!(decoded.items[0].status, 200);
    // openui5: a space before the colon; the name is read without it.
    assert_eq!(decoded.items[0].headers.get("name").unwrap(), "value");
    let mut strict = BatchDecoder::builder();
    strict.leniency(Leniency::strict());
    let err = strict
        .build_for_content_type("multipart/mixed;boundary=batch:m39/x=y")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed Content-Type: expected the end of the parameter value (a value with characters such as : / = ? needs quotes) at byte 30"
    );
}

/// Issue 11, classes 3 and 5: each deviation strict reading refuses is governed by one named `Leniency`
/// setting: strict reading with only that setting turned on accepts the payload, as lenient reading does.
#[test]
fn each_strict_refusal_is_one_named_leniency_setting() {
    type Set = fn(&mut Leniency);
    let cases: &[(&str, &str, Set)] = &[
        ("lookalike-with-text-after-boundary", "delimiter_lookalikes", |l| {
            l.delimiter_lookalikes = true
        }),
        ("lookalike-at-body-start", "delimiter_lookalikes", |l| {
            l.delimiter_lookalikes = true
        }),
        ("lookalike-in-embedded-headers", "delimiter_lookalikes", |l| {
            l.delimiter_lookalikes = true
        }),
        ("lookalike-in-part-headers", "delimiter_lookalikes", |l| {
            l.delimiter_lookalikes = true
        }),
        ("lookalike-of-batch-inside-changeset", "delimiter_lookalikes", |l| {
            l.delimiter_lookalikes = true
        }),
        ("close-delimiter-with-trailer", "close_delimiter_trailer", |l| {
            l.close_delimiter_trailer = true
        }),
        ("close-delimiter-with-dashes", "close_delimiter_trailer", |l| {
            l.close_delimiter_trailer = true
        }),
        ("changeset-close-with-trailer", "close_delimiter_trailer", |l| {
            l.close_delimiter_trailer = true
        }),
        ("nested-boundary-shares-prefix", "overlapping_boundaries", |l| {
            l.overlapping_boundaries = true
        }),
        ("outer-boundary-extends-inner", "overlapping_boundaries", |l| {
            l.overlapping_boundaries = true
        }),
        ("conflicting-part-content-type", "conflicting_headers", |l| {
            l.conflicting_headers = true
        }),
        ("conflicting-part-content-id", "conflicting_headers", |l| {
            l.conflicting_headers = true
        }),
        ("conflicting-embedded-content-id", "conflicting_headers", |l| {
            l.conflicting_headers = true
        }),
        ("part-and-embedded-content-id-differ", "content_id_mismatch", |l| {
            l.content_id_mismatch = true
        }),
        ("content-length-longer-than-body", "content_length_mismatch", |l| {
            l.content_length_mismatch = true
        }),
        ("content-length-shorter-than-body", "content_length_mismatch", |l| {
            l.content_length_mismatch = true
        }),
        ("content-length-twice-different", "content_length_mismatch", |l| {
            l.content_length_mismatch = true
        }),
        ("content-length-overflows", "invalid_content_length", |l| {
            l.invalid_content_length = true
        }),
        ("embedded-transfer-encoding", "embedded_transfer_encoding", |l| {
            l.embedded_transfer_encoding = true
        }),
        ("space-before-colon-in-response-header", "space_before_colon", |l| {
            l.space_before_colon = true
        }),
        (
            "unquoted-changeset-boundary-with-rfc2046-characters",
            "unquoted_boundary_specials",
            |l| l.unquoted_boundary_specials = true,
        ),
    ];
    for (name, setting, set) in cases {
        let f = fixture(name);
        let common::fixtures::Expect::Ok(summary) = f.lenient else {
            panic!("{name}: lenient must accept")
        };
        assert!(
            matches!(f.strict, common::fixtures::Expect::Err(..)),
            "{name}: strict must refuse"
        );
        let mut leniency = Leniency::strict();
        set(&mut leniency);
        let mut builder = BatchDecoder::builder();
        builder.leniency(leniency);
        let events = decode_whole(&builder, f.content_type, f.bytes)
            .unwrap_or_else(|e| panic!("{name}: strict with only `{setting}` still refuses: {e}"));
        assert_eq!(common::summary(&common::structure(&events)), summary, "{name}");
    }
    // The Content-Type itself: SAP CAP's unquoted batch boundary.
    let mut leniency = Leniency::strict();
    leniency.unquoted_boundary_specials = true;
    let decoder = BatchDecoder::builder()
        .leniency(leniency)
        .build_for_content_type("multipart/mixed;boundary=batch:m39/x=y");
    assert!(decoder.unwrap().leniency().unquoted_boundary_specials);
}

/// With overlapping boundaries tolerated, a line is a look-alike only when it is no delimiter of any active
/// boundary: `--batch_1_cs` starts like the batch's `--batch_1` but is the changeset's delimiter.
#[test]
fn lookalikes_are_judged_against_every_active_boundary() {
    let body = b"--batch_1\r\nContent-Type: multipart/mixed; boundary=batch_1_cs\r\n\r\n--batch_1_cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 201 Created\r\n\r\n--batch_1_cs--\r\n--batch_1--\r\n";
    let mut leniency = Leniency::strict();
    leniency.overlapping_boundaries = true;
    let mut builder = BatchDecoder::builder();
    builder.leniency(leniency);
    let err = decode_whole(&builder, "multipart/mixed; boundary=batch_1", body).unwrap_err();
    let at = body.windows(14).position(|w| w == b"--batch_1_cs--").unwrap() as u64;
    assert_eq!((err.kind(), err.offset()), (DecodeErrorKind::MissingHeadTerminator, at));
    leniency.unterminated_head = true;
    builder.leniency(leniency);
    let events = decode_whole(&builder, "multipart/mixed; boundary=batch_1", body).unwrap();
    assert_eq!(common::summary(&common::structure(&events)), "[201]");
}
