//! Hand-written fixtures, CRLF-exact byte strings, each with what the lenient (default) and the strict
//! decoder must make of it. Used by `fixtures.rs` (expectations), `chunking.rs` (every split, every prefix).

use odata_batch::DecodeErrorKind;

/// Where an error is expected: the first occurrence of a marker string plus a delta, or the end of input.
#[derive(Debug, Clone, Copy)]
pub enum Pos {
    At(&'static str, i64),
    End,
}

/// What decoding must give.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// Success, with this summary (see `summary`).
    Ok(&'static str),
    Err(DecodeErrorKind, Pos),
}

pub struct Fixture {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    pub lenient: Expect,
    pub strict: Expect,
}

use Expect::{Err, Ok};
use Pos::{At, End};

const CT: &str = "multipart/mixed; boundary=batch_1";

macro_rules! fixtures {
    ($($name:literal, $ct:expr, $bytes:expr, lenient: $l:expr, strict: $s:expr;)*) => {
        pub const FIXTURES: &[Fixture] = &[$(Fixture { name: $name, content_type: $ct, bytes: $bytes, lenient: $l, strict: $s }),*];
    };
}

fixtures! {
    // ---- well-formed shapes from real services -------------------------------------------------------
    "dataverse-request", "multipart/mixed; boundary=batch_AAA123",
    concat!(
        "--batch_AAA123\r\n",
        "Content-Type: multipart/mixed; boundary=changeset_BBB456\r\n",
        "\r\n",
        "--changeset_BBB456\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "Content-ID: 1\r\n",
        "\r\n",
        "POST https://org.crm.dynamics.com/api/data/v9.2/accounts HTTP/1.1\r\n",
        "Content-Type: application/json;type=entry\r\n",
        "\r\n",
        "{\"name\":\"Sample Account\"}\r\n",
        "--changeset_BBB456\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "Content-ID: 2\r\n",
        "\r\n",
        "POST $1/contact_customer_accounts HTTP/1.1\r\n",
        "Content-Type: application/json;type=entry\r\n",
        "\r\n",
        "{\"firstname\":\"Jane\",\"lastname\":\"Doe\"}\r\n",
        "--changeset_BBB456--\r\n",
        "\r\n",
        "--batch_AAA123\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "\r\n",
        "GET https://org.crm.dynamics.com/api/data/v9.2/accounts?$select=name&$top=5 HTTP/1.1\r\n",
        "Accept: application/json\r\n",
        "\r\n",
        "\r\n",
        "--batch_AAA123--\r\n",
    ).as_bytes(),
    lenient: Ok("[POST#1 POST#2] GET"), strict: Ok("[POST#1 POST#2] GET");

    "dataverse-response", "multipart/mixed; boundary=batchresponse_c1bd45c1",
    concat!(
        "--batchresponse_c1bd45c1\r\n",
        "Content-Type: multipart/mixed; boundary=changesetresponse_ff83b4f1\r\n",
        "\r\n",
        "--changesetresponse_ff83b4f1\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "Content-ID: 1\r\n",
        "\r\n",
        "HTTP/1.1 204 No Content\r\n",
        "OData-Version: 4.0\r\n",
        "Location: https://org.crm.dynamics.com/api/data/v9.2/accounts(1)\r\n",
        "OData-EntityId: https://org.crm.dynamics.com/api/data/v9.2/accounts(1)\r\n",
        "\r\n",
        "\r\n",
        "--changesetresponse_ff83b4f1--\r\n",
        "--batchresponse_c1bd45c1\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "\r\n",
        "HTTP/1.1 400 Bad Request\r\n",
        "REQ_ID: 5ecd1cb3\r\n",
        "Content-Type: application/json; odata.metadata=minimal\r\n",
        "OData-Version: 4.0\r\n",
        "\r\n",
        "{\"error\":{\"code\":\"0x0\",\"message\":\"bad\"}}\r\n",
        "--batchresponse_c1bd45c1--\r\n",
    ).as_bytes(),
    lenient: Ok("[204#1] 400"), strict: Ok("[204#1] 400");

    // SharePoint answers a changeset with its responses at top level, without the changeset wrapper.
    "sharepoint-response-unwrapped-changeset", "multipart/mixed; boundary=batchresponse_8ad8e9f6",
    concat!(
        "--batchresponse_8ad8e9f6\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "\r\n",
        "HTTP/1.1 204 No Content\r\n",
        "CONTENT-TYPE: application/json;odata=verbose;charset=utf-8\r\n",
        "\r\n",
        "\r\n",
        "--batchresponse_8ad8e9f6\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "\r\n",
        "HTTP/1.1 201 Created\r\n",
        "CONTENT-TYPE: application/json;odata=verbose;charset=utf-8\r\n",
        "ETAG: \"1\"\r\n",
        "\r\n",
        "{\"d\":{\"Title\":\"New\"}}\r\n",
        "--batchresponse_8ad8e9f6--\r\n",
    ).as_bytes(),
    lenient: Ok("204 201"), strict: Ok("204 201");

    "sharepoint-request", "multipart/mixed; boundary=batch_e3b6819b",
    concat!(
        "--batch_e3b6819b\r\n",
        "Content-Type: multipart/mixed; boundary=\"changeset_6d2a1b7e\"\r\n",
        "Content-Length: 434\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "\r\n",
        "--changeset_6d2a1b7e\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "\r\n",
        "PATCH https://contoso.sharepoint.com/_api/Web/Lists/getByTitle('News')/Items(2) HTTP/1.1\r\n",
        "Content-Type: application/json;odata=verbose\r\n",
        "IF-MATCH: *\r\n",
        "\r\n",
        "{\"__metadata\":{\"type\":\"SP.Data.NewsItem\"},\"Title\":\"x\"}\r\n",
        "\r\n",
        "--changeset_6d2a1b7e--\r\n",
        "\r\n",
        "--batch_e3b6819b\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "\r\n",
        "GET https://contoso.sharepoint.com/_api/Web/Lists/getByTitle('News')/items HTTP/1.1\r\n",
        "Accept: application/json;odata=verbose\r\n",
        "\r\n",
        "\r\n",
        "--batch_e3b6819b--\r\n",
    ).as_bytes(),
    lenient: Ok("[PATCH] GET"), strict: Ok("[PATCH] GET");

    // Creatio puts Content-ID among the embedded HTTP headers.
    "creatio-request-content-id-inside", "multipart/mixed; boundary=batch_a1",
    concat!(
        "--batch_a1\r\n",
        "Content-Type: multipart/mixed; boundary=changeset_b2\r\n",
        "\r\n",
        "--changeset_b2\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "\r\n",
        "POST /0/odata/Contact HTTP/1.1\r\n",
        "Content-ID: 1\r\n",
        "Content-Type: application/json;odata=verbose\r\n",
        "Prefer: return=representation\r\n",
        "\r\n",
        "{\"Name\":\"Ann\"}\r\n",
        "--changeset_b2\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "\r\n",
        "PATCH $1 HTTP/1.1\r\n",
        "Content-ID: 2\r\n",
        "Content-Type: application/json;odata=verbose\r\n",
        "\r\n",
        "{\"JobTitle\":\"CEO\"}\r\n",
        "--changeset_b2--\r\n",
        "--batch_a1--\r\n",
    ).as_bytes(),
    lenient: Ok("[POST#1 PATCH#2]"), strict: Ok("[POST#1 PATCH#2]");

    "creatio-response", "multipart/mixed; boundary=batchresponse_9f",
    concat!(
        "--batchresponse_9f\r\n",
        "Content-Type: multipart/mixed; boundary=changesetresponse_7e\r\n",
        "\r\n",
        "--changesetresponse_7e\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "Content-ID: 1\r\n",
        "\r\n",
        "HTTP/1.1 201 Created\r\n",
        "Content-Type: application/json; odata.metadata=minimal\r\n",
        "Location: https://x.creatio.com/0/odata/Contact(1)\r\n",
        "\r\n",
        "{\"Id\":\"1\",\"Name\":\"Ann\"}\r\n",
        "--changesetresponse_7e--\r\n",
        "--batchresponse_9f--\r\n",
    ).as_bytes(),
    lenient: Ok("[201#1]"), strict: Ok("[201#1]");

    "empty-batch", CT, b"--batch_1--\r\n",
    lenient: Ok(""), strict: Ok("");

    "empty-changeset", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs--\r\n--batch_1--\r\n",
    lenient: Ok("[]"), strict: Ok("[]");

    // ---- tolerances (on by default, off in strict) ------------------------------------------------
    "lf-only", CT,
    b"--batch_1\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n\nGET People HTTP/1.1\n\n\n--batch_1--\n",
    lenient: Ok("GET"), strict: Err(DecodeErrorKind::BareLineFeed, At("\nContent-Type", 0));

    "mixed-line-endings", CT,
    b"--batch_1\r\nContent-Type: application/http\nContent-Transfer-Encoding: binary\r\n\nHTTP/1.1 200 OK\r\n\r\nbody\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Err(DecodeErrorKind::BareLineFeed, At("\nContent-Transfer", 0));

    "transport-padding", CT,
    b"--batch_1  \t\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET People HTTP/1.1\r\n\r\n\r\n--batch_1-- \r\n",
    lenient: Ok("GET"), strict: Err(DecodeErrorKind::InvalidDelimiterLine, At("  \t", 0));

    "preamble-and-epilogue", CT,
    b"This is a preamble.\r\n--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET People HTTP/1.1\r\n\r\n\r\n--batch_1--\r\nAnd an epilogue.\r\n",
    lenient: Ok("GET"), strict: Err(DecodeErrorKind::UnexpectedPreamble, At("This", 0));

    "epilogue-only", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET People HTTP/1.1\r\n\r\n\r\n--batch_1--\r\n\r\ntrailing text",
    lenient: Ok("GET"), strict: Err(DecodeErrorKind::UnexpectedEpilogue, At("trailing", 0));

    "leading-crlf-is-not-a-preamble", CT,
    b"\r\n--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET People HTTP/1.1\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("GET"), strict: Ok("GET");

    "close-without-final-line-end", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET People HTTP/1.1\r\n\r\n\r\n--batch_1--",
    lenient: Ok("GET"), strict: Err(DecodeErrorKind::Truncated, End);

    "header-names-in-any-case", "Multipart/Mixed; BOUNDARY=batch_1",
    b"--batch_1\r\ncontent-TYPE: Application/HTTP\r\ncontent-transfer-encoding: BINARY\r\ncOnTeNt-Id: 7\r\n\r\nHTTP/1.1 200 OK\r\nCONTENT-type: text/plain\r\n\r\nhi\r\n--batch_1--\r\n",
    lenient: Ok("200#7"), strict: Ok("200#7");

    "obsolete-folding", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\nX-Long: first\r\n second\r\n\r\nhi\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Err(DecodeErrorKind::ObsoleteLineFolding, At(" second", 0));

    "missing-transfer-encoding", CT,
    b"--batch_1\r\nContent-Type: application/http\r\n\r\nGET People HTTP/1.1\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("GET"), strict: Err(DecodeErrorKind::MissingTransferEncoding, At("Content-Type", 0));

    // A failed changeset answered by one error part in its place.
    "failed-changeset-as-one-part", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n{\"error\":{\"code\":\"\",\"message\":\"x\"}}\r\n--batch_1--\r\n",
    lenient: Ok("400"), strict: Ok("400");

    "delimiter-lookalikes-stay-in-body", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\n\r\nmid --batch_1 line\r\n--batch_1X\r\n--batch_1-\r\n--batch_1---\r\n-batch_1\r\n--batch_\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Err(DecodeErrorKind::DelimiterLookalike, At("--batch_1X", 0));

    "nested-boundary-shares-prefix", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed; boundary=batch_1_cs\r\n\r\n--batch_1_cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 201 Created\r\n\r\nx\r\n--batch_1_cs--\r\n--batch_1--\r\n",
    lenient: Ok("[201]"), strict: Err(DecodeErrorKind::OverlappingBoundaries, At("batch_1_cs", 0));

    "outer-boundary-extends-inner", "multipart/mixed; boundary=cs_long",
    b"--cs_long\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 201 Created\r\n\r\nx\r\n--cs--\r\n--cs_long--\r\n",
    lenient: Ok("[201]"), strict: Err(DecodeErrorKind::OverlappingBoundaries, At("cs\r\n", 0));

    "unterminated-head", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET People HTTP/1.1\r\n\r\n--batch_1--\r\n",
    lenient: Ok("GET"), strict: Err(DecodeErrorKind::MissingHeadTerminator, At("--batch_1--", 0));

    "head-runs-into-delimiter", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET People HTTP/1.1\r\nAccept: */*\r\n--batch_1--\r\n",
    lenient: Ok("GET"), strict: Err(DecodeErrorKind::MissingHeadTerminator, At("--batch_1--", 0));

    "spaces-in-target", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET Products?$filter=Name eq 'W' HTTP/1.1\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("GET"), strict: Err(DecodeErrorKind::InvalidRequestLine, At("GET", 0));

    "request-line-without-version", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET People\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("GET"), strict: Ok("GET");

    "invalid-content-length", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 71,\r\n\r\nhi\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Err(DecodeErrorKind::InvalidContentLength, At("71,", 0));

    "start-line-trailing-space", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK \r\n\r\nhi\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Ok("200");

    // ---- always refused ------------------------------------------------------------------------------
    "empty-payload", CT, b"",
    lenient: Err(DecodeErrorKind::EmptyPayload, At("", 0)), strict: Err(DecodeErrorKind::EmptyPayload, At("", 0));

    "boundary-never-appears", CT,
    b"--batch_2\r\nContent-Type: application/http\r\n\r\nGET People HTTP/1.1\r\n\r\n\r\n--batch_2--\r\n",
    lenient: Err(DecodeErrorKind::BoundaryNotFound, End), strict: Err(DecodeErrorKind::UnexpectedPreamble, At("--batch_2", 0));

    "no-close-delimiter", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET People HTTP/1.1\r\n\r\n\r\n",
    lenient: Err(DecodeErrorKind::Truncated, End), strict: Err(DecodeErrorKind::Truncated, End);

    "ends-with-plain-delimiter", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET People HTTP/1.1\r\n\r\n\r\n--batch_1\r\n",
    lenient: Err(DecodeErrorKind::Truncated, End), strict: Err(DecodeErrorKind::Truncated, End);

    "changeset-not-closed-at-end", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    lenient: Err(DecodeErrorKind::Truncated, End), strict: Err(DecodeErrorKind::Truncated, End);

    "changeset-not-closed-before-batch-goes-on", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::UnclosedChangeset, At("\r\n--batch_1--", 0)), strict: Err(DecodeErrorKind::UnclosedChangeset, At("\r\n--batch_1--", 0));

    "nested-changeset", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: multipart/mixed; boundary=cs2\r\n\r\n--cs2--\r\n--cs--\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::NestedChangeset, At("multipart/mixed; boundary=cs2", 0)), strict: Err(DecodeErrorKind::NestedChangeset, At("multipart/mixed; boundary=cs2", 0));

    "changeset-without-boundary", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed\r\n\r\n--cs--\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::InvalidChangesetBoundary, At("multipart/mixed", 0)), strict: Err(DecodeErrorKind::InvalidChangesetBoundary, At("multipart/mixed", 0));

    "changeset-reuses-batch-boundary", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed; boundary=batch_1\r\n\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::ChangesetBoundaryReused, At("batch_1\r\n\r\n", 0)), strict: Err(DecodeErrorKind::ChangesetBoundaryReused, At("batch_1\r\n\r\n", 0));

    "part-content-type-text", CT,
    b"--batch_1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::UnsupportedContentType, At("text/plain", 0)), strict: Err(DecodeErrorKind::UnsupportedContentType, At("text/plain", 0));

    "part-without-content-type", CT,
    b"--batch_1\r\nContent-Transfer-Encoding: binary\r\n\r\nGET People HTTP/1.1\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::MissingContentType, At("Content-Transfer", 0)), strict: Err(DecodeErrorKind::MissingContentType, At("Content-Transfer", 0));

    "transfer-encoding-base64", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: base64\r\n\r\nR0VUIC8=\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::UnsupportedTransferEncoding, At("base64", 0)), strict: Err(DecodeErrorKind::UnsupportedTransferEncoding, At("base64", 0));

    "empty-http-part", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::EmptyPart, At("--batch_1--", 0)), strict: Err(DecodeErrorKind::EmptyPart, At("--batch_1--", 0));

    "request-line-without-target", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::InvalidRequestLine, At("GET", 0)), strict: Err(DecodeErrorKind::InvalidRequestLine, At("GET", 0));

    "request-line-bad-version", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET People SMTP:3.1\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::InvalidRequestLine, At("GET", 0)), strict: Err(DecodeErrorKind::InvalidRequestLine, At("GET", 0));

    "blank-line-instead-of-request-line", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\r\nGET People HTTP/1.1\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::InvalidRequestLine, At("\r\n\r\n\r\nGET", 4)), strict: Err(DecodeErrorKind::InvalidRequestLine, At("\r\n\r\n\r\nGET", 4));

    "status-line-without-code", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 No Content\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::InvalidStatusLine, At("HTTP/1.1", 0)), strict: Err(DecodeErrorKind::InvalidStatusLine, At("HTTP/1.1", 0));

    "status-line-bad-version", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/x 200 OK\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::InvalidStatusLine, At("HTTP/x", 0)), strict: Err(DecodeErrorKind::InvalidStatusLine, At("HTTP/x", 0));

    "header-line-without-colon", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\nNoColonHere\r\n\r\nhi\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::InvalidHeaderLine, At("NoColon", 0)), strict: Err(DecodeErrorKind::InvalidHeaderLine, At("NoColon", 0));

    "part-headers-without-blank-line", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nGET People HTTP/1.1\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::MissingBlankLine, At("GET", 0)), strict: Err(DecodeErrorKind::MissingBlankLine, At("GET", 0));

    "part-headers-run-into-delimiter", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::MissingBlankLine, At("--batch_1--", 0)), strict: Err(DecodeErrorKind::MissingBlankLine, At("--batch_1--", 0));

    "requests-and-responses-mixed", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET People HTTP/1.1\r\n\r\n\r\n--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::MixedRequestResponse, At("HTTP/1.1 200", 0)), strict: Err(DecodeErrorKind::MixedRequestResponse, At("HTTP/1.1 200", 0));

    // ---- request validation ------------------------------------------------------------------------------
    "get-in-changeset", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET People HTTP/1.1\r\n\r\n\r\n--cs--\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::Rule(odata_batch::Rule::MethodNotAllowedInChangeset), At("GET", 0)), strict: Err(DecodeErrorKind::Rule(odata_batch::Rule::MethodNotAllowedInChangeset), At("GET", 0));

    "head-in-changeset", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHEAD People HTTP/1.1\r\n\r\n\r\n--cs--\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::Rule(odata_batch::Rule::MethodNotAllowedInChangeset), At("HEAD", 0)), strict: Err(DecodeErrorKind::Rule(odata_batch::Rule::MethodNotAllowedInChangeset), At("HEAD", 0));

    "duplicate-content-id-in-changeset", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nPOST People HTTP/1.1\r\n\r\n{}\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nPOST People HTTP/1.1\r\n\r\n{}\r\n--cs--\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::Rule(odata_batch::Rule::DuplicateContentId), At("1\r\n\r\nPOST People HTTP/1.1\r\n\r\n{}\r\n--cs--", 0)), strict: Err(DecodeErrorKind::Rule(odata_batch::Rule::DuplicateContentId), At("1\r\n\r\nPOST People HTTP/1.1\r\n\r\n{}\r\n--cs--", 0));

    "same-content-id-in-two-changesets", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nPOST People HTTP/1.1\r\n\r\n{}\r\n--cs--\r\n--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nPOST People HTTP/1.1\r\n\r\n{}\r\n--cs--\r\n--batch_1--\r\n",
    lenient: Ok("[POST#1] [POST#1]"), strict: Ok("[POST#1] [POST#1]");

    "reference-to-undefined-id", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nPOST $2/Orders HTTP/1.1\r\n\r\n{}\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 2\r\n\r\nPOST People HTTP/1.1\r\n\r\n{}\r\n--cs--\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::Rule(odata_batch::Rule::UnknownContentIdReference), At("$2/Orders", 0)), strict: Err(DecodeErrorKind::Rule(odata_batch::Rule::UnknownContentIdReference), At("$2/Orders", 0));

    "reference-10-is-not-1", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nPOST People HTTP/1.1\r\n\r\n{}\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 2\r\n\r\nPOST $10/Orders HTTP/1.1\r\n\r\n{}\r\n--cs--\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::Rule(odata_batch::Rule::UnknownContentIdReference), At("$10", 0)), strict: Err(DecodeErrorKind::Rule(odata_batch::Rule::UnknownContentIdReference), At("$10", 0));

    "reference-to-earlier-changeset-and-system-resources", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 10\r\n\r\nPOST People HTTP/1.1\r\n\r\n{}\r\n--cs--\r\n--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET $10/Friends HTTP/1.1\r\n\r\n\r\n--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET $metadata HTTP/1.1\r\n\r\n\r\n--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET $crossjoin(People,Orders) HTTP/1.1\r\n\r\n\r\n--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET /$all HTTP/1.1\r\n\r\n\r\n--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET $entity?$id=People(1) HTTP/1.1\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("[POST#10] GET GET GET GET GET"), strict: Ok("[POST#10] GET GET GET GET GET");
    // ---- issue 11: a start line directly followed by a delimiter (no header line, no blank line) --------
    "status-line-then-close", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 204 No Content\r\n--batch_1--\r\n",
    lenient: Ok("204"), strict: Err(DecodeErrorKind::MissingHeadTerminator, At("--batch_1--", 0));

    "request-line-then-delimiter-mid-batch", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET x HTTP/1.1\r\n--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET y HTTP/1.1\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("GET GET"), strict: Err(DecodeErrorKind::MissingHeadTerminator, At("--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET y", 0));

    "request-line-then-close-lf", CT,
    b"--batch_1\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n\nGET x HTTP/1.1\n--batch_1--\n",
    lenient: Ok("GET"), strict: Err(DecodeErrorKind::BareLineFeed, At("\nContent-Type", 0));

    "status-line-then-changeset-close", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 201 Created\r\n--cs--\r\n--batch_1--\r\n",
    lenient: Ok("[201]"), strict: Err(DecodeErrorKind::MissingHeadTerminator, At("--cs--", 0));

    // ---- issue 11: what strict reading refuses and lenient reading accepts ----------------------------
    "lookalike-with-text-after-boundary", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\n\r\nline\r\n--batch_1 garbage\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Err(DecodeErrorKind::DelimiterLookalike, At("--batch_1 garbage", 0));

    "lookalike-lf-in-body", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\n\r\nline\n--batch_1XYZ\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Err(DecodeErrorKind::DelimiterLookalike, At("--batch_1XYZ", 0));

    "lookalike-at-body-start", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\n\r\n--batch_1XYZ\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Err(DecodeErrorKind::DelimiterLookalike, At("--batch_1XYZ", 0));

    "lookalike-in-preamble", CT,
    b"--batch_1X\r\n--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Err(DecodeErrorKind::DelimiterLookalike, At("--batch_1X", 0));

    "lookalike-in-embedded-headers", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\n--batch_1X: y\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Err(DecodeErrorKind::DelimiterLookalike, At("--batch_1X", 0));

    "lookalike-in-part-headers", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n--batch_1-x: y\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Err(DecodeErrorKind::DelimiterLookalike, At("--batch_1-x", 0));

    "lookalike-of-batch-inside-changeset", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 201 Created\r\n\r\nx\r\n--batch_1z\r\n--cs--\r\n--batch_1--\r\n",
    lenient: Ok("[201]"), strict: Err(DecodeErrorKind::DelimiterLookalike, At("--batch_1z", 0));

    "close-delimiter-with-trailer", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\n\r\nx\r\n--batch_1--x\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Err(DecodeErrorKind::InvalidCloseDelimiter, At("x\r\n--batch_1--\r\n", 0));

    "close-delimiter-with-dashes", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\n\r\nx\r\n--batch_1---\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Err(DecodeErrorKind::InvalidCloseDelimiter, At("-\r\n--batch_1--\r\n", 0));

    "changeset-close-with-trailer", CT,
    b"--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 201 Created\r\n\r\nx\r\n--cs--junk\r\n--cs--\r\n--batch_1--\r\n",
    lenient: Ok("[201]"), strict: Err(DecodeErrorKind::InvalidCloseDelimiter, At("junk", 0));

    "conflicting-part-content-type", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Err(DecodeErrorKind::ConflictingHeaders, At("Content-Type: multipart", 0));

    "repeated-part-header-same-value", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\ncontent-type: Application/HTTP\r\nContent-ID: 7\r\nContent-ID: 7\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("200#7"), strict: Ok("200#7");

    "conflicting-part-content-id", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\nContent-ID: 2\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("200#1"), strict: Err(DecodeErrorKind::ConflictingHeaders, At("Content-ID: 2", 0));

    "conflicting-transfer-encoding", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-Transfer-Encoding: base64\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Err(DecodeErrorKind::ConflictingHeaders, At("Content-Transfer-Encoding: base64", 0));

    "conflicting-embedded-content-id", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\nContent-ID: 1\r\nContent-ID: 2\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("200#1"), strict: Err(DecodeErrorKind::ConflictingHeaders, At("Content-ID: 2", 0));

    "part-and-embedded-content-id-differ", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nHTTP/1.1 200 OK\r\nContent-ID: 2\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("200#1"), strict: Err(DecodeErrorKind::ContentIdMismatch, At("2\r\n\r\n\r\n", 0));

    "part-and-embedded-content-id-agree", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nHTTP/1.1 200 OK\r\nContent-ID: 1\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("200#1"), strict: Ok("200#1");

    "content-length-longer-than-body", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nPOST People HTTP/1.1\r\nContent-Length: 5\r\n\r\n{}\r\n--batch_1--\r\n",
    lenient: Ok("POST"), strict: Err(DecodeErrorKind::ContentLengthMismatch, At("\r\n--batch_1--", 0));

    "content-length-shorter-than-body", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nPOST People HTTP/1.1\r\nContent-Length: 1\r\n\r\n{}\r\n--batch_1--\r\n",
    lenient: Ok("POST"), strict: Err(DecodeErrorKind::ContentLengthMismatch, At("\r\n--batch_1--", 0));

    "content-length-matches-body", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nPOST People HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}\r\n--batch_1--\r\n",
    lenient: Ok("POST"), strict: Ok("POST");

    "content-length-of-bodiless-response", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 120\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Ok("200");

    "content-length-twice-different", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nPOST People HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 3\r\n\r\n{}\r\n--batch_1--\r\n",
    lenient: Ok("POST"), strict: Err(DecodeErrorKind::ConflictingContentLength, At("content-length: 3", 0));

    "content-length-overflows", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nPOST People HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n{}\r\n--batch_1--\r\n",
    lenient: Ok("POST"), strict: Err(DecodeErrorKind::ContentLengthOverflow, At("18446744073709551616", 0));

    "embedded-transfer-encoding", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Err(DecodeErrorKind::TransferEncodingInPart, At("Transfer-Encoding: chunked", 0));

    // ---- issue 11: real servers' output -----------------------------------------------------------------
    "space-before-colon-in-response-header", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type : application/json\r\n\r\n{}\r\n--batch_1--\r\n",
    lenient: Ok("200"), strict: Err(DecodeErrorKind::InvalidHeaderLine, At("Content-Type :", 0));

    "unquoted-changeset-boundary-with-rfc2046-characters", "multipart/mixed;boundary=\"batch:m39/x=y\"",
    b"--batch:m39/x=y\r\nContent-Type: multipart/mixed;boundary=cs:1/a\r\n\r\n--cs:1/a\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 201 Created\r\n\r\nx\r\n--cs:1/a--\r\n--batch:m39/x=y--\r\n",
    lenient: Ok("[201]"), strict: Err(DecodeErrorKind::UnsupportedContentType, At("multipart/mixed;boundary=cs", 0));

    "target-is-a-version", CT,
    b"--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET HTTP/1.1\r\n\r\n\r\n--batch_1--\r\n",
    lenient: Err(DecodeErrorKind::InvalidRequestLine, At("GET HTTP", 0)), strict: Err(DecodeErrorKind::InvalidRequestLine, At("GET HTTP", 0));
}
