//! [`Limits`]: every bound the decoder enforces, each finite by default except the optional body size.

/// Bounds on what the decoder accepts. A bound that is exceeded fails the decode with
/// [`DecodeErrorKind::LimitExceeded`](crate::DecodeErrorKind::LimitExceeded), naming the bound and its value.
///
/// The defaults suit a client reading responses from a server it trusts:
///
/// | bound | default | why |
/// | --- | --- | --- |
/// | [`max_head_bytes`](Self::max_head_bytes) | 256 KiB | a part's MIME headers plus its embedded HTTP head; admits a 64 KiB request URL (long FetchXML `GET`s) with room to spare |
/// | [`max_headers`](Self::max_headers) | 256 | per header block (MIME part headers, embedded HTTP headers) |
/// | [`max_operations`](Self::max_operations) | 100 000 | operations in the whole batch (Dataverse allows 1000 per request) |
/// | [`max_changeset_operations`](Self::max_changeset_operations) | 100 000 | operations in one changeset |
/// | [`max_body_bytes`](Self::max_body_bytes) | none | bodies stream out as [`Event::Body`](crate::Event::Body) chunks, so memory does not grow with them |
///
/// Changeset nesting is fixed by OData: a batch holds changesets, a changeset holds operations.
///
/// A server reading requests from untrusted clients should tighten them, for example with
/// [`Limits::server`]. The decoder copies its limits when it is built; changing a `Limits` value afterwards
/// has no effect on decoders already built.
///
/// # Example
///
/// ```
/// use odata_batch::{BatchDecoder, Limits};
///
/// let mut limits = Limits::server();
/// limits.max_operations = 1000;
/// let decoder = BatchDecoder::builder().limits(limits).build("batch_1").unwrap();
/// assert_eq!(decoder.limits().max_operations, 1000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest head of one part, in bytes: MIME part headers, blank line, embedded start line and headers,
    /// blank line. Also bounds a single delimiter line including its transport padding.
    pub max_head_bytes: usize,
    /// Most header lines in one header block.
    pub max_headers: usize,
    /// Most operations in the batch, changeset members included.
    pub max_operations: usize,
    /// Most operations in one changeset.
    pub max_changeset_operations: usize,
    /// Largest body of one operation, in bytes; `None` for no bound.
    pub max_body_bytes: Option<u64>,
}

impl Limits {
    /// Defaults for a client reading a trusted server (the table above).
    pub const fn client() -> Self {
        Self {
            max_head_bytes: 256 * 1024,
            max_headers: 256,
            max_operations: 100_000,
            max_changeset_operations: 100_000,
            max_body_bytes: None,
        }
    }

    /// Tighter bounds for a server reading untrusted requests: 80 KiB heads (a 64 KiB URL still fits),
    /// 64 headers per block, 1000 operations per batch and per changeset (the Dataverse limit), 16 MiB bodies.
    pub const fn server() -> Self {
        Self {
            max_head_bytes: 80 * 1024,
            max_headers: 64,
            max_operations: 1000,
            max_changeset_operations: 1000,
            max_body_bytes: Some(16 * 1024 * 1024),
        }
    }
}

impl Default for Limits {
    /// Same as [`Limits::client`].
    fn default() -> Self {
        Self::client()
    }
}
