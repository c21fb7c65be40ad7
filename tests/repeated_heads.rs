//! A part reads the same whatever part came before it. The decoder keeps the previous head's MIME part header
//! names, embedded header names and whole embedded header lines, status line and request line, to read repeated
//! ones without scanning them again; this checks every ordered pair of heads that are alike, differ in one
//! byte, in case, in length, in position or in validity: the second part's events (or error, at the same place
//! in the part) are those it has when it comes first.

mod common;

use bytes::Bytes;
use common::{lenient, strict};
use odata_batch::{BatchDecoderBuilder, DecodeError, Event};

const RESPONSES: &[(&str, &str)] = &[
    ("HTTP/1.1 204 No Content\r\nOData-Version: 4.0\r\nLocation: https://x/a(1)\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nOData-Version: 4.0\r\nLocation: https://x/a(2)\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nodata-version: 4.0\r\nLOCATION: https://x/a(3)\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nOData-Version : 4.0\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nOData-Versions: 4.0\r\nLocation: x\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nOData-Version:4.0\r\nContent-ID: 5\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nOData-Version:4.0\r\nContent-ID: 7\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nContent-ID: 5\r\nContent-ID: 6\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nContent-ID: 5\r\nContent-Id: 5\r\n", ""),
    ("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n", "abc"),
    ("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n", "abc"),
    ("HTTP/1.1 200 OK\r\nContent-Length: x\r\n", "abc"),
    ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n", "{}"),
    ("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n", ""),
    ("HTTP/1.1 204 No Contents\r\nOData-Version: 4.0\r\n", ""),
    ("HTTP/1.1 204 No Content \r\nOData-Version: 4.0\r\n", ""),
    ("HTTP/1.1 204\r\nOData-Version: 4.0\r\n", ""),
    ("HTTP/1.1 204 \r\n", ""),
    ("HTTP/1.1 204 No Contenu\r\nOData-Version: 4.0\r\n", ""),
    ("HTTP/1.1 204 No Conten\x7f\r\nOData-Version: 4.0\r\n", ""),
    ("HTTP/1.1 205 No Content\r\nOData-Version: 4.0\r\n", ""),
    ("HTTP/1.0 204 No Content\r\nOData-Version: 4.0\r\n", ""),
    ("HTTP/1.1 2O4 No Content\r\n", ""),
    ("HTTP/1.1 299 A Reason Phrase Longer Than Thirty-Two Bytes\r\n", ""),
    ("HTTP/1.1 299 A Reason Phrase Longer Than Thirty-Two Bytez\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nX-A-Header-Name-Longer-Than-16: v\r\nOData-Version: 4.0\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nX-A-Header-Name-Longer-Than-16: w\r\nOData-Version: 4.0\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nOData-Version: 4.0\r\n folded on\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nOData-Version: 4.\x01\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nOData-Version: 4.0\nLocation: bare-lf\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nOData-Version\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nOData-Version: 4.0\r\nOData-Version: 4.01\r\nOData-Version: 4.0\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\nI: 9\r\nContent-ID: 10\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\nI: 9\r\nContent-ID: 11\r\n", ""),
    ("HTTP/1.1 204 No Content\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nContent-Length: 0\r\n", ""),
];

const REQUESTS: &[(&str, &str)] = &[
    (
        "POST accounts HTTP/1.1\r\nContent-Type: application/json\r\nContent-ID: 1\r\n",
        "{}",
    ),
    (
        "POST accounts HTTP/1.1\r\nContent-Type: application/json\r\nContent-ID: 2\r\n",
        "{}",
    ),
    (
        "POST accounts HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n",
        "{}",
    ),
    (
        "POST accounts HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 3\r\n",
        "{}",
    ),
    (
        "POST accounts HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
        "{}",
    ),
    (
        "PATCH accounts(1) HTTP/1.1\r\ncontent-type: application/json\r\nIf-Match: *\r\n",
        "{}",
    ),
    ("GET accounts HTTP/1.1\r\nAccept: application/json\r\n", ""),
    // Request lines alike: spacing, version, trailing white space, a reference, around 64 bytes.
    ("POST accounts HTTP/1.1\r\nAccept: application/json\r\n", "{}"),
    ("POST  accounts HTTP/1.1\r\nAccept: application/json\r\n", "{}"),
    ("POST accounts HTTP/1.1 \r\nAccept: application/json\r\n", "{}"),
    ("POST accounts\r\nAccept: application/json\r\n", "{}"),
    ("POST accounts HTTP/1.0\r\nAccept: application/json\r\n", "{}"),
    ("POST accounts HTTP/1.x\r\nAccept: application/json\r\n", "{}"),
    ("POST accounts HTTP/1.1x\r\nAccept: application/json\r\n", "{}"),
    ("POST account HTTP/1.1\r\nAccept: application/json\r\n", "{}"),
    ("PUT accounts HTTP/1.1\r\nAccept: application/json\r\n", "{}"),
    ("POST $99/contacts HTTP/1.1\r\nAccept: application/json\r\n", "{}"),
    (
        "POST accounts(00000000-0000-0000-0000-000000000001)/x HTTP/1.1\r\n",
        "{}",
    ),
    (
        "POST accounts(00000000-0000-0000-0000-000000000001)/xy HTTP/1.1\r\n",
        "{}",
    ),
    (
        "POST accounts(00000000-0000-0000-0000-000000000001)/xyz HTTP/1.1\r\n",
        "{}",
    ),
    (
        "POST accounts(00000000-0000-0000-0000-000000000001)/xz HTTP/1.1\r\n",
        "{}",
    ),
    (
        "POST accounts(00000000-0000-0000-0000-000000000001)/xyzw HTTP/1.1\r\n",
        "{}",
    ),
    (
        "POST accounts(00000000-0000-0000-0000-000000000001)/xyzv HTTP/1.1\r\n",
        "{}",
    ),
    // Embedded header lines alike, whole: a byte of the value, white space at its ends, a tab, the line break,
    // lines of 47, 48 (twice, differing in the value's last byte) and 49 bytes with the line break (48 are kept).
    ("POST accounts HTTP/1.1\r\nAccept: application/jsoN\r\n", "{}"),
    ("POST accounts HTTP/1.1\r\nAccept: application/json \r\n", "{}"),
    ("POST accounts HTTP/1.1\r\nAccept:  application/json\r\n", "{}"),
    ("POST accounts HTTP/1.1\r\nAccept:application/json\r\n", "{}"),
    ("POST accounts HTTP/1.1\r\nAccept: application/json\t\r\n", "{}"),
    (
        "POST accounts HTTP/1.1\r\nAccept: application/json\nIf-Match: *\r\n",
        "{}",
    ),
    (
        "POST accounts HTTP/1.1\r\nAccept: application/json\r\n\tfolded\r\n",
        "{}",
    ),
    (
        "POST accounts HTTP/1.1\r\nAccept: application/json\r\nAccept: application/json\r\n",
        "{}",
    ),
    (
        "POST accounts HTTP/1.1\r\nContent-Length: 2\r\nAccept: application/json\r\n",
        "{}",
    ),
    (
        "POST accounts HTTP/1.1\r\nContent-Length: 2 \r\nAccept: application/json\r\n",
        "{}",
    ),
    (
        "POST accounts HTTP/1.1\r\nContent-Length: 20\r\nAccept: application/json\r\n",
        "{}",
    ),
    (
        "POST accounts HTTP/1.1\r\nContent-Type: application/json;type=entry-012\r\n",
        "{}",
    ),
    (
        "POST accounts HTTP/1.1\r\nContent-Type: application/json;type=entry-0123\r\n",
        "{}",
    ),
    (
        "POST accounts HTTP/1.1\r\nContent-Type: application/json;type=entry-0124\r\n",
        "{}",
    ),
    (
        "POST accounts HTTP/1.1\r\nContent-Type: application/json;type=entry-01234\r\n",
        "{}",
    ),
    // The same header line further into the head: it must still keep within the head limit (see `tight`).
    (
        "POST accounts/with/a/much/longer/path HTTP/1.1\r\nAccept: application/json\r\n",
        "{}",
    ),
];

/// MIME part headers beyond the canonical two, with an embedded head: the part header names are kept too.
const MIME: &[(&str, &str, &str)] = &[
    ("Content-ID: 1\r\n", "POST accounts HTTP/1.1\r\n", "{}"),
    ("Content-ID: 2\r\n", "POST accounts HTTP/1.1\r\n", "{}"),
    ("Content-Id: 3\r\n", "POST accounts HTTP/1.1\r\n", "{}"),
    ("Content-ID : 4\r\n", "POST accounts HTTP/1.1\r\n", "{}"),
    ("Content-IDs: 5\r\n", "POST accounts HTTP/1.1\r\n", "{}"),
    ("Content-ID:6\r\n", "POST $6/x HTTP/1.1\r\n", "{}"),
    ("Content-ID: 7\r\nContent-ID: 8\r\n", "POST accounts HTTP/1.1\r\n", "{}"),
    ("Content-ID: 1\r\n", "POST $99/contacts HTTP/1.1\r\n", "{}"),
    ("Content-ID: 9\r\n", "POST accounts HTTP/1.1\r\nContent-ID: 9\r\n", "{}"),
    (
        "Content-ID: 9\r\n",
        "POST accounts HTTP/1.1\r\nContent-ID: 10\r\n",
        "{}",
    ),
    ("Content-ID: 1\r\n\tfolded\r\n", "POST accounts HTTP/1.1\r\n", "{}"),
    ("Content-ID: 1\nX: y\r\n", "POST accounts HTTP/1.1\r\n", "{}"),
    ("X-Custom: 1\r\nContent-ID: 11\r\n", "POST accounts HTTP/1.1\r\n", "{}"),
    ("Content-ID: 12\r\nX-Custom: 1\r\n", "POST accounts HTTP/1.1\r\n", "{}"),
];

/// A part: the MIME part headers after the canonical two, the embedded head, the body.
type Part<'a> = (&'a str, &'a str, &'a str);

/// `--b` parts around the given heads and bodies, then the close delimiter.
fn batch(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = String::new();
    for (mime, head, body) in parts {
        out.push_str("--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
        out.push_str(mime);
        out.push_str("\r\n");
        out.push_str(head);
        out.push_str("\r\n");
        out.push_str(body);
        out.push_str("\r\n");
    }
    out.push_str("--b--\r\n");
    out.into_bytes()
}

/// The events of a whole payload, or its error.
fn events(builder: &BatchDecoderBuilder, payload: &[u8]) -> Result<Vec<Event>, DecodeError> {
    let mut decoder = builder.build("b").unwrap();
    let mut input = Bytes::copy_from_slice(payload);
    let mut out = Vec::new();
    while let Some(event) = decoder.decode_complete(&mut input)? {
        out.push(event);
    }
    Ok(out)
}

/// What the last part gives: its events, or its error's kind and its offset from
/// the part's start.
fn last_part(builder: &BatchDecoderBuilder, parts: &[Part<'_>]) -> Result<Vec<Event>, (String, u64)> {
    let before = batch(&parts[..parts.len() - 1]).len() as u64 - b"--b--\r\n".len() as u64;
    match events(builder, &batch(parts)) {
        Ok(events) => {
            // After the `End` of every part before the last.
            let ends = events
                .iter()
                .enumerate()
                .filter(|(_, e)| **e == Event::End)
                .map(|(i, _)| i + 1);
            let skip = std::iter::once(0)
                .chain(ends)
                .nth(parts.len() - 1)
                .expect("an End per part");
            Ok(events[skip..].to_vec())
        }
        Err(e) => Err((
            format!("{:?}", e.kind()),
            e.offset().checked_sub(before).expect("the error is in the last part"),
        )),
    }
}

/// A head limit that the longest heads above pass only when their lines are counted where they are.
fn tight() -> BatchDecoderBuilder {
    let mut b = lenient();
    let mut limits = odata_batch::Limits::default();
    limits.max_head_bytes = 150;
    b.limits(limits);
    b
}

fn with_canonical<'a>(list: &[(&'a str, &'a str)]) -> Vec<Part<'a>> {
    list.iter().map(|&(head, body)| ("", head, body)).collect()
}

fn check_pairs(list: &[Part<'_>]) {
    for builder in [lenient(), strict(), tight()] {
        for b in list {
            let alone = last_part(&builder, &[*b]);
            for a in list {
                // Only pairs whose first part reads: otherwise the second is never reached.
                if events(&builder, &batch(&[*a])).is_err() {
                    continue;
                }
                let after = last_part(&builder, &[*a, *b]);
                assert_eq!(after, alone, "{:?} after {:?}", b.0, a.0);
                let after_two = last_part(&builder, &[*a, *a, *b]);
                assert_eq!(after_two, alone, "{:?} after {:?} twice", b.0, a.0);
            }
        }
    }
}

#[test]
fn a_response_part_reads_the_same_after_any_other() {
    check_pairs(&with_canonical(RESPONSES));
}

#[test]
fn a_request_part_reads_the_same_after_any_other() {
    check_pairs(&with_canonical(REQUESTS));
}

#[test]
fn a_part_with_more_part_headers_reads_the_same_after_any_other() {
    let mut list: Vec<Part<'_>> = MIME.to_vec();
    list.extend(with_canonical(&REQUESTS[..3]));
    check_pairs(&list);
}

/// Sequences of two to five parts drawn from `list` (a fixed pseudo-random sample): the remembered names and
/// lines then come from different heads (a head with fewer headers leaves the later entries of an earlier,
/// longer head in place), and the last part must still read as it does alone.
fn check_sequences(list: &[Part<'_>], seed: u64) {
    let mut state = seed;
    let mut next = |n: usize| {
        // xorshift64: deterministic, no dependency.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for builder in [lenient(), strict(), tight()] {
        let mut compared = 0;
        for _ in 0..1500 {
            let len = 2 + next(4);
            let parts: Vec<Part<'_>> = (0..len).map(|_| list[next(list.len())]).collect();
            let before = &parts[..len - 1];
            if events(&builder, &batch(before)).is_err() {
                continue;
            }
            let alone = last_part(&builder, &parts[len - 1..]);
            assert_eq!(last_part(&builder, &parts), alone, "{parts:?}");
            compared += 1;
        }
        // Most prefixes read; the sample is not mostly skipped.
        assert!(compared > 500, "only {compared} sequences compared");
    }
}

#[test]
fn a_part_reads_the_same_after_any_sequence_of_others() {
    check_sequences(&with_canonical(RESPONSES), 0x9e37_79b9_7f4a_7c15);
    let mut requests: Vec<Part<'_>> = MIME.to_vec();
    requests.extend(with_canonical(REQUESTS));
    check_sequences(&requests, 0x2545_f491_4f6c_dd1d);
}
