//! Our decoder beside the Rust libraries a user could read a batch with instead, on four payload shapes, with
//! two ceilings: a `memmem` scan for the delimiters, and a visit of every line end.
//!
//! Every function does the same work and proves it: it counts the operations and the bytes of their bodies
//! (after the embedded HTTP head) and asserts both, so nothing can look fast by skipping work. The peers read
//! each part's embedded HTTP head with `httparse`:
//! - `multer` (the multipart crate axum uses), with changesets read by a nested `Multipart`;
//! - `mail-parser` and `mailparse`, MIME parsers that read nested multiparts themselves (given the batch's
//!   `Content-Type` as a header line in front, prepared outside the timing).
//!
//! `cargo bench --bench peers`, then `python3 benches/fractions.py` prints each payload's ratio to the fastest
//! peer and to both ceilings.

#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use memchr::memmem;
use odata_batch::{BatchDecoder, ChunkedInput, Event};

#[path = "common/payloads.rs"]
mod payloads;
use payloads::payloads;

/// What a reader found: operations, body bytes.
type Found = (usize, usize);

fn ours_whole(boundary: &str, input: &Bytes) -> Found {
    let mut decoder = BatchDecoder::new(boundary).unwrap();
    let mut rest = input.clone();
    let (mut ops, mut body) = (0, 0);
    while let Some(e) = decoder.decode_complete(&mut rest).unwrap() {
        match &e {
            Event::End => ops += 1,
            Event::Body(b) => body += b.len(),
            _ => {}
        }
        black_box(&e);
    }
    (ops, body)
}

fn ours_chunks(boundary: &str, input: &[u8], chunk: usize) -> Found {
    let mut decoder = BatchDecoder::new(boundary).unwrap();
    let mut buf = BytesMut::with_capacity(2 * chunk);
    let (mut ops, mut body) = (0, 0);
    let mut count = |e: Event| match e {
        Event::End => ops += 1,
        Event::Body(b) => body += b.len(),
        _ => {}
    };
    for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        while let Some(e) = decoder.decode(&mut buf).unwrap() {
            count(e);
        }
    }
    while let Some(e) = decoder.decode_eof(&mut buf).unwrap() {
        count(e);
    }
    (ops, body)
}

/// The same 64 KiB chunks as `Bytes` (what hyper and reqwest bodies yield: here slices of one buffer), read
/// through [`ChunkedInput`] without copying them into a buffer first.
fn ours_bytes_chunks(boundary: &str, input: &Bytes, chunk: usize) -> Found {
    let mut decoder = BatchDecoder::new(boundary).unwrap();
    let mut queue = ChunkedInput::new();
    let (mut ops, mut body) = (0, 0);
    let mut count = |e: Event| match e {
        Event::End => ops += 1,
        Event::Body(b) => body += b.len(),
        _ => {}
    };
    let mut at = 0;
    while at < input.len() {
        let end = (at + chunk).min(input.len());
        queue.push(input.slice(at..end));
        at = end;
        while let Some(e) = decoder.decode_chunked(&mut queue).unwrap() {
            count(e);
        }
    }
    while let Some(e) = decoder.decode_chunked_eof(&mut queue).unwrap() {
        count(e);
    }
    (ops, body)
}

/// httparse's reading of the embedded head at the start of `content` (which must be complete): its length and
/// how many fields it has (the start line and the headers).
fn httparse_head(content: &[u8]) -> (usize, usize) {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let status = if content.starts_with(b"HTTP/") {
        httparse::Response::new(&mut headers).parse(content)
    } else {
        httparse::Request::new(&mut headers).parse(content)
    };
    match status.expect("a valid embedded head") {
        httparse::Status::Complete(n) => (n, 1 + headers.iter().take_while(|h| !h.name.is_empty()).count()),
        httparse::Status::Partial => panic!("an embedded head without its blank line"),
    }
}

/// The body bytes of an `application/http` part's content, after its embedded head.
fn embedded_body(content: &[u8]) -> usize {
    content.len() - httparse_head(content).0
}

/// Every operation's embedded head (start line to blank line), as slices of `input`, found by our decoder.
fn embedded_heads(input: &Bytes, boundary: &str) -> Vec<Bytes> {
    let mut decoder = BatchDecoder::new(boundary).unwrap();
    let mut rest = input.clone();
    let mut heads = Vec::new();
    while let Some(e) = decoder.decode_complete(&mut rest).unwrap() {
        if let Event::Head(head) = e {
            // After the MIME part headers and their blank line.
            let raw = head.raw();
            let start = memmem::find(raw, b"\r\n\r\n").expect("part headers end") + 4;
            heads.push(raw.slice(start..));
        }
    }
    heads
}

async fn multer_read(input: Bytes, boundary: String) -> Found {
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(input) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let (mut ops, mut body) = (0, 0);
    while let Some(field) = multipart.next_field().await.unwrap() {
        let content_type = field
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // multer's own `parse_boundary` takes `multipart/form-data` only; the changeset's boundary is read with
        // this crate's parser (twenty times per payload: nothing next to the rest).
        let nested = content_type
            .as_deref()
            .filter(|ct| ct.starts_with("multipart/"))
            .and_then(|ct| odata_batch::Boundary::from_content_type(ct).ok())
            .map(|b| b.as_str().to_owned());
        let content = field.bytes().await.unwrap();
        match nested {
            Some(inner) => {
                let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(content) });
                let mut changeset = multer::Multipart::new(stream, inner);
                while let Some(field) = changeset.next_field().await.unwrap() {
                    body += embedded_body(&field.bytes().await.unwrap());
                    ops += 1;
                }
            }
            None => {
                body += embedded_body(&content);
                ops += 1;
            }
        }
    }
    (ops, body)
}

fn mail_parser_read(message: &[u8]) -> Found {
    use mail_parser::MimeHeaders as _;
    let parsed = mail_parser::MessageParser::new()
        .parse(message)
        .expect("a MIME message");
    let (mut ops, mut body) = (0, 0);
    for part in &parsed.parts {
        let is_http = part
            .content_type()
            .is_some_and(|ct| ct.ctype() == "application" && ct.subtype() == Some("http"));
        if is_http {
            body += embedded_body(part.contents());
            ops += 1;
        }
    }
    (ops, body)
}

fn mailparse_read(message: &[u8]) -> Found {
    fn walk(part: &mailparse::ParsedMail<'_>, found: &mut Found) {
        if part.subparts.is_empty() {
            if part.ctype.mimetype == "application/http" {
                found.1 += embedded_body(&part.get_body_raw().unwrap());
                found.0 += 1;
            }
        } else {
            part.subparts.iter().for_each(|p| walk(p, found));
        }
    }
    let parsed = mailparse::parse_mail(message).expect("a MIME message");
    let mut found = (0, 0);
    walk(&parsed, &mut found);
    found
}

fn peers(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    for p in payloads() {
        let expected = (p.operations, p.body_bytes);
        let boundary = p.boundaries[0];
        let mut g = c.benchmark_group(format!("peers_{}", p.name));
        g.throughput(Throughput::Bytes(p.bytes.len() as u64));
        // Ceilings.
        let finders: Vec<memmem::Finder<'static>> = p
            .boundaries
            .iter()
            .map(|b| memmem::Finder::new(format!("\n--{b}").as_bytes()).into_owned())
            .collect();
        let delimiters: usize = finders.iter().map(|f| f.find_iter(&p.bytes).count()).sum();
        g.bench_function("memmem_ceiling", |b| {
            b.iter(|| {
                let n: usize = finders.iter().map(|f| f.find_iter(black_box(&p.bytes)).count()).sum();
                assert_eq!(n, delimiters);
            })
        });
        let lines = memchr::memchr_iter(b'\n', &p.bytes).count();
        g.bench_function("line_end_ceiling", |b| {
            b.iter(|| {
                let bytes = black_box(&p.bytes);
                // One load per line: the first byte of the next line.
                let (mut n, mut sum) = (0usize, 0u64);
                for at in memchr::memchr_iter(b'\n', bytes) {
                    n += 1;
                    sum += u64::from(*bytes.get(at + 1).unwrap_or(&0));
                }
                assert_eq!(n, lines);
                black_box(sum);
            })
        });
        // Ours.
        let input = Bytes::from(p.bytes.clone());
        g.bench_function("odata_batch_whole", |b| {
            b.iter(|| assert_eq!(ours_whole(boundary, black_box(&input)), expected))
        });
        g.bench_function("odata_batch_chunks_64k", |b| {
            b.iter(|| assert_eq!(ours_chunks(boundary, black_box(&p.bytes), 64 * 1024), expected))
        });
        g.bench_function("odata_batch_bytes_chunks_64k", |b| {
            b.iter(|| assert_eq!(ours_bytes_chunks(boundary, black_box(&input), 64 * 1024), expected))
        });
        // httparse alone on the embedded heads (found outside the timing): what the design card's parser costs
        // for the part of the work it would do, against our whole reading above.
        let heads = embedded_heads(&input, boundary);
        assert_eq!(heads.len(), p.operations);
        g.bench_function("httparse_embedded_heads_only", |b| {
            b.iter(|| {
                let mut fields = 0;
                for head in black_box(&heads) {
                    fields += httparse_head(head).1;
                }
                assert!(fields >= heads.len());
            })
        });
        // Peers.
        g.bench_function("multer", |b| {
            b.iter(|| {
                assert_eq!(
                    runtime.block_on(multer_read(black_box(input.clone()), boundary.to_owned())),
                    expected
                )
            })
        });
        let message = [
            format!("Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n").as_bytes(),
            &p.bytes,
        ]
        .concat();
        g.bench_function("mail_parser", |b| {
            b.iter(|| assert_eq!(mail_parser_read(black_box(&message)), expected))
        });
        g.bench_function("mailparse", |b| {
            b.iter(|| assert_eq!(mailparse_read(black_box(&message)), expected))
        });
        g.finish();
    }
}

criterion_group! {
    name = peer_benches;
    // Long enough that the machine's noise averages out of the medians the table is made from.
    config = Criterion::default().sample_size(30).warm_up_time(std::time::Duration::from_secs(1)).measurement_time(std::time::Duration::from_secs(4));
    targets = peers
}
criterion_main!(peer_benches);
