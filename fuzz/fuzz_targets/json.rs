//! The JSON batch reader on arbitrary bytes. The first byte picks the role and the chunk sizes; read whole
//! and in chunks, the events (or the error, with its item and offset) must be the same, and a document that
//! reads and can be written again must read back to the same batch. With a maximum item size (four times the
//! chunk size), whole and chunked reading must agree too.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use odata_batch::json::{JsonBatchReader, JsonError, JsonEvent, JsonReadOptions};
use odata_batch::{BatchRequest, BatchResponse, MessageKind};

fn read(kind: MessageKind, data: &[u8], size: usize, options: &JsonReadOptions) -> Result<Vec<JsonEvent>, JsonError> {
    let mut reader = JsonBatchReader::with_options(kind, options.clone());
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    for chunk in data.chunks(size) {
        buf.extend_from_slice(chunk);
        while let Some(e) = reader.decode(&mut buf)? {
            events.push(e);
            assert!(events.len() <= data.len() + 2, "no progress");
        }
    }
    while let Some(e) = reader.decode_eof(&mut buf)? {
        events.push(e);
        assert!(events.len() <= data.len() + 2, "read_eof does not end");
    }
    Ok(events)
}

fuzz_target!(|input: &[u8]| {
    let Some((&first, data)) = input.split_first() else { return };
    let kind = if first & 1 == 0 { MessageKind::Request } else { MessageKind::Response };
    let size = usize::from(first >> 1) % 64 + 1;
    let options = JsonReadOptions::new();
    let whole = read(kind, data, data.len().max(1), &options);
    assert_eq!(whole, read(kind, data, size, &options));
    // With a maximum item size: the same outcome whole and in chunks too.
    let mut limited = JsonReadOptions::new();
    limited.max_item_bytes(Some(size * 4));
    assert_eq!(read(kind, data, data.len().max(1), &limited), read(kind, data, size, &limited));
    if let Ok(events) = &whole {
        assert!(matches!(events.last(), Some(JsonEvent::Finished)), "a read ends with Finished");
    }
    match kind {
        MessageKind::Request => {
            assert_eq!(whole.is_ok(), BatchRequest::from_json(data).is_ok());
            if let Ok(batch) = BatchRequest::from_json(data) {
                if let Ok(json) = batch.to_json() {
                    assert_eq!(BatchRequest::from_json(&json).unwrap(), batch);
                }
            }
        }
        MessageKind::Response => {
            assert_eq!(whole.is_ok(), BatchResponse::from_json(data).is_ok());
            if let Ok(batch) = BatchResponse::from_json(data) {
                if let Ok(json) = batch.to_json() {
                    assert_eq!(BatchResponse::from_json(&json).unwrap(), batch);
                }
            }
        }
    }
});
