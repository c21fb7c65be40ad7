//! Structured input: a batch model (requests or responses, changesets, Content-IDs, `$n` references,
//! arbitrary bodies and header values). Whatever the encoder accepts must decode, whole and in chunks, to
//! exactly the model; whatever it refuses must be refused with a rule, never a panic.
#![no_main]

use arbitrary::Arbitrary;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use odata_batch::{BatchDecoder, BatchRequest, BatchResponse, EncodeOptions, Event};

#[derive(Arbitrary, Debug)]
struct Op {
    method: u8,
    path: String,
    reference: Option<u8>,
    content_id: Option<String>,
    headers: Vec<(u8, String)>,
    body: Vec<u8>,
    status: u16,
}

#[derive(Arbitrary, Debug)]
enum Entry {
    Op(Op),
    Changeset(Vec<Op>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    responses: bool,
    seed: u64,
    chunk: u8,
    entries: Vec<Entry>,
}

const METHODS: [http::Method; 5] = [http::Method::GET, http::Method::POST, http::Method::PATCH, http::Method::PUT, http::Method::DELETE];
const NAMES: [&str; 4] = ["content-type", "accept", "if-match", "x-fuzz"];

fn events_chunked(content_type: &str, body: &[u8], chunk: usize) -> Vec<Event> {
    let mut d = BatchDecoder::from_content_type(content_type).unwrap();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in body.chunks(chunk) {
        buf.extend_from_slice(piece);
        while let Some(e) = d.decode(&mut buf).unwrap() {
            out.push(e);
        }
    }
    while let Some(e) = d.decode_eof(&mut buf).unwrap() {
        out.push(e);
    }
    out
}

fn body_bytes(events: &[Event]) -> usize {
    events.iter().map(|e| if let Event::Body(b) = e { b.len() } else { 0 }).sum()
}

fuzz_target!(|input: Input| {
    let mut options = EncodeOptions::new();
    options.seed(input.seed);
    let chunk = usize::from(input.chunk % 64) + 1;
    if input.responses {
        let mut batch = BatchResponse::builder();
        for entry in &input.entries {
            let ops: Vec<&Op> = match entry {
                Entry::Op(op) => vec![op],
                Entry::Changeset(ops) => ops.iter().collect(),
            };
            let in_cs = matches!(entry, Entry::Changeset(_));
            let mut cs = batch.changeset();
            for op in ops {
                let Ok(status) = http::StatusCode::from_u16(op.status % 900 + 100) else { continue };
                let mut item = odata_batch::ResponseItem::new(status);
                item.body = op.body.clone().into();
                item.content_id = op.content_id.clone();
                for (n, v) in &op.headers {
                    if let Ok(v) = http::HeaderValue::from_str(v.trim()) {
                        item.headers.append(NAMES[usize::from(*n) % 4], v);
                    }
                }
                if in_cs {
                    cs.push(item);
                } else {
                    batch.push(item);
                    cs = batch.changeset();
                }
            }
        }
        // Items are pushed whole: the builder refuses nothing.
        let batch = batch.build().expect("nothing to refuse");
        if let Ok(encoded) = batch.encode_with(&options) {
            let back = BatchResponse::decode(&encoded.content_type, encoded.body.clone()).expect("encoded batch decodes");
            assert_eq!(back, batch);
            let events = events_chunked(&encoded.content_type, &encoded.body, chunk);
            assert_eq!(body_bytes(&events), batch.items.iter().map(|i| i.body.len()).sum::<usize>());
        }
    } else {
        let mut batch = BatchRequest::builder();
        let mut ids: Vec<String> = Vec::new();
        for entry in &input.entries {
            let (ops, in_cs): (Vec<&Op>, bool) = match entry {
                Entry::Op(op) => (vec![op], false),
                Entry::Changeset(ops) => (ops.iter().collect(), true),
            };
            let mut cs = batch.changeset();
            for op in ops {
                let url = match op.reference {
                    Some(r) if !ids.is_empty() => format!("${}/{}", ids[usize::from(r) % ids.len()], op.path),
                    _ => op.path.clone(),
                };
                let mut item = odata_batch::RequestItem::new(METHODS[usize::from(op.method) % 5].clone(), url);
                item.body = op.body.clone().into();
                item.content_id = op.content_id.clone();
                for (n, v) in &op.headers {
                    if let Ok(v) = http::HeaderValue::from_str(v.trim()) {
                        item.headers.append(NAMES[usize::from(*n) % 4], v);
                    }
                }
                if let Some(id) = &item.content_id {
                    ids.push(id.clone());
                }
                if in_cs {
                    cs.push(item);
                } else {
                    batch.push(item);
                    cs = batch.changeset();
                }
            }
        }
        // Items are pushed whole: the builder refuses nothing.
        let batch = batch.build().expect("nothing to refuse");
        if let Ok(encoded) = batch.encode_with(&options) {
            let back = BatchRequest::decode(&encoded.content_type, encoded.body.clone()).expect("encoded batch decodes");
            assert_eq!(back, batch);
            let events = events_chunked(&encoded.content_type, &encoded.body, chunk);
            assert_eq!(body_bytes(&events), batch.items.iter().map(|i| i.body.len()).sum::<usize>());
        }
    }
});
