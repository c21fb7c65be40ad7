//! `decode --summary`: one line per operation, for people reading a batch.

use odata_batch::{AnyBatch, RequestItem, ResponseItem};

/// ANSI colours, or none.
#[derive(Clone, Copy)]
pub struct Palette {
    on: bool,
}

impl Palette {
    pub fn new(on: bool) -> Self {
        Self { on }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// The longest URL shown, in characters.
const MAX_URL_CHARS: usize = 100;

struct Row {
    position: String,
    changeset: String,
    content_id: String,
    /// The method or status, and its colour.
    verb: (String, &'static str),
    /// The URL or reason phrase.
    rest: String,
    body: String,
}

fn cut(text: &str, max: usize) -> String {
    let clean = crate::io::sanitize(text);
    match clean.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &clean[..at]),
        None => clean,
    }
}

fn size(n: usize) -> String {
    match n {
        0..=1023 => format!("{n} B"),
        1024..=1_048_575 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

fn body(headers: &http::HeaderMap, body: &[u8]) -> String {
    if body.is_empty() {
        return "no body".to_owned();
    }
    let media = headers
        .get(http::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .map(|t| t.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "no type".to_owned());
    format!("{}, {}", cut(&media, 60), size(body.len()))
}

fn common(position: usize, changeset: Option<usize>, content_id: Option<&str>) -> (String, String, String) {
    (
        (position + 1).to_string(),
        changeset.map_or_else(|| "-".to_owned(), |c| (c + 1).to_string()),
        content_id.map_or_else(|| "-".to_owned(), |id| cut(id, 40)),
    )
}

fn request_row(position: usize, item: &RequestItem) -> Row {
    let (position, changeset, content_id) = common(position, item.changeset, item.content_id.as_deref());
    Row {
        position,
        changeset,
        content_id,
        verb: (item.method.to_string(), "1"),
        rest: cut(&item.url, MAX_URL_CHARS),
        body: body(&item.headers, &item.body),
    }
}

fn response_row(position: usize, item: &ResponseItem) -> Row {
    let (position, changeset, content_id) = common(position, item.changeset, item.content_id.as_deref());
    let colour = match item.status.as_u16() {
        200..=299 => "32",
        300..=399 => "33",
        _ => "31",
    };
    Row {
        position,
        changeset,
        content_id,
        verb: (item.status.as_str().to_owned(), colour),
        rest: cut(&item.reason, 60),
        body: body(&item.headers, &item.body),
    }
}

/// The summary of `batch`: a header line, one line per operation, and a count (of failures, for responses).
pub fn summary(batch: &AnyBatch, palette: Palette) -> String {
    let (rows, failed, changesets): (Vec<Row>, Option<usize>, usize) = match batch {
        AnyBatch::Request(b) => (
            b.items.iter().enumerate().map(|(i, it)| request_row(i, it)).collect(),
            None,
            b.changesets,
        ),
        AnyBatch::Response(b) => (
            b.items.iter().enumerate().map(|(i, it)| response_row(i, it)).collect(),
            Some(b.items.iter().filter(|i| crate::is_failure(i.status)).count()),
            b.changesets,
        ),
    };
    let header = Row {
        position: "#".into(),
        changeset: "changeset".into(),
        content_id: "Content-ID".into(),
        verb: (if failed.is_some() { "status" } else { "method" }.into(), ""),
        rest: if failed.is_some() { "reason" } else { "URL" }.into(),
        body: "body".into(),
    };
    let width = |f: fn(&Row) -> &str| {
        rows.iter()
            .chain([&header])
            .map(|r| f(r).chars().count())
            .max()
            .unwrap_or(0)
    };
    let w = [
        width(|r| &r.position),
        width(|r| &r.changeset),
        width(|r| &r.content_id),
        width(|r| &r.verb.0),
        width(|r| &r.rest),
    ];
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
    let mut out = String::new();
    for (k, row) in std::iter::once(&header).chain(&rows).enumerate() {
        let verb = pad(&row.verb.0, w[3]);
        let verb = if k == 0 {
            palette.paint("2", &verb)
        } else {
            palette.paint(row.verb.1, &verb)
        };
        let line = format!(
            "{}  {}  {}  {}  {}  {}",
            pad(&row.position, w[0]),
            pad(&row.changeset, w[1]),
            pad(&row.content_id, w[2]),
            verb,
            pad(&row.rest, w[4]),
            row.body
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let operations = format!("{} operation{}", rows.len(), if rows.len() == 1 { "" } else { "s" });
    let groups = format!("{changesets} changeset{}", if changesets == 1 { "" } else { "s" });
    match failed {
        None => out.push_str(&format!("{operations} in {groups}\n")),
        Some(0) => out.push_str(&format!("{operations} in {groups}, none failed\n")),
        Some(n) => out.push_str(&format!(
            "{operations} in {groups}, {}\n",
            palette.paint("31", &format!("{n} failed"))
        )),
    }
    out
}
