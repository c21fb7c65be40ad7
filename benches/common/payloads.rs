//! The four payload shapes of `benches/peers.rs`, generated; shared with `examples/profile_decode.rs` so that
//! the profiler reads what the bench measures.

pub(crate) const BATCH: &str = "batchresponse_5f0d2c6e-3a41-4b8e-9c77-1e2d3c4b5a69";
pub(crate) const CHANGESET: &str = "changesetresponse_8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d";

/// A payload, its boundaries (the batch's, then the changeset's if any), and what reading it must find.
pub(crate) struct Payload {
    pub(crate) name: &'static str,
    pub(crate) bytes: Vec<u8>,
    pub(crate) boundaries: Vec<&'static str>,
    pub(crate) operations: usize,
    pub(crate) body_bytes: usize,
}

/// Builds payloads part by part, counting what a reader must find.
struct Writer {
    out: String,
    operations: usize,
    body_bytes: usize,
}

impl Writer {
    fn new() -> Self {
        Self {
            out: String::new(),
            operations: 0,
            body_bytes: 0,
        }
    }

    /// One `application/http` part: MIME headers, the embedded head (start line and headers, ending with its
    /// blank line), the body.
    fn operation(&mut self, boundary: &str, part_headers: &str, head: &str, body: &str) {
        self.out.push_str(&format!(
            "--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n{part_headers}\r\n{head}\r\n{body}\r\n"
        ));
        self.operations += 1;
        self.body_bytes += body.len();
    }

    fn open_changeset(&mut self) {
        self.out.push_str(&format!(
            "--{BATCH}\r\nContent-Type: multipart/mixed; boundary={CHANGESET}\r\n\r\n"
        ));
    }

    fn close(&mut self, boundary: &str) {
        self.out.push_str(&format!("--{boundary}--\r\n"));
    }

    fn finish(mut self, name: &'static str, boundaries: Vec<&'static str>) -> Payload {
        self.close(BATCH);
        Payload {
            name,
            bytes: self.out.into_bytes(),
            boundaries,
            operations: self.operations,
            body_bytes: self.body_bytes,
        }
    }
}

/// A JSON object of exactly `size` bytes, numbered `n`.
fn json(n: usize, size: usize) -> String {
    let mut s = format!("{{\"id\":\"{n:08}\",\"text\":\"");
    while s.len() < size - 2 {
        s.push_str("lorem ipsum ");
    }
    s.truncate(size - 2);
    s.push_str("\"}");
    s
}

pub(crate) fn payloads() -> Vec<Payload> {
    let mut v = Vec::new();
    // 1000 × 204 No Content with Location and OData-EntityId (Dataverse's answer to creates).
    let mut w = Writer::new();
    for i in 0..1000 {
        let url = format!("https://org.crm.dynamics.com/api/data/v9.2/accounts(00000000-0000-0000-0000-{i:012})");
        let head =
            format!("HTTP/1.1 204 No Content\r\nOData-Version: 4.0\r\nLocation: {url}\r\nOData-EntityId: {url}\r\n");
        w.operation(BATCH, "", &head, "");
    }
    v.push(w.finish("204_location", vec![BATCH]));
    // 1000 × 200 with a 1 KiB JSON body.
    let mut w = Writer::new();
    for i in 0..1000 {
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json; odata.metadata=minimal\r\nOData-Version: 4.0\r\n";
        w.operation(BATCH, "", head, &json(i, 1024));
    }
    v.push(w.finish("json_1k", vec![BATCH]));
    // 100 × 200 with a 100 KiB body.
    let mut w = Writer::new();
    for i in 0..100 {
        w.operation(
            BATCH,
            "",
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
            &json(i, 100 * 1024),
        );
    }
    v.push(w.finish("100k_bodies", vec![BATCH]));
    // A request: 1000 POSTs with 256-byte JSON bodies in 20 changesets of 50, Content-IDs and `$n` references.
    let mut w = Writer::new();
    for c in 0..20 {
        w.open_changeset();
        for k in 0..50 {
            let id = c * 50 + k + 1;
            let target = if k == 0 {
                "accounts".to_owned()
            } else {
                format!("${}/contact_customer_accounts", c * 50 + 1)
            };
            let head = format!(
                "POST {target} HTTP/1.1\r\nContent-Type: application/json;type=entry\r\nAccept: application/json\r\n"
            );
            w.operation(CHANGESET, &format!("Content-ID: {id}\r\n"), &head, &json(id, 256));
        }
        w.close(CHANGESET);
    }
    v.push(w.finish("request_changesets", vec![BATCH, CHANGESET]));
    v
}
