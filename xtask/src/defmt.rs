//! Decoding the firmware's defmt output (the raw semihosting byte stream QEMU writes to stdout).

use defmt_decoder::{DecodeError, Table};
use std::path::Path;

/// A decoded log line: the level (`None` for `println!`) and the formatted message.
#[derive(Debug, Clone)]
pub struct Line {
    /// `ERROR`, `INFO`, ... or `None` for `defmt::println!`.
    pub level: Option<String>,
    /// The formatted message.
    pub message: String,
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.level {
            Some(l) => write!(f, "{l:<5} {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

/// The defmt table of a firmware ELF.
pub fn table(elf: &Path) -> Result<(Table, Vec<u8>), String> {
    let bytes = std::fs::read(elf).map_err(|e| format!("cannot read {}: {e}", elf.display()))?;
    let table = Table::parse(&bytes)
        .map_err(|e| format!("{}: bad defmt table: {e}", elf.display()))?
        .ok_or_else(|| format!("{}: no defmt table (not a defmt firmware?)", elf.display()))?;
    Ok((table, bytes))
}

/// Decodes every complete frame of `stream`. A malformed frame is reported as a line (and decoding
/// goes on from the next bytes); a truncated last frame (the firmware died mid-write) is dropped.
pub fn decode(table: &Table, stream: &[u8]) -> Vec<Line> {
    let mut dec = table.new_stream_decoder();
    dec.received(stream);
    let mut lines = vec![];
    loop {
        match dec.decode() {
            Ok(frame) => lines.push(Line {
                level: frame.level().map(|l| l.as_str().to_uppercase()),
                message: frame.display_message().to_string(),
            }),
            Err(DecodeError::UnexpectedEof) => break,
            Err(DecodeError::Malformed) => lines.push(Line {
                level: Some("ERROR".into()),
                message: "(malformed defmt frame)".into(),
            }),
        }
    }
    lines
}

/// `cargo xtask defmt-decode <elf>`: decodes stdin to stdout (the runner's fallback when
/// `defmt-print` is not installed). Streams: frames are printed as they arrive.
pub fn decode_stdin(elf: &Path) -> Result<(), String> {
    use std::io::{Read, Write};
    let (table, _) = table(elf)?;
    let mut dec = table.new_stream_decoder();
    let mut stdin = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    let mut buf = [0u8; 4096];
    loop {
        let n = stdin.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(());
        }
        dec.received(&buf[..n]);
        loop {
            match dec.decode() {
                Ok(frame) => {
                    let line = match frame.level() {
                        Some(l) => format!(
                            "{:<5} {}",
                            l.as_str().to_uppercase(),
                            frame.display_message()
                        ),
                        None => frame.display_message().to_string(),
                    };
                    let _ = writeln!(out, "{line}");
                }
                Err(DecodeError::UnexpectedEof) => break,
                Err(DecodeError::Malformed) => {
                    let _ = writeln!(out, "ERROR (malformed defmt frame)");
                }
            }
        }
        let _ = out.flush();
    }
}
