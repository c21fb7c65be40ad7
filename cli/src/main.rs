//! `odata-batch`: look at OData `$batch` payloads from a shell.
//!
//! Exit codes: 0 success, 1 malformed input (the message, with its byte offset, on stderr), 2 usage errors
//! (including an input file that cannot be read).

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use odata_batch::{BatchError, BatchRequest, BatchResponse, ErrorKind};

mod message;

#[derive(Parser)]
#[command(name = "odata-batch", version, about = "Read OData $batch payloads")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode a multipart batch (request or response) and print it as the OData 4.01 JSON batch format.
    ///
    /// Without --content-type the input is a whole captured HTTP message (start line, headers, blank line,
    /// body), as a proxy or browser saves it, and the Content-Type comes from its headers; a chunked body is
    /// de-chunked. With --content-type the input is the bare body.
    Decode {
        /// The input file; `-` or nothing for standard input.
        file: Option<PathBuf>,
        /// The batch's Content-Type (`multipart/mixed; boundary=...`) when the input is a bare body.
        #[arg(long)]
        content_type: Option<String>,
        /// Print compact JSON on one line instead of indented JSON.
        #[arg(long)]
        compact: bool,
    },
    /// Encode an OData 4.01 JSON batch request (`{"requests":[...]}`) as a multipart body to send.
    ///
    /// The body goes to standard output, the `Content-Type: ...` line to standard error (or to the file
    /// given with --content-type-out). `atomicityGroup` becomes a changeset, `id` the Content-ID.
    Encode {
        /// The input file; `-` or nothing for standard input.
        file: Option<PathBuf>,
        /// Use this batch boundary instead of a generated one.
        #[arg(long)]
        boundary: Option<String>,
        /// Write the Content-Type header value to this file instead of standard error.
        #[arg(long)]
        content_type_out: Option<PathBuf>,
    },
}

/// A failure with its exit code.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn malformed(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }

    fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }
}

fn read_input(file: Option<&PathBuf>) -> Result<Vec<u8>, Failure> {
    let mut data = Vec::new();
    match file {
        Some(path) if path.as_os_str() != "-" => {
            data = std::fs::read(path).map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
        }
        _ => {
            io::stdin()
                .read_to_end(&mut data)
                .map_err(|e| Failure::usage(format!("cannot read standard input: {e}")))?;
        }
    }
    Ok(data)
}

/// A decoded batch of either kind.
enum Decoded {
    Requests(BatchRequest),
    Responses(BatchResponse),
}

/// Decodes as a response batch, or as a request batch when the parts are requests.
fn decode_batch(content_type: &str, body: bytes::Bytes, request_hint: Option<bool>) -> Result<Decoded, Failure> {
    let describe = |e: BatchError| match e.non_batch_media_type() {
        Some(mt) => Failure::malformed(format!("not a multipart batch: the Content-Type is {mt}")),
        None => Failure::malformed(e.to_string()),
    };
    let as_request = |body| BatchRequest::decode(content_type, body).map(Decoded::Requests);
    let as_response = |body| BatchResponse::decode(content_type, body).map(Decoded::Responses);
    let wrong_kind = |e: &BatchError| {
        e.decode_error()
            .is_some_and(|d| d.kind() == ErrorKind::UnexpectedMessageKind)
    };
    match request_hint {
        Some(true) => as_request(body).map_err(describe),
        Some(false) => as_response(body).map_err(describe),
        None => match as_response(body.clone()) {
            Err(e) if wrong_kind(&e) => as_request(body).map_err(describe),
            other => other.map_err(describe),
        },
    }
}

fn to_json<T: serde::Serialize>(value: &T, compact: bool) -> Result<String, Failure> {
    let json = if compact {
        serde_json::to_string(value)
    } else {
        serde_json::to_string_pretty(value)
    };
    json.map_err(|e| Failure::malformed(format!("cannot write JSON: {e}")))
}

fn encode(file: Option<&PathBuf>, boundary: Option<String>, content_type_out: Option<PathBuf>) -> Result<(), Failure> {
    let input = read_input(file)?;
    let batch = BatchRequest::from_json(&input).map_err(|e| Failure::malformed(e.to_string()))?;
    let mut options = odata_batch::EncodeOptions::new();
    if let Some(b) = boundary {
        let b = odata_batch::Boundary::new(&b).map_err(|e| Failure::usage(format!("--boundary: {e}")))?;
        options.boundary(b);
    }
    let encoded = batch
        .encode_with(&options)
        .map_err(|e| Failure::malformed(e.to_string()))?;
    match content_type_out {
        Some(path) => std::fs::write(&path, format!("{}\n", encoded.content_type))
            .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?,
        None => eprintln!("Content-Type: {}", encoded.content_type),
    }
    let mut stdout = io::stdout().lock();
    let _ = stdout.write_all(&encoded.body).and_then(|()| stdout.flush());
    Ok(())
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Encode {
            file,
            boundary,
            content_type_out,
        } => encode(file.as_ref(), boundary, content_type_out),
        Command::Decode {
            file,
            content_type,
            compact,
        } => {
            let input = read_input(file.as_ref())?;
            let (content_type, body, hint) = match content_type {
                Some(ct) => (ct, bytes::Bytes::from(input), None),
                None => {
                    let msg = message::parse(&input).map_err(Failure::malformed)?;
                    let ct = msg.content_type.ok_or_else(|| {
                        Failure::malformed("the captured message has no Content-Type header (or pass --content-type)")
                    })?;
                    (ct, msg.body, Some(msg.is_request))
                }
            };
            let out = match decode_batch(&content_type, body, hint)? {
                Decoded::Requests(b) => to_json(&b, compact)?,
                Decoded::Responses(b) => to_json(&b, compact)?,
            };
            let mut stdout = io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = writeln!(stdout, "{out}").and_then(|()| stdout.flush());
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("odata-batch: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}
