//! Where the CLI reads and writes, and how it fails: exit codes, the output (standard output or `--output`),
//! and messages on standard error made safe for a terminal.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// A failure with its exit code; no message for a closed standard output.
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// Standard output was closed by its reader: stop, quietly and successfully.
    pub fn closed_output() -> Self {
        Self {
            code: 0,
            message: String::new(),
        }
    }

    /// Writing the output failed (a full disk, an I/O error); a closed pipe is a quiet end.
    pub fn output(what: &str, e: &io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return Self::closed_output();
        }
        Self {
            code: 1,
            message: format!("cannot write {what}: {e}"),
        }
    }

    /// Exit 1: the input is malformed or breaks a rule.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }

    /// Exit 2: the command line is wrong (or its input file cannot be read).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    /// Exit 3: the network or the service failed.
    pub fn remote(message: impl Into<String>) -> Self {
        Self {
            code: 3,
            message: message.into(),
        }
    }

    /// Exit 4 (`--fail`): the batch ran, and this many operations failed.
    pub fn operations_failed(failed: usize) -> Self {
        Self {
            code: 4,
            message: format!("{failed} operation{} failed", if failed == 1 { "" } else { "s" }),
        }
    }
}

/// Reads the input file, or standard input for `-` or none.
pub fn read_input(file: Option<&PathBuf>) -> Result<Vec<u8>, Failure> {
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

/// Where the result goes: standard output, or the file of `--output` (created at the first write).
pub struct Output<'a> {
    path: Option<&'a Path>,
    file: Option<std::fs::File>,
}

impl<'a> Output<'a> {
    pub fn new(path: Option<&'a Path>) -> Self {
        Self { path, file: None }
    }

    /// Writes `bytes` and flushes. A reader of standard output that went away is a quiet end; any other error
    /// (a full disk) is a failure.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        match self.path {
            Some(path) => {
                let what = || path.display().to_string();
                if self.file.is_none() {
                    self.file = Some(std::fs::File::create(path).map_err(|e| Failure::output(&what(), &e))?);
                }
                let file = self.file.as_mut().expect("created above");
                file.write_all(bytes).map_err(|e| Failure::output(&what(), &e))
            }
            None => {
                let mut stdout = io::stdout().lock();
                stdout
                    .write_all(bytes)
                    .and_then(|()| stdout.flush())
                    .map_err(|e| Failure::output("standard output", &e))
            }
        }
    }

    /// Writes `text` and a line break.
    pub fn line(&mut self, text: &str) -> Result<(), Failure> {
        let mut line = String::with_capacity(text.len() + 1);
        line.push_str(text);
        line.push('\n');
        self.write(line.as_bytes())
    }

    /// Makes sure what was written is on disk (for a file: errors a full disk reports only then).
    pub fn finish(&mut self) -> Result<(), Failure> {
        if let (Some(path), Some(file)) = (self.path, self.file.as_mut()) {
            file.sync_all()
                .map_err(|e| Failure::output(&path.display().to_string(), &e))?;
        }
        Ok(())
    }

    /// Whether the output is a terminal (for colour).
    pub fn is_terminal(&self) -> bool {
        self.path.is_none() && io::IsTerminal::is_terminal(&io::stdout())
    }
}

/// Tells the user something on standard error. A closed or full standard error loses the note, and only
/// the note: the program goes on (there is nowhere else to say it).
pub fn note(message: &str) {
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "odata-batch: {}", sanitize(message));
}

/// Writes a line to standard error as it is (a `Content-Type: ...` line), losing it if that fails.
pub fn raw_note(line: &str) {
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "{}", sanitize(line));
}

/// The longest message printed, in characters.
const MAX_MESSAGE_CHARS: usize = 2000;

/// A message made safe for a terminal: control characters escaped (a server's or a payload's text cannot
/// move the cursor or change colours), and at most [`MAX_MESSAGE_CHARS`] characters.
pub fn sanitize(message: &str) -> String {
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
