//! Property tests: arbitrary input under arbitrary chunking never panics, never loops, and gives exactly the
//! one-shot result (same events, or the same error at the same offset). The case count can be raised with
//! `PROPTEST_CASES`.

mod common;

use common::{decode_bytes_chunks, decode_chunked, decode_whole, lenient, normalize, strict};
use proptest::prelude::*;

/// Fragments that make random input reach deep into the grammar.
const TOKENS: &[&str] = &[
    "--batch_1",
    "--batch_1--",
    "--cs",
    "--cs--",
    "--batch",
    "\r\n",
    "\n",
    "\r",
    " ",
    "\t",
    "-",
    "--",
    "Content-Type: application/http\r\n",
    "Content-Type: multipart/mixed; boundary=cs\r\n",
    "Content-Type: multipart/mixed; boundary=batch_1\r\n",
    "Content-Transfer-Encoding: binary\r\n",
    "Content-ID: 1\r\n",
    "Content-ID: 2\r\n",
    "GET People HTTP/1.1\r\n",
    "POST $1/Orders HTTP/1.1\r\n",
    "HTTP/1.1 200 OK\r\n",
    "HTTP/1.1 204 No Content\r\n",
    "Content-Length: 12\r\n",
    "X: a\r\n  b\r\n",
    "{\"a\":1}",
    "body",
    ":",
    "HTTP/1.1",
];

fn soup() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..60).prop_map(|t| t.concat().into_bytes())
}

fn sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..40, 1..8)
}

/// `decode_chunked` and `decode_bytes_chunks` (with the sizes as given, and 37 times larger so that chunks also
/// outgrow the carry's first copy) agree with `whole`.
fn assert_chunkings_agree(
    builder: &odata_batch::BatchDecoderBuilder,
    ct: &str,
    payload: &[u8],
    sizes: &[usize],
    whole: &Result<Vec<odata_batch::Event>, odata_batch::DecodeError>,
) {
    let chunked = decode_chunked(builder, ct, payload, sizes).map(normalize);
    assert_eq!(&chunked, whole);
    let bytes = decode_bytes_chunks(builder, ct, payload, sizes).map(normalize);
    assert_eq!(&bytes, whole, "Bytes chunks of {sizes:?}");
    let large: Vec<usize> = sizes.iter().map(|n| n * 37).collect();
    let bytes = decode_bytes_chunks(builder, ct, payload, &large).map(normalize);
    assert_eq!(&bytes, whole, "Bytes chunks of {large:?}");
}

fn check(payload: &[u8], sizes: &[usize]) {
    for builder in [lenient(), strict()] {
        let whole = decode_whole(&builder, "multipart/mixed; boundary=batch_1", payload).map(normalize);
        assert_chunkings_agree(&builder, "multipart/mixed; boundary=batch_1", payload, sizes, &whole);
        if let Err(e) = &whole {
            assert!(e.offset() <= payload.len() as u64, "error offset past the input: {e}");
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_chunking_changes_nothing(payload in prop::collection::vec(any::<u8>(), 0..600), sizes in sizes()) {
        check(&payload, &sizes);
    }

    #[test]
    fn token_soup_never_panics_and_chunking_changes_nothing(payload in soup(), sizes in sizes()) {
        check(&payload, &sizes);
    }

    #[test]
    fn mutated_fixtures_never_panic_and_chunking_changes_nothing(
        index in 0..common::fixtures::FIXTURES.len(),
        cut in any::<prop::sample::Index>(),
        insert in prop::sample::select(TOKENS),
        sizes in sizes(),
    ) {
        let f = &common::fixtures::FIXTURES[index];
        let at = cut.index(f.bytes.len() + 1);
        let mut payload = f.bytes[..at].to_vec();
        payload.extend_from_slice(insert.as_bytes());
        payload.extend_from_slice(&f.bytes[at..]);
        for builder in [lenient(), strict()] {
            let whole = decode_whole(&builder, f.content_type, &payload).map(normalize);
            assert_chunkings_agree(&builder, f.content_type, &payload, &sizes, &whole);
        }
    }
}

fn limited(
    head: usize,
    headers: usize,
    body: Option<u64>,
    ops: usize,
    cs_ops: usize,
) -> odata_batch::BatchDecoderBuilder {
    let mut limits = odata_batch::Limits::default();
    limits.max_head_bytes = head;
    limits.max_headers = headers;
    limits.max_body_bytes = body;
    limits.max_operations = ops;
    limits.max_changeset_operations = cs_ops;
    let mut b = odata_batch::BatchDecoder::builder();
    b.limits(limits);
    b
}

proptest! {
    #[test]
    fn limits_give_the_same_result_whole_and_chunked(
        index in 0..common::fixtures::FIXTURES.len(),
        head in 1usize..300,
        headers in 0usize..6,
        body in prop::option::of(0u64..40),
        ops in 0usize..6,
        cs_ops in 0usize..4,
        cut in any::<prop::sample::Index>(),
        insert in prop::sample::select(TOKENS),
        sizes in sizes(),
    ) {
        let f = &common::fixtures::FIXTURES[index];
        let at = cut.index(f.bytes.len() + 1);
        let payload = [&f.bytes[..at], insert.as_bytes(), &f.bytes[at..]].concat();
        let b = limited(head, headers, body, ops, cs_ops);
        let whole = decode_whole(&b, f.content_type, &payload).map(normalize);
        assert_chunkings_agree(&b, f.content_type, &payload, &sizes, &whole);
    }
}
