//! `odata-batch`: look at, write and convert OData `$batch` payloads (multipart and JSON) from a shell.
//!
//! Exit codes: 0 success, 1 malformed input (the message, with its byte offset, on stderr) or output that
//! cannot be written, 2 usage errors (including an input file that cannot be read), 3 a network or server
//! failure (`send`), 4 with `--fail` only: the batch ran but some operations failed. A closed standard output (`| head`) ends the program quietly with 0, as Unix filters do.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use odata_batch::json::JsonErrorKind;
use odata_batch::{AnyBatch, BatchFormat, BatchRequest, MessageKind};

#[derive(Parser)]
#[command(name = "odata-batch", version, about = "Read OData $batch payloads")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// A batch format on the command line.
#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// `multipart/mixed`
    Multipart,
    /// The OData 4.01 JSON batch format
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Decode a batch (multipart or JSON, request or response) and print it as the OData 4.01 JSON batch
    /// format.
    ///
    /// Without --content-type the input is a whole captured HTTP message (start line, headers, blank line,
    /// body), as a proxy or browser saves it, and the Content-Type comes from its headers; a chunked body is
    /// de-chunked. With --content-type the input is the bare body.
    Decode {
        /// The input file; `-` or nothing for standard input.
        file: Option<PathBuf>,
        /// The batch's Content-Type (`multipart/mixed; boundary=...` or `application/json`) when the input is
        /// a bare body.
        #[arg(long)]
        content_type: Option<String>,
        /// Print compact JSON on one line instead of indented JSON.
        #[arg(long)]
        compact: bool,
        /// Exit with 4 when the batch is a response in which some operations failed (status 400 or more).
        #[arg(long)]
        fail: bool,
    },
    /// Send a JSON batch request (`{"requests":[...]}`, as for `encode`) to `<URL>/$batch` and print the
    /// response as the OData 4.01 JSON batch format.
    ///
    /// More operations than --max-per-batch go out as several batches, in order, never splitting a
    /// changeset; a line on standard error tells the progress. Exit code 3 on a network or server failure,
    /// with the status and the service's error message.
    Send(SendArgs),
    /// Convert a batch, request or response, between the multipart and the JSON format.
    ///
    /// The input is a bare body. Its format is the one --content-type names; without it, a body starting
    /// with `{` is JSON and anything else multipart, with the boundary taken from its first delimiter line.
    /// A multipart result goes to standard output with its `Content-Type: ...` line on standard error (or
    /// in the file given with --content-type-out).
    Convert {
        /// The format to write.
        #[arg(long, value_enum)]
        to: Format,
        /// The input file; `-` or nothing for standard input.
        file: Option<PathBuf>,
        /// The input's Content-Type.
        #[arg(long)]
        content_type: Option<String>,
        /// Use this batch boundary when writing multipart.
        #[arg(long)]
        boundary: Option<String>,
        /// Write the Content-Type header value to this file instead of standard error.
        #[arg(long)]
        content_type_out: Option<PathBuf>,
    },
    /// Encode an OData 4.01 JSON batch request (`{"requests":[...]}`) as a body to send.
    ///
    /// The body goes to standard output, the `Content-Type: ...` line to standard error (or to the file
    /// given with --content-type-out). For multipart, `atomicityGroup` becomes a changeset, `id` the
    /// Content-ID; for JSON the request is checked against every rule of the format and written compactly.
    Encode {
        /// The input file; `-` or nothing for standard input.
        file: Option<PathBuf>,
        /// The format to write.
        #[arg(long, value_enum, default_value = "multipart")]
        format: Format,
        /// Use this batch boundary instead of a generated one.
        #[arg(long)]
        boundary: Option<String>,
        /// Write the Content-Type header value to this file instead of standard error.
        #[arg(long)]
        content_type_out: Option<PathBuf>,
    },
}

/// A failure with its exit code; no message for a closed standard output.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// Standard output was closed by its reader: stop, quietly and successfully.
    fn closed_output() -> Self {
        Self {
            code: 0,
            message: String::new(),
        }
    }

    /// Writing the output failed (a full disk, an I/O error).
    fn output(what: &str, e: &io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return Self::closed_output();
        }
        Self {
            code: 1,
            message: format!("cannot write {what}: {e}"),
        }
    }

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

    fn remote(message: impl Into<String>) -> Self {
        Self {
            code: 3,
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

/// Writes `bytes` to standard output and flushes it. A reader that went away is a quiet end; any other
/// error (a full disk) is a failure.
fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::output("standard output", &e))
}

/// Writes a line of text to standard output.
fn print_line(text: &str) -> Result<(), Failure> {
    let mut line = String::with_capacity(text.len() + 1);
    line.push_str(text);
    line.push('\n');
    write_stdout(line.as_bytes())
}

/// Tells the user something on standard error. A closed or full standard error loses the note, and only
/// the note: the program goes on (there is nowhere else to say it).
fn note(message: &str) {
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "odata-batch: {}", sanitize(message));
}

/// A message made safe for a terminal: control characters escaped (a server's or a payload's text cannot
/// move the cursor or change colours), and at most [`MAX_MESSAGE_CHARS`] characters.
fn sanitize(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE_CHARS));
    for (n, c) in message.chars().enumerate() {
        if n == MAX_MESSAGE_CHARS {
            let rest = message.chars().count() - n;
            out.push_str(&format!("… ({rest} more characters)"));
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The longest message printed, in characters.
const MAX_MESSAGE_CHARS: usize = 2000;

/// Decodes a multipart batch of either kind: the parts decide, or `request_hint` (from a captured message's
/// start line) when given.
fn decode_batch(content_type: &str, body: bytes::Bytes, request_hint: Option<bool>) -> Result<AnyBatch, Failure> {
    let mut builder = odata_batch::BatchDecoder::builder();
    match request_hint {
        Some(true) => builder.message_kind(MessageKind::Request),
        Some(false) => builder.message_kind(MessageKind::Response),
        None => &mut builder,
    };
    AnyBatch::decode_with(&builder, content_type, body).map_err(|e| match e.non_batch_media_type() {
        Some(mt) => Failure::malformed(format!(
            "not a multipart batch: the Content-Type is {}",
            odata_batch::Excerpt(mt.as_bytes())
        )),
        None => Failure::malformed(e.to_string()),
    })
}

fn to_json<T: serde::Serialize>(value: &T, compact: bool) -> Result<String, Failure> {
    let json = if compact {
        serde_json::to_string(value)
    } else {
        serde_json::to_string_pretty(value)
    };
    json.map_err(|e| Failure::malformed(format!("cannot write JSON: {e}")))
}

/// Writes an encoded body to standard output and its Content-Type to standard error or a file.
fn emit(body: &[u8], content_type: &str, content_type_out: Option<PathBuf>) -> Result<(), Failure> {
    match content_type_out {
        Some(path) => std::fs::write(&path, format!("{content_type}\n"))
            .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?,
        None => {
            let mut stderr = io::stderr().lock();
            let _ = writeln!(stderr, "Content-Type: {content_type}");
        }
    }
    write_stdout(body)
}

fn encode_options(boundary: Option<String>) -> Result<odata_batch::EncodeOptions, Failure> {
    let mut options = odata_batch::EncodeOptions::new();
    if let Some(b) = boundary {
        let b = odata_batch::Boundary::new(&b).map_err(|e| Failure::usage(format!("--boundary: {e}")))?;
        options.boundary(b);
    }
    Ok(options)
}

fn encode(
    file: Option<&PathBuf>,
    format: Format,
    boundary: Option<String>,
    content_type_out: Option<PathBuf>,
) -> Result<(), Failure> {
    let input = read_input(file)?;
    let options = encode_options(boundary)?;
    let batch = BatchRequest::from_json(&input).map_err(|e| Failure::malformed(e.to_string()))?;
    let encoded = match format {
        Format::Multipart => batch
            .encode_with(&options)
            .map_err(|e| Failure::malformed(e.to_string()))?,
        Format::Json => batch
            .encode_json(&options)
            .map_err(|e| Failure::malformed(e.to_string()))?,
    };
    emit(&encoded.body, &encoded.content_type, content_type_out)
}

/// Reads a JSON batch of either kind. `content_type` names the input's media type in messages.
fn read_json(input: &[u8], content_type: &str) -> Result<AnyBatch, Failure> {
    match AnyBatch::from_json(input) {
        Ok(batch) => Ok(batch),
        Err(e) if e.kind() == &JsonErrorKind::UnknownMember("error".into()) => {
            // A whole-batch failure: an OData error object instead of a batch.
            let message = serde_json::from_slice::<serde_json::Value>(input)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_default();
            Err(Failure::malformed(format!(
                "not a batch: the Content-Type is {} and the body is an OData error: {}",
                odata_batch::Excerpt(content_type.as_bytes()),
                odata_batch::Excerpt(message.as_bytes())
            )))
        }
        Err(e) => Err(Failure::malformed(e.to_string())),
    }
}

/// The Content-Type of a bare multipart body, from its first delimiter line.
fn sniff_multipart(input: &[u8]) -> Option<String> {
    let line = input.split(|&b| b == b'\n').find(|l| l.starts_with(b"--"))?;
    let boundary = std::str::from_utf8(&line[2..]).ok()?.trim_end();
    odata_batch::Boundary::new(boundary).ok()?;
    Some(format!("multipart/mixed; boundary=\"{boundary}\""))
}

fn convert(
    to: Format,
    file: Option<&PathBuf>,
    content_type: Option<String>,
    boundary: Option<String>,
    content_type_out: Option<PathBuf>,
) -> Result<(), Failure> {
    let input = read_input(file)?;
    let json_input = match &content_type {
        Some(ct) => match BatchFormat::from_content_type(ct) {
            Some(f) => f == BatchFormat::Json,
            None => {
                return Err(Failure::malformed(format!(
                    "not a batch Content-Type: {}",
                    odata_batch::Excerpt(ct.as_bytes())
                )))
            }
        },
        None => {
            let text = input.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&input);
            text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        }
    };
    let decoded = if json_input {
        read_json(&input, content_type.as_deref().unwrap_or("application/json"))?
    } else {
        let ct = content_type
            .or_else(|| sniff_multipart(&input))
            .ok_or_else(|| Failure::malformed("no multipart delimiter line found (or pass --content-type)"))?;
        decode_batch(&ct, bytes::Bytes::from(input), None)?
    };
    let options = encode_options(boundary)?;
    let malformed = |e: &dyn std::fmt::Display| Failure::malformed(e.to_string());
    match (to, decoded) {
        (Format::Json, AnyBatch::Request(b)) => {
            let json = b.to_json().map_err(|e| malformed(&e))?;
            write_stdout(&json)?;
            write_stdout(b"\n")?;
        }
        (Format::Json, AnyBatch::Response(b)) => {
            let json = b.to_json().map_err(|e| malformed(&e))?;
            write_stdout(&json)?;
            write_stdout(b"\n")?;
        }
        (Format::Multipart, AnyBatch::Request(b)) => {
            let encoded = b.encode_with(&options).map_err(|e| malformed(&e))?;
            emit(&encoded.body, &encoded.content_type, content_type_out)?;
        }
        (Format::Multipart, AnyBatch::Response(b)) => {
            let encoded = b.encode_with(&options).map_err(|e| malformed(&e))?;
            emit(&encoded.body, &encoded.content_type, content_type_out)?;
        }
    }
    Ok(())
}

/// The arguments of `send`.
#[derive(Args)]
struct SendArgs {
    /// The service root; the batch goes to `<URL>/$batch`.
    url: String,
    /// The input file; `-` or nothing for standard input.
    file: Option<PathBuf>,
    /// A header for the batch request, `Name: value` (repeatable), e.g. authorization.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The format to send.
    #[arg(long, value_enum, default_value = "multipart")]
    format: Format,
    /// Ask the service to go on after a failed operation (`Prefer: odata.continue-on-error`).
    #[arg(long)]
    continue_on_error: bool,
    /// Send at most this many operations per batch.
    #[arg(long, value_name = "N")]
    max_per_batch: Option<usize>,
    /// Print compact JSON on one line instead of indented JSON.
    #[arg(long)]
    compact: bool,
    /// Give up on a batch (request and whole response) after this many seconds; 0 for never.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    timeout: u64,
    /// Send a batch the service refused with 429 (or 503 and Retry-After) again at most N times, after the
    /// time it asks for (two minutes of waiting at most in all). Nothing else is retried: any other failure
    /// may follow a batch that ran.
    #[arg(long, value_name = "N", default_value_t = 3)]
    retries: u32,
    /// Exit with 4 when the batch ran but some operations failed (a status of 400 or more).
    #[arg(long)]
    fail: bool,
}

/// Exit code 4 (`--fail`): the batch ran, and this many operations failed.
fn failed_operations(statuses: impl Iterator<Item = http::StatusCode>) -> Result<(), Failure> {
    let failed = statuses.filter(|s| s.as_u16() >= 400).count();
    if failed == 0 {
        return Ok(());
    }
    Err(Failure {
        code: 4,
        message: format!("{failed} operation{} failed", if failed == 1 { "" } else { "s" }),
    })
}

fn send(args: SendArgs) -> Result<(), Failure> {
    use odata_batch::client::{BatchClient, ClientError};
    let input = read_input(args.file.as_ref())?;
    let batch = BatchRequest::from_json(&input).map_err(|e| Failure::malformed(e.to_string()))?;
    if args.max_per_batch == Some(0) {
        return Err(Failure::usage("--max-per-batch must be at least 1"));
    }
    match reqwest::Url::parse(&args.url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {}
        Ok(_) => return Err(Failure::usage(format!("{}: not an http or https URL", args.url))),
        Err(e) => return Err(Failure::usage(format!("{}: not a URL ({e})", args.url))),
    }
    let mut client = BatchClient::new(&args.url);
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| Failure::usage(format!("-H {header:?}: expected `Name: value`")))?;
        let name = http::HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| Failure::usage(format!("-H {header:?}: invalid header name")))?;
        let value = http::HeaderValue::from_str(value.trim())
            .map_err(|_| Failure::usage(format!("-H {header:?}: invalid header value")))?;
        client.headers_mut().append(name, value);
    }
    let mut options = odata_batch::EncodeOptions::new();
    if args.continue_on_error {
        options.continue_on_error(Some(odata_batch::ContinueOnError::OData40));
    }
    client
        .encode_options(options)
        .max_per_batch(args.max_per_batch)
        .timeout((args.timeout > 0).then(|| std::time::Duration::from_secs(args.timeout)))
        .retries(args.retries)
        .format(match args.format {
            Format::Multipart => BatchFormat::Multipart,
            Format::Json => BatchFormat::Json,
        });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::remote(format!("cannot start the runtime: {e}")))?;
    let response = runtime
        .block_on(client.send_with_progress(&batch, |sent, total| {
            note(&format!("sent batch {sent} of {total}"));
        }))
        .map_err(|e| match e {
            ClientError::Encode(_) | ClientError::Json(_) | ClientError::Split(_) => Failure::malformed(e.to_string()),
            other => Failure::remote(other.to_string()),
        })?;
    print_line(&to_json(&response, args.compact)?)?;
    if args.fail {
        failed_operations(response.items.iter().map(|i| i.status))?;
    }
    Ok(())
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Encode {
            file,
            format,
            boundary,
            content_type_out,
        } => encode(file.as_ref(), format, boundary, content_type_out),
        Command::Convert {
            to,
            file,
            content_type,
            boundary,
            content_type_out,
        } => convert(to, file.as_ref(), content_type, boundary, content_type_out),
        Command::Send(args) => send(args),
        Command::Decode {
            file,
            content_type,
            compact,
            fail,
        } => {
            let input = read_input(file.as_ref())?;
            let (content_type, body, hint) = match content_type {
                Some(ct) => (ct, bytes::Bytes::from(input), None),
                None => {
                    let msg = odata_batch::capture::CapturedMessage::parse(input)
                        .map_err(|e| Failure::malformed(e.to_string()))?;
                    let ct = msg.content_type.ok_or_else(|| {
                        Failure::malformed("the captured message has no Content-Type header (or pass --content-type)")
                    })?;
                    (ct, msg.body, Some(msg.is_request))
                }
            };
            let decoded = if BatchFormat::from_content_type(&content_type) == Some(BatchFormat::Json) {
                read_json(&body, &content_type)?
            } else {
                decode_batch(&content_type, body, hint)?
            };
            match decoded {
                AnyBatch::Request(b) => print_line(&to_json(&b, compact)?),
                AnyBatch::Response(b) => {
                    print_line(&to_json(&b, compact)?)?;
                    match fail {
                        true => failed_operations(b.items.iter().map(|i| i.status)),
                        false => Ok(()),
                    }
                }
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                note(&f.message);
            }
            ExitCode::from(f.code)
        }
    }
}
