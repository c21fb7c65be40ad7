//! `odata-batch`: look at, write and convert OData `$batch` payloads (multipart and JSON) from a shell.
//!
//! Exit codes: 0 success, 1 malformed input (the message, with its byte offset, on stderr) or output that
//! cannot be written, 2 usage errors (including an input file that cannot be read), 3 a network or server
//! failure (`send`), 4 with `--fail` only: the batch ran but some operations failed. A closed standard output
//! (`| head`) ends the program quietly with 0, as Unix filters do.

mod io;
mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use odata_batch::json::{JsonErrorKind, JsonReadOptions};
use odata_batch::{AnyBatch, BatchFormat, BatchRequest, Excerpt, Leniency, Limits, MessageKind};

use crate::io::{note, raw_note, read_input, Failure, Output};

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

/// The decoder's bounds on the command line.
#[derive(Clone, Copy, ValueEnum)]
enum LimitsArg {
    /// Generous bounds for reading a trusted service's answers.
    Client,
    /// Tight bounds for reading untrusted requests (1000 operations, 16 MiB bodies, 80 KiB heads).
    Server,
}

/// When to colour the summary.
#[derive(Clone, Copy, ValueEnum)]
enum Color {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    Always,
    Never,
}

/// How a batch is read.
#[derive(Args)]
struct ReadArgs {
    /// Read strictly: refuse every deviation from RFC 2046 and OData that lenient reading accepts (bare line
    /// feeds, missing part headers, ...).
    #[arg(long)]
    strict: bool,
    /// The decoder's bounds.
    #[arg(long, value_enum, default_value = "client")]
    limits: LimitsArg,
}

#[derive(Subcommand)]
enum Command {
    /// Decode a batch (multipart or JSON, request or response) and print it as the OData 4.01 JSON batch
    /// format, or as one line per operation with --summary.
    ///
    /// Without --content-type the input is a whole captured HTTP message (start line, headers, blank line,
    /// body), as a proxy, a browser or `curl -i` saves it, and the Content-Type comes from its headers; a
    /// chunked body is de-chunked (one that is not chunk-framed is read as already de-chunked, with a note),
    /// and a gzip body is decompressed. With --content-type the input is the bare body.
    Decode(DecodeArgs),
    /// Send a JSON batch request (`{"requests":[...]}`, as for `encode`) to `<URL>/$batch` and print the
    /// response as the OData 4.01 JSON batch format.
    ///
    /// More operations than --max-per-batch go out as several batches, in order, never splitting a
    /// changeset; a line on standard error tells the progress. Redirects are not followed. Exit code 3 on a
    /// network or server failure, with the status and the service's error message or the network error's
    /// cause.
    Send(SendArgs),
    /// Convert a batch, request or response, between the multipart and the JSON format.
    ///
    /// The input is a bare body. Its format is the one --content-type names; without it, a body starting
    /// with `{` is JSON and anything else multipart, with the boundary taken from its first delimiter line.
    /// A multipart result goes to standard output with its `Content-Type: ...` line on standard error (or
    /// in the file given with --content-type-out).
    Convert(ConvertArgs),
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
    /// Print a completion script for a shell (`odata-batch completions bash > /etc/bash_completion.d/odata-batch`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// How batches are read: the decoder's leniency and bounds, and the JSON reader's options matching them.
struct ReadSettings {
    leniency: Leniency,
    limits: Limits,
}

impl ReadSettings {
    fn new(args: &ReadArgs) -> Self {
        Self {
            leniency: if args.strict {
                Leniency::strict()
            } else {
                Leniency::lenient()
            },
            limits: match args.limits {
                LimitsArg::Client => Limits::client(),
                LimitsArg::Server => Limits::server(),
            },
        }
    }

    /// The JSON reader under the same bounds: operations, and an item no larger than a part's head and body.
    fn json_options(&self) -> JsonReadOptions {
        let mut options = JsonReadOptions::new();
        options.max_operations(self.limits.max_operations);
        if let Some(body) = self.limits.max_body_bytes {
            let item = usize::try_from(body)
                .unwrap_or(usize::MAX)
                .saturating_add(self.limits.max_head_bytes);
            options.max_item_bytes(Some(item));
        }
        options
    }
}

/// Decodes a multipart batch of either kind: the parts decide, or `request_hint` (from a captured message's
/// start line) when given.
fn decode_multipart(
    settings: &ReadSettings,
    content_type: &str,
    body: bytes::Bytes,
    request_hint: Option<bool>,
) -> Result<AnyBatch, Failure> {
    let mut builder = odata_batch::BatchDecoder::builder();
    builder.leniency(settings.leniency).limits(settings.limits);
    match request_hint {
        Some(true) => builder.message_kind(MessageKind::Request),
        Some(false) => builder.message_kind(MessageKind::Response),
        None => &mut builder,
    };
    AnyBatch::decode_with(&builder, content_type, body).map_err(|e| match e.non_batch_media_type() {
        Some(mt) => Failure::malformed(format!(
            "not a multipart batch: the Content-Type is {}",
            Excerpt(mt.as_bytes())
        )),
        None => Failure::malformed(e.to_string()),
    })
}

/// Reads a JSON batch of either kind. `content_type` names the input's media type in messages.
fn read_json(settings: &ReadSettings, input: &[u8], content_type: &str) -> Result<AnyBatch, Failure> {
    match AnyBatch::from_json_with(&settings.json_options(), input) {
        Ok(batch) => Ok(batch),
        Err(e) if e.kind() == &JsonErrorKind::UnknownMember("error".into()) => {
            // A whole-batch failure: an OData error object instead of a batch.
            let message = serde_json::from_slice::<serde_json::Value>(input)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_default();
            Err(Failure::malformed(format!(
                "not a batch: the Content-Type is {} and the body is an OData error: {}",
                Excerpt(content_type.as_bytes()),
                Excerpt(message.as_bytes())
            )))
        }
        Err(e) => Err(Failure::malformed(e.to_string())),
    }
}

/// The most a compressed body may grow to when it is decompressed.
const MAX_DECOMPRESSED_BYTES: u64 = 1 << 30;

/// The body of a captured message with its content coding undone: gzip is decompressed (at most
/// [`MAX_DECOMPRESSED_BYTES`]); any other coding is refused by name.
fn decode_content(body: bytes::Bytes, coding: Option<&str>) -> Result<bytes::Bytes, Failure> {
    use std::io::Read;
    let Some(coding) = coding else { return Ok(body) };
    if !(coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip")) {
        return Err(Failure::malformed(format!(
            "the body has Content-Encoding {}, which this tool cannot undo (it decompresses gzip only)",
            Excerpt(coding.as_bytes())
        )));
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&body[..])
        .take(MAX_DECOMPRESSED_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| Failure::malformed(format!("the gzip body cannot be decompressed: {e}")))?;
    if out.len() as u64 > MAX_DECOMPRESSED_BYTES {
        return Err(Failure::malformed(format!(
            "the gzip body decompresses to more than {MAX_DECOMPRESSED_BYTES} bytes"
        )));
    }
    Ok(bytes::Bytes::from(out))
}

fn to_json<T: serde::Serialize>(value: &T, compact: bool) -> Result<String, Failure> {
    let json = if compact {
        serde_json::to_string(value)
    } else {
        serde_json::to_string_pretty(value)
    };
    json.map_err(|e| Failure::malformed(format!("cannot write JSON: {e}")))
}

/// The batch as the JSON batch format, pretty or compact.
fn batch_json(batch: &AnyBatch, compact: bool) -> Result<String, Failure> {
    match batch {
        AnyBatch::Request(b) => to_json(b, compact),
        AnyBatch::Response(b) => to_json(b, compact),
    }
}

/// Whether an operation with this status failed (what `--fail` and `--summary` count): 400 or more.
fn is_failure(status: http::StatusCode) -> bool {
    status.as_u16() >= 400
}

/// Exit code 4 (`--fail`) when operations of a response failed.
fn check_failed(batch: &AnyBatch) -> Result<(), Failure> {
    match batch {
        AnyBatch::Response(b) => match b.items.iter().filter(|i| is_failure(i.status)).count() {
            0 => Ok(()),
            n => Err(Failure::operations_failed(n)),
        },
        AnyBatch::Request(_) => Ok(()),
    }
}

/// Writes an encoded body to the output and its Content-Type to standard error or a file.
fn emit(
    out: &mut Output<'_>,
    body: &[u8],
    content_type: &str,
    content_type_out: Option<PathBuf>,
) -> Result<(), Failure> {
    match content_type_out {
        Some(path) => std::fs::write(&path, format!("{content_type}\n"))
            .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?,
        None => raw_note(&format!("Content-Type: {content_type}")),
    }
    out.write(body)
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
    emit(
        &mut Output::new(None),
        &encoded.body,
        &encoded.content_type,
        content_type_out,
    )
}

/// The Content-Type of a bare multipart body, from its first delimiter line.
fn sniff_multipart(input: &[u8]) -> Option<String> {
    let line = input.split(|&b| b == b'\n').find(|l| l.starts_with(b"--"))?;
    let boundary = std::str::from_utf8(&line[2..]).ok()?.trim_end();
    odata_batch::Boundary::new(boundary).ok()?;
    Some(format!("multipart/mixed; boundary=\"{boundary}\""))
}

/// The arguments of `convert`.
#[derive(Args)]
struct ConvertArgs {
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
    /// Print compact JSON on one line instead of indented JSON (with --to json).
    #[arg(long)]
    compact: bool,
    #[command(flatten)]
    read: ReadArgs,
    /// Write the result to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

fn convert(args: ConvertArgs) -> Result<(), Failure> {
    let input = read_input(args.file.as_ref())?;
    let settings = &ReadSettings::new(&args.read);
    let json_input = match &args.content_type {
        Some(ct) => match BatchFormat::from_content_type(ct) {
            Some(f) => f == BatchFormat::Json,
            None => {
                return Err(Failure::malformed(format!(
                    "not a batch Content-Type: {}",
                    Excerpt(ct.as_bytes())
                )))
            }
        },
        None => {
            let text = input.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&input);
            text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        }
    };
    let decoded = if json_input {
        read_json(
            settings,
            &input,
            args.content_type.as_deref().unwrap_or("application/json"),
        )?
    } else {
        let ct = args
            .content_type
            .or_else(|| sniff_multipart(&input))
            .ok_or_else(|| Failure::malformed("no multipart delimiter line found (or pass --content-type)"))?;
        decode_multipart(settings, &ct, bytes::Bytes::from(input), None)?
    };
    let mut out = Output::new(args.output.as_deref());
    let malformed = |e: &dyn std::fmt::Display| Failure::malformed(e.to_string());
    let options = encode_options(args.boundary)?;
    match (args.to, decoded) {
        (Format::Json, batch) => out.line(&batch_json(&batch, args.compact)?)?,
        (Format::Multipart, AnyBatch::Request(b)) => {
            let encoded = b.encode_with(&options).map_err(|e| malformed(&e))?;
            emit(&mut out, &encoded.body, &encoded.content_type, args.content_type_out)?;
        }
        (Format::Multipart, AnyBatch::Response(b)) => {
            let encoded = b.encode_with(&options).map_err(|e| malformed(&e))?;
            emit(&mut out, &encoded.body, &encoded.content_type, args.content_type_out)?;
        }
    }
    out.finish()
}

/// The arguments of `decode`.
#[derive(Args)]
struct DecodeArgs {
    /// The input file; `-` or nothing for standard input.
    file: Option<PathBuf>,
    /// The batch's Content-Type (`multipart/mixed; boundary=...` or `application/json`) when the input is
    /// a bare body.
    #[arg(long)]
    content_type: Option<String>,
    /// Print compact JSON on one line instead of indented JSON.
    #[arg(long)]
    compact: bool,
    /// Print one line per operation (position, changeset, Content-ID, method and URL or status, body
    /// type and size) and a count of failures, instead of JSON.
    #[arg(long)]
    summary: bool,
    /// Colour the summary.
    #[arg(long, value_enum, default_value = "auto")]
    color: Color,
    /// Exit with 4 when the batch is a response in which some operations failed (status 400 or more).
    #[arg(long)]
    fail: bool,
    #[command(flatten)]
    read: ReadArgs,
    /// Write the result to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

fn decode(args: DecodeArgs) -> Result<(), Failure> {
    let input = read_input(args.file.as_ref())?;
    let settings = ReadSettings::new(&args.read);
    let (content_type, body, hint) = match args.content_type {
        Some(ct) => (ct, bytes::Bytes::from(input), None),
        None => {
            let msg =
                odata_batch::capture::CapturedMessage::parse(input).map_err(|e| Failure::malformed(e.to_string()))?;
            if msg.chunked_header_over_plain_body {
                note("the body is not chunk-framed though the headers say Transfer-Encoding: chunked; read as already de-chunked (as curl -i saves it)");
            }
            let ct = msg.content_type.ok_or_else(|| {
                Failure::malformed("the captured message has no Content-Type header (or pass --content-type)")
            })?;
            let body = decode_content(msg.body, msg.content_encoding.as_deref())?;
            (ct, body, Some(msg.is_request))
        }
    };
    let decoded = if BatchFormat::from_content_type(&content_type) == Some(BatchFormat::Json) {
        read_json(&settings, &body, &content_type)?
    } else {
        decode_multipart(&settings, &content_type, body, hint)?
    };
    let mut out = Output::new(args.output.as_deref());
    if args.summary {
        let colour = match args.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => out.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        };
        out.write(summary::summary(&decoded, summary::Palette::new(colour)).as_bytes())?;
    } else {
        out.line(&batch_json(&decoded, args.compact)?)?;
    }
    out.finish()?;
    if args.fail {
        check_failed(&decoded)?;
    }
    Ok(())
}

/// The arguments of `send`.
#[derive(Args)]
struct SendArgs {
    /// The service root; the batch goes to `<URL>/$batch` (a query string on it stays after `$batch`).
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
    /// Send up to N of the batches --max-per-batch makes at once; the responses are still written in request
    /// order.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    parallel: u16,
    /// Write the response to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

fn send(args: SendArgs) -> Result<(), Failure> {
    use odata_batch::client::{BatchClient, ClientError, Sent};
    use odata_batch::json::ResponseDocumentWriter;
    use std::ops::ControlFlow;
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
        client
            .header(name.trim(), value.trim())
            .map_err(|e| Failure::usage(format!("-H {header:?}: {e}")))?;
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
    client.parallel(usize::from(args.parallel));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::remote(format!("cannot start the runtime: {e}")))?;
    // Each response is written as it arrives: memory holds one response (or, with --parallel, the responses
    // of batches that finished before an earlier one), not the whole answer.
    let mut out = Output::new(args.output.as_deref());
    let mut writer = ResponseDocumentWriter::new(!args.compact);
    let mut buf = Vec::new();
    writer.begin(&mut buf);
    let mut failed = 0;
    let mut received = 0;
    let mut annotations = Vec::new();
    let mut next_link = None;
    let mut stopped: Option<Failure> = None;
    let sent = runtime.block_on(client.send_each(&batch, |sent| {
        match sent {
            Sent::Response(item) => {
                received += 1;
                failed += usize::from(is_failure(item.status));
                if let Err(e) = writer.response(&mut buf, &item) {
                    stopped = Some(Failure::malformed(format!("cannot write the response as JSON: {e}")));
                    return ControlFlow::Break(());
                }
            }
            Sent::Batch(done) => {
                if done.total > 1 {
                    note(&format!("sent batch {} of {}", done.sent, done.total));
                }
                if !done.annotations.is_empty() {
                    annotations = done.annotations;
                }
                next_link = done.next_link.or(next_link.take());
            }
            _ => {}
        }
        if let Err(f) = out.write(&buf) {
            stopped = Some(f);
            return ControlFlow::Break(());
        }
        buf.clear();
        ControlFlow::Continue(())
    }));
    if let Some(f) = stopped {
        return Err(f);
    }
    if let Err(e) = sent {
        return Err(match e {
            ClientError::Encode(_) | ClientError::Json(_) | ClientError::Split(_) => Failure::malformed(e.to_string()),
            other if received > 0 => Failure::remote(format!(
                "{other} (after {received} response{}, written to the output)",
                if received == 1 { "" } else { "s" }
            )),
            other => Failure::remote(other.to_string()),
        });
    }
    writer
        .finish(&mut buf, &annotations, next_link.as_deref())
        .map_err(|e| Failure::malformed(e.to_string()))?;
    buf.push(b'\n');
    out.write(&buf)?;
    out.finish()?;
    if args.fail && failed > 0 {
        return Err(Failure::operations_failed(failed));
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
        Command::Convert(args) => convert(args),
        Command::Send(args) => send(args),
        Command::Decode(args) => decode(args),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "odata-batch", &mut script);
            Output::new(None).write(&script)
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
