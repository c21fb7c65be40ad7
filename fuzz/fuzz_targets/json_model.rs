//! The JSON model conversions on arbitrary documents, both roles: `from_json` -> multipart -> model and
//! `encode_json` / `to_json` -> `from_json` must give the same batch when every step accepts it; a step that
//! cannot carry something refuses with an error; the streaming response writer writes the bytes `to_json` writes.
//! Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odata_batch::{BatchRequest, BatchResponse, EncodeOptions};

fuzz_target!(|input: &[u8]| {
    let Some((&first, doc)) = input.split_first() else { return };
    if first & 1 == 0 {
        let Ok(batch) = BatchRequest::from_json(doc) else { return };
        if let Ok(encoded) = batch.encode_json(&EncodeOptions::new()) {
            let back = BatchRequest::from_json(&encoded.body).expect("encode_json output reads back");
            assert_eq!(back, batch, "JSON -> model -> JSON -> model");
        }
        if let Ok(encoded) = batch.encode_with(&EncodeOptions::new()) {
            let back = BatchRequest::decode(&encoded.content_type, encoded.body).expect("multipart output decodes");
            assert_eq!(back.items.len(), batch.items.len(), "JSON -> multipart -> model keeps every request");
            for (a, b) in back.items.iter().zip(&batch.items) {
                assert_eq!((&a.method, &a.url, &a.headers, &a.body), (&b.method, &b.url, &b.headers, &b.body));
            }
        }
    } else {
        let Ok(batch) = BatchResponse::from_json(doc) else { return };
        let written = batch.to_json();
        if let Ok(json) = &written {
            let back = BatchResponse::from_json(json).expect("to_json output reads back");
            assert_eq!(back, batch, "JSON -> model -> JSON -> model");
        }
        // The streaming writer writes what to_json writes, or refuses an id that is a group name it wrote.
        let mut out = Vec::new();
        let mut writer = odata_batch::json::ResponseDocumentWriter::new(false);
        writer.begin(&mut out);
        let streamed = batch
            .items
            .iter()
            .try_for_each(|item| writer.response(&mut out, item))
            .and_then(|()| writer.finish(&mut out, &batch.annotations, batch.next_link.as_deref()));
        match (&written, streamed) {
            (Ok(json), Ok(())) => assert_eq!(&out[..], &json[..], "streamed and whole writing differ"),
            (_, Err(e)) => assert!(
                written.is_err() || matches!(e.kind(), odata_batch::json::JsonErrorKind::IdEqualsGroup(_)),
                "the streaming writer refused what to_json wrote: {e}"
            ),
            (Err(e), Ok(())) => panic!("the streaming writer wrote what to_json refused: {e}"),
        }
        if let Ok(encoded) = batch.encode() {
            let back = BatchResponse::decode(&encoded.content_type, encoded.body).expect("multipart output decodes");
            assert_eq!(back.items.len(), batch.items.len());
            for (a, b) in back.items.iter().zip(&batch.items) {
                assert_eq!((a.status, &a.headers, &a.body), (b.status, &b.headers, &b.body));
            }
        }
    }
});
